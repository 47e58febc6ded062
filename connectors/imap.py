"""IMAP mailboxes (stdlib imaplib): every folder read-only (EXAMINE, BODY.PEEK), each message a raw .eml file.

- Connection: IMAPS (port 993) or STARTTLS (143), the server's certificate verified against the system's CAs or
  `ca_file`, the password from the environment variable `password_env`; dropped connections are retried with
  backoff.
- Walk: NAMESPACE, then LIST in each namespace (personal, other users', shared/public) — every folder the account
  can see, also mailboxes other users shared. Each folder is opened with EXAMINE (read-only: the server clears no
  \\Recent, moves nothing, stores no flag) and its messages listed in batches (UID, RFC822.SIZE, INTERNALDATE,
  MODSEQ with CONDSTORE). A message is a `file` resource `imap://user@host:port/Folder/Sub/UID.eml` whose bytes
  are the raw RFC 822 message, so the .eml format reads its headers, bodies and attachments.
- Content: `BODY.PEEK[]<offset.length>` partial fetches of `fetch_block` bytes (never BODY[], which sets \\Seen):
  memory stays bounded for a large message. A message expunged since the walk, or a folder whose UIDVALIDITY
  changed, is "vanished"; a folder the account lost the read right on is "permission-denied".
- Change marker: `UIDVALIDITY.UID` (a message's content never changes under one UID), `.MODSEQ` with CONDSTORE.
- Access: RFC 4314 GETACL per folder where the server advertises ACL: `anyone` is public, `authenticated`
  every account, `$group` a group (or the organisation for broad groups), a name one user; l → list, r → read,
  s/w/i/p/k/t/e (and RFC 2086's c/d) → write, x/a → admin; negative rights (`-name`) take rights away.
  GETACL needs the `a` right: without it the account's own rights (MYRIGHTS) are kept and the policy says why
  the rest is unknown. Without ACL support, every folder's access is unknown with that reason.
"""
from __future__ import annotations

import base64
import fnmatch
import imaplib
import os
import re
import socket
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Iterator
from urllib.parse import quote, unquote

from vendorscan.connector import Connector, ConnectorError, ResourceError, backoff
from vendorscan.model import AccessPolicy, Grant, Resource, Scope, Skipped

SOURCE = "imap-acl"
DEFAULT_BROAD_GROUPS = ("users", "staff", "everyone", "employees", "all")
_RIGHTS = {"l": "list", "r": "read", "s": "write", "w": "write", "i": "write", "p": "write", "k": "write",
           "t": "write", "e": "write", "c": "write", "d": "write", "x": "admin", "a": "admin"}
_NETWORK = (imaplib.IMAP4.abort, OSError, EOFError)  # ssl.SSLError and socket.timeout are OSErrors
_CODE = re.compile(rb"^\[([A-Z-]+)")


