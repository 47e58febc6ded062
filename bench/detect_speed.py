"""MB/s of the identifier check on Nordic mixed text, one core and all cores, beside ripgrep on the same pattern.

    python bench/detect_speed.py [--size-mb 200]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.context import ScanContext, ValueHasher  # noqa: E402
from agent.formats.text import iter_chunks  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from checks.identifiers import CANDIDATES, IdentifierCheck  # noqa: E402
from checks.special_categories import SpecialCategoryCheck  # noqa: E402


def rate(check, data: bytes, ctx) -> tuple[float, int]:
    """(MB/s, hits) of one check over data, chunked as the scanner chunks it."""
    import io
    t0 = time.perf_counter()
    hits = 0
    for chunk in iter_chunks(io.BytesIO(data), "utf-8"):
        for _ in check.scan(chunk, None, ctx):
            hits += 1
    return len(data) / 2**20 / (time.perf_counter() - t0), hits


_DATA = b""


def _part(bounds: tuple[int, int]) -> int:
    ctx = ScanContext("bench", "production", ValueHasher(b"b" * 32))
    import io
    check = IdentifierCheck()
    return sum(1 for chunk in iter_chunks(io.BytesIO(_DATA[bounds[0]:bounds[1]]), "utf-8")
               for _ in check.scan(chunk, None, ctx))


def all_cores(data: bytes) -> tuple[float, int, int]:
    """(MB/s, hits, processes) of the identifier check on every core (the data split at line ends)."""
    import multiprocessing as mp
    import os
    global _DATA
    _DATA = data
    n = os.cpu_count() or 1
    cuts = [0] + [data.index(b"\n", len(data) * i // n) + 1 for i in range(1, n)] + [len(data)]
    with mp.get_context("fork").Pool(n) as pool:
        t0 = time.perf_counter()
        hits = sum(pool.map(_part, list(zip(cuts, cuts[1:]))))
        dt = time.perf_counter() - t0
    return len(data) / 2**20 / dt, hits, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=200)
    args = ap.parse_args()
    data = generate_text(args.size_mb * 2**20, seed=3).encode("utf-8")
    ctx = ScanContext("bench", "production", ValueHasher(b"b" * 32))
    print(f"| what | MB/s | hits |  ({len(data) / 2**20:.0f} MiB, ~2% of lines with ids)")
    print("|---|---|---|")
    for name, check in (("identifiers, one core", IdentifierCheck()),
                        ("special_categories, one core", SpecialCategoryCheck())):
        mbs, hits = rate(check, data, ctx)
        print(f"| {name} | {mbs:.1f} | {hits} |")
    mbs, hits, n = all_cores(data)
    print(f"| identifiers, all {n} cores | {mbs:.1f} | {hits} |")
    rg = shutil.which("rg")
    if rg:
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            f.write(data)
            f.flush()
            pattern = "".join(CANDIDATES.split())  # as RE2 gets it
            for threads in ("1", "0"):
                t0 = time.perf_counter()
                proc = subprocess.run([rg, "-c", "-j", threads, "--no-config", pattern, f.name], capture_output=True,
                                      text=True)
                dt = time.perf_counter() - t0
                out = proc.stdout.strip() or proc.stderr.strip()[:80]
                label = "one thread" if threads == "1" else "all threads"
                print(f"| ripgrep -c, {label}, the same candidate pattern | {len(data) / 2**20 / dt:.1f} | {out} lines |")
    else:
        print("| ripgrep | not installed | |")


if __name__ == "__main__":
    main()
