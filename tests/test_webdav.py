"""WebDAV connector against a real WsgiDAV server on loopback; Nextcloud shares from recorded OCS answers.

The WebDAV side (PROPFIND, GET, Range, If-Match, basic auth, TLS, HTTP 403 for a file the server may not read)
is WsgiDAV's own, started by the fixture (tests/webdav_server.py). The OCS Share API side is NOT a real
Nextcloud: no installable server here shows OCS shares (Nextcloud needs PHP and a database), so a small WSGI
app in the same server answers /ocs/ from share records in Nextcloud's own shape (tests/data/nextcloud_shares.json,
written from Nextcloud's ShareAPIController, not captured from a live server); the mapping is also tested
directly on those records.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import servers
from conftest import PLANTED, assert_no_planted, files_under, load_json, run_cli
from contract import ConnectorContract, Estate, context
from estates import DiskEstate, plant
from vendorscan.connector import ConnectorError, ResourceError
from vendorscan.connectors import ocsshares
from vendorscan.connectors.webdav import WebdavConnector
from vendorscan.model import Resource, Scope, Skipped

pytestmark = pytest.mark.server

SHARES = json.loads((Path(__file__).parent / "data" / "nextcloud_shares.json").read_text())["shares"]
CPR = PLANTED["dk.cpr"][0]
SE = PLANTED["se.personnummer"][0]
PW_ENV = "VS_TEST_DAV_PASSWORD"


# The demo estate: every folder of the recorded shares, with personal data where it matters.
TREE = {
    "Public/udtraek.csv": f"navn;CPR-nr\nJens Hansen;{CPR}\n".encode(),
    f"Public/lonseddel {PLANTED['dk.cpr'][1]}.txt": b"Loenseddel, november\n",  # an id in a name: masked
    "Board/minutes.txt": b"Board minutes, nothing personal\n",
    "Old/2019.csv": f"personnummer;namn\n{SE};Anna\n".encode(),
    "Inbox/readme.txt": b"drop files here\n",
    "Team/staff.csv": f"namn;personnummer\nAnna Lindqvist;{SE}\n".encode(),
    "Team/notes.txt": b"meeting notes\n",
    "Team/federated.txt": b"for the partner\n",
    "Staff/list.csv": f"navn;cpr\nJens Hansen;{CPR}\n".encode(),
    "Private/notes.txt": f"CPR {CPR}\n".encode(),
    "Private/mailed.txt": b"nothing here\n",
    "Private/l\u00f6ner 2024.txt": b"inga personnummer\n",
}


@pytest.fixture(scope="module")
def nextcloud():
    """WsgiDAV with Nextcloud's URL layout and the recorded OCS shares beside it."""
    server = servers.start_webdav(ocs_shares=SHARES)
    plant(server.root, TREE)
    yield server
    servers.stop_webdav(server)


@pytest.fixture(scope="module")
def plain_dav():
    """WsgiDAV alone: a plain WebDAV server without the OCS Share API."""
    server = servers.start_webdav()
    yield server
    servers.stop_webdav(server)


@pytest.fixture
def password(monkeypatch):
    def set_for(server):
        monkeypatch.setenv(PW_ENV, server.password)
    return set_for


def _connector(server, **kw) -> WebdavConnector:
    os.environ.setdefault(PW_ENV, server.password)
    options = {"url": server.url, "username": server.user, "password_env": PW_ENV, "max_retries": 2, **kw}
    return WebdavConnector(WebdavConnector.Options(**options), context())


def _by_name(items) -> dict[str, Resource]:
    return {i.uri.rstrip("/").rsplit("/", 1)[-1]: i for i in items if isinstance(i, Resource)}


