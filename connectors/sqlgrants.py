"""Table grants into AccessPolicy: PostgreSQL catalogs, MariaDB grant tables, SQLite file modes."""
from __future__ import annotations

import os
import re

from dataclasses import replace

from vendorscan.directory import BREADTH_DIRECTORY, Memberships, Thresholds
from vendorscan.model import AccessPolicy, Grant, Scope
from vendorscan.connectors import posix

_RIGHTS = {"SELECT": "read", "INSERT": "write", "UPDATE": "write", "DELETE": "write", "TRUNCATE": "write"}
PUBLIC = "PUBLIC (every database account)"


class GrantReader:
    """Reads who may do what to one table."""

    def policy(self, schema: str, table: str) -> AccessPolicy:
        """The table's AccessPolicy; unknown_reason set when the catalog cannot be read."""
        raise NotImplementedError

    def schema_policy(self, schema: str) -> AccessPolicy | None:
        """What future tables of a schema will grant (default privileges), where the database has them."""
        return None


class RoleReach:
    """A database's own roles as a directory: the login accounts that reach each role (nested roles followed)."""

    def __init__(self, roles: list[tuple[str, str, bool]], members: list[tuple[str, str]],
                 thresholds: Thresholds = Thresholds()):
        """roles: (key, name, can log in now); members: (group key, member key) — the member may use the group."""
        self.thresholds, self.graph, self.by_name = thresholds, Memberships(), {}
        for index, (key, name, login) in enumerate(roles):
            self.graph.group(key, name)
            self.by_name[name] = key
            if login:
                self.graph.accounts[key].append(index)
                self.graph.accounts_too.add(key)
        for group, member in members:
            if group in self.graph.names and member in self.graph.names:
                self.graph.nested[group].append(member)
        self.total = sum(login for _key, _name, login in roles)

    def measured(self, g: Grant) -> Grant:
        """The grant with the login accounts it reaches: PUBLIC is all of them, a role those that may use it."""
        if g.principal == PUBLIC:
            return replace(g, accounts=self.total, breadth=BREADTH_DIRECTORY)
        name = g.principal[len("role "):] if g.principal.startswith("role ") else None
        if name not in self.by_name:
            return g  # an account (its reach is itself) or a principal the catalog does not name
        reach = self.graph.reach(g.principal, self.by_name[name])
        kind = "user" if g.scope == Scope.USER else "group"
        scope = self.thresholds.scope(reach.accounts, self.total, kind) if kind == "group" else g.scope
        return replace(g, scope=scope, accounts=reach.accounts, via=reach.via, breadth=BREADTH_DIRECTORY)


def reader(dialect: str, conn, connection_string: str) -> GrantReader | None:
    """The grant reader of a database kind, or None where none is written (SQL Server: untested)."""
    if dialect == "postgresql":
        return PostgresGrants(conn)
    if dialect == "mariadb":
        return MariaDbGrants(conn)
    if dialect == "sqlite":
        return SqliteGrants(connection_string)
    return None


def _unknown(exc: Exception) -> AccessPolicy:
    state = exc.args[0] if getattr(exc, "args", None) else ""
    return AccessPolicy(None, (), f"the audit account cannot read the grant catalog (SQLSTATE {state})")


