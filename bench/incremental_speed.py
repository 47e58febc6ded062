"""First scan vs unchanged rescan of a local tree (the incremental cache): seconds and ratio.

    python bench/incremental_speed.py [--files 10000]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import generate_text  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-incr-"))
    try:
        tree = work / "tree"
        text = generate_text(8 * 2**20, seed=4)
        rng = random.Random(3)
        for i in range(args.files):
            d = tree / f"d{i // 200:03d}"
            d.mkdir(parents=True, exist_ok=True)
            start = rng.randrange(len(text) - 10_000)
            (d / f"f{i:05d}.txt").write_text(text[start:start + rng.randrange(1_000, 8_000)])
        times = []
        for run in ("first", "rescan"):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "agent", "scan", str(tree), "--quiet", "--out", str(work / run),
                            "--state-dir", str(work / "state")], cwd=ROOT, capture_output=True)
            times.append(time.perf_counter() - t0)
            cov = json.loads((work / run / "report.json").read_text())["targets"][0]
            print(f"| {run} | {cov['resources_read']} read | {cov['resources_unchanged']} unchanged | "
                  f"{times[-1]:.1f} s |")
        print(f"rescan speed-up: {times[0] / times[1]:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