# -- the contract ---------------------------------------------------------------------------------
class _DavContract(ConnectorContract):
    server_fixture = ""

    @pytest.fixture
    def contract_estate(self, request, password):
        server = request.getfixturevalue(self.server_fixture)
        password(server)
        folder = f"contract-{uuid.uuid4().hex[:10]}"
        disk = DiskEstate(server.root / folder)
        os.chmod(server.root / folder, 0o755)
        connector = _connector(server, paths=[f"/{folder}"])
        yield Estate(connector, set(disk.names), disk.delete, disk.make_unreadable, disk.snapshot)
        connector.close()
        shutil.rmtree(server.root / folder, ignore_errors=True)


class TestNextcloudContract(_DavContract):
    """The contract on WsgiDAV laid out as Nextcloud, with the OCS Share API answering beside it."""

    server_fixture = "nextcloud"


class TestPlainWebdavContract(_DavContract):
    """The contract on plain WsgiDAV: access unknown (with its reason), everything else the same."""

    server_fixture = "plain_dav"


# -- access ---------------------------------------------------------------------------------------
def test_ocs_shares_become_grants_and_reach_below(nextcloud, password):
    password(nextcloud)
    c = _connector(nextcloud)
    items = list(c.walk())
    assert not [i for i in items if isinstance(i, Skipped)]
    r = _by_name(items)
    public = r["Public"].access.grants
    assert [(g.principal, g.scope, g.rights, g.effective) for g in public] == [
        ("anyone with the public link", Scope.PUBLIC, frozenset({"read", "list"}), True)]
    assert "no password" in public[0].note and "no expiry date" in public[0].note
    inherited = r["udtraek.csv"].access.grants
    assert [(g.principal, g.scope, g.inherited) for g in inherited] == [
        ("anyone with the public link", Scope.PUBLIC, True)]
    board = r["minutes.txt"].access.grants[0]
    assert board.scope == Scope.PUBLIC and "password-protected" in board.note and "expires 2099-12-31" in board.note
    assert r["2019.csv"].access.broadest("read") is None  # the link expired: kept, not effective
    assert "expired on 2020-01-31" in r["Old"].access.grants[0].note
    assert r["Inbox"].access.grants[0].rights == {"write"}  # a file drop
    team = {g.principal: g for g in r["notes.txt"].access.grants}
    assert team["group HR team"].scope == Scope.GROUP and team["group HR team"].inherited
    assert team["user Bob Berg"].scope == Scope.USER and team["user Bob Berg"].rights == {"read", "admin"}
    assert r["federated.txt"].access.broadest().scope == Scope.ORGANISATION
    assert r["list.csv"].access.broadest().scope == Scope.ORGANISATION  # "staff" is a broad group
    assert r["mailed.txt"].access.broadest().scope == Scope.PUBLIC
    assert r["notes.txt"].access.owner == "alice" and r["Private"].access.grants == ()
    assert r["Private"].access.unknown_reason is None
    text = json.dumps([i.access.to_dict() for i in items if isinstance(i, Resource)])
    for secret in ("PublicNoPw", "BoardWithPw", "$2y$", "MailTok", "dana@", "FedTok", "cloud.example.test/s/"):
        assert secret not in text  # tokens, links, password hashes, mail recipients


def test_shares_on_folders_above_the_configured_path_are_inherited(nextcloud, password):
    password(nextcloud)
    items = list(_connector(nextcloud, paths=["/Team"]).walk())
    r = _by_name(items)
    team = r["Team"].access.grants
    assert [(g.principal, g.inherited) for g in team] == [("group HR team", False)]
    plant(nextcloud.root, {"Public/2024/more.txt": b"x\n"})
    r = _by_name(_connector(nextcloud, paths=["/Public/2024"]).walk())
    assert [(g.scope, g.inherited) for g in r["2024"].access.grants] == [(Scope.PUBLIC, True)]
    assert r["more.txt"].access.broadest().scope == Scope.PUBLIC


