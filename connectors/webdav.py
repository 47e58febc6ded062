"""WebDAV servers, Nextcloud and ownCloud (requests): PROPFIND walks, streamed GETs, shares from the OCS API.

- The walk asks one folder at a time (`PROPFIND`, `Depth: 1`; never `Depth: infinity`, which servers refuse or
  answer with a whole tree in memory) and parses each answer as it streams in.
- Content is one `GET` per file, read in the engine's chunks; a connection that breaks off mid-file is taken
  up again where it stopped (`Range`, with `If-Match` on the ETag the first answer gave, so two versions of a
  file are never mixed: a file that changed gives `changed-during-read`).
- The change marker for incremental rescans is the server's ETag (Nextcloud changes it with every write) with
  `getlastmodified`, or the size and `getlastmodified` where the server gives no ETag.
- Access: Nextcloud's and ownCloud's OCS Share API (`/ocs/v2.php/apps/files_sharing/api/v1/shares`), one
  request per folder for the shares of its entries (`subfiles=true`) and one for each folder above the
  configured path; a share on a folder reaches everything below it. A plain WebDAV server has no such API:
  its access is unknown, with that reason (never taken for private).
- Credentials: a user name and a password or app password from an environment variable (HTTP Basic over
  TLS). TLS is verified, against the system's CAs or `ca_file`.

Uris are `davs://host[:port]/path` (https) or `webdav://host[:port]/path` (plain http), the path as the server
names it (percent-encoded, bytes that are not UTF-8 kept).
"""
from __future__ import annotations

import datetime
import email.utils
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, Iterator, Literal
from urllib.parse import quote, unquote_to_bytes, urlsplit

from vendorscan.model import AccessPolicy, Grant, Resource, Skipped
from vendorscan.connectors import ocsshares
from vendorscan.connectors.posix import DEFAULT_BROAD_GROUPS
from vendorscan.connector import Connector, ConnectorError, ResourceError, backoff

OCS_SHARES = "/ocs/v2.php/apps/files_sharing/api/v1/shares"
_NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
_PROPFIND = (b'<?xml version="1.0" encoding="utf-8"?>\n'
             b'<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
             b'<d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/>'
             b'<oc:owner-id/><oc:owner-display-name/></d:prop></d:propfind>')
_SCHEMES = {"https": "https", "davs": "https", "webdavs": "https", "http": "http", "dav": "http", "webdav": "http"}
_TRANSIENT = (429, 500, 502, 503, 504)
_NO_OCS = ("the server offers no OCS Share API (plain WebDAV): who else can open it (shares, public links) "
           "is not known")


@dataclass(frozen=True)
class _Entry:
    """One PROPFIND response: a file or folder as the server lists it."""

    path: bytes  # the server path, unquoted bytes
    folder: bool
    size: int | None
    modified: float | None
    etag: str | None
    owner: str | None
    status: int = 200  # the response's own status (a 403 entry in a listing)


