"""A throwaway Dovecot IMAP server for tests: loopback, free ports, a temp dir, its own dovecot.conf.

Users come from a passwd-file, mail is Maildir under the temp dir, TLS uses a certificate signed by a CA made for
the run (its PEM is `Dovecot.ca`), the acl plugin keeps rights in dovecot-acl files (vfile) with IMAP's
GETACL/SETACL on, and there are three namespaces: each user's own (INBOX, separator "/"), a public one
(`Public/`, e.g. a `support` mailbox) and the shared one (`shared/<user>/…`, what users share with SETACL).

Messages are planted through IMAP as the users themselves (`Dovecot.login(user)`): the auditor's account never
writes. A server that cannot start fails the test with the reason (never a quiet skip).
"""
from __future__ import annotations

import datetime
import hashlib
import imaplib
import ipaddress
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MAIL_USER = "vsimap"  # the system account every mailbox belongs to (Dovecot never serves mail as root)
USERS = {"auditor": "Audit-pw-7", "admin": "Admin-pw-7", "alice": "Alice-pw-7", "support": "Support-pw-7"}
ALL_RIGHTS = "lrwstipekxa"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca_and_cert(where: Path, name: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1/localhost that it signed: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"vendorscan test CA {where.name}")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (where / "ca.pem").write_bytes(ca.public_bytes(pem))
    (where / "cert.pem").write_bytes(cert.public_bytes(pem))
    (where / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    return where / "ca.pem", where / "cert.pem", where / "key.pem"


CONF = """\
# vendorscan test instance: loopback only, every path in {dir}
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = vendorscan-imap-{port}
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
first_valid_uid = {uid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{dir}/mail/%u
mail_plugins = acl
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/passwd
}}
namespace inbox {{
  inbox = yes
  separator = /
  prefix =
}}
namespace public {{
  type = public
  separator = /
  prefix = Public/
  location = maildir:{dir}/public:INDEX={dir}/public-index
  subscriptions = no
  list = yes
}}
namespace shared {{
  type = shared
  separator = /
  prefix = shared/%%u/
  location = maildir:{dir}/mail/%%u:INDEX={dir}/shared-index/%u/%%u
  subscriptions = no
  list = children
}}
plugin {{
  acl = vfile:cache_secs=0
  acl_shared_dict = file:{dir}/state/shared-mailboxes.db
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_acl
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class Dovecot:
    """A running throwaway Dovecot."""

    dir: Path
    port: int  # IMAP with STARTTLS
    ssl_port: int  # IMAPS
    ca: Path
    proc: subprocess.Popen
    uid: int
    gid: int
    users: dict = field(default_factory=lambda: dict(USERS))

    def login(self, user: str) -> imaplib.IMAP4_SSL:
        """An IMAPS session as `user` (for planting and checking; the connector under test logs in itself)."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.ssl_port, ssl_context=ctx, timeout=30)
        conn.login(user, self.users[user])
        return conn

    def public_folder(self, name: str, acl: dict[str, str]) -> None:
        """Make the public mailbox `Public/<name>` on disk with its dovecot-acl (identifier → rights)."""
        path = self.dir / "public" / ("." + name.replace("/", "."))
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        (path / "dovecot-acl").write_text("".join(f"{who} {rights}\n" for who, rights in acl.items()))
        self.chown(self.dir / "public")

    def chown(self, path: Path) -> None:
        """Give a tree under the temp dir to the mail account."""
        for p in [path, *path.rglob("*")]:
            os.lchown(p, self.uid, self.gid)

    def append(self, user: str, folder: str, message: bytes, flags: str = "") -> int:
        """Append a message as `user`; its UID (from APPENDUID)."""
        conn = self.login(user)
        try:
            typ, data = conn.append(quote(folder), f"({flags})" if flags else None, None, message)
            assert typ == "OK", data
            text = data[0].decode()
            uid = int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])
            return uid
        finally:
            conn.logout()

    def create(self, user: str, folder: str) -> None:
        """CREATE a folder in `user`'s own namespace."""
        conn = self.login(user)
        try:
            typ, data = conn.create(quote(folder))
            assert typ == "OK", data
        finally:
            conn.logout()

    def setacl(self, user: str, folder: str, who: str, rights: str) -> None:
        """SETACL as `user` (the folder's owner or a holder of the 'a' right); empty rights: DELETEACL."""
        conn = self.login(user)
        try:
            if rights:
                typ, data = conn.setacl(quote(folder), who, rights)
            else:
                typ, data = conn._simple_command("DELETEACL", quote(folder), who)
            assert typ == "OK", data
        finally:
            conn.logout()

    def expunge(self, user: str, folder: str, uid: int) -> None:
        """Delete one message as `user` (who needs the t and e rights)."""
        conn = self.login(user)
        try:
            typ, data = conn.select(quote(folder))
            assert typ == "OK", data
            conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
            typ, data = conn.uid("EXPUNGE", str(uid))
            assert typ == "OK", data
            conn.close()
        finally:
            conn.logout()

    def flags(self, user: str, folder: str) -> dict[int, frozenset[str]]:
        """Every message's flags in a folder, as `user` sees them (read with EXAMINE: it changes nothing)."""
        conn = self.login(user)
        try:
            typ, data = conn.select(quote(folder), readonly=True)
            assert typ == "OK", data
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            out = {}
            for line in data:
                if not line:
                    continue
                text = line.decode() if isinstance(line, bytes) else line[0].decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                flags = text.split("FLAGS (", 1)[1].split(")", 1)[0].split()
                out[uid] = frozenset(f for f in flags if f != "\\Recent")
            conn.close()
            return out
        finally:
            conn.logout()

    def snapshot(self) -> dict[str, str]:
        """The server's own view of every message: maildir file (its flags are in the name) → content digest.

        Dovecot's index and cache files are its bookkeeping, not content, and are left out."""
        out = {}
        for base in (self.dir / "mail", self.dir / "public"):
            for p in sorted(base.rglob("*")):
                if p.is_file() and p.parent.name in ("cur", "new"):
                    name = p.name
                    if name.endswith(":2,"):
                        name = name[:-3]  # new/ → cur/ with no flag is the same message, unflagged
                    key = f"{p.parent.parent.relative_to(self.dir)}/{name}"
                    out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
        return out

    def log(self) -> str:
        """The server log (for a failing test's message)."""
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"


