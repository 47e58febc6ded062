"""Throwaway database servers for tests: loopback, a free port, a temp dir, stopped afterwards.

A server that cannot start fails the test with the reason (never a quiet skip).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def relay(handler, host: str, port: int, body: bytes | None, headers: dict) -> bytes:
    """A fault proxy's request sent on to the real server; its status and headers sent back, its body returned
    (the caller writes it, or cuts it short)."""
    import http.client
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request(handler.command, handler.path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    handler.send_response(resp.status)
    for k, v in resp.getheaders():
        if k.lower() not in ("content-length", "transfer-encoding", "connection"):
            handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    return data


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    """moto's S3 server on a free loopback port: (server, endpoint URL, a boto3 S3 client for it)."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs every request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-north-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    return server, endpoint, s3


def self_signed(tmp_path):
    """A certificate for 127.0.0.1 that no CA signed, and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return tmp_path / "cert.pem", tmp_path / "key.pem"


def _run(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return proc


def _as(user: str, cmd: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--"] + cmd if os.geteuid() == 0 else cmd


def _wait_port(port: int, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} within {seconds}s; log: "
                       f"{log.read_text(errors='replace')[-800:] if log.exists() else '(none)'}")


@dataclass
class Postgres:
    """A running throwaway PostgreSQL."""

    port: int
    dir: Path
    admin: str
    password: str

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL as the admin over the unix socket in the temp dir."""
        return _run(_as("postgres", [self.bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.dir),
                                     "-p", str(self.port), "-U", self.admin, "-d", db, "-At", "-c", sql]),
                    "psql", env={**os.environ, "PGPASSWORD": self.password}).stdout

    @staticmethod
    def bin(name: str) -> str:
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
        if not found:
            raise RuntimeError(f"PostgreSQL's {name} not found: install the Debian package postgresql")
        return found[-1]

    def odbc(self, db: str, user: str) -> str:
        """An ODBC connection string (the password comes from password_env)."""
        return (f"Driver={{PostgreSQL Unicode}};Server=127.0.0.1;Port={self.port};Database={db};"
                f"Uid={user};BoolsAsChar=0;SSLMode=disable")


def start_postgres() -> Postgres:
    """initdb + pg_ctl start in a temp dir owned by postgres."""
    d = Path(tempfile.mkdtemp(prefix="vendorscan-pg-"))
    shutil.chown(d, "postgres") if os.geteuid() == 0 else None
    pw = d / "pw"
    pw.write_text("admin-pw\n")
    shutil.chown(pw, "postgres") if os.geteuid() == 0 else None
    port = free_port()
    _run(_as("postgres", [Postgres.bin("initdb"), "-D", str(d / "data"), "-U", "admin", "--auth=scram-sha-256",
                          f"--pwfile={pw}", "-E", "UTF8", "--locale=C.UTF-8"]), "initdb")
    _run(_as("postgres", [Postgres.bin("pg_ctl"), "-D", str(d / "data"), "-l", str(d / "log"), "-o",
                          f"-p {port} -k {d} -c listen_addresses=127.0.0.1", "-w", "-t", "60", "start"]),
         "pg_ctl start")
    return Postgres(port, d, "admin", "admin-pw")


def stop_postgres(pg: Postgres) -> None:
    """Stop the server and remove its files."""
    subprocess.run(_as("postgres", [Postgres.bin("pg_ctl"), "-D", str(pg.dir / "data"), "-m", "immediate", "stop"]),
                   capture_output=True)
    shutil.rmtree(pg.dir, ignore_errors=True)


@dataclass
class MariaDb:
    """A running throwaway MariaDB."""

    port: int
    dir: Path
    proc: subprocess.Popen

    @property
    def socket(self) -> str:
        return str(self.dir / "mysqld.sock")

    def sql(self, sql: str) -> str:
        """Run SQL as root over the socket (unix_socket authentication)."""
        return _run(["mariadb", "--no-defaults", "-S", self.socket, "-u", "root", "-N", "-B", "-e", sql],
                    "mariadb client").stdout

    def odbc(self, db: str, user: str) -> str:
        """An ODBC connection string (the password comes from password_env)."""
        return f"Driver={{MariaDB Unicode}};Server=127.0.0.1;Port={self.port};Database={db};Uid={user}"


