"""ODBC connector on SQLite (the embedded default): columns, integer ids, file-mode access, read-only."""
import hashlib
import os
import sqlite3

import pytest

from vendorscan.context import ScanContext, ValueHasher
from vendorscan.model import Resource, Scope
from vendorscan.connectors.odbc import OdbcConnector
from conftest import load_json, run_cli
from contract import ConnectorContract, Estate, context

CTX = ScanContext("db", "test", ValueHasher(b"k" * 32))


@pytest.fixture
def hr_db(open_dir):
    path = open_dir / "hr.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT, personnummer TEXT, note TEXT);
        CREATE TABLE cpr_numbers (id INTEGER PRIMARY KEY, cpr BIGINT);
        CREATE TABLE pseudonymised (id INTEGER PRIMARY KEY, pnr TEXT);
        CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB);
        CREATE TABLE keyed_by_id (personnummer TEXT PRIMARY KEY, name TEXT);
    """)
    con.executemany("INSERT INTO employees VALUES (?,?,?,?)", [
        (1, "Anna Lindqvist", "850412-1230", "sjukskrivning"), (2, "Erik Berg", "720915-4561", ""),
        (3, "Sofia Holm", "19850412-1230", "line one\nline two")])
    # 0104851234-style CPR numbers stored as integers lose their leading zero
    con.executemany("INSERT INTO cpr_numbers VALUES (?,?)", [(1, 104851008), (2, 1204851006)])
    con.executemany("INSERT INTO pseudonymised VALUES (?,?)", [(i, "850412-XXXX") for i in range(1, 6)])
    con.execute("INSERT INTO blobs VALUES (1, x'00ff')")
    con.execute("INSERT INTO keyed_by_id VALUES ('720915-4561', 'Erik Berg')")
    con.commit()
    con.close()
    os.chmod(path, 0o644)
    return path


def _conn(path, **opts):
    return OdbcConnector(OdbcConnector.Options(
        connection_string=f"Driver={{SQLite3}};Database={path};NoCreat=1", **opts), CTX)


def test_walk_lists_tables_with_file_mode_access(hr_db):
    c = _conn(hr_db)
    tables = {r.uri.rsplit("/", 1)[1]: r for r in c.walk()}
    assert set(tables) == {"employees", "cpr_numbers", "pseudonymised", "blobs", "keyed_by_id"}
    emp = tables["employees"]
    assert emp.kind == "table" and emp.etag == "rows=3"
    assert emp.access.broadest("read").scope == Scope.EVERYONE
    c.close()


def test_sample_gives_columns_and_row_keys(hr_db):
    c = _conn(hr_db, sample_rows=2)
    emp = next(r for r in c.walk() if r.uri.endswith("/employees"))
    s = c.sample(emp)
    assert s.columns == ["id", "name", "personnummer", "note"] or s.columns == ["name", "personnummer", "note"]
    batches = list(s.batches)
    assert [k for keys, _ in batches for k in keys] == ["1", "2"]
    c.close()


def test_scan_finds_ids_including_integers_that_lost_a_zero(hr_db, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[targets]]\nname = "hr"\ntype = "odbc"\nenvironment = "test"\n'
                   f'connection_string = "Driver={{SQLite3}};Database={hr_db}"\n')
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    r = load_json(tmp_path / "o" / "report.json")
    got = {(f["resource"].rsplit("/", 1)[1], f["part"], f["kind"], f["verdict"], f["count"])
           for f in r["findings"] if f["check_id"] == "identifiers"}
    assert ("employees", "personnummer", "se.personnummer", "real", 3) in got
    assert ("cpr_numbers", "cpr", "dk.cpr", "real", 2) in got
    assert ("pseudonymised", "pnr", "nordic.national_id", "masked", 5) in got
    emp = next(f for f in r["findings"] if f["part"] == "personnummer")
    assert emp["distinct"] == 2 and emp["details"]["identifier_column"] is True
    assert emp["occurrences"][0]["location"] == {"table": "employees", "column_name": "personnummer",
                                                  "row_key": "1"}
    assert r["targets"][0]["rows_sampled"] == 3 + 2 + 5 + 1 + 1
    keyed = next(f for f in r["findings"] if f["resource"].endswith("/keyed_by_id") and f["check_id"] == "identifiers")
    assert keyed["locations"][0]["row_key"] == "#1"  # the key is an id itself: never shown
    assert r["skipped"] == []
    assert any(f["kind"] == "exposure.test_environment" for f in r["findings"])
    assert not any(f["kind"] == "exposure.database_copy" for f in r["findings"])  # the database itself, no copy
    text = (tmp_path / "o" / "report.json").read_text() + (tmp_path / "o" / "report.html").read_text()
    for value in ("850412-1230", "8504121230", "720915-4561", "7209154561", "104851008", "1204851006"):
        assert value not in text


def test_scan_changes_nothing(hr_db, tmp_path):
    before = hashlib.sha256(hr_db.read_bytes()).hexdigest(), hr_db.stat().st_mtime_ns
    c = _conn(hr_db)
    for r in c.walk():
        if isinstance(r, Resource):
            try:
                for _ in c.sample(r).batches:
                    pass
            except Exception:  # noqa: BLE001 - a table without columns to read raises; irrelevant here
                continue
    c.close()
    assert (hashlib.sha256(hr_db.read_bytes()).hexdigest(), hr_db.stat().st_mtime_ns) == before


def test_password_in_connection_string_is_refused():
    with pytest.raises(ValueError, match="password_env"):
        OdbcConnector.Options(connection_string="Driver={PostgreSQL Unicode};Server=x;PWD=secret")


class TestSqliteContract(ConnectorContract):
    """The connector contract on a SQLite file through the SQLite3 ODBC driver."""

    @pytest.fixture
    def contract_estate(self, open_dir):
        path = open_dir / "contract.sqlite"
        with sqlite3.connect(path) as con:
            con.executescript("""
                CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT, personnummer TEXT);
                CREATE TABLE notes (note TEXT);
                CREATE TABLE cases (id INTEGER PRIMARY KEY, cpr BIGINT, summary TEXT);
                INSERT INTO staff VALUES (1, 'Anna Lindqvist', '850412-1230'), (2, 'Erik Berg', '720915-4561');
                INSERT INTO notes VALUES ('sjukskrivning'), ('');
                INSERT INTO cases VALUES (1, 1204851006, 'CPR-nr');
            """)
        con.close()
        os.chmod(path, 0o644)

        def drop(name):
            with sqlite3.connect(path) as other:
                other.execute(f"DROP TABLE {name}")
            other.close()

        connector = OdbcConnector(OdbcConnector.Options(connection_string=f"Driver={{SQLite3}};Database={path}"),
                                  context())
        yield Estate(connector, {"staff", "notes", "cases"}, drop, None,
                     lambda: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns),
                     why_no_denial="SQLite has no accounts or grants: a table the connection may not read cannot be "
                                   "made (its access is the database file's, which the open connection already holds)")
        connector.close()
