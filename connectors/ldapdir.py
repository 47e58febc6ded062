"""LDAP / Active Directory as a directory: principals and the enabled accounts they reach, read once per scan.

Active Directory (and Samba AD): users are `user` objects, enabled unless userAccountControl has ACCOUNTDISABLE;
groups nest through `member` (followed with a cycle guard); an account's primary group (`primaryGroupID`, the
group's RID) is a membership too; members under CN=ForeignSecurityPrincipals belong to other domains and are noted,
not counted. rfc2307 (OpenLDAP `posixAccount`/`posixGroup`): members by `memberUid`, primary group by `gidNumber`.
The audit account needs read access to users and groups only (any domain user can read them), no admin rights.
"""
from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

from vendorscan.directory import Directory, DirectoryError, Memberships, Reach, Thresholds

try:  # LGPL: the optional extra `directory`
    import ldap3
    from ldap3.core import exceptions as ldap_errors
except ImportError:  # pragma: no cover - reported when the config selects it
    ldap3 = None

_DISABLED = 0x2  # userAccountControl ACCOUNTDISABLE
_AD_USERS = "(&(objectCategory=person)(objectClass=user))"
_AD_GROUPS = "(objectClass=group)"
_POSIX_USERS = "(objectClass=posixAccount)"
_POSIX_GROUPS = "(objectClass=posixGroup)"
_FOREIGN = "cn=foreignsecurityprincipals,"
_PAGE = 500


def _sid(raw: bytes) -> str:
    """The S-1-… form of a binary objectSid."""
    if not raw:
        return ""
    count = raw[1]
    authority = int.from_bytes(raw[2:8], "big")
    subs = [int.from_bytes(raw[8 + 4 * i:12 + 4 * i], "little") for i in range(count)]
    return "S-1-" + "-".join(str(x) for x in [authority, *subs])


