"""ODBC connector against real PostgreSQL and MariaDB servers started on loopback by the fixtures."""
import os
import random
import subprocess
import time
import uuid

import pytest

import servers
from vendorscan.checks import synth
from vendorscan.connectors.odbc import OdbcConnector
from conftest import load_json, popen_cli, run_cli
from contract import ConnectorContract, Estate, context

AUDITOR_PW = "auditor-pw-7"
N = 30


def _cpr_with_leading_zero(rng, n):
    out = []
    while len(out) < n:
        v = synth.dk_cpr(rng, separator=False)
        if v.startswith("0"):
            out.append(int(v))
    return out


def _truth():
    rng = random.Random(2026)
    return {
        "employees": [(i, f"Person {i}", synth.se_personnummer(rng), f"person{i}@kommun-exempel.se",
                       "sjukskrivning" if i % 3 == 0 else "") for i in range(1, N + 1)],
        "pseudo": [(i, synth.masked("se.personnummer", rng)) for i in range(1, 11)],
        "testpersons": [(i, synth.test("se.personnummer", rng)) for i in range(1, 11)],
        # CPR numbers of people born on the 1st-9th: stored as BIGINT they lose the leading zero
        "cpr": [(i, v) for i, v in enumerate(_cpr_with_leading_zero(rng, 10), start=1)],
    }


TRUTH = _truth()


def _values(rows):
    return ", ".join("(" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in row) + ")" for row in rows)


SCHEMA = """
CREATE TABLE {s}employees (id INT PRIMARY KEY, name VARCHAR(80), personnummer VARCHAR(20), email VARCHAR(80),
                           sick_note VARCHAR(80));
CREATE TABLE {s}employees_pseudo (id INT PRIMARY KEY, pnr VARCHAR(20));
CREATE TABLE {s}testpersons (id INT PRIMARY KEY, personnummer VARCHAR(20));
CREATE TABLE {s}cpr_legacy (id INT PRIMARY KEY, cpr BIGINT);
INSERT INTO {s}employees VALUES {employees};
INSERT INTO {s}employees_pseudo VALUES {pseudo};
INSERT INTO {s}testpersons VALUES {testpersons};
INSERT INTO {s}cpr_legacy VALUES {cpr};
"""


def _schema_sql(prefix):
    return SCHEMA.format(s=prefix, **{k: _values(v) for k, v in TRUTH.items()})


@pytest.fixture(scope="session")
def postgres():
    pg = servers.start_postgres()
    try:
        pg.psql("CREATE DATABASE hr")
        pg.psql(f"CREATE ROLE auditor LOGIN PASSWORD '{AUDITOR_PW}'; CREATE ROLE hr_staff NOLOGIN;", "hr")
        pg.psql("CREATE SCHEMA personal;" + _schema_sql("personal."), "hr")
        pg.psql("GRANT USAGE ON SCHEMA personal TO auditor; GRANT SELECT ON ALL TABLES IN SCHEMA personal TO auditor;"
                "GRANT USAGE ON SCHEMA personal TO PUBLIC; GRANT SELECT ON personal.employees TO PUBLIC;"
                "GRANT SELECT ON personal.cpr_legacy TO hr_staff;"
                "ALTER DEFAULT PRIVILEGES FOR ROLE admin IN SCHEMA personal GRANT SELECT ON TABLES TO PUBLIC;"
                "ALTER TABLE personal.employees_pseudo ENABLE ROW LEVEL SECURITY;"
                "CREATE POLICY auditor_reads ON personal.employees_pseudo FOR SELECT TO auditor USING (true);", "hr")
        yield pg
    finally:
        servers.stop_postgres(pg)


@pytest.fixture(scope="session")
def mariadb():
    m = servers.start_mariadb()
    try:
        m.sql("CREATE DATABASE hr; USE hr;" + _schema_sql(""))
        m.sql(f"CREATE USER 'auditor'@'127.0.0.1' IDENTIFIED BY '{AUDITOR_PW}';"
              "GRANT SELECT ON hr.* TO 'auditor'@'127.0.0.1';"
              "GRANT SELECT ON mysql.user TO 'auditor'@'127.0.0.1';"
              "GRANT SELECT ON mysql.db TO 'auditor'@'127.0.0.1';"
              "GRANT SELECT ON mysql.tables_priv TO 'auditor'@'127.0.0.1';"
              "CREATE USER ''@'%'; GRANT SELECT ON hr.employees TO ''@'%';"
              "GRANT SELECT ON hr.cpr_legacy TO PUBLIC;")
        yield m
    finally:
        servers.stop_mariadb(m)


