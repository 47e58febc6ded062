"""Mixed Nordic text end to end: `vendorscan scan` on one and on two workers, beside the detection pass alone and
ripgrep on the same files and patterns (CPU seconds where they can be counted, so that other load on the machine
counts less; two workers by wall time, on an otherwise idle machine).

    python bench/mixed_speed.py [--size-mb 500] [--with-ids 0.5]

The tree is bench/tree_speed.py's (CSV, logs, JSON and prose of 50 KB to 20 MB; a share of the files cut from text
with ids on ~2% of lines). The detection pass: every default content check over every file, chunked as the
scanner chunks, in this process. ripgrep: `rg -c -j1` with the combined pattern of bench/detect_speed.py.
"""
from __future__ import annotations

import argparse
import io
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.child import scan_in_child  # noqa: E402
from bench.detect_speed import combined_pattern  # noqa: E402
from bench.tree_speed import build  # noqa: E402
from vendorscan.checks.identifiers import IdentifierCheck  # noqa: E402
from vendorscan.checks.special_categories import SpecialCategoryCheck  # noqa: E402
from vendorscan.context import ScanContext, ValueHasher  # noqa: E402
from vendorscan.formats.text import iter_chunks  # noqa: E402


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def detection_pass(tree: Path) -> tuple[float, int]:
    """(CPU seconds, hits) of the default content checks over every file, in this process."""
    ctx = ScanContext("bench", "production", ValueHasher(b"b" * 32))
    checks = [IdentifierCheck(), SpecialCategoryCheck()]
    t0, hits = time.process_time(), 0
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        with open(path, "rb") as f:
            for chunk in iter_chunks(f, "utf-8"):
                for check in checks:
                    for _ in check.scan(chunk, None, ctx):
                        hits += 1
    return time.process_time() - t0, hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=500)
    ap.add_argument("--with-ids", type=float, default=0.5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-mixed-"))
    try:
        files, total = build(work / "tree", args.size_mb, args.with_ids)
        mib = total / 2**20
        rows = []
        rg = shutil.which("rg")
        if rg:
            c0, t0 = _children_cpu(), time.perf_counter()
            subprocess.run([rg, "-c", "-j1", "--no-config", combined_pattern(), str(work / "tree")],
                           capture_output=True)
            rows.append(("ripgrep -c -j1, combined pattern", time.perf_counter() - t0, _children_cpu() - c0))
        cpu, _ = detection_pass(work / "tree")
        rows.append(("detection pass alone (identifiers + special_categories, one process)", cpu, cpu))
        walls = {}
        for workers in (1, 2):
            run = work / f"run{workers}"
            c0 = _children_cpu()
            proc, wall, _ = scan_in_child(work / "tree", run, workers)
            walls[workers] = wall
            # Worker processes are not this process's children: their CPU is not counted here, only the wall time.
            rows.append((f"vendorscan scan, {workers} worker{'s' * (workers > 1)} (exit {proc.returncode})", wall,
                         _children_cpu() - c0 if workers == 1 else None))
        base = rows[0][2] if rg else None
        detect = next(r[2] for r in rows if r[0].startswith("detection"))
        print(f"{files} files, {mib:.0f} MiB, {args.with_ids:.0%} of them cut from text with ids\n")
        print("| what | wall s | CPU s | MB/s (CPU) | CPU × ripgrep | detection pass / this (CPU) |")
        print("|---|---|---|---|---|---|")
        for what, wall, cpu in rows:
            if cpu is None:
                print(f"| {what} | {wall:.1f} | - | - | - | - |")
                continue
            print(f"| {what} | {wall:.1f} | {cpu:.1f} | {mib / cpu:.1f} | "
                  f"{f'{cpu / base:.1f}' if base else '-'} | {detect / cpu:.2f} |")
        print(f"\ntwo workers against one (wall): {walls[1] / walls[2]:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
