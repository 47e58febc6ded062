"""First scan vs rescans of a tree of small files (the incremental cache): unchanged, and with 1% touched.

    python bench/incremental_speed.py [--files 50000,200000] [--size-kb 4] [--with-ids 0.5] [--workers 2]

Whole scans of the installed command in a child process (walk, cache, checks, the four default reports), each
tree scanned first, then again unchanged, then again after 1% of its files were rewritten.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.child import scan_in_child  # noqa: E402
from bench.corpus import generate_text  # noqa: E402


def fill(tree: Path, files: int, size: int, with_ids: float, rng: random.Random) -> int:
    """Write `files` text files in folders of 200; returns their bytes."""
    text = generate_text(8 * 2**20, seed=4)
    clean = generate_text(8 * 2**20, seed=5, id_share=0, email_share=0)
    total = 0
    for i in range(files):
        d = tree / f"d{i // 200:04d}"
        if i % 200 == 0:
            d.mkdir(parents=True)
        n = rng.randrange(size // 4, size * 7 // 4)
        source = text if rng.random() < with_ids else clean
        start = rng.randrange(len(source) - n)
        (d / f"f{i:06d}.txt").write_text(source[start:start + n])
        total += n
    return total


def touch(tree: Path, share: float, rng: random.Random) -> int:
    """Rewrite a share of the files (one more line, a newer mtime); returns how many."""
    files = sorted(tree.rglob("*.txt"))
    chosen = rng.sample(files, max(1, int(len(files) * share)))
    for p in chosen:
        with open(p, "a") as f:
            f.write("rad tillagd vid omskanning\n")
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    return len(chosen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", default="50000,200000", help="tree sizes, comma-separated")
    ap.add_argument("--size-kb", type=int, default=4, help="average file size")
    ap.add_argument("--with-ids", type=float, default=0.5, help="share of files cut from text with ids")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    rng = random.Random(3)
    print(f"{args.workers} workers; files of ~{args.size_kb} KB, {args.with_ids:.0%} cut from text with ids\n")
    print("| files | MiB | run | read | unchanged | seconds | first / this |")
    print("|---|---|---|---|---|---|---|")
    for files in (int(n) for n in args.files.split(",")):
        work = Path(tempfile.mkdtemp(prefix="vendorscan-incr-"))
        try:
            tree = work / "tree"
            total = fill(tree, files, args.size_kb * 1024, args.with_ids, rng)
            first = None
            for run in ("first", "unchanged", "1% touched"):
                if run == "1% touched":
                    touch(tree, 0.01, rng)
                out = work / "run"
                shutil.rmtree(out / "out", ignore_errors=True)
                proc, seconds, _ = scan_in_child(tree, out, args.workers)
                doc = json.loads((out / "out" / "report.json").read_text())
                cov = doc["targets"][0]
                first = first or seconds
                print(f"| {files} | {total / 2**20:.0f} | {run} | {cov['resources_read']} | "
                      f"{cov['resources_unchanged']} | {seconds:.1f} | {first / seconds:.1f}x |", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
