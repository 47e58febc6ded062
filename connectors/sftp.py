"""SFTP shares (paramiko): verified host keys, mode-bit access with the parents' traverse rule."""
from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import socket
import stat
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator
from urllib.parse import quote, unquote_to_bytes, urlsplit

from vendorscan.model import Resource, Skipped
from vendorscan.connectors import posix
from vendorscan.connectors.sftpread import BLOCK, DEPTH, open_pipelined
from vendorscan.connector import Connector, ConnectorError, ResourceError, backoff


def _b(path: str) -> bytes:
    """The name's bytes on the server (a name that is not UTF-8 was decoded with surrogateescape)."""
    return path.encode("utf-8", "surrogateescape")


def listdir_attr(sftp, path: str) -> list:
    """paramiko's listdir_attr, but names that are not UTF-8 kept (surrogateescape) instead of failing the folder."""
    from paramiko.sftp import CMD_CLOSE, CMD_HANDLE, CMD_NAME, CMD_OPENDIR, CMD_READDIR, SFTPError
    from paramiko.sftp_attr import SFTPAttributes
    # paramiko's own listdir_attr decodes each name strictly: one bad byte raises for the whole folder.
    t, msg = sftp._request(CMD_OPENDIR, _b(path))
    if t != CMD_HANDLE:
        raise SFTPError("Expected handle")
    handle = msg.get_binary()
    entries = []
    try:
        while True:
            try:
                t, msg = sftp._request(CMD_READDIR, handle)
            except EOFError:  # the end of the listing
                break
            if t != CMD_NAME:
                raise SFTPError("Expected name response")
            for _ in range(msg.get_int()):
                name = msg.get_string().decode("utf-8", "surrogateescape")
                longname = msg.get_string().decode("utf-8", "replace")
                attr = SFTPAttributes._from_msg(msg, name, longname)  # read for "." too: it is in the message
                if name not in (".", ".."):
                    entries.append(attr)
    finally:
        sftp._request(CMD_CLOSE, handle)
    return entries