def _scan(tmp_path, conn_str, name="hr-db", extra=""):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[[targets]]\nname = "{name}"\ntype = "odbc"\nenvironment = "test"\n'
                   f'connection_string = "{conn_str}"\npassword_env = "HR_DB_PASSWORD"\n{extra}')
    out = tmp_path / f"out-{name}"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "state", "--quiet",
                   "--workers", "1", env={"HR_DB_PASSWORD": AUDITOR_PW})
    return proc, load_json(out / "report.json") if (out / "report.json").exists() else None


def _identifier_findings(report):
    return {(f["resource"].rsplit("/", 1)[1].rsplit(".", 1)[-1], f["part"], f["kind"], f["verdict"], f["count"])
            for f in report["findings"] if f["check_id"] == "identifiers"}


EXPECTED = {
    ("employees", "personnummer", "se.personnummer", "real", N),
    ("employees", "email", "email", "real", N),
    ("employees_pseudo", "pnr", "nordic.national_id", "masked", 10),
    ("cpr_legacy", "cpr", "dk.cpr", "real", 10),
}


def _checksums(db, schema: str = "", tables=None, database: str = "hr") -> list[str]:
    """Row counts and content checksums of the tables, read by the admin (default: the hr tables)."""
    tables = tables or TRUTH_TABLES
    if isinstance(db, servers.Postgres):
        return [db.psql(f"SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) "
                        f"FROM {schema or 'personal'}.{t} t", database).strip() for t in tables]
    schema = schema or "hr"
    return [db.sql(f"CHECKSUM TABLE {schema}.{t}").strip() + db.sql(f"SELECT COUNT(*) FROM {schema}.{t}").strip()
            for t in tables]


TRUTH_TABLES = ("employees", "employees_pseudo", "testpersons", "cpr_legacy")