def test_plain_webdav_access_is_unknown_with_the_reason(plain_dav, password):
    password(plain_dav)
    plant(plain_dav.root, {"x/a.txt": b"a\n"})
    items = [i for i in _connector(plain_dav).walk() if isinstance(i, Resource)]
    assert items and all(i.access.unknown_reason and "no OCS Share API" in i.access.unknown_reason for i in items)
    assert all(i.access.grants == () and i.access.owner is None for i in items)
    none = [i for i in _connector(plain_dav, shares_api="none").walk() if isinstance(i, Resource)]
    assert all('shares_api = "none"' in i.access.unknown_reason for i in none)
    with pytest.raises(ConnectorError, match="not an OCS Share API"):
        list(_connector(plain_dav, shares_api="ocs").walk())


def test_share_records_map_to_grants():
    """The mapping alone, on the recorded records (the server above serves the same ones)."""
    today = datetime.date(2026, 12, 3)
    by_id = {s["id"]: s for s in SHARES}
    broad = frozenset({"staff"})
    g = ocsshares.grant(by_id["11"], broad, today)
    assert (g.scope, g.rights, g.effective, g.source) == (Scope.PUBLIC, {"read", "list"}, True, "ocs-share")
    assert g.note == "no password; no expiry date; shared by alice"
    g = ocsshares.grant(by_id["12"], broad, today)
    assert g.principal == "anyone with the public link 'Board minutes'"
    assert g.note == ("password-protected; download button hidden (the content still shows); expires 2099-12-31; "
                      "shared by alice")
    g = ocsshares.grant(by_id["13"], broad, today)
    assert not g.effective and g.rights == {"read", "list", "admin"}
    assert ocsshares.grant(by_id["14"], broad, today).rights == {"write"}
    assert ocsshares.grant(by_id["15"], broad, today).scope == Scope.GROUP
    assert ocsshares.grant(by_id["17"], broad, today).scope == Scope.ORGANISATION
    assert ocsshares.grant(by_id["17"], frozenset(), today).scope == Scope.GROUP
    assert ocsshares.grant(by_id["16"], broad, today).principal == "user Bob Berg"
    assert ocsshares.grant(by_id["18"], broad, today).scope == Scope.ORGANISATION
    mailed = ocsshares.grant(by_id["19"], broad, today)
    assert mailed.scope == Scope.PUBLIC and "dana" not in mailed.principal + mailed.note
    # Nextcloud before 15 told a link's password only through share_with
    old = {**by_id["11"], "share_with": "$2y$10$hash", "password": None}
    assert "password-protected" in ocsshares.grant(old, broad, today).note
    assert ocsshares.grant({**by_id["11"], "permissions": 0}, broad, today) is None
    odd = ocsshares.grant({**by_id["15"], "share_type": 99}, broad, today)
    assert odd.scope == Scope.ORGANISATION and "does not know" in odd.note
    expires_today = ocsshares.grant({**by_id["11"], "expiration": "2026-12-03 00:00:00"}, broad, today)
    assert not expires_today.effective
    assert ocsshares.records({"ocs": {"meta": {}, "data": {}}}) == []
    assert ocsshares.records("<html>") is None and ocsshares.records({"error": 1}) is None


# -- errors ---------------------------------------------------------------------------------------
def test_wrong_password_names_the_environment_variable(nextcloud, monkeypatch):
    monkeypatch.setenv(PW_ENV, "wrong-password-xyz")
    c = _connector(nextcloud)
    with pytest.raises(ConnectorError) as caught:
        list(c.walk())
    assert PW_ENV in str(caught.value) and "alice" in str(caught.value) and "401" in str(caught.value)
    assert "wrong-password-xyz" not in str(caught.value)
    monkeypatch.delenv(PW_ENV)
    with pytest.raises(ConnectorError, match=f"environment variable {PW_ENV} .password_env. is not set"):
        list(_connector_without_default(nextcloud).walk())