class PostgresGrants(GrantReader):
    """pg_class x aclexplode (grantee 0 is PUBLIC), column ACLs, row-level security."""

    _TABLE = ("SELECT pg_get_userbyid(c.relowner), c.relrowsecurity, c.oid FROM pg_class c "
              "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")
    _ACL = ("SELECT a.grantee, COALESCE(r.rolname, ''), COALESCE(r.rolcanlogin, false), a.privilege_type "
            "FROM pg_class c CROSS JOIN LATERAL aclexplode(COALESCE(c.relacl, acldefault('r', c.relowner))) a "
            "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE c.oid = ?")
    _COLUMNS = ("SELECT att.attname, a.grantee, COALESCE(r.rolname, ''), COALESCE(r.rolcanlogin, false), "
                "a.privilege_type FROM pg_attribute att CROSS JOIN LATERAL aclexplode(att.attacl) a "
                "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE att.attrelid = ? AND att.attacl IS NOT NULL")

    _DEFAULTS = ("SELECT pg_get_userbyid(d.defaclrole), a.grantee, COALESCE(r.rolname, ''), "
                 "COALESCE(r.rolcanlogin, false), a.privilege_type FROM pg_default_acl d "
                 "JOIN pg_namespace n ON n.oid = d.defaclnamespace CROSS JOIN LATERAL aclexplode(d.defaclacl) a "
                 "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = ? AND d.defaclobjtype = 'r'")

    _SCHEMA_OWNER = "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ?"
    # Every role, and whether it can log in now; role membership (a member may SET ROLE, or inherits).
    _ROLES = ("SELECT CAST(oid AS text), rolname, rolcanlogin AND (rolvaliduntil IS NULL OR rolvaliduntil > now()) "
              "FROM pg_roles ORDER BY oid")
    _MEMBERS = "SELECT CAST(roleid AS text), CAST(member AS text) FROM pg_auth_members"

    def __init__(self, conn):
        self.conn = conn
        self._reach: RoleReach | None = None

    def _measure(self, grants: list[Grant]) -> tuple[Grant, ...]:
        import pyodbc
        if self._reach is None:
            try:
                cur = self.conn.cursor()
                roles = [(k, n, bool(login)) for k, n, login in cur.execute(self._ROLES).fetchall()]
                self._reach = RoleReach(roles, [tuple(r) for r in cur.execute(self._MEMBERS).fetchall()])
            except pyodbc.Error:
                return tuple(grants)  # roles unreadable: judged by name, as before
        return tuple(self._reach.measured(g) for g in grants)

    def schema_policy(self, schema: str) -> AccessPolicy | None:
        """Default privileges (pg_default_acl) that future tables in the schema will get."""
        import pyodbc
        try:
            cur = self.conn.cursor()
            owner = cur.execute(self._SCHEMA_OWNER, schema).fetchone()
            rows = cur.execute(self._DEFAULTS, schema).fetchall()
        except pyodbc.Error as exc:
            return _unknown(exc)
        rights: dict[tuple[str, Scope], set[str]] = {}
        creators = set()
        for creator, grantee, role, can_login, priv in rows:
            creators.add(creator)
            _add(rights, grantee, role, can_login, priv)
        note = f"default privileges: tables that {', '.join(sorted(creators))} create here get this"
        # The schema's owner: without default privileges, what it says is that only the creators' own rights follow.
        return AccessPolicy(owner[0] if owner else None,
                            self._measure([Grant(p, s, frozenset(r), "sql-grant", inherited=True, note=note)
                                           for (p, s), r in sorted(rights.items())]))

    def policy(self, schema: str, table: str) -> AccessPolicy:
        import pyodbc
        try:
            cur = self.conn.cursor()
            row = cur.execute(self._TABLE, schema, table).fetchone()
            if row is None:
                return AccessPolicy(None, (), "table not found in pg_class")
            owner, rls, oid = row
            rights: dict[tuple[str, Scope], set[str]] = {}
            for grantee, role, can_login, priv in cur.execute(self._ACL, oid).fetchall():
                _add(rights, grantee, role, can_login, priv)
            column_rights: dict[tuple[str, Scope], set[str]] = {}
            columns: dict[tuple[str, Scope], set[str]] = {}
            for column, grantee, role, can_login, priv in cur.execute(self._COLUMNS, oid).fetchall():
                key = _add(column_rights, grantee, role, can_login, priv)
                if key:
                    columns.setdefault(key, set()).add(column)
        except pyodbc.Error as exc:
            return _unknown(exc)
        note = "row-level security on" if rls else ""
        grants = [Grant(p, s, frozenset(r), "sql-grant", note=note) for (p, s), r in sorted(rights.items())]
        grants += [Grant(p, s, frozenset(r), "sql-grant", note=f"columns {', '.join(sorted(columns[(p, s)]))}")
                   for (p, s), r in sorted(column_rights.items())]
        return AccessPolicy(owner, self._measure(grants))


def _add(acc, grantee, role, can_login, priv) -> tuple[str, Scope] | None:
    right = _RIGHTS.get(priv)
    if right is None:
        return None
    if grantee == 0:
        key = (PUBLIC, Scope.EVERYONE)
    else:
        key = (f"role {role}", Scope.USER if can_login else Scope.GROUP)
    acc.setdefault(key, set()).add(right)
    return key


