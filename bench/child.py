"""A whole `vendorscan scan` in a child process, timed, with the peak RSS of its largest process."""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As users run it: the installed console script (its bin/ first on sys.path), from a directory outside the repo.
VENDORSCAN = str(Path(sys.executable).with_name("vendorscan"))
OUTSIDE = tempfile.mkdtemp(prefix="vendorscan-bench-cwd-")


def scan_in_child(path: Path | None, work: Path, workers: int,
                  *extra: str) -> tuple[subprocess.CompletedProcess, float, float]:
    """(process, seconds, peak RSS in MiB) of a quiet scan of path (None: the config's targets) with reports and
    state under work."""
    t0 = time.perf_counter()
    proc = subprocess.run([VENDORSCAN, "scan", *([str(path)] if path is not None else []), "--quiet", "--workers", str(workers),
                           "--out", str(work / "out"), "--state-dir", str(work / "state"), *extra],
                          cwd=OUTSIDE, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode == 2:
        print(proc.stdout, proc.stderr)
    return proc, seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