class _Refused(Exception):
    """A tagged NO/BAD: the command was refused (with the response code, e.g. NOPERM, NONEXISTENT)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _reason(code: str) -> str:
    """The skip reason of a refusal, from its response code (RFC 5530); a bare NO says nothing more."""
    if code == "NOPERM":
        return "permission-denied"
    if code in ("NONEXISTENT", "TRYCREATE", "EXPUNGEISSUED"):
        return "vanished"
    return "read-error"


# -- modified UTF-7 (RFC 3501 5.1.3) -------------------------------------------------------------
def decode_mutf7(name: str) -> str:
    """A mailbox name as the wire carries it (modified UTF-7) to text; a malformed one is kept as it is."""
    out, i = [], 0
    try:
        while i < len(name):
            if name[i] != "&":
                out.append(name[i])
                i += 1
                continue
            j = name.index("-", i)
            if j == i + 1:
                out.append("&")
            else:
                b64 = name[i + 1:j].replace(",", "/")
                out.append(base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be"))
            i = j + 1
    except (ValueError, UnicodeDecodeError):
        return name
    return "".join(out)


# -- responses -----------------------------------------------------------------------------------
def _tokens(pieces: list[tuple[bytes, bytes | None]]) -> list:
    """One response line (text pieces, each followed by its literal or None) as nested lists of tokens.

    Atoms and quoted strings come back as str (UTF-8, bad bytes kept with surrogateescape), literals as bytes,
    NIL as None, parenthesised lists as lists."""
    stack: list[list] = [[]]
    for text, literal in pieces:
        i, n = 0, len(text)
        while i < n:
            c = text[i:i + 1]
            if c in b" \r\n":
                i += 1
            elif c == b"(":
                stack.append([])
                i += 1
            elif c == b")":
                if len(stack) > 1:
                    done = stack.pop()
                    stack[-1].append(done)
                i += 1
            elif c == b'"':
                j, buf = i + 1, bytearray()
                while j < n and text[j:j + 1] != b'"':
                    if text[j:j + 1] == b"\\" and j + 1 < n:
                        j += 1
                    buf += text[j:j + 1]
                    j += 1
                stack[-1].append(bytes(buf).decode("utf-8", "surrogateescape"))
                i = j + 1
            elif c == b"{" and literal is not None and re.match(rb"\{\d+\+?\}\s*$", text[i:]):
                i = n  # the literal's announcement: the literal itself follows
            else:
                j = i
                depth = 0
                while j < n:
                    ch = text[j:j + 1]
                    if ch == b"[":
                        depth += 1
                    elif ch == b"]":
                        depth -= 1
                    elif depth <= 0 and ch in b" ()\r\n":
                        break
                    j += 1
                atom = text[i:j].decode("utf-8", "surrogateescape")
                stack[-1].append(None if atom.upper() == "NIL" else atom)
                i = j
        if literal is not None:
            stack[-1].append(literal)
    while len(stack) > 1:
        done = stack.pop()
        stack[-1].append(done)
    return stack[0]


def parse_lines(data) -> list[list]:
    """imaplib's untagged data (bytes lines, and (head, literal) tuples continued by the next bytes) as token lists."""
    lines, current = [], None
    for item in data or ():
        if item is None:
            continue
        if isinstance(item, tuple):
            current = (current or []) + [(item[0], item[1])]
            continue
        if current is not None:
            lines.append(_tokens(current + [(item, None)]))
            current = None
        else:
            lines.append(_tokens([(item, None)]))
    if current is not None:
        lines.append(_tokens(current))
    return lines


def _pairs(items: list) -> dict[str, Any]:
    return {str(items[k]).upper(): items[k + 1] for k in range(0, len(items) - 1, 2) if isinstance(items[k], str)}


def _internaldate(text) -> float | None:
    try:
        return datetime.strptime(str(text).strip(), "%d-%b-%Y %H:%M:%S %z").timestamp()
    except (TypeError, ValueError):
        return None


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class _Folder:
    raw: str  # the name on the wire (modified UTF-7)
    delimiter: str | None
    flags: frozenset[str]
    path: str  # the uri path: decoded components, percent-encoded, joined by "/"
    namespace: str  # personal, other, shared
    prefix: str  # the namespace's prefix


# -- access --------------------------------------------------------------------------------------
def acl_policy(entries: list[tuple[str, str]], owner: str | None, broad_groups: frozenset[str],
               inherited: bool = False) -> AccessPolicy:
    """GETACL's (identifier, rights) pairs in the common form (negative `-identifier` entries take rights away)."""
    denied: dict[str, set[str]] = {}
    for who, rights in entries:
        if who.startswith("-"):
            denied.setdefault(who[1:], set()).update(rights)
    grants = []
    for who, rights in entries:
        if who.startswith("-"):
            continue
        letters = set(rights) - denied.get(who, set())
        mapped = frozenset(_RIGHTS[r] for r in letters if r in _RIGHTS)
        if not mapped:
            continue
        note = f"IMAP rights {''.join(sorted(letters))}"
        if denied.get(who):
            note += f" (denied {''.join(sorted(denied[who]))})"
        low = who.lower()
        if low == "anyone":
            scope, principal, note = Scope.PUBLIC, "anyone", note + "; anyone includes anonymous logins"
        elif low == "authenticated":
            scope, principal = Scope.EVERYONE, "authenticated"
        elif who.startswith("$"):
            scope = Scope.ORGANISATION if who[1:].lower() in broad_groups else Scope.GROUP
            principal = f"group {who[1:]}"
        elif low == "owner":
            scope, principal = Scope.USER, owner or "owner"
        else:
            scope, principal = Scope.USER, who
        grants.append(Grant(principal, scope, mapped, SOURCE, inherited=inherited, note=note))
    if not grants and owner is None:
        return AccessPolicy(None, (), "the mailbox's ACL names nobody and its owner is not known")
    return AccessPolicy(owner, tuple(grants))


