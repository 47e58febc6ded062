"""Databases over ODBC (SQLite, PostgreSQL, MariaDB; SQL Server untested): sampled columns and grants."""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import Iterator

from vendorscan.model import AccessPolicy, Resource, Skipped
from vendorscan.connectors import sqlgrants
from vendorscan.connector import Connector, ConnectorError, ResourceError, TableSample

_SECRET_IN_STRING = re.compile(r"(^|;)\s*(pwd|password)\s*=", re.IGNORECASE)
_SYSTEM_SCHEMAS = {"pg_catalog", "information_schema", "mysql", "performance_schema", "sys", "pg_toast"}
# ODBC SQL type codes worth reading: character and integer types (numbers can be ids that lost a 0).
_TEXT_TYPES = {1, 12, -1, -8, -9, -10}  # CHAR, VARCHAR, LONGVARCHAR, WCHAR, WVARCHAR, WLONGVARCHAR
_INT_TYPES = {4, 5, -5, -6}  # INTEGER, SMALLINT, BIGINT, TINYINT
_NUMERIC_TYPES = {2, 3}  # NUMERIC, DECIMAL (read when the scale is 0)
BATCH = 500


def _quote(name: str, dialect: str) -> str:
    if dialect == "mariadb":
        return "`" + name.replace("`", "``") + "`"
    if dialect == "mssql":
        return "[" + name.replace("]", "]]") + "]"
    return '"' + name.replace('"', '""') + '"'


def _dialect(dbms: str) -> str:
    name = dbms.lower()
    for key, dialect in (("sqlite", "sqlite"), ("postgres", "postgresql"), ("mariadb", "mariadb"),
                         ("mysql", "mariadb"), ("microsoft sql", "mssql")):
        if key in name:
            return dialect
    return "other"


