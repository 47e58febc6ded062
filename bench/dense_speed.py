"""A CSV where every row is a person's id: whole scans in a child process, and what they leave on disk.

    python bench/dense_speed.py [--mb 5] [--workers 2]

Rows: every id-bearing CSV, then the same number of bytes of id-free CSV (the plain case), then the id CSV with
every occurrence listed in report.json (as before report_occurrences) — time, report.json and state dir size.
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
from vendorscan.checks import synth  # noqa: E402


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-dense-"))
    rng = random.Random(24)
    try:
        target = int(args.mb * 10**6)
        ids, clean = work / "ids", work / "clean"
        ids.mkdir()
        clean.mkdir()
        rows, n = ["namn;personnummer;avdelning\n"], 0
        size = len(rows[0])
        while size < target:
            row = f"Anställd {n};{synth.real('se.personnummer', rng)};Avdelning {n % 40}\n"
            rows.append(row)
            size += len(row.encode())
            n += 1
        (ids / "hr_full.csv").write_text("".join(rows), encoding="utf-8")
        plain = "".join(r.replace(r.split(";")[1], f"order {i:09d}") if i else r for i, r in enumerate(rows))
        (clean / "orders.csv").write_text(plain, encoding="utf-8")
        print(f"{n} rows, {size / 1e6:.1f} MB each; {args.workers} workers\n")
        print("| case | seconds | report.json MB | state dir MB | state / input |")
        print("|---|---|---|---|---|")
        cfg_all = work / "all.toml"
        cfg_all.write_text("[scan]\nreport_occurrences = 1000000000\n")
        for name, tree, extra in (("id-free CSV (plain)", clean, ()), ("every row an id", ids, ()),
                                  ("every row an id, every occurrence in report.json", ids,
                                   ("--config", str(cfg_all)))):
            run = work / "run"
            shutil.rmtree(run, ignore_errors=True)
            run.mkdir()
            _, seconds, _ = scan_in_child(tree, run, args.workers, *extra)
            report, state = (run / "out" / "report.json").stat().st_size, _size(run / "state")
            print(f"| {name} | {seconds:.1f} | {report / 1e6:.2f} | {state / 1e6:.1f} | {state / size:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
