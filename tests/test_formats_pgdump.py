"""A pg_dump custom-format file (made by a real PostgreSQL's pg_dump) on a share: read through pg_restore by
table and column, the planted ids found at their row, the file reported as a database copy, nothing leaked."""
import json
import os
import subprocess

import pytest

import servers
from conftest import assert_no_planted, run_cli


@pytest.fixture(scope="module")
def postgres():
    pg = servers.start_postgres()
    try:
        yield pg
    finally:
        servers.stop_postgres(pg)


def test_custom_format_dump_found_by_table_and_column(postgres, tmp_path):
    postgres.psql("CREATE DATABASE hr")
    postgres.psql("CREATE TABLE staff (id int PRIMARY KEY, name text, personnummer text, note text);"
                  "INSERT INTO staff VALUES (1, 'Anna', '19850412-1230', 'ok'), (2, 'Bo', 'none', 'CPR 120485-1006')",
                  db="hr")
    tree = tmp_path / "share"
    tree.mkdir()
    dump = tree / "hr-2024.dump"
    subprocess.run([servers.Postgres.bin("pg_dump"), "-Fc", "-h", str(postgres.dir), "-p", str(postgres.port),
                    "-U", postgres.admin, "-d", "hr", "-f", str(dump)], check=True, capture_output=True,
                   env={**os.environ, "PGPASSWORD": postgres.password})
    assert dump.read_bytes()[:5] == b"PGDMP"
    out = tmp_path / "out"
    proc = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "state", "--quiet")
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads((out / "report.json").read_text())
    found = {(f["kind"], o["location"].get("table"), o["location"].get("column_name"), o["location"].get("row_key"))
             for f in report["findings"] for o in f.get("occurrences", [])}
    assert ("se.personnummer", "public.staff", "personnummer", "#1") in found
    assert ("dk.cpr", "public.staff", "note", "#2") in found
    assert any(f["kind"] == "exposure.database_copy" for f in report["findings"])
    assert "unsupported-format" not in json.dumps(report) and report["skipped"] == []
    assert_no_planted({p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} | {"stdout": proc.stdout.encode()})