class OdbcConnector(Connector):
    """Test and production databases over ODBC: sampled text and integer columns, table grants."""

    id = "odbc"
    version = "1"
    scheme = "odbc"
    thread_safe = False  # one database connection per connector, replaced when it is lost

    @dataclass(frozen=True)
    class Options:
        connection_string: str
        password_env: str = ""
        include_schemas: list[str] = field(default_factory=list)
        exclude_schemas: list[str] = field(default_factory=list)
        include_tables: list[str] = field(default_factory=list)  # globs on schema.table
        exclude_tables: list[str] = field(default_factory=list)
        sample_rows: int = 1000
        full_scan: bool = False
        query_timeout: int = 30
        login_timeout: int = 15

        def __post_init__(self):
            if _SECRET_IN_STRING.search(self.connection_string):
                raise ValueError("connection_string holds a password: remove PWD=… and name an environment "
                                 "variable with password_env")
            if self.sample_rows < 1:
                raise ValueError("sample_rows must be at least 1")

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        self._conn = None
        self.dialect = ""
        self._grants: sqlgrants.GrantReader | None = None

    def weaknesses(self) -> list[str]:
        """TLS turned off in the connection string."""
        if re.search(r"(?i)\bssl_?mode\s*=\s*disabled?\b", self.options.connection_string):
            return ["the database connection has TLS turned off (sslmode=disable in connection_string)"]
        return []

    # -- connection ---------------------------------------------------------------------------
    def _connect(self):
        if self._conn is not None:
            return self._conn
        import pyodbc
        conn_str = self.options.connection_string.rstrip(";")
        if "postgres" in conn_str.lower() and "commlog" not in conn_str.lower():
            # Debian's odbcinst.ini turns psqlODBC's CommLog on: a world-readable log in /tmp of what
            # crossed the wire. An audit tool must not leave that behind.
            conn_str += ";CommLog=0;Debug=0"
        if self.options.password_env:
            secret = os.environ.get(self.options.password_env)
            if secret is None:
                raise ConnectorError(f"environment variable {self.options.password_env} (password_env) is not set")
            conn_str += ";PWD={" + secret.replace("}", "}}") + "}"
        try:
            conn = pyodbc.connect(conn_str, timeout=self.options.login_timeout, autocommit=True)
        except pyodbc.Error as exc:
            raise ConnectorError(f"cannot connect: {_odbc_message(exc)}") from None
        self.dialect = _dialect(conn.getinfo(pyodbc.SQL_DBMS_NAME) or "")
        _read_only(conn, self.dialect)
        _query_timeout(conn, self.dialect, self.options.query_timeout)
        self._conn = conn
        self._grants = sqlgrants.reader(self.dialect, conn, self.options.connection_string)
        return conn

    def _reconnect(self) -> None:
        """Forget a connection the server dropped; the next table connects again."""
        import pyodbc
        try:
            self._conn.close()
        except pyodbc.Error:
            pass  # already gone: that is why we are here
        self._conn = None

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- walk ---------------------------------------------------------------------------------
    def walk(self) -> Iterator[Resource | Skipped]:
        """Tables (in schema order), each with its grants; system schemas left out."""
        import pyodbc
        conn = self._connect()
        try:
            # MariaDB/MySQL call a database a catalog and list every database the account sees.
            tables = [((r.table_schem or (r.table_cat if self.dialect == "mariadb" else "") or ""), r.table_name)
                      for r in conn.cursor().tables(tableType="TABLE")]
        except pyodbc.Error as exc:
            raise ConnectorError(f"cannot list tables: {_odbc_message(exc)}") from None
        base = f"odbc://{self.ctx.target}"
        current_schema = None
        for schema, table in sorted(tables):
            if not self._selected(schema, table):
                continue
            if schema != current_schema and schema and self._grants is not None:
                current_schema = schema
                defaults = self._grants.schema_policy(schema)
                if defaults is not None:
                    yield Resource(uri=f"{base}/{schema}", kind="schema", target=self.ctx.target,
                                   access=defaults, parent=base)
            qualified = f"{schema}.{table}" if schema else table
            uri = f"{base}/{qualified}"
            try:
                count = self._count(schema, table)
                access = self._grants.policy(schema, table) if self._grants else AccessPolicy(
                    None, (), "grants of this database kind are not read")
            except pyodbc.Error as exc:
                reason = _reason(exc)
                yield Skipped(uri, reason, _odbc_state(exc), self.ctx.target)
                if reason == "connection-lost":
                    self._reconnect()
                continue
            yield Resource(uri=uri, kind="table", target=self.ctx.target, size=None, modified=None,
                           etag=f"rows={count}", access=access, parent=f"{base}/{schema}" if schema else base)

    def _selected(self, schema: str, table: str) -> bool:
        o = self.options
        if schema.lower() in _SYSTEM_SCHEMAS or table.lower().startswith("sqlite_"):
            return False
        if o.include_schemas and schema not in o.include_schemas:
            return False
        if schema in o.exclude_schemas:
            return False
        name = f"{schema}.{table}" if schema else table
        if o.include_tables and not any(fnmatch.fnmatch(name, p) for p in o.include_tables):
            return False
        return not any(fnmatch.fnmatch(name, p) for p in o.exclude_tables)

    def _name(self, schema: str, table: str) -> str:
        t = _quote(table, self.dialect)
        return f"{_quote(schema, self.dialect)}.{t}" if schema and self.dialect != "sqlite" else t

    def _count(self, schema: str, table: str) -> int | None:
        cur = self._conn.cursor()
        return cur.execute(f"SELECT COUNT(*) FROM {self._name(schema, table)}").fetchone()[0]

    # -- content ------------------------------------------------------------------------------
    def sample(self, resource: Resource) -> TableSample:
        """The table's text and integer columns, sampled (or all rows with full_scan), in batches."""
        import pyodbc
        conn = self._connect()
        qualified = resource.address.split("/", 3)[3]
        schema, _, table = qualified.rpartition(".")
        try:
            # MariaDB's driver takes the database as the catalog and refuses a schema.
            where = {"catalog": schema} if self.dialect == "mariadb" else {"schema": schema or None}
            cols = list(conn.cursor().columns(table=table, **where))
            keys = [k.column_name for k in conn.cursor().primaryKeys(table, **where)]
        except pyodbc.Error as exc:
            reason = _reason(exc)
            if reason == "connection-lost":
                self._reconnect()
            raise ResourceError(reason, _odbc_state(exc)) from None
        if not cols:  # the catalog no longer shows it: the table's own answer says whether it is gone or closed
            self._probe(schema, table)
        scanned = [c.column_name for c in cols if c.data_type in _TEXT_TYPES or c.data_type in _INT_TYPES
                   or (c.data_type in _NUMERIC_TYPES and not c.decimal_digits)]
        if not scanned:
            raise ResourceError("no-text-columns", "no character or integer columns to read")
        q = lambda n: _quote(n, self.dialect)  # noqa: E731
        select = ", ".join(q(c) for c in keys + scanned)
        limit = "" if self.options.full_scan else self.options.sample_rows
        order = f" ORDER BY {', '.join(q(k) for k in keys)}" if keys else ""
        if self.dialect == "mssql":
            top = f"TOP {limit} " if limit else ""
            sql = f"SELECT {top}{select} FROM {self._name(schema, table)}{order}"
        else:
            sql = f"SELECT {select} FROM {self._name(schema, table)}{order}" + (f" LIMIT {limit}" if limit else "")
        total = _total_from_etag(resource.etag)
        return TableSample(qualified, scanned, total, self._batches(sql, len(keys)))

    def _probe(self, schema: str, table: str) -> None:
        """Select nothing from the table; its error (dropped since the walk, not readable) as a ResourceError."""
        import pyodbc
        try:
            self._conn.cursor().execute(f"SELECT 1 FROM {self._name(schema, table)} WHERE 1 = 0").fetchall()
        except pyodbc.Error as exc:
            raise ResourceError(_reason(exc), _odbc_state(exc)) from None

    def _batches(self, sql: str, nkeys: int) -> Iterator[tuple[list[str], list[tuple]]]:
        import pyodbc
        cur = self._conn.cursor()
        try:
            cur.execute(sql)
            while True:
                rows = cur.fetchmany(BATCH)
                if not rows:
                    return
                # Raw keys ("" without a primary key): the scanner masks what they hold before showing them.
                keys = [",".join(str(v) for v in r[:nkeys]) for r in rows] if nkeys else [""] * len(rows)
                yield keys, [tuple(r[nkeys:]) for r in rows]
        except pyodbc.Error as exc:
            reason = _reason(exc)
            if reason == "connection-lost":
                self._reconnect()
            # Only the SQLSTATE: a driver's message about a row could quote the value in it.
            raise ResourceError(reason, f"SQLSTATE {exc.args[0] if exc.args else '?'}") from None
        finally:
            if self._conn is not None:
                cur.close()


