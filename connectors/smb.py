"""SMB shares (smbprotocol): NT security descriptors into AccessPolicy, content streamed read-only."""
from __future__ import annotations

import errno
import importlib.machinery
import importlib.util
import io
import os
import struct
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

from vendorscan.model import AccessPolicy, Grant, Resource, Scope, Skipped
from vendorscan.connector import Connector, ConnectorError, ResourceError
from vendorscan.connectors.smbread import SmbReader, send, settle

# Well-known SIDs that reach far more people than a named group.
_BROAD = {
    "S-1-1-0": ("Everyone", Scope.EVERYONE), "S-1-5-7": ("Anonymous Logon", Scope.PUBLIC),
    "S-1-5-11": ("Authenticated Users", Scope.EVERYONE), "S-1-5-2": ("Network", Scope.EVERYONE),
    "S-1-5-32-545": ("BUILTIN\\Users", Scope.ORGANISATION), "S-1-5-32-546": ("BUILTIN\\Guests", Scope.PUBLIC),
}
_DOMAIN_RID = {"513": ("Domain Users", Scope.ORGANISATION), "514": ("Domain Guests", Scope.PUBLIC),
               "501": ("Guest", Scope.PUBLIC)}
_READ = 0x1 | 0x80000000 | 0x10000000  # FILE_READ_DATA / LIST_DIRECTORY, GENERIC_READ, GENERIC_ALL
_WRITE = 0x2 | 0x4 | 0x10000 | 0x40000000 | 0x10000000  # WRITE_DATA, APPEND_DATA, DELETE, GENERIC_WRITE/ALL
_ADMIN = 0x40000 | 0x80000 | 0x10000000  # WRITE_DAC, WRITE_OWNER, GENERIC_ALL
_INHERITED, _INHERIT_ONLY = 0x10, 0x08
DESCRIPTOR_THREADS = 4  # files' security descriptors read at once during the walk


def smbclient_module():
    """smbprotocol's `smbclient` package, also where a scripts dir holding impacket's smbclient.py is on sys.path."""
    mod = sys.modules.get("smbclient")
    if mod is not None and hasattr(mod, "register_session"):
        return mod
    # A Dask worker's or another console script's bin/ first on sys.path: `import smbclient` would find
    # impacket's script there. Look for the package only where no plain smbclient.py module sits.
    path = [d for d in sys.path if not os.path.isfile(os.path.join(d or os.curdir, "smbclient.py"))]
    spec = importlib.machinery.PathFinder.find_spec("smbclient", path)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("smbprotocol's smbclient package is not installed (pip install smbprotocol)",
                          name="smbclient")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["smbclient"] = mod  # before running it: its own modules import smbclient.* by name
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules["smbclient"]
        raise
    return mod


def _reason(exc: Exception) -> str:
    """Skip reason of an smbprotocol error (its OSError subclasses carry errno, not the Python subclass)."""
    code = getattr(exc, "errno", None)
    if code in (errno.EACCES, errno.EPERM) or getattr(exc, "ntstatus", None) == 0xC0000022 \
            or isinstance(exc, PermissionError):
        return "permission-denied"
    if code == errno.ENOENT or isinstance(exc, FileNotFoundError):
        return "not-found"
    return "connection-lost"


def sid_principal(sid: str) -> tuple[str, Scope]:
    """(name, scope) of a SID: broad well-known groups get broad scopes; Samba's unix ids are group/user."""
    if sid in _BROAD:
        return _BROAD[sid]
    parts = sid.split("-")
    if sid.startswith("S-1-5-21-") and parts[-1] in _DOMAIN_RID:
        return _DOMAIN_RID[parts[-1]]
    if sid.startswith("S-1-22-1-"):
        return f"unix user {parts[-1]}", Scope.USER
    if sid.startswith("S-1-22-2-"):
        return f"unix group {parts[-1]}", Scope.GROUP
    if sid in ("S-1-5-18", "S-1-3-0", "S-1-5-32-544"):
        return {"S-1-5-18": "SYSTEM", "S-1-3-0": "CREATOR OWNER", "S-1-5-32-544": "BUILTIN\\Administrators"}[sid], \
            Scope.USER
    return sid, Scope.GROUP


