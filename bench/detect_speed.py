"""MB/s of the identifier check on Nordic mixed text, one core and all cores, beside ripgrep on the same pattern.

The special-category check runs on the same text and on a copy with a term (cased as a writer would) on ~1% of
its lines, beside `rg -i` on its terms.

    python bench/detect_speed.py [--size-mb 200]
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vendorscan.context import ScanContext, ValueHasher  # noqa: E402
from vendorscan.formats.text import iter_chunks  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from vendorscan.checks.idspecs import SPECS  # noqa: E402
from vendorscan.checks.identifiers import _EMAIL_DOMAIN, CANDIDATES, IdentifierCheck, _compiled  # noqa: E402
from vendorscan.checks.special_categories import TERMS, SpecialCategoryCheck, _alternation  # noqa: E402


def rate(check, data: bytes, ctx, repeat: int = 3) -> tuple[float, int]:
    """(MB/s, hits) of one check over data, chunked as the scanner chunks it; the best of `repeat` runs."""
    import io
    best, hits = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        hits = 0
        for chunk in iter_chunks(io.BytesIO(data), "utf-8"):
            for _ in check.scan(chunk, None, ctx):
                hits += 1
        best = min(best, time.perf_counter() - t0)
    return len(data) / 2**20 / best, hits


_DATA = b""


def _part(bounds: tuple[int, int]) -> int:
    ctx = ScanContext("bench", "production", ValueHasher(b"b" * 32))
    import io
    check = IdentifierCheck()
    return sum(1 for chunk in iter_chunks(io.BytesIO(_DATA[bounds[0]:bounds[1]]), "utf-8")
               for _ in check.scan(chunk, None, ctx))


def all_cores(data: bytes, repeat: int = 3) -> tuple[float, int, int]:
    """(MB/s, hits, processes) of the identifier check on every core (the data split at line ends)."""
    import multiprocessing as mp
    import os
    global _DATA
    _DATA = data
    n = os.cpu_count() or 1
    cuts = [0] + [data.index(b"\n", len(data) * i // n) + 1 for i in range(1, n)] + [len(data)]
    best, hits = float("inf"), 0
    with mp.get_context("fork").Pool(n) as pool:
        for _ in range(repeat):
            t0 = time.perf_counter()
            hits = sum(pool.map(_part, list(zip(cuts, cuts[1:]))))
            best = min(best, time.perf_counter() - t0)
    return len(data) / 2**20 / best, hits, n


def combined_pattern() -> str:
    """Everything the identifier check looks for, as one pattern: candidates, e-mail and context words."""
    words = sorted({w for spec in SPECS for w in spec.context}, key=len, reverse=True)
    email = r"[A-Za-z0-9._%+\-]{1,64}@" + _EMAIL_DOMAIN.pattern
    return "|".join(("".join(CANDIDATES.split()), email, "(?i:" + "|".join(map(re.escape, words)) + ")"))


def with_terms(data: bytes, every: int = 100) -> bytes:
    """The text with a special-category term at the start of every `every`th line, in one of three casings."""
    terms = [t for ts in TERMS.values() for t in ts]
    lines = data.decode("utf-8").split("\n")
    for n in range(0, len(lines), every):
        term = terms[n // every % len(terms)]
        term = (term, term.capitalize(), term.upper())[n // every % 3]
        lines[n] = f"{term} {lines[n]}"
    return "\n".join(lines).encode("utf-8")


def ripgrep(rg: str, path: str, pattern: str, threads: str, size: float, repeat: int = 3) -> tuple[float, str]:
    """(MB/s, matching lines) of `rg -c` with this pattern; the best of `repeat` runs."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run([rg, "-c", "-j", threads, "--no-config", pattern, path], capture_output=True, text=True)
        best = min(best, time.perf_counter() - t0)
        out = proc.stdout.strip() or proc.stderr.strip()[:80]
    return size / best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is shown")
    args = ap.parse_args()
    data = generate_text(args.size_mb * 2**20, seed=3).encode("utf-8")
    size = len(data) / 2**20
    ctx = ScanContext("bench", "production", ValueHasher(b"b" * 32))
    engine = "compiled" if _compiled is not None else "pure Python"
    rows = []  # (what, MB/s, hits, compared with ripgrep's single thread)
    one, hits = rate(IdentifierCheck(), data, ctx, args.repeat)
    rows.append(("identifiers, one core", one, hits, True))
    part = data[:data.index(b"\n", len(data) // 8) + 1]  # the fallback is slower: an eighth of the text
    mbs, hits = rate(IdentifierCheck(compiled=False), part, ctx, 1)
    rows.append(("identifiers, one core, pure-Python fallback (an eighth of the text)", mbs, hits, False))
    mbs, hits = rate(SpecialCategoryCheck(), data, ctx, args.repeat)
    rows.append(("special_categories, one core", mbs, hits, False))
    termed = with_terms(data)
    mbs, hits = rate(SpecialCategoryCheck(), termed, ctx, args.repeat)
    rows.append(("special_categories, one core, a term on 1% of lines", mbs, hits, False))
    every, hits, n = all_cores(data, args.repeat)
    rows.append((f"identifiers, all {n} cores", every, hits, True))
    base = {}
    rg = shutil.which("rg")
    if rg:
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            f.write(data)
            f.flush()
            for key, label, pattern in (
                    ("combined", "the combined pattern (candidates, e-mail, context words)", combined_pattern()),
                    ("candidates", "the candidate pattern alone", "".join(CANDIDATES.split()))):
                for threads in ("1", "0"):
                    mbs, out = ripgrep(rg, f.name, pattern, threads, size, args.repeat)
                    base.setdefault(key, mbs)  # the single-thread rate is measured first
                    where = "one thread" if threads == "1" else "all threads"
                    rows.append((f"ripgrep -c, {where}, {label}", mbs, f"{out} lines", False))
            f.seek(0)
            f.truncate()
            f.write(termed)
            f.flush()
            mbs, out = ripgrep(rg, f.name, "(?i)" + _alternation(list(TERMS)), "1", len(termed) / 2**20,
                              args.repeat)
            rows.append(("ripgrep -c -i, one thread, the special-category terms (a term on 1% of lines)", mbs,
                         f"{out} lines", False))
    print(f"{size:.0f} MiB of Nordic mixed text, ~2% of lines with ids; identifier engine: {engine}; "
          f"ripgrep: {'not installed' if not rg else 'the same text, same run'}\n")
    print("| what | MB/s | hits | share of ripgrep's one-thread rate, combined pattern | … candidate pattern alone |")
    print("|---|---|---|---|---|")
    for what, mbs, hits, compared in rows:
        shares = [f"{mbs / base[k]:.2f}" if compared and k in base else "" for k in ("combined", "candidates")]
        print(f"| {what} | {mbs:.1f} | {hits} | {shares[0]} | {shares[1]} |")


if __name__ == "__main__":
    main()
