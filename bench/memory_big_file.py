"""Peak memory of `vendorscan scan` on one large text file: it must stay flat as the file grows.

    python bench/memory_big_file.py --size-mb 1024 [--workers 1]

Builds the file by repeating a generated corpus block (bench/corpus.py), scans it in a child
process and prints the child's peak RSS, the time and the MB/s. Files are removed afterwards.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(path: Path, size_mb: int) -> None:
    """Write size_mb MiB of Nordic mixed text with ids on ~2% of lines."""
    from bench.corpus import generate_text
    block = generate_text(4 * 2**20, seed=7).encode("utf-8")
    with open(path, "wb") as f:
        written = 0
        while written < size_mb * 2**20:
            f.write(block)
            written += len(block)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-bench-"))
    try:
        big = work / "big.txt"
        build(big, args.size_mb)
        size = big.stat().st_size
        config = work / "bench.toml"
        config.write_text('[limits]\nmax_file_size = "100GB"\n')
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "agent", "scan", str(big), "--config", str(config), "--quiet",
                               "--workers", str(args.workers), "--out", str(work / "out"),
                               "--state-dir", str(work / "state")], cwd=ROOT, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print("| file | workers | exit | seconds | MB/s | peak RSS |")
        print(f"| {size / 2**20:.0f} MiB | {args.workers} | {proc.returncode} | {dt:.1f} | "
              f"{size / 2**20 / dt:.1f} | {peak_kb / 1024:.0f} MiB |")
        if proc.returncode == 2:
            print(proc.stdout, proc.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
