"""A throwaway OpenLDAP slapd with rfc2307 accounts and groups, on a free loopback port, StartTLS with its own CA.

Configured (cn=config) and loaded with slapadd before it starts, so thousands of entries cost seconds.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import servers

BASE_DN = "dc=audit,dc=test"
ADMIN_DN, ADMIN_PASSWORD = f"cn=admin,{BASE_DN}", "Slapd-audit-7"


@dataclass
class Slapd:
    """A running slapd."""

    port: int
    dir: Path
    ca_file: Path
    proc: subprocess.Popen


def _config(d: Path, cert: Path, key: Path) -> str:
    schemas = "".join(f"include: file:///etc/ldap/schema/{s}.ldif\n\n" for s in ("core", "cosine", "nis",
                                                                                 "inetorgperson"))
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/slapd.pid
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE_DN}
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcDbDirectory: {d}/db
olcAccess: {{0}}to * by * read
"""


def _data(users: list[dict], groups: list[dict]) -> str:
    out = [f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: audit\no: Audit\n",
           f"dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n",
           f"dn: ou=groups,{BASE_DN}\nobjectClass: organizationalUnit\nou: groups\n"]
    for i, u in enumerate(users):
        out.append(f"dn: uid={u['uid']},ou=people,{BASE_DN}\nobjectClass: account\nobjectClass: posixAccount\n"
                   f"uid: {u['uid']}\ncn: {u['uid']}\nuidNumber: {20000 + i}\ngidNumber: {u['gid']}\n"
                   f"homeDirectory: /home/{u['uid']}\nloginShell: {u.get('shell', '/bin/bash')}\n")
    for g in groups:
        members = "".join(f"memberUid: {m}\n" for m in g.get("members", []))
        out.append(f"dn: cn={g['name']},ou=groups,{BASE_DN}\nobjectClass: posixGroup\ncn: {g['name']}\n"
                   f"gidNumber: {g['gid']}\n{members}")
    return "\n".join(out)


def start(users: list[dict], groups: list[dict]) -> Slapd:
    """slapd with these posixAccounts ({uid, gid, shell}) and posixGroups ({name, gid, members}), started."""
    if not shutil.which("slapd") and not Path("/usr/sbin/slapd").exists():
        raise RuntimeError("slapd is missing: scripts/setup.sh installs the Debian package slapd")
    d = Path(tempfile.mkdtemp(prefix="vendorscan-slapd-"))
    cert, key = servers.self_signed(d)
    (d / "slapd.d").mkdir()
    (d / "db").mkdir()
    (d / "config.ldif").write_text(_config(d, cert, key), encoding="utf-8")
    (d / "data.ldif").write_text(_data(users, groups), encoding="utf-8")
    servers._run(["slapadd", "-n0", "-F", str(d / "slapd.d"), "-l", str(d / "config.ldif")], "slapadd (config)")
    servers._run(["slapadd", "-n1", "-F", str(d / "slapd.d"), "-l", str(d / "data.ldif")], "slapadd (data)")
    port = servers.free_port()
    log = d / "slapd.log"
    proc = subprocess.Popen(["slapd", "-h", f"ldap://127.0.0.1:{port}/", "-F", str(d / "slapd.d"), "-d", "0"],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        servers._wait_port(port, 30, log)
    except RuntimeError:
        servers.stop_process(proc)
        raise
    return Slapd(port, d, cert, proc)


def stop(s: Slapd) -> None:
    """Stop slapd and remove its files."""
    servers.stop_process(s.proc, grace=10)
    shutil.rmtree(s.dir, ignore_errors=True)