class MariaDbGrants(GrantReader):
    """mysql.user (global, anonymous and wildcard-host accounts), mysql.db, mysql.tables_priv, PUBLIC."""

    def __init__(self, conn):
        self.conn = conn
        self._global: list[tuple] | None = None
        self._reach: RoleReach | None = None

    def _measure(self, grants: tuple[Grant, ...]) -> tuple[Grant, ...]:
        """Roles resolved to the accounts granted them (roles_mapping, roles granted to roles followed)."""
        import pyodbc
        if self._reach is None:
            try:
                mapping = self.conn.cursor().execute("SELECT User, Host, Role FROM mysql.roles_mapping").fetchall()
            except pyodbc.Error:
                return grants  # the mapping is unreadable: judged by name, as before
            accounts = self._accounts()
            roles = {user for user, _h, *_rest, is_role in accounts if is_role == "Y"}
            keys = [(f"role:{u}" if r == "Y" else f"{u}@{h}", u if r == "Y" else f"{u}@{h}", r != "Y" and u != "")
                    for u, h, *_privs, r in accounts]
            members = [(f"role:{role}", f"role:{user}" if user in roles and host == "" else f"{user}@{host}")
                       for user, host, role in mapping]
            self._reach = RoleReach(keys, members)
        return tuple(self._reach.measured(g) for g in grants)

    def _accounts(self):
        if self._global is None:
            cur = self.conn.cursor()
            self._global = cur.execute(
                "SELECT User, Host, Select_priv, Insert_priv, Update_priv, Delete_priv, is_role FROM mysql.user"
            ).fetchall()
        return self._global

    def policy(self, schema: str, table: str) -> AccessPolicy:
        import pyodbc
        rights: dict[tuple[str, Scope, str], set[str]] = {}
        try:
            roles = set()
            for user, host, sel, ins, upd, dele, is_role in self._accounts():
                if is_role == "Y":
                    roles.add(user)
                _flags(rights, user, host, is_role == "Y", sel, ins, upd, dele, "global privilege")
            cur = self.conn.cursor()
            for user, host, db, sel, ins, upd, dele in cur.execute(
                    "SELECT User, Host, Db, Select_priv, Insert_priv, Update_priv, Delete_priv FROM mysql.db").fetchall():
                if _like(db, schema):
                    _flags(rights, user, host, user in roles, sel, ins, upd, dele, f"database {db}")
            for user, host, privs in cur.execute(
                    "SELECT User, Host, Table_priv FROM mysql.tables_priv WHERE Db = ? AND Table_name = ?",
                    schema, table).fetchall():
                p = {x.strip().lower() for x in (privs or "").split(",")}
                _flags(rights, user, host, user in roles, _yn("select" in p), _yn("insert" in p),
                       _yn("update" in p), _yn("delete" in p), "table grant")
        except pyodbc.Error as exc:
            return _unknown(exc)
        grants = tuple(Grant(p, s, frozenset(r), "sql-grant", note=n) for (p, s, n), r in sorted(rights.items()))
        return AccessPolicy(None, self._measure(grants))


def _yn(b: bool) -> str:
    return "Y" if b else "N"


def _flags(acc, user, host, is_role, sel, ins, upd, dele, where) -> None:
    r = set()
    if sel == "Y":
        r.add("read")
    if "Y" in (ins, upd, dele):
        r.add("write")
    if not r:
        return
    if user == "PUBLIC" and host == "":
        key = (PUBLIC, Scope.EVERYONE, where)
    elif user == "":
        # An anonymous account: anyone who reaches the server logs in without a password.
        key = (f"anonymous account @'{host}'", Scope.PUBLIC, where)
    elif is_role:
        key = (f"role {user}", Scope.GROUP, where)
    else:
        wildcard = host in ("%", "") or "%" in host or "_" in host
        note = f"{where}; from any host" if wildcard else where
        key = (f"account {user}@'{host}'", Scope.USER, note)
    acc.setdefault(key, set()).update(r)


def _like(pattern: str, name: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.replace("\\_", "\x00"))
    return re.fullmatch(regex.replace("\x00", "_"), name) is not None


class SqliteGrants(GrantReader):
    """SQLite has no grants: the file modes of the database and its -wal/-shm/-journal are the access."""

    def __init__(self, connection_string: str):
        m = re.search(r"(?:^|;)\s*database\s*=\s*([^;]+)", connection_string, re.IGNORECASE)
        self.path = os.path.abspath(m.group(1).strip().strip("{}")) if m else None
        self._policy: AccessPolicy | None = None

    def policy(self, schema: str, table: str) -> AccessPolicy:
        if self._policy is None:
            self._policy = self._read()
        return self._policy

    def _read(self) -> AccessPolicy:
        if not self.path:
            return AccessPolicy(None, (), "no Database= in the connection string: file modes unknown")
        chain = posix.ancestors(os.path.dirname(self.path))
        grants, owner = [], None
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = self.path + suffix
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                return AccessPolicy(None, (), f"cannot stat {os.path.basename(path)}: {exc.strerror}")
            pol = posix.policy(path, st, chain, frozenset(posix.DEFAULT_BROAD_GROUPS))
            owner = owner or pol.owner
            note = f"file {os.path.basename(path)}"
            grants += [Grant(g.principal, g.scope, g.rights, g.source, g.inherited, g.effective,
                             f"{note}; {g.note}" if g.note else note) for g in pol.grants]
        return AccessPolicy(owner, tuple(grants))