def fingerprint(key) -> str:
    """SHA256:… of a host key, as ssh-keygen -l prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class SftpConnector(Connector):
    """SFTP servers (OpenSSH and others): files read-only, access from mode bits and owners."""

    id = "sftp"
    version = "1"
    scheme = "sftp"
    thread_safe = True  # one SFTP channel per thread at a time (paramiko matches answers per channel), one connection

    @dataclass(frozen=True)
    class Options:
        host: str
        username: str
        paths: list[str]
        port: int = 22
        key_file: str = ""
        passphrase_env: str = ""
        password_env: str = ""
        known_hosts: str = ""
        host_key_fingerprint: str = ""  # SHA256:… as ssh-keygen -l prints it
        follow_symlinks: bool = False
        broad_groups: list[str] = field(default_factory=lambda: list(posix.DEFAULT_BROAD_GROUPS))
        timeout: int = 30
        max_retries: int = 3

        def __post_init__(self):
            if not (self.known_hosts or self.host_key_fingerprint):
                raise ValueError("give known_hosts or host_key_fingerprint: the server's host key is always verified")
            if not (self.key_file or self.password_env):
                raise ValueError("give key_file or password_env")

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        self._local = threading.local()  # the SFTP session this thread holds
        self._idle: list = []  # sessions no thread holds
        self._lock = threading.Lock()
        self._transport = None  # the connection the threads share
        self._transports: list = []  # every connection made, closed by close()
        self._broad = frozenset(g.lower() for g in options.broad_groups)
        self._users: dict[int, str] = {}
        self._groups: dict[int, str] = {}

    # -- connection ---------------------------------------------------------------------------
    def _client(self):
        """This thread's SFTP session: the one it holds, else an idle one, else a new channel."""
        sftp = getattr(self._local, "sftp", None)
        if sftp is None:
            with self._lock:
                sftp = self._idle.pop() if self._idle else None
            sftp = self._local.sftp = sftp or self._channel()
        return sftp

    def _release(self) -> None:
        """Hand this thread's session to the next thread (the worker's threads end with each unit)."""
        sftp, self._local.sftp = getattr(self._local, "sftp", None), None
        if sftp is not None and sftp.get_channel().get_transport().is_active():
            with self._lock:
                self._idle.append(sftp)

    def _channel(self):
        import paramiko
        with self._lock:  # one thread connects; the others wait for it and open their channels on it
            if self._transport is None or not self._transport.is_active():
                self._transport = self._connect()
                self._transports.append(self._transport)
            transport = self._transport
        try:
            sftp = self._sftp_on(transport, shared=True)
        except paramiko.ChannelException:
            # More threads than the server's sessions per connection (OpenSSH MaxSessions, 10): a connection of
            # this thread's own.
            transport = self._connect()
            with self._lock:
                self._transports.append(transport)
            sftp = self._sftp_on(transport, shared=False)
        sftp.get_channel().settimeout(self.options.timeout)
        return sftp

    def _sftp_on(self, transport, shared: bool):
        import paramiko
        try:
            # A window for every read in flight (paramiko's 2 MiB default would hold the pipeline back).
            return paramiko.SFTPClient.from_transport(transport, window_size=4 * DEPTH * BLOCK)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if shared and isinstance(exc, paramiko.ChannelException):
                raise
            raise ConnectorError(f"cannot open an SFTP session on {self.options.host}:{self.options.port}: "
                                 f"{type(exc).__name__}") from None

    def _connect(self):
        """A new authenticated SSH connection (transport)."""
        import paramiko
        o = self.options
        where = f"{o.host}:{o.port}"
        try:
            sock = socket.create_connection((o.host, o.port), timeout=o.timeout)
        except socket.gaierror as exc:
            raise ConnectorError(f"cannot resolve the host name {o.host}: {exc.strerror}; check the name and this "
                                 "machine's DNS") from None
        except OSError as exc:
            raise ConnectorError(f"cannot reach {where}: {exc.strerror or type(exc).__name__}") from None
        transport = paramiko.Transport(sock)
        try:
            transport.start_client(timeout=o.timeout)
            self._check_host_key(transport.get_remote_server_key(), where)
            if o.key_file:
                passphrase = os.environ.get(o.passphrase_env) if o.passphrase_env else None
                try:
                    pkey = paramiko.PKey.from_path(os.path.expanduser(o.key_file), passphrase)
                except (OSError, paramiko.SSHException) as exc:
                    raise ConnectorError(f"cannot load key_file {o.key_file}: {type(exc).__name__}") from None
                transport.auth_publickey(o.username, pkey)
            else:
                secret = os.environ.get(o.password_env)
                if secret is None:
                    raise ConnectorError(f"environment variable {o.password_env} (password_env) is not set")
                transport.auth_password(o.username, secret)
            return transport
        except paramiko.AuthenticationException:
            transport.close()
            raise ConnectorError(f"authentication failed for user {o.username} at {where}") from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            transport.close()
            raise ConnectorError(f"SSH connection to {where} failed: {type(exc).__name__}") from None
        except ConnectorError:
            transport.close()
            raise

    def _check_host_key(self, key, where: str) -> None:
        import paramiko
        o = self.options
        offered = fingerprint(key)
        if o.host_key_fingerprint:
            if offered != o.host_key_fingerprint.strip():
                raise ConnectorError(f"host key mismatch for {where}: the server offers {offered}, the config "
                                     f"pins {o.host_key_fingerprint}; refusing to connect")
            return
        known = paramiko.HostKeys(os.path.expanduser(o.known_hosts))
        name = o.host if o.port == 22 else f"[{o.host}]:{o.port}"
        entry = known.lookup(name)
        if not entry:
            raise ConnectorError(f"{name} is not in {o.known_hosts}: add its host key there (after checking "
                                 f"its fingerprint, {offered}) or pin host_key_fingerprint")
        if entry.get(key.get_name()) != key:
            raise ConnectorError(f"host key mismatch for {where}: the server offers {offered}, which is not the "
                                 f"key {o.known_hosts} holds for it; refusing to connect")

    def _reconnect(self) -> bool:
        self._drop()
        for attempt in range(self.options.max_retries):
            time.sleep(backoff(attempt))
            try:
                self._client()
                return True
            except ConnectorError:
                continue
        return False

    def _drop(self) -> None:
        """Give up this thread's session and the connection it was on (broken: every thread's next call, on a
        new connection)."""
        sftp, self._local.sftp = getattr(self._local, "sftp", None), None
        if sftp is None:
            return
        transport = sftp.get_channel().get_transport()
        transport.close()
        with self._lock:
            self._idle = [s for s in self._idle if s.get_channel().get_transport() is not transport]
            if transport in self._transports:
                self._transports.remove(transport)
            if self._transport is transport:
                self._transport = None

    def close(self) -> None:
        """Close every SFTP session and the connections."""
        with self._lock:
            transports, self._transports, self._transport, self._idle = self._transports, [], None, []
        for transport in transports:
            transport.close()
        self._local = threading.local()

    # -- walk ---------------------------------------------------------------------------------
    def _uri(self, path: str) -> str:
        return f"sftp://{self.options.host}:{self.options.port}{quote(_b(path))}"

    def walk(self) -> Iterator[Resource | Skipped]:
        """Folders before their contents, sorted; what cannot be read is a Skipped with its reason."""
        sftp = self._client()
        for root in self.options.paths:
            root = posixpath.normpath(root)
            try:
                st = sftp.stat(_b(root)) if self.options.follow_symlinks else sftp.lstat(_b(root))
            except FileNotFoundError:
                yield Skipped(self._uri(root), "not-found", "the configured path does not exist", self.ctx.target)
                continue
            except PermissionError:
                yield Skipped(self._uri(root), "permission-denied", "cannot stat the configured path",
                              self.ctx.target)
                continue
            chain = self._ancestors(posixpath.dirname(root))
            yield from self._walk_tree(root, st, chain)

    def _ancestors(self, path: str) -> tuple[posix.DirPerm, ...]:
        chain, current = [], path
        while True:
            try:
                chain.append(posix.dir_perm(current, self._client().stat(_b(current)), read_acl=False))
            except OSError:
                break
            if current in ("/", ""):
                break
            current = posixpath.dirname(current)
        return tuple(reversed(chain))

    def _walk_tree(self, root: str, st, chain) -> Iterator[Resource | Skipped]:
        if stat.S_ISREG(st.st_mode):
            yield self._resource(root, st, chain)
            return
        stack = [(root, st, chain)]
        while stack:
            path, dst, dchain = stack.pop()
            yield self._resource(path, dst, dchain)
            own = dchain + (posix.dir_perm(path, dst, read_acl=False),)
            try:
                entries = self._listdir(path)
            except PermissionError:
                yield Skipped(self._uri(path), "permission-denied", "cannot list folder", self.ctx.target)
                continue
            except FileNotFoundError:
                yield Skipped(self._uri(path), "vanished", "folder removed during the scan", self.ctx.target)
                continue
            except ConnectorError as exc:
                yield Skipped(self._uri(path), "connection-lost", str(exc), self.ctx.target)
                continue
            subdirs = []
            for attr in sorted(entries, key=lambda a: a.filename):
                child = posixpath.join(path, attr.filename)
                self._learn_names(attr)
                mode = attr.st_mode or 0
                if stat.S_ISLNK(mode):
                    yield Skipped(self._uri(child), "symlink", "not followed", self.ctx.target)
                elif stat.S_ISDIR(mode):
                    subdirs.append((child, attr, own))
                elif stat.S_ISREG(mode):
                    yield self._resource(child, attr, own)
                else:
                    yield Skipped(self._uri(child), "special-file", "not a regular file, never opened",
                                  self.ctx.target)
            stack.extend(reversed(subdirs))

    def _listdir(self, path: str):
        import paramiko
        try:
            return listdir_attr(self._client(), path)
        except (paramiko.SSHException, EOFError, socket.error) as exc:
            if isinstance(exc, (PermissionError, FileNotFoundError)):
                raise
            if not self._reconnect():
                raise ConnectorError(f"connection lost and not regained ({type(exc).__name__})") from None
            return listdir_attr(self._client(), path)

    def _learn_names(self, attr) -> None:
        # The server only tells names in the unstandardised longname: "-rw-r--r-- 1 alice staff …".
        parts = (getattr(attr, "longname", "") or "").split()
        if len(parts) >= 4 and attr.st_uid is not None and attr.st_gid is not None:
            self._users.setdefault(attr.st_uid, parts[2])
            self._groups.setdefault(attr.st_gid, parts[3])

    def _resource(self, path: str, st, chain) -> Resource:
        is_dir = stat.S_ISDIR(st.st_mode)
        access = posix.policy(path, st, chain, self._broad, read_acl=False, mode_source="sftp-mode",
                              user_of=lambda uid: self._users.get(uid, f"uid {uid}"),
                              group_of=lambda gid: self._groups.get(gid, f"gid {gid}"))
        parent = posixpath.dirname(path)
        return Resource(uri=self._uri(path), kind="folder" if is_dir else "file", target=self.ctx.target,
                        size=None if is_dir else st.st_size, modified=st.st_mtime,
                        etag=f"{st.st_size}-{st.st_mtime}", access=access, parent=self._uri(parent))

    # -- content ------------------------------------------------------------------------------
    @contextmanager
    def open(self, resource: Resource) -> Iterator[BinaryIO]:
        """The remote file, opened read-only and streamed with several reads in flight (a bounded number)."""
        import paramiko
        path = unquote_to_bytes(urlsplit(resource.address).path)  # the name's own bytes, even where not UTF-8
        f = None
        try:
            try:
                f = open_pipelined(self._client(), path, resource.size)
            except (paramiko.SSHException, EOFError, socket.error) as exc:
                if isinstance(exc, OSError) and exc.errno is not None:
                    raise
                if not self._reconnect():
                    raise ResourceError("connection-lost", "connection lost and not regained") from None
                f = open_pipelined(self._client(), path, resource.size)
            yield f
        except FileNotFoundError:
            raise ResourceError("vanished", "removed during the scan") from None
        except PermissionError:
            raise ResourceError("permission-denied", "cannot open for reading") from None
        except ConnectorError as exc:
            raise ResourceError("connection-lost", str(exc)) from None
        except (paramiko.SSHException, EOFError, socket.timeout) as exc:
            self._drop()  # this thread's next resource reconnects
            raise ResourceError("connection-lost", f"{type(exc).__name__} while reading") from None
        finally:
            if f is not None:
                try:
                    f.close()
                except (paramiko.SSHException, EOFError, OSError):
                    pass  # the connection is already gone; the outcome says so
            self._release()  # unless dropped above