@pytest.mark.server
@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_findings_equal_planted_truth_and_nothing_changes(kind, request, tmp_path):
    db = request.getfixturevalue(kind)
    before = _checksums(db)
    proc, report = _scan(tmp_path, db.odbc("hr", "auditor"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _identifier_findings(report) >= EXPECTED
    # Skatteverket's list holds a few samordningsnummer too: count the test verdicts of the table
    assert sum(f["count"] for f in report["findings"]
               if f["resource"].endswith("testpersons") and f["verdict"] == "test") == 10
    assert not [f for f in report["findings"] if f["resource"].endswith("testpersons") and f["verdict"] == "real"]
    emp = next(f for f in report["findings"] if f["part"] == "personnummer" and f["verdict"] == "real")
    assert emp["distinct"] == N and emp["details"]["identifier_column"]
    assert emp["occurrences"][0]["location"]["row_key"] == "1"
    assert _checksums(db) == before
    text = "".join(p.read_text() for p in (tmp_path / "out-hr-db").iterdir())
    for row in TRUTH["employees"]:
        assert row[2] not in text and row[2].replace("-", "") not in text


@pytest.mark.server
def test_postgres_grants(postgres, tmp_path):
    _, report = _scan(tmp_path, postgres.odbc("hr", "auditor"))
    access = {f["resource"].rsplit("/", 1)[1]: f for f in report["findings"] if f["check_id"] == "access"}
    # PUBLIC may read employees; the other tables are granted to roles only; and the schema's
    # default privileges hand every future table to PUBLIC.
    assert set(access) == {"personal.employees", "personal"}
    assert access["personal.employees"]["kind"] == "access.read.everyone"
    assert "default privileges" in " ".join(access["personal"]["details"]["notes"])
    exposure = [f for f in report["findings"] if f["kind"] == "exposure.everyone"]
    assert exposure and exposure[0]["details"]["persons"] == N


@pytest.mark.server
def test_mariadb_grants_anonymous_and_public(mariadb, tmp_path):
    _, report = _scan(tmp_path, mariadb.odbc("hr", "auditor"))
    access = {f["resource"].rsplit(".", 1)[1]: f["kind"] for f in report["findings"] if f["check_id"] == "access"}
    assert access == {"employees": "access.read.public", "cpr_legacy": "access.read.everyone"}
    exposure = {f["kind"] for f in report["findings"] if f["check_id"] == "exposure"}
    assert "exposure.public" in exposure


@pytest.mark.server
def test_auditor_without_grant_catalog_gives_unknown_not_private(mariadb, tmp_path):
    mariadb.sql("CREATE USER IF NOT EXISTS 'blind'@'127.0.0.1' IDENTIFIED BY 'auditor-pw-7';"
                "GRANT SELECT ON hr.* TO 'blind'@'127.0.0.1';")
    _, report = _scan(tmp_path, mariadb.odbc("hr", "blind"), name="blind")
    unknown = [f for f in report["findings"] if f["kind"] == "access.unknown"]
    assert len(unknown) == len(TRUTH_TABLES)


@pytest.mark.server
def test_wrong_password_is_a_clear_error_exit_2(postgres, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'[[targets]]\nname = "hr"\ntype = "odbc"\n'
                   f'connection_string = "{postgres.odbc("hr", "auditor")}"\npassword_env = "HR_DB_PASSWORD"\n')
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   env={"HR_DB_PASSWORD": "wrong-secret-123"})
    assert proc.returncode == 2
    assert "cannot connect" in proc.stdout and "Traceback" not in proc.stderr
    assert "wrong-secret-123" not in proc.stdout + proc.stderr


def _lock_table(postgres, table):
    """A psql session holding an ACCESS EXCLUSIVE lock on `table` for a minute (kill it to release)."""
    return subprocess.Popen(
        ["runuser", "-u", "postgres", "--", servers.Postgres.bin("psql"), "-X", "-h", str(postgres.dir), "-p",
         str(postgres.port), "-U", "admin", "-d", "hr", "-c",
         f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);"],
        env={**os.environ, "PGPASSWORD": postgres.password}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.server
def test_locked_table_times_out_and_the_rest_is_scanned(postgres, tmp_path):
    locker = _lock_table(postgres, "personal.testpersons")
    try:
        for _ in range(50):
            if postgres.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                             "WHERE c.relname = 'testpersons' AND l.mode = 'AccessExclusiveLock'", "hr").strip() == "1":
                break
            time.sleep(0.1)
        proc, report = _scan(tmp_path, postgres.odbc("hr", "auditor"), name="locked", extra="query_timeout = 2\n")
    finally:
        locker.kill()
        locker.wait()
    assert proc.returncode == 2, proc.stdout
    skipped = {s["uri"].rsplit(".", 1)[1]: s["reason"] for s in report["skipped"]}
    assert skipped == {"testpersons": "timeout"}
    assert ("employees", "personnummer", "se.personnummer", "real", N) in _identifier_findings(report)


@pytest.mark.server
def test_dropped_connection_gives_a_partial_report(postgres, tmp_path):
    """The server ends the auditor's session mid-scan: that table is listed as skipped, the rest is read."""
    locker = _lock_table(postgres, "personal.testpersons")
    cfg = tmp_path / "drop.toml"
    cfg.write_text(f'[[targets]]\nname = "drop"\ntype = "odbc"\nenvironment = "test"\n'
                   f'connection_string = "{postgres.odbc("hr", "auditor")}"\npassword_env = "HR_DB_PASSWORD"\n'
                   'query_timeout = 60\n')
    scan = popen_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                     "--workers", "1", env={"HR_DB_PASSWORD": AUDITOR_PW})
    try:
        killed = ""
        for _ in range(100):  # wait until the auditor's query waits on the lock, then end its session
            killed = postgres.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE usename = 'auditor' AND wait_event_type = 'Lock'", "hr").strip()
            if killed:
                break
            time.sleep(0.1)
        assert killed == "t"
    finally:
        locker.kill()
        locker.wait()
    out, err = scan.communicate(timeout=120)
    assert scan.returncode == 2, out + err
    report = load_json(tmp_path / "o" / "report.json")
    assert {s["uri"].rsplit(".", 1)[1]: s["reason"] for s in report["skipped"]} == {"testpersons": "connection-lost"}
    assert ("employees", "personnummer", "se.personnummer", "real", N) in _identifier_findings(report)