def quote(folder: str) -> str:
    """A mailbox name as an IMAP quoted string."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mail_account() -> tuple[int, int]:
    import pwd
    try:
        entry = pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-r", "-s", "/usr/sbin/nologin", MAIL_USER], check=True,
                       capture_output=True)
        entry = pwd.getpwnam(MAIL_USER)
    return entry.pw_uid, entry.pw_gid


def start_dovecot() -> Dovecot:
    """Dovecot on two free loopback ports (143-style with STARTTLS, and IMAPS), everything under a temp dir."""
    if not shutil.which("dovecot"):
        raise RuntimeError("dovecot is not installed: apt-get install dovecot-imapd")
    uid, gid = _mail_account()
    d = Path(tempfile.mkdtemp(prefix="vendorscan-dovecot-", dir="/tmp"))
    os.chmod(d, 0o755)
    ca, _cert, key = make_ca_and_cert(d)
    os.chmod(key, 0o600)
    for sub in ("run", "state", "mail", "public", "public-index", "shared-index"):
        (d / sub).mkdir()
    for sub in ("mail", "public", "public-index", "shared-index"):
        os.chown(d / sub, uid, gid)
    (d / "passwd").write_text("".join(f"{u}:{p}:{uid}:{gid}::{d}/mail/{u}::\n" for u, p in USERS.items()))
    os.chmod(d / "passwd", 0o600)
    import pwd
    internal = pwd.getpwnam("dovecot")  # the auth process runs as Dovecot's internal user and reads it
    os.chown(d / "passwd", internal.pw_uid, internal.pw_gid)
    os.chown(d / "state", uid, gid)  # the shared-mailboxes dict is written by the users' imap processes
    port, ssl_port = free_port(), free_port()
    (d / "dovecot.conf").write_text(CONF.format(dir=d, port=port, ssl_port=ssl_port, uid=uid, gid=gid))
    check = subprocess.run(["doveconf", "-c", str(d / "dovecot.conf"), "-n"], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"doveconf rejected the test config: {check.stderr.strip()[-800:]}")
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(d / "dovecot.conf")], stdout=subprocess.DEVNULL,
                            stderr=open(d / "stderr.log", "wb"), start_new_session=True)
    server = Dovecot(d, port, ssl_port, ca, proc, uid, gid)
    deadline = time.monotonic() + 20
    while True:
        try:
            server.login("admin").logout()
            break
        except (OSError, imaplib.IMAP4.error):
            if proc.poll() is not None or time.monotonic() > deadline:
                why = f"{(d / 'stderr.log').read_text(errors='replace')[-800:]} {server.log()}"
                stop_dovecot(server)
                raise RuntimeError(f"dovecot did not start: {why}") from None
            time.sleep(0.2)
    return server


def stop_dovecot(server: Dovecot, keep: bool = False) -> None:
    """SIGTERM the master, SIGKILL after 10 s, then any session left in its process group; remove the temp dir."""
    proc = server.proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:  # sessions the master left running (imap, imap-login) are in the process group started for it
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not keep:
        shutil.rmtree(server.dir, ignore_errors=True)


def kick(server: Dovecot, user: str) -> str:
    """Disconnect every session of `user` from the server side (doveadm kick): a dropped connection."""
    proc = subprocess.run(["doveadm", "-c", str(server.dir / "dovecot.conf"), "kick", user], capture_output=True,
                          text=True)
    return proc.stdout + proc.stderr
