"""Rows/s of the ODBC connector on a throwaway PostgreSQL: many sampled tables, and one big full scan.

    python bench/odbc_speed.py [--tables 1000] [--rows 1000000]

Starts PostgreSQL on a free loopback port (tests/servers.py), fills it, runs `vendorscan scan` on
each case with one worker and prints a table. Everything is removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import servers  # noqa: E402
from bench.child import OUTSIDE, VENDORSCAN  # noqa: E402


def scan(pg, work: Path, name: str, extra: str, workers: int) -> tuple[float, dict]:
    """(seconds, target coverage) of one scan of database hr."""
    cfg = work / f"{name}.toml"
    cfg.write_text(f'[[targets]]\nname = "{name}"\ntype = "odbc"\n'
                   f'connection_string = "{pg.odbc("hr", "admin")}"\npassword_env = "BENCH_PW"\n{extra}')
    t0 = time.perf_counter()
    proc = subprocess.run([VENDORSCAN, "scan", "--config", str(cfg), "--quiet", "--workers",
                           str(workers), "--out", str(work / name), "--state-dir", str(work / "state")],
                          cwd=OUTSIDE, capture_output=True, text=True, env={**os.environ, "BENCH_PW": pg.password})
    dt = time.perf_counter() - t0
    if proc.returncode == 2:
        print(proc.stdout, proc.stderr)
    report = json.loads((work / name / "report.json").read_text())
    return dt, report["targets"][0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    pg = servers.start_postgres()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-odbc-bench-"))
    try:
        pg.psql("CREATE DATABASE hr")
        cols = ", ".join(f"c{i} text" for i in range(10))
        values = ", ".join(f"'värde ' || g || ' kolumn {i}'" for i in range(9)) + \
            ", lpad(mod(g * 7919, 1000000)::text, 6, '0') || '-' || lpad(mod(g, 10000)::text, 4, '0')"
        pg.psql("DO $$ BEGIN FOR t IN 1.." + str(args.tables) + " LOOP "
                f"EXECUTE format('CREATE TABLE s_%s (id int PRIMARY KEY, {cols})', t); "
                f"EXECUTE format('INSERT INTO s_%s SELECT g, {values.replace(chr(39), chr(39) * 2)} "
                "FROM generate_series(1, 100) g', t); END LOOP; END $$;", "hr")
        pg.psql(f"CREATE TABLE big (id int PRIMARY KEY, name text, pnr text, note text); "
                f"INSERT INTO big SELECT g, 'Person ' || g, lpad((g % 1000000)::text, 10, '0'), "
                f"'anteckning ' || g FROM generate_series(1, {args.rows}) g;", "hr")
        print("| case | workers | tables | rows read | seconds | rows/s |")
        print("|---|---|---|---|---|---|")
        dt, cov = scan(pg, work, "sampled", 'exclude_tables = ["public.big"]\nsample_rows = 1000\n', args.workers)
        print(f"| sample {args.tables} tables x 10 text columns x 100 rows | {args.workers} | "
              f"{cov['resources_read']} | {cov['rows_sampled']} | {dt:.1f} | {cov['rows_sampled'] / dt:,.0f} |")
        dt, cov = scan(pg, work, "full", 'include_tables = ["public.big"]\nfull_scan = true\nquery_timeout = 0\n',
                       args.workers)
        print(f"| full scan of one {args.rows:,}-row table (3 text columns) | {args.workers} | "
              f"{cov['resources_read']} | {cov['rows_sampled']} | {dt:.1f} | {cov['rows_sampled'] / dt:,.0f} |")
    finally:
        servers.stop_postgres(pg)
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