def _rights(mask: int, is_dir: bool) -> set[str]:
    rights = set()
    if mask & _READ:
        rights.update({"read", "list"} if is_dir else {"read"})
    if mask & _WRITE:
        rights.add("write")
    if mask & _ADMIN:
        rights.add("admin")
    return rights


def _sid(data: bytes, at: int) -> str:
    count = data[at + 1]
    subs = struct.unpack_from(f"<{count}I", data, at + 8)
    return f"S-{data[at]}-{int.from_bytes(data[at + 4:at + 8], 'big')}-" + "-".join(str(x) for x in subs)


def parse_sd(data: bytes) -> tuple[str | None, list | None]:
    """(owner SID, DACL) of a self-relative security descriptor; the DACL as (type, flags, mask, SID) per ACE, the
    raw bytes of ACEs other than allow, deny and audit, None for a NULL DACL (smbprotocol's reading, without its
    per-field objects: they cost a millisecond per file)."""
    control, owner_at, _, _, dacl_at = struct.unpack_from("<HIIII", data, 2)
    owner = _sid(data, owner_at) if owner_at else None
    if not control & 0x0004 or not dacl_at:  # SE_DACL_PRESENT
        return owner, None
    count, at, aces = struct.unpack_from("<H", data, dacl_at + 4)[0], dacl_at + 8, []
    for _ in range(count):
        kind, flags, size, mask = struct.unpack_from("<BBHI", data, at)
        aces.append((kind, flags, mask, _sid(data, at + 8)) if kind in (0, 1, 2) else data[at:at + size])
        at += size
    return owner, aces


def _ace_tuples(dacl) -> list:
    """(type, flags, mask, SID) per ACE (bytes for others) of a parse_sd DACL or an smbprotocol AclPacket."""
    if isinstance(dacl, list):
        return dacl
    return [ace if isinstance(ace, bytes) else (ace["ace_type"].get_value(), ace["ace_flags"].get_value(),
                                                ace["mask"].get_value(), str(ace["sid"].get_value()))
            for ace in dacl["aces"].get_value()]


def dacl_policy(owner: str | None, dacl, is_dir: bool) -> AccessPolicy:
    """AccessPolicy of a security descriptor's DACL (None: a NULL DACL, full access for everyone)."""
    if dacl is None:
        return AccessPolicy(owner, (Grant("Everyone (NULL DACL)", Scope.EVERYONE,
                                          frozenset({"read", "list", "write", "admin"}), "ntfs-dacl",
                                          note="NULL DACL: no access control at all"),))
    allowed: dict[tuple[str, bool], set[str]] = {}
    denied: dict[str, set[str]] = {}
    notes: dict[tuple[str, bool], str] = {}
    for ace in _ace_tuples(dacl):
        if isinstance(ace, bytes):  # object or callback ACEs: kept out, never guessed
            continue
        kind, flags, mask, sid = ace
        rights = _rights(mask, is_dir)
        if flags & _INHERIT_ONLY:
            notes[(sid, False)] = "inheritable only: applies to new items below"
            continue
        if kind == 1:  # ACCESS_DENIED
            denied.setdefault(sid, set()).update(rights)
        elif kind == 0:
            allowed.setdefault((sid, bool(flags & _INHERITED)), set()).update(rights)
    grants = []
    for (sid, inherited), rights in sorted(allowed.items()):
        # A deny for the same SID takes those rights away (deny ACEs come first in a canonical DACL).
        effective = rights - denied.get(sid, set()) - denied.get("S-1-1-0", set())
        name, scope = sid_principal(sid)
        note = "; ".join(n for n in (notes.get((sid, False), ""),
                                     "partly denied by a deny ACE" if effective != rights else "") if n)
        if effective:
            grants.append(Grant(name, scope, frozenset(effective), "ntfs-dacl", inherited=inherited, note=note))
    return AccessPolicy(owner, tuple(grants))