class _Download:
    """A read-only file object over one GET, resumed with Range (and If-Match) after a broken connection."""

    def __init__(self, connector: "WebdavConnector", url: str, size: int | None):
        self.connector, self.url, self.size = connector, url, size
        self.pos = 0
        self.resp = None
        self.guard: dict[str, str] = {}  # If-Match / If-Unmodified-Since of the version being read
        self.encoded = False
        self.failures = 0  # breaks since bytes last came: a connection that keeps breaking is given up
        self._start()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def _start(self) -> None:
        from requests import RequestException
        headers = {"Accept-Encoding": "identity"}
        if self.pos:
            headers["Range"] = f"bytes={self.pos}-"
            headers.update(self.guard)
        try:
            resp = self.connector._session().get(self.url, headers=headers, stream=True, allow_redirects=False,
                                                 timeout=self.connector._timeouts())
        except RequestException as exc:
            raise ResourceError("connection-lost", _what(exc)) from None
        status = resp.status_code
        if status in (200, 206):
            if not self.pos:
                etag = resp.headers.get("ETag", "")
                if etag.startswith('"'):  # a strong ETag: a resumed read asks for this version only
                    self.guard = {"If-Match": etag}
                elif resp.headers.get("Last-Modified"):
                    self.guard = {"If-Unmodified-Since": resp.headers["Last-Modified"]}
            if status == 206 and not resp.headers.get("Content-Range", "").startswith(f"bytes {self.pos}-"):
                resp.close()
                raise ResourceError("read-error", "the server answered a resumed read with another byte range")
            self.resp = resp
            # A server that compresses anyway (it was asked for identity): decoded, but a break is not resumed
            self.encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("identity", "")
            if self.pos and status == 200:  # the server ignored the range: skip what was read already
                left = self.pos
                while left:
                    got = resp.raw.read(min(left, 1 << 20))
                    if not got:
                        break
                    left -= len(got)
            return
        resp.close()
        if self.pos and status == 416:  # nothing after pos: the end
            self.resp = None
            return
        raise ResourceError(*_status_reason(status, self.pos > 0))

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while block := self.read(1 << 20):
                parts.append(block)
            return b"".join(parts)
        from requests import RequestException
        from urllib3.exceptions import HTTPError as Urllib3Error
        while True:
            if self.resp is None:
                return b""
            try:
                data = self.resp.raw.read(n, decode_content=self.encoded)
            except (Urllib3Error, RequestException, OSError) as exc:
                self.close()
                self.failures += 1
                if self.encoded:
                    raise ResourceError("connection-lost", f"{_what(exc)} in a compressed answer (not resumable)") \
                        from None
                if self.failures > self.connector.options.max_retries:
                    raise ResourceError("connection-lost", f"{_what(exc)} after {self.pos} bytes; "
                                        f"{self.failures - 1} resumed reads failed too") from None
                time.sleep(backoff(self.failures, first=0.25, cap=8.0))
                self._start()
                continue
            if data:
                self.failures = 0
            self.pos += len(data)
            return data

    def close(self) -> None:
        if self.resp is not None:
            self.resp.close()
            self.resp = None