def start_mariadb() -> MariaDb:
    """mariadb-install-db + mariadbd on a free loopback port."""
    if os.geteuid() != 0:
        raise RuntimeError("the MariaDB fixture needs root (it runs mariadbd as the mysql user)")
    d = Path(tempfile.mkdtemp(prefix="vendorscan-maria-"))
    shutil.chown(d, "mysql")
    _run(_as("mysql", ["mariadb-install-db", "--no-defaults", f"--datadir={d / 'data'}", "--skip-test-db",
                       "--auth-root-authentication-method=socket"]), "mariadb-install-db")
    port = free_port()
    log = d / "log"
    proc = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={d / 'data'}", f"--port={port}",
                             "--bind-address=127.0.0.1", f"--socket={d / 'mysqld.sock'}",
                             f"--pid-file={d / 'mysqld.pid'}", "--skip-name-resolve", "--user=mysql",
                             f"--log-error={log}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, 60, log)
    except RuntimeError:
        proc.kill()
        raise
    return MariaDb(port, d, proc)


def stop_process(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_mariadb(m: MariaDb) -> None:
    """Stop the server and remove its files."""
    stop_process(m.proc)
    shutil.rmtree(m.dir, ignore_errors=True)


@dataclass
class Sshd:
    """A running throwaway OpenSSH server with one key-authenticated user."""

    port: int
    dir: Path
    user: str
    client_key: Path
    host_key_fingerprint: str
    known_hosts: Path
    proc: subprocess.Popen

    def sessions(self) -> list[int]:
        """PIDs of this user's SSH sessions."""
        out = subprocess.run(["pgrep", "-u", self.user], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]


def start_sshd(user: str = "vsaudit") -> Sshd:
    """sshd -D on a free loopback port, a temp host key, an authorized client key (FIXTURES.md recipe)."""
    if os.geteuid() != 0:
        raise RuntimeError("the sshd fixture needs root (it creates a user and runs sshd)")
    d = Path(tempfile.mkdtemp(prefix="vendorscan-sshd-"))
    os.chmod(d, 0o755)
    Path("/run/sshd").mkdir(exist_ok=True)
    if subprocess.run(["id", user], capture_output=True).returncode != 0:
        _run(["useradd", "-m", "-s", "/bin/sh", user], "useradd")
    _run(["usermod", "-p", "*", user], "usermod")  # no password, but not locked (UsePAM no refuses "!")
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], "ssh-keygen host")
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client_key")], "ssh-keygen client")
    shutil.copyfile(d / "client_key.pub", d / "authorized_keys")
    os.chmod(d / "authorized_keys", 0o644)
    port = free_port()
    conf = d / "sshd_config"
    conf.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d / 'host_key'}
