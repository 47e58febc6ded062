"""End-to-end `vendorscan scan` of a local tree of mixed text files: wall time, MB/s, peak RSS.

    python bench/tree_speed.py [--size-mb 2048] [--workers 0] [--with-ids 0.1]

The tree: CSV exports, logs, JSON and prose of 50 KB to 20 MB (bench/corpus.py text), a share of them
cut from text with ids on ~2% of lines, the rest from text without ids. The scan runs in a child
process with the default checks and reports; peak RSS is the largest single process of the scan.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.child import scan_in_child  # noqa: E402
from bench.corpus import generate_text  # noqa: E402


def build(tree: Path, size_mb: int, with_ids: float) -> tuple[int, int]:
    """Write the tree; returns (files, bytes)."""
    rng = random.Random(8)
    dense = generate_text(32 * 2**20, seed=11).encode("utf-8")
    clean = generate_text(32 * 2**20, seed=12, id_share=0, email_share=0).encode("utf-8")
    total = files = 0
    while total < size_mb * 2**20:
        size = int(min(20 * 2**20, 50_000 * 10 ** rng.uniform(0, 2.6)))
        source = dense if rng.random() < with_ids else clean
        start = rng.randrange(len(source) - size)
        start = source.index(b"\n", start) + 1  # whole lines, whole characters
        d = tree / f"share{files % 20:02d}" / f"dept{files % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{files:05d}.{rng.choice(['csv', 'log', 'json', 'txt'])}").write_bytes(source[start:start + size])
        total += size
        files += 1
    return files, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=2048)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--with-ids", type=float, default=0.1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-tree-"))
    try:
        files, total = build(work / "tree", args.size_mb, args.with_ids)
        proc, dt, peak = scan_in_child(work / "tree", work, args.workers)
        print("| files | MiB | ids in | workers | exit | seconds | MB/s | peak RSS (largest process) |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| {files} | {total / 2**20:.0f} | {args.with_ids:.0%} of files | {args.workers or 'all'} | "
              f"{proc.returncode} | {dt:.1f} | {total / 2**20 / dt:.1f} | {peak:.0f} MiB |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