def _total_from_etag(etag: str | None) -> int | None:
    if etag and etag.startswith("rows=") and etag[5:].isdigit():
        return int(etag[5:])
    return None


def _read_only(conn, dialect: str) -> None:
    # Belt and braces: the connector only ever sends SELECT and catalog calls anyway.
    statements = {"postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
                  "mariadb": "SET SESSION TRANSACTION READ ONLY",
                  "sqlite": "PRAGMA query_only = ON"}
    if dialect in statements:
        conn.cursor().execute(statements[dialect])


def _query_timeout(conn, dialect: str, seconds: int) -> None:
    # psqlODBC and MariaDB's driver refuse the ODBC timeout attribute; the servers' own settings work.
    if not seconds:
        return
    if dialect == "postgresql":
        conn.cursor().execute(f"SET statement_timeout = {int(seconds) * 1000}")
    elif dialect == "mariadb":
        conn.cursor().execute(f"SET SESSION max_statement_time = {int(seconds)}")
    else:
        conn.timeout = seconds


def _reason(exc) -> str:
    state = exc.args[0] if exc.args else ""
    text = str(exc).lower()
    if state in ("HYT00", "HYT01", "57014") or "timeout" in text or "max_statement_time" in text \
            or "canceling statement" in text:
        return "timeout"
    if state in ("08S01", "08003", "08007", "57P01", "57P02") or (
            state == "HY000" and ("connection" in text or "server closed" in text or "gone away" in text)):
        return "connection-lost"
    if state in ("42S02", "42P01") or "no such table" in text or "doesn't exist" in text:
        return "vanished"  # base table not found: dropped since the walk
    if state == "42501" or "permission denied" in str(exc).lower() or "denied" in str(exc).lower():
        return "permission-denied"
    return "read-error"


def _odbc_state(exc) -> str:
    """What a table's read failure may say: the SQLSTATE and the type (a driver's message can quote a value)."""
    state = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
    return f"SQLSTATE {state} ({type(exc).__name__})" if state else type(exc).__name__


def _odbc_message(exc) -> str:
    """The driver's message without the connection string (which may carry a password): for connecting only."""
    msg = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    msg = re.sub(r"PWD=\{[^}]*\}|PWD=[^;]*", "PWD=***", msg, flags=re.IGNORECASE)
    return msg[:300]