class SmbConnector(Connector):
    """SMB/CIFS shares (Windows, Samba): NT ACLs with deny ACEs and inheritance, read-only."""

    id = "smb"
    version = "1"
    scheme = "smb"
    thread_safe = True  # smbprotocol's connection serves many threads; credits are shared under a lock

    @dataclass(frozen=True)
    class Options:
        server: str
        username: str
        password_env: str
        share: str = ""  # "" = every disk share the account can list (hidden $ shares left out)
        paths: list[str] = field(default_factory=lambda: [""])  # folders in the share; "" is its root
        port: int = 445
        domain: str = ""
        require_signing: bool = True
        encrypt: bool = False
        timeout: int = 30

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        self._registered = False
        self._lock = threading.Lock()
        self._trees: dict[str, object] = {}  # share -> tree connect on the pooled session
        self._share = options.share
        self._share_read: set[str] | None = None  # principals the share-level ACL lets read; None: unknown

    def weaknesses(self) -> list[str]:
        """SMB signing not required."""
        if self.options.require_signing:
            return []
        return ["SMB signing is not required (require_signing = false): a machine in the middle could change "
                "what the scan reads, and so what the report says"]

    def _unc(self, rel: str = "") -> str:
        rel = rel.strip("/\\").replace("/", "\\")
        base = f"\\\\{self.options.server}\\{self._share}"
        return f"{base}\\{rel}" if rel else base

    def _uri(self, rel: str) -> str:
        from urllib.parse import quote
        rel = rel.strip("/")
        return f"smb://{self.options.server}:{self.options.port}/{self._share}" + (f"/{quote(rel)}" if rel else "")

    def _session(self) -> None:
        with self._lock:
            self._register()

    def _tree(self, share: str):
        """The tree connect of a share (made once per session; smbclient's pool holds the session)."""
        smbclient_module()
        from smbclient._pool import get_smb_tree
        with self._lock:
            self._register()
            if share not in self._trees:
                self._trees[share] = get_smb_tree(f"\\\\{self.options.server}\\{share}", port=self.options.port)[0]
            return self._trees[share]

    def _register(self) -> None:
        if self._registered:
            return
        smbclient = smbclient_module()
        from smbprotocol.exceptions import LogonFailure, SMBAuthenticationError, SMBException
        o = self.options
        secret = os.environ.get(o.password_env)
        if secret is None:
            raise ConnectorError(f"environment variable {o.password_env} (password_env) is not set")
        user = f"{o.domain}\\{o.username}" if o.domain else o.username
        try:
            smbclient.register_session(o.server, username=user, password=secret, port=o.port,
                                       require_signing=o.require_signing, encrypt=o.encrypt,
                                       connection_timeout=o.timeout)
        except (SMBAuthenticationError, LogonFailure):
            raise ConnectorError(f"authentication failed for user {user} at {o.server}:{o.port}") from None
        except (SMBException, OSError, ValueError) as exc:
            raise ConnectorError(f"cannot open an SMB session to {o.server}:{o.port}: {type(exc).__name__}") from None
        self._registered = True

    def _descriptor(self, rel: str, is_dir: bool) -> AccessPolicy:
        """The item's security descriptor, read in one round trip (open, query, close as one compound)."""
        from smbprotocol.exceptions import SMBException, SMBResponseException
        from smbprotocol.open import (CreateDisposition, CreateOptions, FileAttributes, FilePipePrinterAccessMask,
                                      ImpersonationLevel, Open, ShareAccess, SMB2QueryInfoRequest)
        try:
            tree = self._tree(self._share)
            handle = Open(tree, rel.strip("/").replace("/", "\\"))
            create = handle.create(ImpersonationLevel.Impersonation, FilePipePrinterAccessMask.READ_CONTROL,
                                   FileAttributes.FILE_ATTRIBUTE_NORMAL, ShareAccess.FILE_SHARE_READ |
                                   ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE,
                                   CreateDisposition.FILE_OPEN, CreateOptions.FILE_DIRECTORY_FILE if is_dir
                                   else CreateOptions.FILE_NON_DIRECTORY_FILE, send=False)
            req = SMB2QueryInfoRequest()
            req["info_type"] = 3  # SMB2_0_INFO_SECURITY
            req["output_buffer_length"] = 65536
            req["additional_information"] = 0x1 | 0x2 | 0x4  # owner | group | DACL
            req["file_id"] = handle.file_id  # the compound's placeholder: the file the create opens
            receive = tree.session.connection.receive  # statuses only: the answers' objects cost more than the trip
            requests = send(tree, [create[0], req, handle.close(send=False)[0]], self.options.timeout)
            answers = settle([(r, receive) for r in requests])
            for result in answers[:2]:
                if isinstance(result, Exception):
                    raise result
            body = answers[1]["data"].get_value()  # QUERY_INFO answer: its buffer's offset (from the header), length
            at, length = struct.unpack_from("<HI", body, 2)
            owner, dacl = parse_sd(body[at - 64:at - 64 + length])
        except (SMBException, OSError, ValueError, ConnectorError, struct.error, IndexError) as exc:
            # The server's answer (an NT status) or a malformed descriptor leaves the connection as it is: dropping
            # it would fail the other threads' reads in flight.
            answered = isinstance(exc, (SMBResponseException, struct.error, IndexError))
            if _reason(exc) == "connection-lost" and not answered:
                self._drop()
            return AccessPolicy(None, (), f"security descriptor not readable ({type(exc).__name__})")
        return self._with_share_acl(dacl_policy(owner, dacl, is_dir))

    def _with_share_acl(self, policy: AccessPolicy) -> AccessPolicy:
        """NTFS grants the share-level ACL does not let through lose their effect; unknown stays as is."""
        if self._share_read is None or "Everyone" in self._share_read:
            return policy
        grants = tuple(g if g.principal in self._share_read or g.scope == Scope.USER else
                       Grant(g.principal, g.scope, g.rights, g.source, g.inherited, False,
                             (g.note + "; " if g.note else "") + "the share's permissions do not let it through")
                       for g in policy.grants)
        return AccessPolicy(policy.owner, grants, policy.unknown_reason)

    def _impacket(self):
        from impacket.smbconnection import SMBConnection
        o = self.options
        conn = SMBConnection(o.server, o.server, sess_port=o.port, timeout=o.timeout)
        conn.login(o.username, os.environ.get(o.password_env, ""), o.domain)
        return conn

    def _list_shares(self) -> list[str]:
        """Disk shares the account can list (smbprotocol cannot list shares; impacket can)."""
        from impacket.smbconnection import SessionError
        try:
            conn = self._impacket()
            shares = [sh["shi1_netname"][:-1] for sh in conn.listShares() if sh["shi1_type"] & 0xFFFF == 0]
            conn.close()
        except (SessionError, OSError) as exc:
            raise ConnectorError(f"cannot list the shares of {self.options.server}: {type(exc).__name__}") from None
        return sorted(s for s in shares if not s.endswith("$"))

    def _share_acl(self, share: str) -> set[str] | None:
        """Principals the share-level ACL lets read (srvsvc level 502); None when it cannot be read."""
        from impacket.dcerpc.v5 import srvs, transport
        from impacket.dcerpc.v5.rpcrt import DCERPCException
        from impacket.smbconnection import SessionError
        from smbprotocol.security_descriptor import SMB2CreateSDBuffer
        try:
            conn = self._impacket()
            rpc = transport.SMBTransport(self.options.server, self.options.port, r"\srvsvc", smb_connection=conn)
            dce = rpc.get_dce_rpc()
            dce.connect()
            dce.bind(srvs.MSRPC_UUID_SRVS)
            raw = srvs.hNetrShareGetInfo(dce, share + "\x00", 502)["InfoStruct"]["ShareInfo502"][
                "shi502_security_descriptor"]
            conn.close()
        except (SessionError, DCERPCException, OSError):
            return None
        if not raw:
            return None  # needs admin rights on most servers: an empty answer is unknown, not open
        sd = SMB2CreateSDBuffer()
        # impacket gives the NDR byte array as one-byte bytes objects (or ints, by version): either way, bytes.
        sd.unpack(b"".join(x if isinstance(x, bytes) else bytes([x]) for x in raw))
        policy = dacl_policy(None, sd.get_dacl(), True)
        return {g.principal for g in policy.grants if "read" in g.rights}

    def walk(self) -> Iterator[Resource | Skipped]:
        """Folders before their contents, with their DACLs; unreadable entries as Skipped."""
        from concurrent.futures import ThreadPoolExecutor
        self._session()
        o = self.options
        with ThreadPoolExecutor(DESCRIPTOR_THREADS) as pool:
            for share in [o.share] if o.share else self._list_shares():
                self._share = share
                self._share_read = self._share_acl(share)
                yield from self._walk_share(pool)

    def _walk_share(self, pool) -> Iterator[Resource | Skipped]:
        smbclient = smbclient_module()
        from smbprotocol.exceptions import SMBException
        o = self.options
        for root in o.paths:
            root = root.strip("/")
            stack = [root]
            while stack:
                rel = stack.pop()
                parent = self._uri(rel.rsplit("/", 1)[0]) if "/" in rel else self._uri("")
                posture = None
                if rel == root:
                    posture = {"share_permissions": "unknown (not readable by the audit account)"
                               if self._share_read is None else sorted(self._share_read)}
                yield Resource(uri=self._uri(rel), kind="folder", target=self.ctx.target,
                               access=self._descriptor(rel, True), parent=parent, posture=posture)
                try:
                    self._session()
                    entries = sorted(smbclient.scandir(self._unc(rel), port=o.port), key=lambda e: e.name)
                except ConnectorError as exc:
                    yield Skipped(self._uri(rel), "connection-lost", str(exc), self.ctx.target)
                    continue
                except (SMBException, OSError, ValueError) as exc:
                    reason = _reason(exc)
                    if reason == "connection-lost":
                        self._drop()
                    detail = {"permission-denied": "cannot list folder", "not-found": "no such folder on the share"}
                    yield Skipped(self._uri(rel), reason, detail.get(reason, type(exc).__name__), self.ctx.target)
                    continue
                subdirs = []
                # A folder's files' descriptors in a few threads: a round trip each, and parsing the answers
                # (smbprotocol's Python) overlaps the waits.
                files = [f"{rel}/{e.name}" if rel else e.name for e in entries
                         if not e.smb_info.file_attributes & 0x410]  # neither a reparse point nor a folder
                access = dict(zip(files, pool.map(lambda child: self._descriptor(child, False), files)))
                for entry in entries:
                    child = f"{rel}/{entry.name}" if rel else entry.name
                    info = entry.smb_info
                    attrs = info.file_attributes
                    if attrs & 0x400:  # reparse point: a link, not followed
                        yield Skipped(self._uri(child), "symlink", "reparse point, not followed", self.ctx.target)
                    elif attrs & 0x10:
                        subdirs.append(child)
                    else:
                        modified = info.last_write_time
                        yield Resource(uri=self._uri(child), kind="file", target=self.ctx.target,
                                       size=info.end_of_file,
                                       modified=modified.timestamp() if hasattr(modified, "timestamp") else None,
                                       etag=f"{info.end_of_file}-{modified}",
                                       access=access[child], parent=self._uri(rel))
                stack.extend(reversed(subdirs))

    @contextmanager
    def open(self, resource: Resource) -> Iterator[BinaryIO]:
        """The file opened read-only (other openers may still read, write and delete it), read ahead in large reads."""
        from smbprotocol.exceptions import SMBException, SMBOSError, SMBResponseException
        from urllib.parse import unquote, urlsplit
        _, _, path = urlsplit(resource.address).path.partition("/")
        share, _, rel = path.partition("/")
        name = unquote(rel).replace("/", "\\")
        try:
            f = io.BufferedReader(SmbReader(self._tree(share), name, resource.size, self.options.timeout), 65536)
        except ConnectorError as exc:
            raise ResourceError("connection-lost", str(exc)) from None
        except (SMBException, OSError, ValueError) as exc:
            if isinstance(exc, SMBResponseException):
                exc = SMBOSError(exc.status, name)  # the errno of its status, as smbclient gives it
            reason = _reason(exc)
            if reason == "connection-lost":
                self._drop()
            raise ResourceError("vanished" if reason == "not-found" else reason, type(exc).__name__) from None
        try:
            yield f
        except (SMBException, OSError, ValueError) as exc:
            # A connection torn down mid-read surfaces as whatever the transport raised then (a plain OSError
            # too, with reads in flight): judged as at the open, never a bare read-error.
            reason = _reason(exc)
            if reason == "connection-lost":
                self._drop()
            raise ResourceError("vanished" if reason == "not-found" else reason,
                                f"{type(exc).__name__} while reading") from None
        finally:
            f.close()  # never raises: what a lost connection leaves is dropped with it

    def _drop(self) -> None:
        """Forget a connection the server dropped: the next call registers a new session (a reconnect)."""
        smbclient = smbclient_module()
        with self._lock:
            smbclient.reset_connection_cache()
            self._registered = False
            self._trees.clear()

    def close(self) -> None:
        """Forget the session (smbclient keeps a pool per process)."""
        with self._lock:
            self._registered = False
            self._trees.clear()
