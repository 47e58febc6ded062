"""A throwaway Samba Active Directory domain controller on loopback (FIXTURES.md recipe), with a populated domain.

Provisioned into a temp dir; users and groups are written into its sam.ldb by Debian's own Python (python3-samba)
before it starts, in one transaction (thousands of accounts in seconds); then `samba -i` serves LDAP(S) and SMB on
127.0.0.1. Its ports are fixed (389, 636, 445): one DC per machine at a time.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import servers

REALM, DOMAIN, ADMIN_PASSWORD = "AUDIT.TEST", "AUDIT", "Adm1n-Audit-2026!"
BASE_DN = "DC=audit,DC=test"
PORTS = (389, 636, 445)

# Run by /usr/bin/python3 (Debian's, which has the samba bindings): argv = target dir, spec file; prints SIDs.
_POPULATE = r'''
import json, sys
import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

target, spec = sys.argv[1], json.load(open(sys.argv[2]))
lp = LoadParm()
lp.load(f"{target}/etc/smb.conf")
db = SamDB(url=f"{target}/private/sam.ldb", session_info=system_session(), lp=lp)
base = str(db.domain_dn())
dn = lambda e: f"CN={e['name']},OU={e['ou']},{base}"
db.transaction_start()
for ou in spec["ous"]:
    db.add({"dn": f"OU={ou},{base}", "objectClass": "organizationalUnit"})
for u in spec["users"]:
    db.add({"dn": dn(u), "objectClass": "user", "sAMAccountName": u["name"],
            "userAccountControl": str(514 if u.get("disabled") else 512)})
for g in spec["groups"]:
    db.add({"dn": dn(g), "objectClass": "group", "sAMAccountName": g["name"]})
for g in spec["groups"]:
    members = [dn(m) if "ou" in m else f"<SID={m['sid']}>" for m in g.get("members", [])]
    if members:
        m = ldb.Message()
        m.dn = ldb.Dn(db, dn(g))
        m["member"] = ldb.MessageElement(members, ldb.FLAG_MOD_ADD, "member")
        db.modify(m)
db.transaction_commit()
sids = {str(r["sAMAccountName"]): str(ndr_unpack(security.dom_sid, r["objectSid"][0]))
        for r in db.search(base, expression="(|(objectClass=group)(objectClass=user))",
                           attrs=["sAMAccountName", "objectSid"])}
json.dump({"domain_sid": str(db.get_domain_sid()), "sids": sids}, sys.stdout)
'''


@dataclass
class DomainController:
    """A running Samba AD DC."""

    dir: Path
    ca_file: Path
    server_name: str  # the name in its LDAPS certificate
    sids: dict[str, str]  # sAMAccountName -> SID
    domain_sid: str
    share: str
    share_path: Path
    proc: subprocess.Popen
    port: int = 445
    user: str = "Administrator"
    password: str = ADMIN_PASSWORD


def user(name: str, ou: str = "Staff", disabled: bool = False) -> dict:
    """A user of the spec."""
    return {"name": name, "ou": ou, **({"disabled": True} if disabled else {})}


def group(name: str, members: list[dict], ou: str = "Groups") -> dict:
    """A group of the spec; a member {"sid": …} of another domain becomes a foreign security principal."""
    return {"name": name, "ou": ou, "members": members}


def start(spec: dict, share: str = "cases") -> DomainController:
    """Provision a domain, write the spec's OUs, users and groups into it, add a share, and start the DC."""
    busy = [p for p in PORTS if _listening(p)]
    if busy:
        raise RuntimeError(f"ports {busy} on 127.0.0.1 are in use: the Samba AD DC needs 389, 636 and 445 "
                           "(another DC or smbd is running?)")
    for tool in ("samba", "samba-tool"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: scripts/setup.sh installs samba-ad-dc and samba-ad-provision")
    d = Path(tempfile.mkdtemp(prefix="vendorscan-addc-"))
    servers._run(["samba-tool", "domain", "provision", f"--realm={REALM}", f"--domain={DOMAIN}",
                  f"--adminpass={ADMIN_PASSWORD}", "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
                  f"--targetdir={d}", "--option=interfaces=lo", "--option=bind interfaces only=yes"],
                 "samba-tool domain provision")
    refs = {**spec, "groups": [{**g, "members": [{k: m[k] for k in ("name", "ou", "sid") if k in m}
                                                 for m in g.get("members", [])]} for g in spec["groups"]]}
    (d / "spec.json").write_text(json.dumps(refs), encoding="utf-8")
    (d / "populate.py").write_text(_POPULATE, encoding="utf-8")
    made = json.loads(servers._run(["/usr/bin/python3", str(d / "populate.py"), str(d), str(d / "spec.json")],
                                   "populating the domain").stdout)
    share_path = d / "shares" / share
    share_path.mkdir(parents=True)
    with open(d / "etc" / "smb.conf", "a", encoding="utf-8") as conf:
        conf.write(f"\n[{share}]\n  path = {share_path}\n  read only = no\n")
    log = d / "samba.log"
    # -i: in the foreground, until its stdin closes; the pipe stays open as long as this process keeps it.
    proc = subprocess.Popen(["samba", "-i", "-M", "single", "-s", str(d / "etc" / "smb.conf")],
                            stdin=subprocess.PIPE, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        for port in PORTS:
            servers._wait_port(port, 60, log)
        _wait_for_smb_logon(log)
    except RuntimeError:
        stop(DomainController(d, d, "", {}, "", share, share_path, proc))
        raise
    name = subprocess.run(["openssl", "x509", "-in", str(d / "private" / "tls" / "cert.pem"), "-noout", "-subject",
                           "-nameopt", "multiline"], capture_output=True, text=True).stdout
    cn = next(line.split("=", 1)[1].strip() for line in name.splitlines() if "commonName" in line)
    return DomainController(d, d / "private" / "tls" / "ca.pem", cn, made["sids"], made["domain_sid"], share,
                            share_path, proc)


def stop(dc: DomainController) -> None:
    """Stop the DC and remove its files."""
    if dc.proc.stdin:
        dc.proc.stdin.close()
    servers.stop_process(dc.proc, grace=15)
    subprocess.run(["pkill", "-f", str(dc.dir / "etc" / "smb.conf")], capture_output=True)
    shutil.rmtree(dc.dir, ignore_errors=True)


def _wait_for_smb_logon(log: Path, seconds: float = 60) -> None:
    """Until the DC's SMB server takes a logon: it listens before its authentication is ready (seen: a logon
    right after start answered STATUS_INTERNAL_ERROR)."""
    import time
    import uuid
    from smbprotocol.connection import Connection
    from smbprotocol.exceptions import SMBException
    from smbprotocol.session import Session
    deadline = time.monotonic() + seconds
    while True:
        conn = Connection(uuid.uuid4(), "127.0.0.1", 445)
        try:
            conn.connect(timeout=5)
            Session(conn, "Administrator", ADMIN_PASSWORD).connect()
            return
        except (SMBException, OSError, ValueError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the DC's SMB server took no logon within {seconds:.0f}s ({exc}); log: "
                                   f"{log.read_text(errors='replace')[-800:]}") from None
            time.sleep(0.5)
        finally:
            try:
                conn.disconnect()
            except (SMBException, OSError):
                pass  # it never connected


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