def test_a_reader_without_the_password_variable_skips_with_the_reason(nextcloud, monkeypatch):
    monkeypatch.setenv(PW_ENV, nextcloud.password)
    files = [r for r in _connector(nextcloud, paths=["/Board"]).walk() if r.kind == "file"]
    monkeypatch.delenv(PW_ENV)
    with pytest.raises(ResourceError) as caught:
        with _connector_without_default(nextcloud).open(files[0]):
            pass
    assert caught.value.reason == "permission-denied" and PW_ENV in caught.value.detail


def _connector_without_default(server):
    return WebdavConnector(WebdavConnector.Options(url=server.url, username=server.user, password_env=PW_ENV),
                           context())


def test_options_are_checked():
    with pytest.raises(ValueError, match="password_env"):
        WebdavConnector.Options(url="https://h/remote.php/dav/files/a/", username="a")
    with pytest.raises(ValueError, match="url"):
        WebdavConnector.Options(url="ftp://h/", username="a", password_env="X")
    c = WebdavConnector(WebdavConnector.Options(url="davs://cloud.example/nc/remote.php/dav/files/a/",
                                                username="a", password_env="X"), context())
    assert c.scheme == "davs" and c._origin == "https://cloud.example" and c._ocs == "https://cloud.example/nc"
    assert c.weaknesses() == []
    plain = WebdavConnector(WebdavConnector.Options(url="webdav://nas.local/dav/", username="a", password_env="X"),
                            context())
    assert plain.scheme == "webdav" and "plain HTTP" in plain.weaknesses()[0]


def test_missing_path_is_not_found(nextcloud, password):
    password(nextcloud)
    items = list(_connector(nextcloud, paths=["/no-such-folder"]).walk())
    assert [(type(i).__name__, i.reason) for i in items] == [("Skipped", "not-found")]