PidFile {d / 'sshd.pid'}
AuthorizedKeysFile {d / 'authorized_keys'}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowUsers {user}
Subsystem sftp internal-sftp
""")
    _run(["/usr/sbin/sshd", "-t", "-f", str(conf)], "sshd -t")
    log = d / "log"
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"))
    _wait_port(port, 20, log)
    fp = _run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(d / "host_key.pub")], "ssh-keygen -l").stdout.split()[1]
    pub = (d / "host_key.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {pub[0]} {pub[1]}\n")
    return Sshd(port, d, user, d / "client_key", fp, d / "known_hosts", proc)


def stop_sshd(s: Sshd) -> None:
    """Stop the listener and every session of the test user, then remove the files."""
    stop_process(s.proc, grace=10)
    for pid in s.sessions():
        subprocess.run(["kill", "-9", str(pid)], capture_output=True)
    shutil.rmtree(s.dir, ignore_errors=True)


@dataclass
class Smbd:
    """A running throwaway Samba server with one share and one user."""

    port: int
    dir: Path
    share: str
    share_path: Path
    user: str
    password: str
    proc: subprocess.Popen


def start_smbd(user: str = "smbaudit", password: str = "Smb-audit-9", nt_acls_only: bool = False) -> Smbd:
    """smbd --foreground with a private smb.conf on a free loopback port (FIXTURES.md recipe).

    nt_acls_only: Samba enforces stored NT ACLs itself and leaves POSIX modes alone (needed when a
    test sets DACLs with SIDs that have no POSIX form, such as Authenticated Users).
    """
    if os.geteuid() != 0:
        raise RuntimeError("the smbd fixture needs root (smbd must run as root to serve sessions as their users)")
    build = subprocess.run(["smbd", "-b"], capture_output=True, text=True).stdout
    modules = next((line.split(":", 1)[1].strip() for line in build.splitlines() if "MODULESDIR" in line), "")
    if modules and not Path(modules, "vfs", "acl_xattr.so").exists():
        raise RuntimeError("smbd has no acl_xattr VFS module: install the Debian package samba-vfs-modules")
    d = Path(tempfile.mkdtemp(prefix="vendorscan-smbd-"))
    share_path = d / "share"
    share_path.mkdir()
    os.chmod(d, 0o755)
    os.chmod(share_path, 0o755)
    for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "binddns"):
        (d / sub).mkdir()
    port = free_port()
    conf = d / "smb.conf"
    conf.write_text(f"""[global]
server role = standalone server
smb ports = {port}
interfaces = lo
bind interfaces only = yes
disable netbios = yes
server min protocol = SMB2_10
private dir = {d / 'private'}
lock directory = {d / 'lock'}
state directory = {d / 'state'}
cache directory = {d / 'cache'}
pid directory = {d / 'pid'}
ncalrpc dir = {d / 'ncalrpc'}
binddns dir = {d / 'binddns'}
passdb backend = tdbsam:{d / 'private' / 'passdb.tdb'}
map to guest = never
load printers = no
printcap name = /dev/null
disable spoolss = yes
log file = {d / 'log'}