class LdapDirectory(Directory):
    """Users and groups of an LDAP directory or Active Directory domain, over LDAPS or StartTLS, verified."""

    id = "ldap"

    @dataclass(frozen=True, kw_only=True)
    class Options(Thresholds):
        url: str  # ldaps://dc.example:636 or ldap://dc.example:389 (then starttls = true)
        base_dn: str
        bind_dn: str = ""  # e.g. audit@example.org or CN=audit,OU=Service,DC=example,DC=org; empty: anonymous
        password_env: str = ""  # environment variable holding the bind password
        schema: str = "ad"  # ad (Active Directory, Samba AD) or rfc2307 (posixAccount / posixGroup)
        starttls: bool = False
        ca_file: str = ""  # the CA that signed the directory's certificate; empty: the system's CAs
        server_name: str = ""  # the name in the directory's certificate, when the url uses another (an IP)
        timeout: int = 30

        def __post_init__(self):
            super().__post_init__()
            if not self.url.startswith(("ldaps://", "ldap://")):
                raise ValueError("url must start with ldaps:// or ldap://")
            if self.url.startswith("ldap://") and not self.starttls:
                raise ValueError("a plain ldap:// url needs starttls = true: the bind password and the directory's "
                                 "answers must not travel in clear text")
            if self.schema not in ("ad", "rfc2307"):
                raise ValueError("schema must be ad or rfc2307")
            if self.bind_dn and not self.password_env:
                raise ValueError("bind_dn needs password_env (the environment variable with its password)")

    def __init__(self, options, name: str):
        super().__init__(options, name)
        self._loaded = False
        self.enabled: list[bool] = []
        self.user_names: list[str] = []
        self.users: dict[str, int] = {}  # sid / lower-case dn / lower-case name -> index
        self.groups = Memberships()  # by lower-case dn
        self.group_keys: dict[str, str] = {}  # sid / lower-case name / "gid:N" -> dn key

    # -- connection --

    def _connect(self):
        o = self.options
        if ldap3 is None:
            raise DirectoryError("the ldap directory needs ldap3: pip install 'vendorscan[directory]'")
        password = ""
        if o.bind_dn:
            password = os.environ.get(o.password_env, "")
            if not password:
                raise DirectoryError(f"environment variable {o.password_env} (password_env of directory "
                                     f"{self.name}) is not set")
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=o.ca_file or None,
                        valid_names=[o.server_name] if o.server_name else None)
        server = ldap3.Server(o.url, use_ssl=o.url.startswith("ldaps://"), tls=tls, connect_timeout=o.timeout,
                              get_info=ldap3.NONE)
        try:
            conn = ldap3.Connection(server, user=o.bind_dn or None, password=password or None,
                                    receive_timeout=o.timeout, auto_range=True, read_only=True, raise_exceptions=True)
            if o.starttls:
                conn.open()
                conn.start_tls()
            conn.bind()
        except (ldap_errors.LDAPBindError, ldap_errors.LDAPInvalidCredentialsResult):
            raise DirectoryError(f"directory {self.name}: bind as {o.bind_dn or 'anonymous'} refused at {o.url} "
                                 f"(check bind_dn and {o.password_env or 'password_env'})") from None
        except ldap_errors.LDAPException as exc:
            raise DirectoryError(f"directory {self.name}: cannot reach {o.url}: {_why(exc)}") from None
        return conn

    def _search(self, conn, query: str, attributes: list[str]):
        try:
            yield from conn.extend.standard.paged_search(self.options.base_dn, query, attributes=attributes,
                                                         paged_size=_PAGE, generator=True)
        except ldap_errors.LDAPException as exc:
            raise DirectoryError(f"directory {self.name}: search under {self.options.base_dn} failed: "
                                 f"{_why(exc)}") from None

    def _load(self) -> None:
        if self._loaded:
            return
        conn = self._connect()
        try:
            if self.options.schema == "ad":
                self._load_ad(conn)
            else:
                self._load_posix(conn)
        finally:
            conn.unbind()
        self._loaded = True

    def _user(self, keys: list[str], name: str, enabled: bool) -> int:
        index = len(self.enabled)
        self.enabled.append(enabled)
        self.user_names.append(name)
        for k in keys:
            if k:
                self.users[k.lower()] = index
        return index

    def _load_ad(self, conn) -> None:
        primary: dict[int, list[int]] = {}
        for e in self._search(conn, _AD_USERS, ["sAMAccountName", "objectSid", "userAccountControl",
                                                 "primaryGroupID"]):
            if e.get("type") != "searchResEntry":
                continue
            a, dn = e["attributes"], e["dn"]
            name = _first(a.get("sAMAccountName")) or dn
            enabled = not (int(_first(a.get("userAccountControl")) or 0) & _DISABLED)
            index = self._user([_sid(_raw(e, "objectSid")), dn, name], name, enabled)
            if enabled and a.get("primaryGroupID"):
                primary.setdefault(int(_first(a["primaryGroupID"])), []).append(index)
        members: dict[str, list[str]] = {}
        rids: dict[str, int] = {}
        for e in self._search(conn, _AD_GROUPS, ["sAMAccountName", "cn", "objectSid", "member"]):
            if e.get("type") != "searchResEntry":
                continue
            a, key = e["attributes"], e["dn"].lower()
            sid = _sid(_raw(e, "objectSid"))
            name = _first(a.get("sAMAccountName")) or _first(a.get("cn")) or e["dn"]
            self.groups.group(key, name)
            if sid.count("-") > 3:
                rids[key] = int(sid.rsplit("-", 1)[1])
            members[key] = [m.lower() for m in a.get("member") or ()]
            for k in (sid, name.lower(), key):
                if k:
                    self.group_keys[k] = key
        for key, listed in members.items():
            for m in listed:
                if m in members:
                    self.groups.nested[key].append(m)
                elif m in self.users:
                    if self.enabled[self.users[m]]:
                        self.groups.accounts[key].append(self.users[m])
                elif m.startswith(_FOREIGN) or f",{_FOREIGN}" in m:
                    self.groups.foreign[key] = self.groups.foreign.get(key, 0) + 1
            if key in rids:
                self.groups.accounts[key].extend(primary.get(rids[key], ()))

    def _load_posix(self, conn) -> None:
        primary: dict[int, list[int]] = {}
        for e in self._search(conn, _POSIX_USERS, ["uid", "gidNumber", "loginShell", "shadowExpire"]):
            if e.get("type") != "searchResEntry":
                continue
            a = e["attributes"]
            name = _first(a.get("uid")) or e["dn"]
            shell = str(_first(a.get("loginShell")) or "")
            expire = _first(a.get("shadowExpire"))
            enabled = not shell.endswith(("nologin", "/false")) and not (expire not in (None, "", -1, "-1")
                                                                          and int(expire) == 1)
            index = self._user([e["dn"], name, f"user {name}"], name, enabled)
            if enabled and a.get("gidNumber") is not None:
                primary.setdefault(int(_first(a["gidNumber"])), []).append(index)
        for e in self._search(conn, _POSIX_GROUPS, ["cn", "gidNumber", "memberUid"]):
            if e.get("type") != "searchResEntry":
                continue
            a, key = e["attributes"], e["dn"].lower()
            gid = _first(a.get("gidNumber"))
            name = _first(a.get("cn")) or e["dn"]
            self.groups.group(key, name)
            for uid in a.get("memberUid") or ():
                index = self.users.get(uid.lower())
                if index is not None and self.enabled[index]:
                    self.groups.accounts[key].append(index)
            if gid is not None:
                self.groups.accounts[key].extend(primary.get(int(gid), ()))
                self.group_keys[f"gid:{int(gid)}"] = key
            self.group_keys[name.lower()] = key

    # -- answers --

    def enabled_accounts(self) -> int:
        """Enabled user accounts under base_dn."""
        self._load()
        return sum(self.enabled)

    def reach(self, principal: str) -> Reach | None:
        """A SID, a DN, 'group NAME', 'user NAME', 'DOMAIN\\name', 'unix group N' or a plain name."""
        self._load()
        key = principal.strip()
        for prefix in ("group ", "user "):
            if key.startswith(prefix):
                key = key[len(prefix):]
        if key.startswith("unix group "):
            key = key.rsplit(" ", 1)[1]
        if key.isdigit():  # a gid this machine has no name for ("group 5001"): the directory's gidNumber
            key = f"gid:{key}"
        key = key.rsplit("\\", 1)[-1].lower() if not key.startswith("S-1-") else key
        if key in self.group_keys and not principal.startswith("user "):
            return self.groups.reach(principal, self.group_keys[key])
        if key in self.users and not principal.startswith("group "):
            index = self.users[key]
            return Reach(principal, "user", self.user_names[index], int(self.enabled[index]),
                         note="" if self.enabled[index] else "a disabled account")
        return None


def _first(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _raw(entry: dict, attribute: str) -> bytes:
    raw = entry.get("raw_attributes", {}).get(attribute) or [b""]
    return raw[0] if isinstance(raw, list) else raw


def _why(exc: Exception) -> str:
    """A library error in one line, without the bind password (ldap3 never puts it in its messages)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "certificate" in text.lower() or isinstance(exc, ssl.SSLError):
        return f"the directory's TLS certificate was not accepted ({text}); set ca_file / server_name"
    return text[:300]