@pytest.fixture(scope="module")
def tls_dav(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = servers.self_signed(d)
    server = servers.start_webdav(ocs_shares=[], cert=cert, key=key)
    plant(server.root, {"a/x.txt": b"hello\n"})
    yield server, cert
    servers.stop_webdav(server)


def test_tls_is_verified_and_a_ca_file_trusts_a_private_ca(tls_dav, password):
    server, cert = tls_dav
    password(server)
    assert server.url.startswith("https://")
    with pytest.raises(ConnectorError, match="TLS certificate of https://127.0.0.1:.* could not be verified"):
        list(_connector(server, max_retries=0).walk())
    c = _connector(server, ca_file=str(cert))
    items = list(c.walk())
    files = [i for i in items if isinstance(i, Resource) and i.kind == "file"]
    assert [f.uri for f in files] == [f"davs://127.0.0.1:{server.port}/remote.php/dav/files/alice/a/x.txt"]
    with c.open(files[0]) as f:
        assert f.read() == b"hello\n"
    assert c.weaknesses() == []


# -- faults, resumed reads, Depth, change markers -------------------------------------------------
class _Flaky(BaseHTTPRequestHandler):
    """Forwards to the server; cuts the first GET of a file after `cut` bytes; answers 503 to the first PROPFIND;
    records each request's method, Depth, Range and If-Match."""

    upstream = 0
    cut = None  # bytes after which the first (unranged) GET of a file is cut off
    cut_ranged = None  # … and each resumed (ranged) one
    seen: list = []
    refuse_propfind = 0
    ocs_answer: tuple[int, bytes] | None = None  # answered to every /ocs/ request instead of the server's
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            _Flaky.seen.append((self.command, self.headers.get("Depth"), self.headers.get("Range"),
                                self.headers.get("If-Match")))
            refuse = self.command == "PROPFIND" and _Flaky.refuse_propfind > 0
            if refuse:
                _Flaky.refuse_propfind -= 1
            cut = None if self.command != "GET" else _Flaky.cut_ranged if self.headers.get("Range") else _Flaky.cut
        if self.path.startswith("/ocs/") and _Flaky.ocs_answer:
            status, data = _Flaky.ocs_answer
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if refuse:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        data = servers.relay(self, "127.0.0.1", self.upstream, body, headers)
        if cut is not None and len(data) > cut:
            self.wfile.write(data[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(data)

    do_GET = do_PROPFIND = do_HEAD = _forward

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky(nextcloud):
    _Flaky.upstream, _Flaky.seen, _Flaky.cut, _Flaky.refuse_propfind = nextcloud.port, [], None, 0
    _Flaky.ocs_answer, _Flaky.cut_ranged = None, None
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{proxy.server_address[1]}/remote.php/dav/files/alice/"
    proxy.shutdown()
    proxy.server_close()


def test_a_broken_download_resumes_with_range_and_if_match(nextcloud, flaky, password):
    password(nextcloud)
    data = os.urandom(300_000)
    plant(nextcloud.root, {"Big/blob.bin": data})
    _Flaky.cut, _Flaky.refuse_propfind = 100_000, 1
    c = WebdavConnector(WebdavConnector.Options(url=flaky, username="alice", password_env=PW_ENV,
                                                paths=["/Big"], shares_api="none"), context())
    items = list(c.walk())
    blob = _by_name(items)["blob.bin"]
    with c.open(blob) as f:
        got = b""
        while block := f.read(65536):
            got += block
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    gets = [s for s in _Flaky.seen if s[0] == "GET"]
    assert gets[0][2] is None and gets[1][2] == "bytes=100000-" and gets[1][3].startswith('"')
    depths = {s[1] for s in _Flaky.seen if s[0] == "PROPFIND"}
    assert depths <= {"0", "1"} and "1" in depths  # never Depth: infinity
    assert [s[0] for s in _Flaky.seen[:2]] == ["PROPFIND", "PROPFIND"]  # the 503 was retried


def test_a_file_that_changes_before_the_resume_is_not_mixed(nextcloud, flaky, password):
    password(nextcloud)
    plant(nextcloud.root, {"Big2/blob.bin": os.urandom(300_000)})
    _Flaky.cut = 100_000
    c = WebdavConnector(WebdavConnector.Options(url=flaky, username="alice", password_env=PW_ENV,
                                                paths=["/Big2"], shares_api="none"), context())
    blob = _by_name(c.walk())["blob.bin"]
    with pytest.raises(ResourceError) as caught:
        with c.open(blob) as f:
            f.read(65536)
            (nextcloud.root / "Big2" / "blob.bin").write_bytes(os.urandom(300_001))
            while f.read(65536):
                pass
    assert caught.value.reason == "changed-during-read"


@pytest.mark.parametrize("status, body, why", [
    (401, b'{"ocs":{"meta":{"status":"failure","statuscode":997,"message":"Current user is not logged in"},'
          b'"data":[]}}', ("refused the account",)),
    (200, b"<html><body>Log in</body></html>", ("no OCS Share API", "(HTTP 200 from")),
    (404, b"Not Found", ("no OCS Share API", "(HTTP 404 from")),
])
def test_an_ocs_api_that_does_not_answer_leaves_access_unknown(nextcloud, flaky, password, status, body, why):
    password(nextcloud)
    _Flaky.ocs_answer = (status, body)
    c = WebdavConnector(WebdavConnector.Options(url=flaky, username="alice", password_env=PW_ENV,
                                                paths=["/Public"]), context())
    items = [i for i in c.walk() if isinstance(i, Resource)]
    assert items and all(w in (i.access.unknown_reason or "") for i in items for w in why), items[0].access
    assert all(i.access.grants == () for i in items)


def test_a_folder_the_server_may_not_list_is_skipped(nextcloud, password):
    password(nextcloud)
    plant(nextcloud.root, {"Locked/inner/a.txt": b"a\n", "Locked/b.txt": b"b\n"})
    os.chmod(nextcloud.root / "Locked" / "inner", 0)
    try:
        items = list(_connector(nextcloud, paths=["/Locked"]).walk())
    finally:
        os.chmod(nextcloud.root / "Locked" / "inner", 0o755)
    skips = [(i.uri.rsplit("/", 1)[-1], i.reason) for i in items if isinstance(i, Skipped)]
    assert skips == [("inner", "permission-denied")]
    assert "b.txt" in _by_name(items)


def test_a_connection_that_keeps_breaking_is_given_up(nextcloud, flaky, password):
    password(nextcloud)
    plant(nextcloud.root, {"Big3/blob.bin": os.urandom(200_000)})
    _Flaky.cut, _Flaky.cut_ranged = 50_000, 0  # every resumed read breaks before its first byte
    c = WebdavConnector(WebdavConnector.Options(url=flaky, username="alice", password_env=PW_ENV,
                                                paths=["/Big3"], shares_api="none", max_retries=2), context())
    blob = _by_name(c.walk())["blob.bin"]
    with pytest.raises(ResourceError) as caught:
        with c.open(blob) as f:
            while f.read(65536):
                pass
    assert caught.value.reason == "connection-lost" and "2 resumed reads failed too" in caught.value.detail
    assert len([s for s in _Flaky.seen if s[0] == "GET" and s[2]]) == 2


def test_the_change_marker_is_the_etag(nextcloud, password):
    password(nextcloud)
    plant(nextcloud.root, {"Marker/a.txt": b"one\n"})
    first = _by_name(_connector(nextcloud, paths=["/Marker"]).walk())["a.txt"].etag
    again = _by_name(_connector(nextcloud, paths=["/Marker"]).walk())["a.txt"].etag
    time.sleep(1.1)  # WsgiDAV's ETag carries the mtime in seconds
    (nextcloud.root / "Marker" / "a.txt").write_bytes(b"two!\n")
    changed = _by_name(_connector(nextcloud, paths=["/Marker"]).walk())["a.txt"].etag
    assert first and first == again and changed != first


# -- end to end -----------------------------------------------------------------------------------
def test_cpr_behind_a_public_link_without_password_is_critical(nextcloud, tmp_path):
    cfg = tmp_path / "dav.toml"
    cfg.write_text(f'[[targets]]\nname = "cloud"\ntype = "webdav"\nenvironment = "production"\n'
                   f'url = "{nextcloud.url}"\nusername = "alice"\npassword_env = "{PW_ENV}"\n'
                   f'paths = ["/Public", "/Board", "/Old", "/Team", "/Staff", "/Private"]\n')
    out, state = tmp_path / "out", tmp_path / "state"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", state, "--quiet",
                   env={PW_ENV: nextcloud.password})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = load_json(out / "report.json")
    base = f"webdav://127.0.0.1:{nextcloud.port}/remote.php/dav/files/alice"
    exposures = {(f["resource"], f["kind"], f["severity"]) for f in report["findings"] if f["check_id"] == "exposure"}
    assert (f"{base}/Public", "exposure.public", "critical") in exposures
    assert (f"{base}/Staff", "exposure.organisation", "medium") in exposures
    assert not {e for e in exposures if e[0].startswith((f"{base}/Old", f"{base}/Team", f"{base}/Private"))}
    ids = {(f["resource"], f["kind"]) for f in report["findings"] if f["check_id"] == "identifiers"}
    assert (f"{base}/Public/udtraek.csv", "dk.cpr") in ids and (f"{base}/Private/notes.txt", "dk.cpr") in ids
    named = [f["resource"] for f in report["findings"] if f.get("part") == "(name)"]
    assert [n.split("#")[0] for n in named] == [f"{base}/Public/lonseddel%20120485-****.txt"], named
    assert report["skipped"] == []
    blobs = {str(p): p.read_bytes() for p in files_under(out, state)}
    blobs["terminal"] = (proc.stdout + proc.stderr).encode()
    assert_no_planted(blobs)
    for secret in (nextcloud.password, "PublicNoPw", "$2y$"):
        assert not [name for name, blob in blobs.items() if secret.encode() in blob], secret
    # a rescan reads nothing again: every ETag is the one the cache holds
    again = run_cli("scan", "--config", cfg, "--out", tmp_path / "out2", "--state-dir", state, "--quiet",
                    env={PW_ENV: nextcloud.password})
    assert again.returncode == 1, again.stdout + again.stderr
    cov = load_json(tmp_path / "out2" / "report.json")["targets"][0]
    assert (cov["resources_read"], cov["resources_unchanged"]) == (0, report["targets"][0]["resources_read"])
    assert {f["kind"] for f in load_json(tmp_path / "out2" / "report.json")["findings"]} >= {"exposure.public"}


def test_wrong_password_exits_2_without_traceback(nextcloud, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'[[targets]]\nname = "cloud"\ntype = "webdav"\nurl = "{nextcloud.url}"\n'
                   f'username = "alice"\npassword_env = "{PW_ENV}"\n')
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   env={PW_ENV: "wrong-password-xyz"})
    assert proc.returncode == 2
    assert PW_ENV in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert "wrong-password-xyz" not in proc.stdout + proc.stderr


# A Depth: 1 answer in the shape Nextcloud (sabre/dav) gives: owner properties in the ownCloud namespace, quoted
# ETags, properties it does not have in a 404 propstat, percent-encoded hrefs; and an entry of its own status.
NEXTCLOUD_MULTISTATUS = b"""<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns"
 xmlns:nc="http://nextcloud.org/ns"><d:response><d:href>/remote.php/dav/files/alice/HR/</d:href><d:propstat><d:prop>
<d:resourcetype><d:collection/></d:resourcetype><d:getlastmodified>Tue, 02 Dec 2025 10:00:00 GMT</d:getlastmodified>
<d:getetag>&quot;6564a3f0c1a2b&quot;</d:getetag><oc:owner-id>alice</oc:owner-id>
<oc:owner-display-name>Alice Andersen</oc:owner-display-name></d:prop><d:status>HTTP/1.1 200 OK</d:status>
</d:propstat><d:propstat><d:prop><d:getcontentlength/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status>
</d:propstat></d:response><d:response><d:href>/remote.php/dav/files/alice/HR/L%C3%B6ner%202024.csv</d:href>
<d:propstat><d:prop><d:resourcetype/><d:getcontentlength>1234</d:getcontentlength>
<d:getlastmodified>Tue, 02 Dec 2025 09:59:00 GMT</d:getlastmodified><d:getetag>&quot;aa11&quot;</d:getetag>
<oc:owner-id>bob</oc:owner-id></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>/remote.php/dav/files/alice/HR/locked</d:href><d:status>HTTP/1.1 403 Forbidden</d:status>
</d:response></d:multistatus>"""


def test_a_nextcloud_propfind_answer_parses():
    import io
    from vendorscan.connectors.webdav import _parse
    folder, csv, locked = list(_parse(io.BytesIO(NEXTCLOUD_MULTISTATUS)))
    assert (folder.path, folder.folder, folder.size, folder.etag, folder.owner) == (
        b"/remote.php/dav/files/alice/HR", True, None, '"6564a3f0c1a2b"', "Alice Andersen")
    assert folder.modified == datetime.datetime(2025, 12, 2, 10, tzinfo=datetime.timezone.utc).timestamp()
    assert (csv.path, csv.folder, csv.size, csv.owner, csv.status) == (
        "/remote.php/dav/files/alice/HR/Löner 2024.csv".encode(), False, 1234, "bob", 200)
    assert (locked.path, locked.status) == (b"/remote.php/dav/files/alice/HR/locked", 403)
    from defusedxml import DefusedXmlException
    with pytest.raises(DefusedXmlException):  # entities are refused, never expanded
        list(_parse(io.BytesIO(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                               b'<d:multistatus xmlns:d="DAV:">&a;</d:multistatus>')))