class WebdavConnector(Connector):
    """WebDAV, Nextcloud and ownCloud: files read-only over HTTPS, shares and public links from the OCS API."""

    id = "webdav"
    version = "1"
    scheme = "webdav"  # davs for an https server (set per instance)
    thread_safe = True  # one requests session per thread

    @dataclass(frozen=True)
    class Options:
        url: str  # the DAV root of the account, e.g. https://cloud.example/remote.php/dav/files/alice/
        username: str = ""
        username_env: str = ""  # or the user name from this environment variable
        password_env: str = ""  # the password or app password (required)
        paths: list[str] = field(default_factory=lambda: ["/"])  # folders below url
        ca_file: str = ""  # a CA bundle (PEM) for a private or self-signed certificate
        verify_tls: bool = True
        shares_api: Literal["auto", "ocs", "none"] = "auto"  # auto: ask the OCS API, unknown access without it
        ocs_url: str = ""  # the server's root for /ocs/…; default: url up to /remote.php/ (or its host)
        broad_groups: list[str] = field(default_factory=lambda: list(DEFAULT_BROAD_GROUPS))
        timeout: int = 60  # seconds to wait for a connection or the next bytes of an answer
        max_retries: int = 4  # retries with backoff on network faults, 429 and 5xx

        def __post_init__(self):
            parts = urlsplit(self.url)
            if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
                raise ValueError("url must be https://host/path (davs://) or http://host/path (webdav://)")
            if parts.password:
                raise ValueError("url holds a password: put it in the environment variable password_env names")
            if not self.password_env:
                raise ValueError("give password_env: the environment variable that holds the (app) password")
            if not (self.username or self.username_env):
                raise ValueError("give username or username_env")
            if self.max_retries < 0 or self.timeout <= 0:
                raise ValueError("timeout must be positive and max_retries not negative")

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        parts = urlsplit(options.url)
        self._http = _SCHEMES[parts.scheme.lower()]
        self.scheme = "davs" if self._http == "https" else "webdav"
        self._netloc = parts.netloc.rsplit("@", 1)[-1]
        self._origin = f"{self._http}://{self._netloc}"
        self._base = unquote_to_bytes(parts.path or "/").rstrip(b"/")  # the account's root, no trailing slash
        if options.ocs_url:
            self._ocs = options.ocs_url.rstrip("/")
        else:
            head = parts.path.split("/remote.php/", 1)[0] if "/remote.php/" in parts.path else ""
            self._ocs = self._origin + head.rstrip("/")
        self._broad = frozenset(g.lower() for g in options.broad_groups)
        self._local = threading.local()
        self._sessions: list = []  # every thread's session, closed by close()
        self._lock = threading.Lock()
        self._memo: tuple[tuple, tuple] | None = None  # the last OCS question and its answer
        self._auth: tuple[str, str] | None = None
        self._ocs_state: str | None = None  # None: not asked yet; "": available; else why not
        self._today = datetime.datetime.now(datetime.timezone.utc).date()

    # -- HTTP ---------------------------------------------------------------------------------
    def _credentials(self) -> tuple[str, str]:
        if self._auth is None:
            o = self.options
            user = o.username
            if o.username_env:
                user = os.environ.get(o.username_env, "")
                if not user:
                    raise ConnectorError(f"environment variable {o.username_env} (username_env) is not set")
            secret = os.environ.get(o.password_env)
            if not secret:
                raise ConnectorError(f"environment variable {o.password_env} (password_env) is not set")
            self._auth = (user, secret)
        return self._auth

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            import requests
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry
            o = self.options
            retry = Retry(total=o.max_retries, connect=o.max_retries, read=o.max_retries, status=o.max_retries,
                          other=0, backoff_factor=0.5, backoff_max=8, status_forcelist=_TRANSIENT,
                          allowed_methods=frozenset({"GET", "HEAD", "PROPFIND", "OPTIONS"}),
                          respect_retry_after_header=True, raise_on_status=False, redirect=0)
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.auth = self._credentials()
            session.verify = o.ca_file or o.verify_tls
            # The environment's proxy settings, looked up once (requests would look them up on every request)
            session.proxies = requests.utils.get_environ_proxies(self._origin)
            session.trust_env = False
            session.headers["User-Agent"] = "vendorscan-audit (read-only)"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _timeouts(self) -> tuple[float, float]:
        return (min(10, self.options.timeout), self.options.timeout)

    def _url(self, path: bytes, folder: bool = False) -> str:
        return self._origin + quote(path + (b"/" if folder and not path.endswith(b"/") else b""), safe="/")

    def _uri(self, path: bytes) -> str:
        return f"{self.scheme}://{self._netloc}{quote(path, safe='/')}"

    def weaknesses(self) -> list[str]:
        """Plain HTTP, or TLS certificates not verified."""
        if self._http == "http":
            return [f"the WebDAV server {self._origin} is plain HTTP: the password and the content cross the "
                    "network unencrypted"]
        if not self.options.verify_tls and not self.options.ca_file:
            return [f"TLS certificates of {self._origin} are not verified (verify_tls = false): a machine in the "
                    "middle could pose as it and read the password"]
        return []

    def _fail_target(self, exc) -> ConnectorError:
        """A ConnectorError in our own words for a request that failed before any answer."""
        from requests.exceptions import ConnectionError as Unreachable, SSLError, Timeout
        where = self._origin
        if isinstance(exc, SSLError):
            hint = "give ca_file with the CA that signed it" if not self.options.ca_file else \
                f"it is not signed by the CA in ca_file {self.options.ca_file}"
            return ConnectorError(f"the TLS certificate of {where} could not be verified ({hint}); refusing to "
                                  "send the password")
        if isinstance(exc, Timeout):
            return ConnectorError(f"{where} did not answer within {self.options.timeout}s")
        if isinstance(exc, Unreachable):
            return ConnectorError(f"cannot reach {where} ({_what(exc)})")
        return ConnectorError(f"request to {where} failed ({_what(exc)})")

    def _refused(self) -> ConnectorError:
        o = self.options
        user = f"user {self._credentials()[0]!r}"
        return ConnectorError(f"{self._origin} refused the credentials of {user} (HTTP 401): check the (app) password "
                              f"in the environment variable {o.password_env} (password_env)"
                              + (f" and the user name in {o.username_env}" if o.username_env else ""))

    # -- listing ------------------------------------------------------------------------------
    def _propfind(self, path: bytes, depth: str, folder: bool) -> tuple[int, list[_Entry]]:
        """(status, entries) of one PROPFIND; the whole listing is asked again after a broken answer."""
        from requests import RequestException
        from urllib3.exceptions import HTTPError as Urllib3Error
        attempt = 0
        while True:
            resp = self._session().request("PROPFIND", self._url(path, folder), data=_PROPFIND, allow_redirects=False,
                                           headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
                                           stream=True, timeout=self._timeouts())
            try:
                if resp.status_code != 207:
                    return resp.status_code, []
                resp.raw.decode_content = True
                return 207, list(_parse(resp.raw))
            except (Urllib3Error, RequestException, OSError) as exc:
                attempt += 1
                if attempt > self.options.max_retries:
                    raise RequestException(f"listing broke off: {_what(exc)}") from None
                time.sleep(backoff(attempt, first=0.25, cap=8.0))
            finally:
                resp.close()

    def walk(self) -> Iterator[Resource | Skipped]:
        """Each configured folder and everything below it, folders before their contents, sorted by name."""
        from requests import RequestException
        from defusedxml import DefusedXmlException
        from xml.etree.ElementTree import ParseError
        for rel in self.options.paths:
            inner = rel.strip("/").encode("utf-8", "surrogateescape")
            path = (self._base + b"/" + inner) if inner else (self._base or b"/")
            try:
                status, entries = self._propfind(path, "0", folder=not inner)
            except RequestException as exc:
                raise self._fail_target(exc) from None
            except (ParseError, DefusedXmlException):
                raise ConnectorError(f"{self._origin} gave a PROPFIND answer that is not WebDAV XML: is url the "
                                     "WebDAV root (…/remote.php/dav/files/USER/ on Nextcloud)?") from None
            if status in (301, 302, 307, 308) and inner:  # a folder asked for without its slash (Apache mod_dav)
                try:
                    status, entries = self._propfind(path, "0", folder=True)
                except RequestException as exc:
                    raise self._fail_target(exc) from None
            if status == 401:
                raise self._refused()
            if status in (404, 410):
                yield Skipped(self._uri(path), "not-found", "the configured path does not exist", self.ctx.target)
                continue
            if status == 403:
                yield Skipped(self._uri(path), "permission-denied", "the account may not list the configured path",
                              self.ctx.target)
                continue
            if status == 405 or status != 207 or not entries:
                raise ConnectorError(f"{self._origin} answered PROPFIND with HTTP {status}: not a WebDAV folder "
                                     "(check url and paths)")
            top = next((e for e in entries if e.path == path), entries[0])
            inherited = self._above(top.path)
            own = self._shares_of(top.path)
            yield from self._tree(top, inherited, own)

    def _tree(self, top: _Entry, inherited: tuple[Grant, ...], own) -> Iterator[Resource | Skipped]:
        from requests import RequestException
        from defusedxml import DefusedXmlException
        from xml.etree.ElementTree import ParseError
        parent = self._parent_uri(top.path)
        stack = [(top, parent, inherited, own)]
        while stack:
            entry, parent, inherited, own = stack.pop()
            resource = self._resource(entry, parent, inherited, own)
            yield resource
            if not entry.folder:
                continue
            below = inherited + tuple(replace(g, inherited=True) for g in own[0])
            try:
                status, entries = self._propfind(entry.path, "1", folder=True)
            except RequestException as exc:
                yield Skipped(resource.uri, "connection-lost", f"listing failed: {_what(exc)}", self.ctx.target)
                continue
            except (ParseError, DefusedXmlException):
                yield Skipped(resource.uri, "malformed", "the PROPFIND answer is not WebDAV XML", self.ctx.target)
                continue
            if status != 207:
                reason, detail = _status_reason(status, False)
                if status == 401:
                    reason, detail = "permission-denied", "HTTP 401 listing the folder"
                yield Skipped(resource.uri, reason, f"cannot list folder: {detail}", self.ctx.target)
                continue
            children = [e for e in entries if e.path != entry.path]
            shared = self._shares_in(entry.path)
            subfolders = []
            for child in sorted(children, key=lambda e: e.path):
                if not child.path.startswith(entry.path.rstrip(b"/") + b"/") or b"/" in \
                        child.path[len(entry.path.rstrip(b"/")) + 1:]:
                    continue  # an href outside the folder: never followed
                mine = (shared[0].get(self._ocs_path(child.path), ()), shared[1])
                if child.status != 200:
                    reason, detail = _status_reason(child.status, False)
                    yield Skipped(self._uri(child.path), reason, detail, self.ctx.target)
                elif child.folder:
                    subfolders.append((child, resource.uri, below, mine))
                else:
                    yield self._resource(child, resource.uri, below, mine)
            stack.extend(reversed(subfolders))

    def _parent_uri(self, path: bytes) -> str:
        return self._uri(path.rsplit(b"/", 1)[0] or b"/")

    def _resource(self, entry: _Entry, parent: str, inherited: tuple[Grant, ...], own) -> Resource:
        grants_here, reason = own
        grants = inherited + tuple(grants_here)
        if reason:
            access = AccessPolicy(entry.owner, grants, reason)
        else:
            access = AccessPolicy(entry.owner or self._credentials()[0], grants)
        # The change marker: the ETag and getlastmodified together (a server whose ETag misses a change still
        # moves the date); size and date where there is no ETag.
        if entry.etag:
            marker = entry.etag if entry.modified is None else f"{entry.etag}@{entry.modified:.0f}"
        else:
            marker = f"{entry.size or 0}-{entry.modified:.0f}" if entry.modified is not None else None
        size = entry.size
        if not entry.folder and size is None:
            size = self._head_size(entry.path)
        return Resource(uri=self._uri(entry.path), kind="folder" if entry.folder else "file",
                        target=self.ctx.target, size=None if entry.folder else size, modified=entry.modified,
                        etag=marker, access=access, parent=parent)

    def _head_size(self, path: bytes) -> int:
        """A file's size from HEAD where PROPFIND gave none (0 when the server tells neither)."""
        from requests import RequestException
        try:
            resp = self._session().head(self._url(path), allow_redirects=False, timeout=self._timeouts(),
                                        headers={"Accept-Encoding": "identity"})
            return int(resp.headers.get("Content-Length", 0))
        except (RequestException, ValueError):
            return 0

    # -- shares (OCS) -------------------------------------------------------------------------
    def _ocs_path(self, path: bytes) -> str:
        """The path the OCS API knows a DAV path by: below the account's root, with a leading slash."""
        base = self._base
        rel = path[len(base):] if path == base or path.startswith(base + b"/") else path
        return "/" + rel.strip(b"/").decode("utf-8", "surrogateescape")

    def _ask(self, **params) -> tuple[list[dict[str, Any]] | None, str]:
        """Share records of one OCS request, or (None, why they are not known)."""
        from requests import RequestException
        if self.options.shares_api == "none":
            return None, "shares_api = \"none\": shares and public links were not read"
        if self._ocs_state:
            return None, self._ocs_state
        key = tuple(sorted(params.items()))
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        answer = self._ask_once(params)
        self._memo = (key, answer)
        return answer

    def _ask_once(self, params: dict[str, str]) -> tuple[list[dict[str, Any]] | None, str]:
        from requests import RequestException
        try:
            resp = self._session().get(self._ocs + OCS_SHARES, params={**params, "reshares": "true",
                                                                       "format": "json"},
                                       headers={"OCS-APIRequest": "true", "Accept": "application/json"},
                                       allow_redirects=False, timeout=self._timeouts())
        except RequestException as exc:
            return None, f"the OCS Share API could not be asked ({_what(exc)})"
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        found = ocsshares.records(answer)
        if found is None:  # not an OCS answer at all: a plain WebDAV server (when the first answer is not)
            if self._ocs_state is None:
                if self.options.shares_api == "ocs":
                    raise ConnectorError(f"{self._ocs}{OCS_SHARES} is not an OCS Share API (HTTP {resp.status_code})"
                                         "; set ocs_url, or shares_api = \"auto\" to scan without it")
                self._ocs_state = (f"{_NO_OCS} (HTTP {resp.status_code} from {self._ocs}{OCS_SHARES}; set ocs_url "
                                   "where Nextcloud or ownCloud lives elsewhere)")
                return None, self._ocs_state
            return None, f"the OCS Share API gave an answer that is not OCS JSON (HTTP {resp.status_code})"
        status, code = ocsshares.meta_status(answer)
        self._ocs_state = self._ocs_state if self._ocs_state is not None else ""
        if resp.status_code == 404 or code == 404:
            return [], ""  # no such path for the share API (a folder entry vanished): nothing shared there
        if resp.status_code in (401, 403) or code in (401, 403, 997):
            return None, f"the OCS Share API refused the account (OCS status {code or resp.status_code})"
        if status != "ok" and code not in (100, 200):
            return None, f"the OCS Share API failed (OCS status {code})"
        return found, ""

    def _shares_of(self, path: bytes) -> tuple[tuple[Grant, ...], str]:
        """The grants of shares on this one file or folder (not inherited), and why unknown if so."""
        ocs = self._ocs_path(path)
        if ocs == "/":
            found, why = self._ask(path="/", subfiles="true")  # the account's root cannot be shared: a probe
            return (), why
        found, why = self._ask(path=ocs)
        if found is None:
            return (), why
        mine = [s for s in found if not s.get("path") or str(s["path"]).rstrip("/") == ocs]
        return ocsshares.grants(mine, self._broad, self._today), ""

    def _shares_in(self, folder: bytes) -> tuple[dict[str, tuple[Grant, ...]], str]:
        """Grants of the shares on each entry of a folder (one request), keyed by OCS path; why unknown."""
        found, why = self._ask(path=self._ocs_path(folder), subfiles="true")
        if found is None:
            return {}, why
        by_path: dict[str, list] = {}
        for s in found:
            by_path.setdefault(str(s.get("path", "")).rstrip("/") or "/", []).append(s)
        return {p: ocsshares.grants(v, self._broad, self._today) for p, v in by_path.items()}, ""

    def _above(self, path: bytes) -> tuple[Grant, ...]:
        """Grants of shares on the folders above a configured path (they reach into it), marked inherited."""
        ocs = self._ocs_path(path).strip("/")
        if not ocs or self.options.shares_api == "none":
            return ()
        out: list[Grant] = []
        parts = ocs.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            found, _why = self._ask(path="/" + "/".join(parts[:i]))
            if found:
                out.extend(ocsshares.grants(found, self._broad, self._today, inherited=True))
        return tuple(out)

    # -- content ------------------------------------------------------------------------------
    @contextmanager
    def open(self, resource: Resource) -> Iterator[BinaryIO]:
        """The file's bytes, streamed from one GET (resumed where a broken connection stopped)."""
        path = unquote_to_bytes(urlsplit(resource.address).path)
        try:
            self._session()
        except ConnectorError:  # a cluster worker reads with its own environment, which may lack the variable
            raise ResourceError("permission-denied", f"the environment variable {self.options.password_env} "
                                "(password_env) is not set in the process that read it (set it for every "
                                "worker)") from None
        reader = _Download(self, self._url(path), resource.size)
        try:
            yield reader
        finally:
            reader.close()

    def close(self) -> None:
        """Close every thread's HTTP session (a later call opens a new one)."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()


def _parse(stream) -> Iterator[_Entry]:
    """The entries of a PROPFIND multistatus, parsed as the answer streams in (defusedxml: no entities)."""
    from defusedxml.ElementTree import iterparse
    for _event, elem in iterparse(stream, events=("end",)):
        if elem.tag != "{DAV:}response":
            continue
        href = elem.findtext("d:href", default="", namespaces=_NS).strip()
        path = unquote_to_bytes(urlsplit(href).path).rstrip(b"/") or b"/"
        status = _status_code(elem.findtext("d:status", default="", namespaces=_NS))
        props: dict[str, Any] = {}
        for propstat in elem.findall("d:propstat", _NS):
            if _status_code(propstat.findtext("d:status", default="", namespaces=_NS)) != 200:
                continue
            prop = propstat.find("d:prop", _NS)
            if prop is not None:
                for child in prop:
                    props[child.tag] = child
        kind = props.get("{DAV:}resourcetype")
        folder = kind is not None and kind.find("d:collection", _NS) is not None
        size = _int(props.get("{DAV:}getcontentlength"))
        modified = _http_date(props.get("{DAV:}getlastmodified"))
        etag = _text(props.get("{DAV:}getetag")) or None
        owner = _text(props.get("{http://owncloud.org/ns}owner-display-name")) or \
            _text(props.get("{http://owncloud.org/ns}owner-id")) or None
        if status is None:
            status = 200 if props or elem.find("d:propstat", _NS) is not None else 404
        elem.clear()
        yield _Entry(path, folder, size, modified, etag, owner, status)


def _text(elem) -> str:
    return (elem.text or "").strip() if elem is not None else ""


def _int(elem) -> int | None:
    try:
        return int(_text(elem))
    except ValueError:
        return None


def _http_date(elem) -> float | None:
    text = _text(elem)
    if not text:
        return None
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None


def _status_code(line: str) -> int | None:
    parts = (line or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _status_reason(status: int, resumed: bool) -> tuple[str, str]:
    """The skip reason and our own detail for an HTTP status of a read or listing."""
    if status in (404, 410):
        return "vanished", f"HTTP {status}: removed since the listing"
    if status in (401, 403):
        return "permission-denied", f"HTTP {status}"
    if status == 412:
        return "changed-during-read", "HTTP 412: the file changed while it was read"
    if status in _TRANSIENT:
        return "read-error", f"HTTP {status} (after retries)"
    return "read-error", f"HTTP {status}" + (" resuming the read" if resumed else "")


def _what(exc) -> str:
    """An exception's type only: a library's message can quote the URL and so a path with an identifier."""
    return type(exc).__name__