CONTRACT_TABLES = ("staff", "notes", "cases")
CONTRACT_SQL = """
CREATE TABLE {s}.staff (id INT PRIMARY KEY, name VARCHAR(80), personnummer VARCHAR(20));
CREATE TABLE {s}.notes (note VARCHAR(200));
CREATE TABLE {s}.cases (id INT PRIMARY KEY, cpr BIGINT, summary VARCHAR(80));
INSERT INTO {s}.staff VALUES (1, 'Anna Lindqvist', '850412-1230'), (2, 'Erik Berg', '720915-4561');
INSERT INTO {s}.notes VALUES ('sjukskrivning'), ('');
INSERT INTO {s}.cases VALUES (1, 1204851006, 'CPR-nr');
"""


class TestServerDatabaseContract(ConnectorContract):
    """The connector contract on PostgreSQL and MariaDB: a fresh schema (database) per test, read by 'auditor'."""

    @pytest.fixture(params=["postgres", "mariadb"])
    def contract_estate(self, request, monkeypatch):
        db = request.getfixturevalue(request.param)
        schema = f"c_{uuid.uuid4().hex[:10]}"
        auditor = "auditor" if isinstance(db, servers.Postgres) else "'auditor'@'127.0.0.1'"
        if isinstance(db, servers.Postgres):
            if not db.psql("SELECT 1 FROM pg_database WHERE datname = 'contract'").strip():
                db.psql("CREATE DATABASE contract")
            run = lambda sql: db.psql(sql, "contract")  # noqa: E731
            run(f"CREATE SCHEMA {schema};" + CONTRACT_SQL.format(s=schema) +
                f"GRANT USAGE ON SCHEMA {schema} TO auditor; GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO auditor;")
            conn_str = db.odbc("contract", "auditor")
        else:
            run = db.sql
            # SELECT per table, so that one can be revoked; REFERENCES on the database keeps a revoked table
            # in the auditor's catalog (MariaDB hides tables an account holds no privilege on).
            run(f"CREATE DATABASE {schema};" + CONTRACT_SQL.format(s=schema) +
                "".join(f"GRANT SELECT ON {schema}.{t} TO {auditor};" for t in CONTRACT_TABLES) +
                f"GRANT REFERENCES ON {schema}.* TO {auditor};")
            conn_str = db.odbc(schema, "auditor")
        monkeypatch.setenv("HR_DB_PASSWORD", AUDITOR_PW)
        connector = OdbcConnector(OdbcConnector.Options(connection_string=conn_str, password_env="HR_DB_PASSWORD",
                                                        include_schemas=[schema]), context())
        yield Estate(connector, {f"{schema}.{t}" for t in CONTRACT_TABLES},
                     lambda name: run(f"DROP TABLE {name}"),
                     lambda name: run(f"REVOKE SELECT ON {name} FROM {auditor}"),
                     lambda: _checksums(db, schema, CONTRACT_TABLES, "contract"))
        connector.close()
        run(f"DROP SCHEMA {schema} CASCADE" if isinstance(db, servers.Postgres) else f"DROP DATABASE {schema}")


# -- a table's readers resolved to the login roles / accounts that reach it (issue: breadth measured) --

def _role_tables_sql(prefix: str) -> str:
    rows = ", ".join(f"('{synth.real('dk.cpr', random.Random(i))}', 'Ansat {i}')" for i in range(5))
    return "".join(f"CREATE TABLE {prefix}{t} (cpr VARCHAR(11), navn VARCHAR(40)); "
                   f"INSERT INTO {prefix}{t} VALUES {rows}; " for t in ("staff_cases", "team_cases"))