class _Reader:
    """A read-only stream over one message, fetched in BODY.PEEK[]<offset.length> blocks."""

    def __init__(self, connector: "ImapConnector", folder: _Folder, uidvalidity: str | None, uid: str):
        self.connector, self.folder, self.uidvalidity, self.uid = connector, folder, uidvalidity, uid
        self.pos = 0
        self.buf = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        block = self.connector.options.fetch_block
        while not self.done and (n < 0 or len(self.buf) < n):
            part = self.connector._fetch_part(self.folder, self.uidvalidity, self.uid, self.pos, block)
            self.buf += part
            self.pos += len(part)
            if len(part) < block:
                self.done = True
        if n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self) -> None:
        self.buf = b""


class ImapConnector(Connector):
    """IMAP mailboxes: every folder read-only (EXAMINE, BODY.PEEK), messages as .eml, access from RFC 4314 ACLs."""

    id = "imap"
    version = "1"
    scheme = "imap"
    thread_safe = False  # one IMAP session per connector, one selected folder at a time

    @dataclass(frozen=True)
    class Options:
        host: str
        username: str
        password_env: str  # the environment variable holding the account's password
        port: int = 0  # 0: 993 with IMAPS, 143 with STARTTLS
        security: str = "imaps"  # imaps (TLS from the start) or starttls
        ca_file: str = ""  # PEM CA bundle to verify the server's certificate with (default: the system's)
        verify_tls: bool = True  # false: accept any certificate (a weakness the report lists)
        folders: list[str] = field(default_factory=list)  # folder name patterns (fnmatch) to scan; empty: all
        exclude_folders: list[str] = field(default_factory=list)
        broad_groups: list[str] = field(default_factory=lambda: list(DEFAULT_BROAD_GROUPS))
        fetch_block: int = 1 << 20  # bytes per partial FETCH of a message
        list_batch: int = 500  # messages per FETCH of sizes and dates in the walk
        timeout: int = 30  # seconds per network operation
        max_retries: int = 3  # reconnects with backoff after a dropped connection

        def __post_init__(self):
            if self.security not in ("imaps", "starttls"):
                raise ValueError("security must be imaps or starttls (plain IMAP would send the password in clear)")
            if not self.password_env:
                raise ValueError("give password_env: the environment variable holding the password")
            if self.fetch_block < 1024:
                raise ValueError("fetch_block must be at least 1024 bytes")

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        self._conn: imaplib.IMAP4 | None = None
        self._caps: frozenset[str] = frozenset()
        self._selected: str | None = None
        self._selected_state: dict[str, str] = {}
        self._folders: dict[str, _Folder] | None = None
        self._broad = frozenset(g.lower() for g in options.broad_groups)
        self._acl_cache: dict[str, AccessPolicy] = {}

    @property
    def _port(self) -> int:
        return self.options.port or (993 if self.options.security == "imaps" else 143)

    @property
    def _base(self) -> str:
        return f"imap://{quote(self.options.username, safe='')}@{self.options.host}:{self._port}"

    def weaknesses(self) -> list[str]:
        """TLS verification turned off."""
        if not self.options.verify_tls:
            return [f"the TLS certificate of the IMAP server {self.options.host}:{self._port} is not verified "
                    "(verify_tls = false): a machine in the middle could pose as it and read the password"]
        return []

    # -- connection ---------------------------------------------------------------------------
    def _tls(self) -> ssl.SSLContext:
        o = self.options
        try:
            context = ssl.create_default_context(cafile=os.path.expanduser(o.ca_file) if o.ca_file else None)
        except (OSError, ssl.SSLError):
            raise ConnectorError(f"cannot load ca_file {o.ca_file}: not a readable PEM CA bundle") from None
        if not o.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> None:
        o = self.options
        where = f"{o.host}:{self._port}"
        password = os.environ.get(o.password_env)
        if password is None:
            raise ConnectorError(f"environment variable {o.password_env} (password_env) is not set: it must hold "
                                 f"the password of {o.username}")
        context = self._tls()
        conn = None
        try:
            if o.security == "imaps":
                conn = imaplib.IMAP4_SSL(o.host, self._port, ssl_context=context, timeout=o.timeout)
            else:
                conn = imaplib.IMAP4(o.host, self._port, timeout=o.timeout)
                if "STARTTLS" not in conn.capabilities:
                    raise ConnectorError(f"{where} does not offer STARTTLS: refusing to send the password in clear "
                                         "(use security = \"imaps\" if it speaks IMAPS)")
                conn.starttls(ssl_context=context)
            conn.login(o.username, password)
            typ, data = conn.capability()
            caps = frozenset(str(t).upper() for line in parse_lines(data) for t in line if isinstance(t, str))
            conn.capabilities = tuple(caps)
            if "CONDSTORE" in caps and "ENABLE" in caps:
                conn.enable("CONDSTORE")
        except ssl.SSLCertVerificationError as exc:
            self._drop(conn)
            raise ConnectorError(f"the TLS certificate of {where} could not be verified ({exc.verify_message}): give "
                                 "the CA that signed it in ca_file; refusing to connect") from None
        except ssl.SSLError as exc:
            self._drop(conn)
            raise ConnectorError(f"TLS with {where} failed ({exc.reason or type(exc).__name__})") from None
        except socket.gaierror as exc:
            raise ConnectorError(f"cannot resolve the host name {o.host}: {exc.strerror}") from None
        except imaplib.IMAP4.abort:
            self._drop(conn)
            raise ConnectorError(f"the IMAP connection to {where} broke off while logging in") from None
        except imaplib.IMAP4.error:
            self._drop(conn)
            raise ConnectorError(f"authentication failed for user {o.username} at {where}: check the password in "
                                 f"the environment variable {o.password_env}") from None
        except OSError as exc:
            self._drop(conn)
            raise ConnectorError(f"cannot reach {where}: {exc.strerror or type(exc).__name__}") from None
        except ConnectorError:
            self._drop(conn)
            raise
        self._conn, self._caps, self._selected = conn, caps, None

    @staticmethod
    def _drop(conn) -> None:
        if conn is not None:
            try:
                conn.shutdown()
            except (OSError, imaplib.IMAP4.error, AttributeError):
                pass

    def _client(self) -> imaplib.IMAP4:
        if self._conn is None:
            self._connect()
        return self._conn

    def close(self) -> None:
        """Log out and close the session."""
        conn, self._conn, self._selected = self._conn, None, None
        if conn is not None:
            try:
                conn.logout()
            except (imaplib.IMAP4.error, OSError, EOFError):
                self._drop(conn)

    def _call(self, fn):
        """Run fn(conn); on a dropped connection reconnect with backoff (re-opening the selected folder) and retry."""
        selected, dropped = None, None
        for attempt in range(self.options.max_retries + 1):
            try:
                if dropped is not None:  # reconnecting: log in again and re-open the folder read-only
                    self._connect()
                    if selected is not None:
                        self._examine_raw(selected)
                return fn(self._client())
            except ConnectorError:
                if dropped is None:
                    raise  # the first connection: bad credentials, TLS, an unreachable host
                self._drop(self._conn)
                self._conn = self._selected = None
            except _NETWORK as exc:
                if dropped is None:
                    selected = self._selected
                dropped = exc
                self._drop(self._conn)
                self._conn = self._selected = None
            if attempt < self.options.max_retries:
                time.sleep(backoff(attempt))
        raise ConnectorError(f"the IMAP connection was lost and not regained ({type(dropped).__name__})")

    @staticmethod
    def _check(typ: str, data) -> None:
        if typ != "OK":
            text = (data or [b""])[0] if isinstance((data or [b""])[0], bytes) else b""
            match = _CODE.match(text or b"")
            raise _Refused(match.group(1).decode() if match else typ)

    def _examine_raw(self, raw: str) -> dict[str, str]:
        conn = self._conn
        self._selected = None  # a refused EXAMINE leaves no folder selected
        try:
            typ, data = conn.select(_quote(raw), readonly=True)  # EXAMINE: read-only, never SELECT
        except imaplib.IMAP4.error as exc:  # imaplib raises for NO on EXAMINE's readonly check, not for refusals
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            raise _Refused("BAD") from None
        self._check(typ, data)
        state = {"EXISTS": data[-1].decode() if data and isinstance(data[-1], bytes) else "0"}
        for key in ("UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ"):
            value = conn.untagged_responses.get(key)
            if value:
                state[key] = value[-1].decode() if isinstance(value[-1], bytes) else str(value[-1])
        self._selected, self._selected_state = raw, state
        return state

    def _examine(self, raw: str) -> dict[str, str]:
        return self._call(lambda conn: self._examine_raw(raw))

    # -- folders ------------------------------------------------------------------------------
    def _list(self) -> dict[str, _Folder]:
        """Every folder in every namespace the account sees, by uri path (cached per connector)."""
        if self._folders is not None:
            return self._folders
        self._client()  # the capabilities (NAMESPACE, ACL) are known once logged in
        namespaces = [("personal", "", None)]
        if "NAMESPACE" in self._caps:
            typ, data = self._call(lambda c: c.namespace())
            if typ == "OK":
                parsed = parse_lines(data)
                groups = parsed[0] if parsed else []
                namespaces = []
                for kind, group in zip(("personal", "other", "shared"), groups):
                    for entry in group or ():
                        if isinstance(entry, list) and entry and isinstance(entry[0], str):
                            namespaces.append((kind, entry[0], entry[1] if len(entry) > 1 else None))
                if not any(k == "personal" for k, _, _ in namespaces):
                    namespaces.insert(0, ("personal", "", None))
        found: dict[str, _Folder] = {}
        for kind, prefix, _delim in namespaces:
            typ, data = self._call(lambda c: c.list('""', _quote(prefix + "*")))
            if typ != "OK":
                continue
            for line in parse_lines(data):
                if len(line) < 3 or not isinstance(line[0], list):
                    continue
                flags = frozenset(str(f).lower() for f in line[0])
                delimiter = line[1] if isinstance(line[1], str) else None
                raw = line[2].decode("utf-8", "surrogateescape") if isinstance(line[2], bytes) else str(line[2])
                if "\\nonexistent" in flags:
                    continue
                owner_ns = max(((k, p) for k, p, _ in namespaces if raw.startswith(p) or raw + (delimiter or "")
                                == p), key=lambda kp: len(kp[1]), default=(kind, prefix))
                folder = _Folder(raw, delimiter, flags, self._path(raw, delimiter), owner_ns[0], owner_ns[1])
                found.setdefault(folder.path, folder)
        self._folders = dict(sorted(found.items()))
        return self._folders

    @staticmethod
    def _path(raw: str, delimiter: str | None) -> str:
        parts = raw.split(delimiter) if delimiter else [raw]
        return "/".join(quote(decode_mutf7(p), safe="") for p in parts)

    def _wanted(self, folder: _Folder) -> bool:
        name = "/".join(unquote(p) for p in folder.path.split("/"))
        o = self.options
        if o.folders and not any(fnmatch.fnmatchcase(name, pat) for pat in o.folders):
            return False
        return not any(fnmatch.fnmatchcase(name, pat) for pat in o.exclude_folders)

    def _owner(self, folder: _Folder) -> str | None:
        if folder.namespace == "personal":
            return self.options.username
        if folder.namespace == "other":  # Other Users' Namespace: <prefix><user><delimiter>…
            rest = folder.raw[len(folder.prefix):]
            return rest.split(folder.delimiter, 1)[0] if folder.delimiter and rest else None
        return None  # a public/shared namespace's mailbox belongs to no one user

    def _access(self, folder: _Folder) -> AccessPolicy:
        owner = self._owner(folder)
        if "ACL" not in self._caps:
            return AccessPolicy(owner, (), "the server does not support IMAP ACLs (RFC 4314): who else may read "
                                           "this mailbox is not known")
        try:
            typ, data = self._call(lambda c: c.getacl(_quote(folder.raw)))
            self._check(typ, data)
            entries = []
            for line in parse_lines(data):
                values = [v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v for v in line[1:]]
                entries += [(str(values[k]), str(values[k + 1] or "")) for k in range(0, len(values) - 1, 2)]
            return acl_policy(entries, owner, self._broad)
        except _Refused:
            pass
        mine = ""
        try:
            typ, data = self._call(lambda c: c.myrights(_quote(folder.raw)))
            self._check(typ, data)
            line = (parse_lines(data) or [[]])[0]
            mine = str(line[1]) if len(line) > 1 and line[1] else ""
        except _Refused:
            pass
        grants = acl_policy([(self.options.username, mine)], owner, self._broad).grants if mine else ()
        return AccessPolicy(owner, grants, "GETACL was refused (it needs the 'a' right on the mailbox): only the "
                                           "scanning account's own rights (MYRIGHTS) are known")

    # -- walk ---------------------------------------------------------------------------------
    def walk(self) -> Iterator[Resource | Skipped]:
        """Each folder (with its ACL) and then its messages, folders in name order; what fails is a Skipped."""
        self._folders = None
        try:
            folders = self._list()
        except _Refused:
            raise ConnectorError("the server refused to list the account's folders") from None
        lost = ""
        for folder in folders.values():
            if "\\noselect" in folder.flags or not self._wanted(folder):
                continue
            uri = f"{self._base}/{folder.path}"
            if lost:  # the connection did not come back: the rest is listed, not retried folder by folder
                yield Skipped(uri, "connection-lost", lost, self.ctx.target)
                continue
            try:
                state = self._examine(folder.raw)
            except _Refused as exc:
                reason = _reason(exc.code)
                yield Skipped(uri, reason, "the server refused to open the folder read-only (EXAMINE)",
                              self.ctx.target)
                continue
            except ConnectorError as exc:
                lost = str(exc)
                yield Skipped(uri, "connection-lost", lost, self.ctx.target)
                continue
            try:
                access = self._access(folder)
            except ConnectorError as exc:
                lost = str(exc)
                yield Skipped(uri, "connection-lost", lost, self.ctx.target)
                continue
            marker = ".".join(state.get(k, "") for k in ("UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ") if k in state)
            yield Resource(uri=uri, kind="folder", target=self.ctx.target, etag=marker or None, access=access,
                           parent=self._parent(folder))
            try:
                yield from self._messages(folder, uri, state, access)
            except ConnectorError as exc:
                lost = str(exc)
                yield Skipped(uri, "connection-lost", f"listing stopped: {exc}", self.ctx.target)
            except _Refused:
                yield Skipped(uri, "read-error", "the server refused to list the folder's messages",
                              self.ctx.target)

    def _parent(self, folder: _Folder) -> str:
        parts = folder.path.split("/")
        return f"{self._base}/{'/'.join(parts[:-1])}" if len(parts) > 1 else f"{self._base}/"

    def _messages(self, folder: _Folder, uri: str, state: dict[str, str], access: AccessPolicy):
        exists = int(state.get("EXISTS", "0") or 0)
        if not exists:
            return
        inherited = AccessPolicy(access.owner, tuple(Grant(g.principal, g.scope, g.rights, g.source, True,
                                                           g.effective, g.note) for g in access.grants),
                                 access.unknown_reason)
        modseq = "CONDSTORE" in self._caps
        items = "(UID RFC822.SIZE INTERNALDATE" + (" MODSEQ)" if modseq else ")")
        batch = self.options.list_batch
        for start in range(1, exists + 1, batch):
            end = min(start + batch - 1, exists)

            def fetch(conn, start=start, end=end):
                self._examine_raw(folder.raw) if self._selected != folder.raw else None
                return conn.fetch(f"{start}:{end}", items)
            typ, data = self._call(fetch)
            self._check(typ, data)
            rows = []
            for line in parse_lines(data):
                if len(line) < 2 or not isinstance(line[-1], list):
                    continue
                attrs = _pairs(line[-1])
                if "UID" not in attrs or "RFC822.SIZE" not in attrs:
                    continue  # an unsolicited FLAGS update
                rows.append(attrs)
            for attrs in sorted(rows, key=lambda a: int(a["UID"])):
                uid = str(attrs["UID"])
                marker = f"{state.get('UIDVALIDITY', '')}.{uid}"
                if modseq and isinstance(attrs.get("MODSEQ"), list) and attrs["MODSEQ"]:
                    marker += f".{attrs['MODSEQ'][0]}"
                yield Resource(uri=f"{uri}/{uid}.eml", kind="file", target=self.ctx.target,
                               size=int(attrs["RFC822.SIZE"]), modified=_internaldate(attrs.get("INTERNALDATE")),
                               etag=marker, access=inherited, parent=uri)

    # -- content ------------------------------------------------------------------------------
    def _locate(self, resource: Resource) -> tuple[_Folder, str | None, str]:
        address = resource.address
        base = self._base + "/"
        if not address.startswith(base) or not address.endswith(".eml"):
            raise ResourceError("not-found", "not a message of this IMAP account")
        path, _, name = address[len(base):].rpartition("/")
        uid = name[:-4]
        if not uid.isdigit():
            raise ResourceError("not-found", "not a message uri (…/UID.eml)")
        try:
            folder = self._list().get(path)
            if folder is None:
                self._folders = None  # maybe created since this instance listed: list once more
                folder = self._list().get(path)
        except ConnectorError as exc:
            raise ResourceError("connection-lost", str(exc)) from None
        if folder is None:
            raise ResourceError("vanished", "its folder no longer exists")
        uidvalidity = (resource.etag or "").split(".", 1)[0] or None
        return folder, uidvalidity, uid

    def _fetch_part(self, folder: _Folder, uidvalidity: str | None, uid: str, offset: int, length: int) -> bytes:
        def fetch(conn):
            state = self._examine_raw(folder.raw) if self._selected != folder.raw else self._selected_state
            if uidvalidity and state.get("UIDVALIDITY") and state["UIDVALIDITY"] != uidvalidity:
                raise ResourceError("vanished", "the folder's UIDVALIDITY changed: the message's UID names "
                                                "nothing it named before")
            return conn.uid("FETCH", uid, f"(UID BODY.PEEK[]<{offset}.{length}>)")  # PEEK: \Seen stays unset
        try:
            typ, data = self._call(fetch)
            self._check(typ, data)
        except _Refused as exc:
            self._selected = None
            raise ResourceError(_reason(exc.code), "the server refused to open the folder or fetch the message"
                                ) from None
        except ConnectorError as exc:
            raise ResourceError("connection-lost", str(exc)) from None
        for line in parse_lines(data):
            if len(line) < 2 or not isinstance(line[-1], list):
                continue
            attrs = _pairs(line[-1])
            if str(attrs.get("UID")) != uid:
                continue
            for key, value in attrs.items():
                if key.startswith("BODY[]"):
                    if value is None:  # NIL: Dovecot's answer for a message expunged meanwhile (EXPUNGEISSUED)
                        raise ResourceError("vanished", "the message was expunged since the walk")
                    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")
        raise ResourceError("vanished", "the message was expunged since the walk")

    @contextmanager
    def open(self, resource: Resource) -> Iterator[BinaryIO]:
        """The raw RFC 822 message, streamed in partial BODY.PEEK fetches from its folder opened with EXAMINE."""
        folder, uidvalidity, uid = self._locate(resource)
        reader = _Reader(self, folder, uidvalidity, uid)
        try:
            reader.buf = self._fetch_part(folder, uidvalidity, uid, 0, self.options.fetch_block)
            reader.pos = len(reader.buf)
            reader.done = len(reader.buf) < self.options.fetch_block
            yield reader
        finally:
            reader.close()
