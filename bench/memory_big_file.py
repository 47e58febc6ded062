"""Peak memory of `vendorscan scan` on one large text file: it must stay flat as the file grows.

    python bench/memory_big_file.py --size-mb 1024 [--workers 1]

Builds the file by repeating a generated corpus block (bench/corpus.py), scans it in a child
process and prints the child's peak RSS, the time and the MB/s. Files are removed afterwards.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.child import scan_in_child  # noqa: E402


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
        proc, dt, peak = scan_in_child(big, work, args.workers, "--config", str(config))
        print("| file | workers | exit | seconds | MB/s | peak RSS |")
        print(f"| {size / 2**20:.0f} MiB | {args.workers} | {proc.returncode} | {dt:.1f} | "
              f"{size / 2**20 / dt:.1f} | {peak:.0f} MiB |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
