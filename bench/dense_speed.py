"""Data where every row is a person: whole scans in a child process, their cost per occurrence, what they leave.

    python bench/dense_speed.py [--mb 10] [--workers 2] [--rows 200000]

Cases: a CSV where every row holds a personnummer and the same number of bytes of id-free CSV (the plain case);
the id CSV with every occurrence listed (format `occurrences`); an HR-like SQLite table (the same rows, read whole
through the SQLite ODBC driver, full_scan) beside the same table without ids. Startup (a scan of an empty folder)
is subtracted for the per-occurrence figure and the ratio to the plain case.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.child import scan_in_child  # noqa: E402
from vendorscan.checks import synth  # noqa: E402


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _rows(target: int, rng: random.Random) -> list[tuple[str, str, str]]:
    rows, size = [], 0
    while size < target:
        row = (f"Anställd {len(rows)}", synth.real("se.personnummer", rng), f"Avdelning {len(rows) % 40}")
        rows.append(row)
        size += len(";".join(row).encode()) + 1
    return rows


def _table(path: Path, rows, with_ids: bool) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE anstallda (namn TEXT, personnummer TEXT, avdelning TEXT)")
    db.executemany("INSERT INTO anstallda VALUES (?,?,?)",
                   rows if with_ids else ((n, f"order {i:09d}", a) for i, (n, _, a) in enumerate(rows)))
    db.commit()
    db.close()
    config = path.with_suffix(".toml")
    config.write_text(f'[[targets]]\nname = "hr"\ntype = "odbc"\nenvironment = "test"\nfull_scan = true\n'
                      f'connection_string = "Driver={{SQLite3}};Database={path};NoCreat=1"\n')
    return config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=10, help="size of each CSV")
    ap.add_argument("--rows", type=int, default=200_000, help="rows of each SQLite table")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-dense-"))
    rng = random.Random(24)
    try:
        rows = _rows(int(args.mb * 10**6), rng)
        header = "namn;personnummer;avdelning\n"
        for name, body in (("ids", "".join(";".join(r) + "\n" for r in rows)),
                           ("clean", "".join(f"{n};order {i:09d};{a}\n" for i, (n, _, a) in enumerate(rows)))):
            (work / name).mkdir()
            (work / name / ("hr_full.csv" if name == "ids" else "orders.csv")).write_text(header + body, "utf-8")
        size = (work / "ids" / "hr_full.csv").stat().st_size
        (work / "empty").mkdir()
        table_rows = rows[:args.rows] if len(rows) >= args.rows else _rows(args.rows * 40, rng)[:args.rows]
        db_ids, db_clean = _table(work / "hr.db", table_rows, True), _table(work / "orders.db", table_rows, False)
        all_cfg = work / "all.toml"
        all_cfg.write_text('[scan]\nformats = ["json", "occurrences"]\n')
        cases = [("startup (empty folder)", work / "empty", ()),
                 ("CSV, id-free (plain)", work / "clean", ()),
                 ("CSV, every row an id", work / "ids", ()),
                 ("CSV, every row an id, every occurrence listed", work / "ids", ("--config", str(all_cfg))),
                 ("SQLite table, id-free (plain)", None, ("--config", str(db_clean))),
                 ("SQLite table, every row an id", None, ("--config", str(db_ids)))]
        print(f"CSV: {len(rows)} rows, {size / 1e6:.1f} MB each; SQLite: {len(table_rows)} rows; "
              f"{args.workers} workers\n")
        print("| case | seconds | occurrences | µs per occurrence | × plain | report.json MB | state dir MB | "
              "state / input |")
        print("|---|---|---|---|---|---|---|---|")
        startup = plain = None
        for name, tree, extra in cases:
            run = work / "run"
            shutil.rmtree(run, ignore_errors=True)
            run.mkdir()
            proc, seconds, _ = scan_in_child(tree, run, args.workers, *extra)
            report = run / "out" / "report.json"
            doc = json.loads(report.read_text())
            occ = sum(f["count"] for f in doc["findings"] if f["kind"] == "se.personnummer")
            state = _size(run / "state")
            work_s = seconds - (startup or 0)
            if startup is None:
                startup = seconds
            if "plain" in name:
                plain = work_s
            per = f"{work_s / occ * 1e6:.1f}" if occ else "-"
            ratio = f"{work_s / plain:.1f}" if plain and "plain" not in name and "startup" not in name else "-"
            scanned = size if tree is not None else (work / "hr.db").stat().st_size
            print(f"| {name} | {seconds:.2f} | {occ} | {per} | {ratio} | {report.stat().st_size / 1e6:.2f} | "
                  f"{state / 1e6:.1f} | {state / scanned:.2f} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