[projects]
path = {share_path}
read only = yes
write list = {user}admin
admin users = {user}admin
vfs objects = acl_xattr
{"acl_xattr:ignore system acls = yes" if nt_acls_only else ""}
""")
    # the audit user reads; "<user>admin" may write (only to set DACLs for the tests)
    for name in (user, f"{user}admin"):
        if subprocess.run(["id", name], capture_output=True).returncode != 0:
            _run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], "useradd")
        _run(["smbpasswd", "-c", str(conf), "-a", "-s", name], "smbpasswd", input=f"{password}\n{password}\n")
    log = d / "log"
    # A session of its own: on SIGTERM smbd signals its whole process group, which must not be pytest's.
    proc = subprocess.Popen(["smbd", "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _wait_port(port, 30, log)
    return Smbd(port, d, "projects", share_path, user, password, proc)


def set_dacl(s: Smbd, rel_path: str, aces: list[tuple[str, str, int, int]], admin: str = "") -> None:
    """Replace the DACL of a file or folder over SMB, as the share's admin user (or `admin`).

    aces: (allow|deny, SID, access mask, ACE flags).
    """
    import uuid

    from smbprotocol.connection import Connection
    from smbprotocol.open import (CreateDisposition, CreateOptions, FileAttributes, FilePipePrinterAccessMask,
                                  ImpersonationLevel, Open, ShareAccess, SMB2SetInfoRequest)
    from smbprotocol.security_descriptor import (AccessAllowedAce, AccessDeniedAce, AclPacket, SDControl,
                                                 SIDPacket, SMB2CreateSDBuffer)
    from smbprotocol.session import Session
    from smbprotocol.tree import TreeConnect
    conn = Connection(uuid.uuid4(), "127.0.0.1", s.port)
    conn.connect()
    try:
        session = Session(conn, admin or f"{s.user}admin", s.password)
        session.connect()
        tree = TreeConnect(session, f"\\\\127.0.0.1\\{s.share}")
        tree.connect()
        is_dir = (s.share_path / rel_path).is_dir()
        handle = Open(tree, rel_path.replace("/", "\\"))
        handle.create(ImpersonationLevel.Impersonation,
                      FilePipePrinterAccessMask.WRITE_DAC | FilePipePrinterAccessMask.READ_CONTROL,
                      FileAttributes.FILE_ATTRIBUTE_NORMAL,
                      ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE,
                      CreateDisposition.FILE_OPEN,
                      CreateOptions.FILE_DIRECTORY_FILE if is_dir else CreateOptions.FILE_NON_DIRECTORY_FILE)
        entries = []
        for kind, sid, mask, flags in aces:
            ace = AccessAllowedAce() if kind == "allow" else AccessDeniedAce()
            packet = SIDPacket()
            packet.from_string(sid)
            ace["sid"] = packet
            ace["mask"] = mask
            ace["ace_flags"] = flags
            entries.append(ace)
        acl = AclPacket()
        acl["aces"] = entries
        sd = SMB2CreateSDBuffer()
        sd["control"].set_flag(SDControl.SELF_RELATIVE)
        sd.set_dacl(acl)
        req = SMB2SetInfoRequest()
        req["info_type"] = 3  # security
        req["file_info_class"] = 0
        req["additional_information"] = 0x4  # DACL
        req["file_id"] = handle.file_id
        req["buffer"] = sd
        conn.receive(conn.send(req, sid=session.session_id, tid=tree.tree_connect_id))
        handle.close()
        tree.disconnect()
        session.disconnect()
    finally:
        conn.disconnect()


def stop_smbd(s: Smbd) -> None:
    """Stop smbd (and the children it forked for sessions), then remove the files."""
    stop_process(s.proc, grace=10)
    subprocess.run(["pkill", "-f", str(s.dir / "smb.conf")], capture_output=True)
    shutil.rmtree(s.dir, ignore_errors=True)


@dataclass
class WebDav:
    """A running WsgiDAV server (tests/webdav_server.py): `root` is served at `url`, as a Nextcloud account is."""

    proc: subprocess.Popen
    port: int
    root: Path  # the folder it serves (reachable by the server's own account, "nobody" when started as root)
    user: str
    password: str
    url: str  # the account's DAV root: <origin>/remote.php/dav/files/<user>/
    log: Path


def start_webdav(ocs_shares: list[dict] | None = None, cert: Path | None = None, key: Path | None = None,
                 user: str = "alice", password: str = "Dav-audit-7") -> WebDav:
    """WsgiDAV on cheroot in its own process on a free loopback port, serving a new temp dir with basic auth;
    with `ocs_shares` (Nextcloud share records) it also answers the OCS Share API from them (see webdav_server.py)."""
    import json
    import sys
    d = Path(tempfile.mkdtemp(prefix="vendorscan-dav-"))
    os.chmod(d, 0o755)  # the server drops to "nobody"
    root = d / "files"
    root.mkdir()
    os.chmod(root, 0o755)
    port, log = free_port(), d / "server.log"
    mount = f"/remote.php/dav/files/{user}"
    cmd = [sys.executable, str(Path(__file__).with_name("webdav_server.py")), "--root", str(root), "--port", str(port),
           "--user", user, "--mount", mount]
    if ocs_shares is not None:
        (d / "shares.json").write_text(json.dumps({"shares": ocs_shares}))
        os.chmod(d / "shares.json", 0o644)
        cmd += ["--ocs", str(d / "shares.json")]
    if cert:
        cmd += ["--cert", str(cert), "--key", str(key)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "WEBDAV_TEST_PASSWORD": password})
    try:
        _wait_ready(proc, log, 30)
    except BaseException:
        stop_process(proc, 5)
        raise
    origin = f"{'https' if cert else 'http'}://127.0.0.1:{port}"
    return WebDav(proc, port, root, user, password, f"{origin}{mount}/", log)


def _wait_ready(proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if b"ready" in log.read_bytes():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"the WebDAV server did not start (exit {proc.poll()}): "
                       f"{log.read_text(errors='replace')[-800:]}")


def stop_webdav(w: WebDav) -> None:
    """Stop the server by its pid and remove its temp dir."""
    stop_process(w.proc, 10)
    shutil.rmtree(w.root.parent, ignore_errors=True)