@pytest.mark.server
def test_postgres_roles_resolved_to_the_login_roles_that_reach_a_table(postgres, tmp_path):
    pg = postgres
    pg.psql("CREATE DATABASE roles")
    pg.psql("CREATE SCHEMA hr;" + _role_tables_sql("hr.") +
            "CREATE ROLE hr_readers NOLOGIN; CREATE ROLE staff_all NOLOGIN; CREATE ROLE consultants NOLOGIN;"
            "CREATE ROLE case_team NOLOGIN; GRANT hr_readers TO staff_all; GRANT staff_all TO consultants;"
            "DO $$ BEGIN FOR i IN 1..100 LOOP EXECUTE format('CREATE ROLE r_cons%s LOGIN IN ROLE consultants', i);"
            " END LOOP; FOR i IN 1..50 LOOP EXECUTE format('CREATE ROLE r_staff%s LOGIN IN ROLE staff_all', i);"
            " END LOOP; FOR i IN 1..3 LOOP EXECUTE format('CREATE ROLE r_case%s LOGIN IN ROLE case_team', i);"
            " END LOOP; FOR i IN 1..120 LOOP EXECUTE format('CREATE ROLE r_other%s LOGIN', i); END LOOP;"
            " CREATE ROLE r_expired LOGIN VALID UNTIL '2001-01-01' IN ROLE consultants; END $$;"
            "GRANT SELECT ON hr.staff_cases TO hr_readers; GRANT SELECT ON hr.team_cases TO case_team;"
            "GRANT USAGE ON SCHEMA hr TO auditor; GRANT SELECT ON ALL TABLES IN SCHEMA hr TO auditor;", "roles")
    _, report = _scan(tmp_path, pg.odbc("roles", "auditor"), name="roles")
    access = {f["resource"].rsplit("/", 1)[1]: f for f in report["findings"] if f["check_id"] == "access"}
    assert set(access) == {"hr.staff_cases"}, "3 login roles of case_team are a group, not an exposure"
    staff = access["hr.staff_cases"]
    assert staff["kind"] == "access.read.organisation"
    assert staff["details"]["accounts"] == 150  # 100 + 50 login roles, the expired one left out
    assert staff["details"]["via"] == ["hr_readers", "staff_all", "consultants"]
    exposure = [f for f in report["findings"] if f["kind"] == "exposure.organisation"]
    assert exposure and exposure[0]["details"]["accounts"] == 150


@pytest.mark.server
def test_mariadb_roles_resolved_to_the_accounts_granted_them(mariadb, tmp_path):
    m = mariadb
    users = "".join(f"CREATE USER 'u{i}'@'%'; GRANT staff_all TO 'u{i}'@'%'; " for i in range(150))
    users += "".join(f"CREATE USER 'c{i}'@'%'; GRANT case_team TO 'c{i}'@'%'; " for i in range(3))
    users += "".join(f"CREATE USER 'o{i}'@'%'; " for i in range(120))
    m.sql("CREATE DATABASE roles; USE roles;" + _role_tables_sql("") +
          "CREATE ROLE hr_readers; CREATE ROLE staff_all; CREATE ROLE case_team; GRANT hr_readers TO staff_all;"
          + users + "GRANT SELECT ON roles.staff_cases TO hr_readers; GRANT SELECT ON roles.team_cases TO case_team;"
          "GRANT SELECT ON roles.* TO 'auditor'@'127.0.0.1'; GRANT SELECT ON mysql.roles_mapping TO "
          "'auditor'@'127.0.0.1';")
    _, report = _scan(tmp_path, m.odbc("roles", "auditor"), name="mroles")
    access = {f["resource"].rsplit(".", 1)[1]: f for f in report["findings"] if f["check_id"] == "access"
              and f["resource"].split("/")[-1].startswith("roles.")}
    assert set(access) == {"staff_cases"}, {k: v["kind"] for k, v in access.items()}
    # 150 by staff_all, and root@localhost: CREATE ROLE grants a role to its creator (WITH ADMIN OPTION)
    assert access["staff_cases"]["details"]["accounts"] == 151
    assert access["staff_cases"]["details"]["via"] == ["hr_readers", "staff_all"]
