"""IMAP connector against a real Dovecot on loopback: folders, shared mailboxes, ACLs, read-only reads, faults."""
import itertools
import json
from email.message import EmailMessage

import pytest

import dovecot
from conftest import assert_no_planted, files_under, load_json, run_cli
from contract import ConnectorContract, Estate, context
from vendorscan.connector import ConnectorError, ResourceError
from vendorscan.connectors.imap import ImapConnector, acl_policy, decode_mutf7
from vendorscan.model import Resource, Scope, Skipped

CPR_BODY = "120485-1006"  # a real-looking Danish CPR number (conftest.PLANTED)
CPR_ATTACHMENT = "1204851006"
PNR = "850412-1230"
PW_ENV = "VS_IMAP_PW"
_counter = itertools.count()
OTHER_TESTS = ["Public/revoke", "Public/contract*"]  # folders other tests make on the same server


def mail(subject: str, body: str, attachment: tuple[str, bytes] | None = None, sender="kunde@example.dk") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@leverandor.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{next(_counter)}.vendorscan@test>"
    msg["Date"] = "Thu, 03 Dec 2026 09:00:00 +0000"
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment[1], maintype="text", subtype="plain", filename=attachment[0])
    return msg.as_bytes().replace(b"\n", b"\r\n")


@pytest.fixture(scope="module")
def server():
    """Dovecot with a demo estate: the auditor's own folders, a public `support` mailbox readable by anyone,
    a closed public folder, one without the auditor's `a` right, and a folder alice shares with the auditor."""
    s = dovecot.start_dovecot()
    try:
        admin = {"user=admin": dovecot.ALL_RIGHTS}
        s.public_folder("support", {"anyone": "lr", "user=auditor": "lra", **admin})
        s.public_folder("closed", {"user=auditor": "l", **admin})
        s.public_folder("noadmin", {"anyone": "lr", **admin})
        s.public_folder("team", {"group=staff": "lr", "authenticated": "lrs", "user=auditor": "lra", **admin})
        s.append("admin", "Public/support", mail("Sag 4411", f"Hej, mit CPR-nr er {CPR_BODY}. Mvh Jens\n"))
        s.append("admin", "Public/support", mail("Bilag", "Se vedhæftede fil.\n",
                                                 ("kunde.txt", f"CPR-nummer: {CPR_ATTACHMENT}\n".encode())),
                 flags="\\Seen")
        s.append("admin", "Public/closed", mail("Lukket", f"personnummer {PNR}\n"))
        s.append("admin", "Public/noadmin", mail("Ingen", "nothing personal here\n"))
        s.append("admin", "Public/team", mail("Team", "møde i morgen\n"))
        s.create("auditor", "Projekter/HR")
        s.create("auditor", "L&APg-n")  # "Løn" in modified UTF-7
        s.append("auditor", "INBOX", mail("Velkommen", "Velkommen til revisionen.\n"))
        s.append("auditor", "Projekter/HR", mail("HR", f"personnummer {PNR}\n"))
        s.append("auditor", "L&APg-n", mail("Løn", "lønliste følger\n"))
        s.create("auditor", f"Kunde {CPR_BODY}")  # an identifier in a folder's name: shown masked everywhere
        s.append("auditor", f"Kunde {CPR_BODY}", mail("Kunde", "journal følger\n"))
        s.create("alice", "Delt")
        s.append("alice", "Delt", mail("Delt", "delt med revisor\n"))
        s.append("alice", "INBOX", mail("Privat", f"personnummer {PNR}\n"))
        s.setacl("alice", "Delt", "auditor", "lr")
        yield s
    finally:
        dovecot.stop_dovecot(s)


@pytest.fixture
def password(server, monkeypatch):
    monkeypatch.setenv(PW_ENV, server.users["auditor"])


def connector(server, **kw) -> ImapConnector:
    opts = {"host": "127.0.0.1", "port": server.ssl_port, "username": "auditor", "password_env": PW_ENV,
            "ca_file": str(server.ca), **kw}
    return ImapConnector(ImapConnector.Options(**opts), context())


def _folder_name(uri: str) -> str:
    return uri.split(":", 2)[2].split("/", 1)[1]


def test_every_folder_is_walked_with_its_acl(server, password):
    c = connector(server, exclude_folders=OTHER_TESTS)
    try:
        items = list(c.walk())
    finally:
        c.close()
    folders = {_folder_name(r.uri): r for r in items if isinstance(r, Resource) and r.kind == "folder"}
    assert set(folders) == {"INBOX", "L%C3%B8n", "Projekter/HR", f"Kunde%20{CPR_BODY}", "Public/noadmin", "Public/support",
                            "Public/team", "shared/alice/Delt"}
    skipped = {_folder_name(s.uri): s.reason for s in items if isinstance(s, Skipped)}
    assert skipped == {"Public/closed": "permission-denied"}  # listed (l) but not readable (no r)
    support = folders["Public/support"].access
    assert support.unknown_reason is None and support.owner is None
    anyone = [g for g in support.grants if g.principal == "anyone"]
    assert anyone and anyone[0].scope == Scope.PUBLIC and anyone[0].rights == {"list", "read"}
    admin = [g for g in support.grants if g.principal == "admin"][0]
    assert admin.scope == Scope.USER and admin.rights == {"list", "read", "write", "admin"}
    team = {g.principal: g for g in folders["Public/team"].access.grants}
    assert team["authenticated"].scope == Scope.EVERYONE and team["authenticated"].rights == {"list", "read", "write"}
    assert team["group staff"].scope == Scope.ORGANISATION  # staff is one of broad_groups
    shared = folders["shared/alice/Delt"].access
    # alice shared it; the auditor holds no 'a' there, so only its own rights are known
    assert shared.owner == "alice"  # the Other Users namespace names the owner: shared/alice/…
    assert shared.unknown_reason and "MYRIGHTS" in shared.unknown_reason
    assert [(g.principal, g.rights) for g in shared.grants] == [("auditor", {"list", "read"})]
    noadmin = folders["Public/noadmin"].access
    assert noadmin.unknown_reason and noadmin.grants[0].scope == Scope.USER
    own = folders["INBOX"].access
    assert own.owner == "auditor" and own.unknown_reason is None
    messages = [r for r in items if isinstance(r, Resource) and r.kind == "file"]
    assert all(r.uri.endswith(".eml") and r.parent in {f.uri for f in folders.values()} for r in messages)
    by_folder = {}
    for r in messages:
        by_folder.setdefault(_folder_name(r.parent), []).append(r)
    assert {k: len(v) for k, v in by_folder.items()} == {"INBOX": 1, "L%C3%B8n": 1, "Projekter/HR": 1,
                                                          f"Kunde%20{CPR_BODY}": 1,
                                                          "Public/noadmin": 1, "Public/support": 2,
                                                          "Public/team": 1, "shared/alice/Delt": 1}
    for r in by_folder["Public/support"]:
        uidvalidity, uid, *modseq = r.etag.split(".")
        assert uidvalidity.isdigit() and r.uri.endswith(f"/{uid}.eml") and modseq  # CONDSTORE: MODSEQ too
        assert all(g.inherited for g in r.access.grants)
        assert r.modified and r.size > 100


def test_reads_are_strictly_read_only_flags_unchanged(server, password):
    """EXAMINE and BODY.PEEK: \\Seen is never set, \\Recent never cleared, nothing moves on disk."""
    before = {f: server.flags("admin", f) for f in ("Public/support", "Public/team")}
    assert any("\\Seen" not in flags for flags in before["Public/support"].values())  # one unread to prove it on
    disk = server.snapshot()
    c = connector(server, fetch_block=1024)
    try:
        for r in c.walk():
            if isinstance(r, Resource) and r.kind == "file":
                data = b""
                with c.open(r) as f:
                    while block := f.read(700):
                        data += block
                assert len(data) == r.size and data.startswith((b"From:", b"Content-Type", b"MIME", b"Subject"))
    finally:
        c.close()
    assert {f: server.flags("admin", f) for f in before} == before
    assert server.snapshot() == disk


def test_a_large_message_is_fetched_in_bounded_blocks(server, password, monkeypatch):
    big = mail("Stor", "x" * 300_000 + f"\nCPR-nr: {CPR_BODY}\n")
    uid = server.append("admin", "Public/team", big)
    c = connector(server, fetch_block=65536)
    sizes = []
    real = c._fetch_part

    def spy(folder, uidvalidity, u, offset, length):
        part = real(folder, uidvalidity, u, offset, length)
        sizes.append(len(part))
        return part
    monkeypatch.setattr(c, "_fetch_part", spy)
    try:
        r = [r for r in c.walk() if isinstance(r, Resource) and r.uri.endswith(f"Public/team/{uid}.eml")][0]
        with c.open(r) as f:
            first = f.read(10)
            assert sizes == [65536]  # only the first block is in memory after the first read
            rest = f.read()
        assert first + rest == big and len(big) == r.size
        assert max(sizes) <= 65536 and len(sizes) == len(big) // 65536 + 1
    finally:
        c.close()
        server.expunge("admin", "Public/team", uid)


def test_expunged_and_revoked_after_the_walk(server, password):
    server.public_folder("revoke", {"user=auditor": "lra", "user=admin": dovecot.ALL_RIGHTS})
    uid = server.append("admin", "Public/revoke", mail("a", "one\n"))
    uid2 = server.append("admin", "Public/revoke", mail("b", "two\n"))
    c = connector(server, folders=["Public/revoke"])
    try:
        msgs = {r.uri.rsplit("/", 1)[1]: r for r in c.walk() if isinstance(r, Resource) and r.kind == "file"}
        assert set(msgs) == {f"{uid}.eml", f"{uid2}.eml"}
        server.expunge("admin", "Public/revoke", uid)
        with pytest.raises(ResourceError) as gone:
            with c.open(msgs[f"{uid}.eml"]) as f:
                f.read()
        assert gone.value.reason == "vanished"
        server.setacl("admin", "Public/revoke", "auditor", "l")  # may see it, may not read it
        c.close()  # rights are checked when a folder is opened: as by a worker's own session
        with pytest.raises(ResourceError) as denied:
            with c.open(msgs[f"{uid2}.eml"]) as f:
                f.read()
        assert denied.value.reason == "permission-denied"
        skipped = [s for s in c.walk() if isinstance(s, Skipped)]
        assert [(s.uri.rsplit("/", 1)[1], s.reason) for s in skipped] == [("revoke", "permission-denied")]
    finally:
        c.close()


def test_starttls_port_works_and_verifies(server, password):
    c = connector(server, port=server.port, security="starttls")
    try:
        assert any(isinstance(r, Resource) for r in c.walk())
    finally:
        c.close()


def test_tls_failure_without_the_ca_is_refused(server, password):
    c = ImapConnector(ImapConnector.Options(host="127.0.0.1", port=server.ssl_port, username="auditor",
                                            password_env=PW_ENV), context())
    with pytest.raises(ConnectorError) as caught:
        list(c.walk())
    assert "could not be verified" in str(caught.value) and "ca_file" in str(caught.value)
    other = connector(server, port=server.port, security="starttls", ca_file="")
    with pytest.raises(ConnectorError, match="could not be verified"):
        list(other.walk())


def test_bad_password_names_the_env_var(server, monkeypatch):
    monkeypatch.setenv(PW_ENV, "not-the-password-77")
    c = connector(server)
    with pytest.raises(ConnectorError) as caught:
        list(c.walk())
    assert "authentication failed for user auditor" in str(caught.value) and PW_ENV in str(caught.value)
    assert "not-the-password-77" not in str(caught.value)
    monkeypatch.delenv(PW_ENV)
    with pytest.raises(ConnectorError, match=f"{PW_ENV} .password_env. is not set"):
        list(connector(server).walk())


def test_acl_mapping_rules():
    p = acl_policy([("anyone", "lr"), ("authenticated", "lrs"), ("$staff", "lr"), ("$hr", "lrwi"),
                    ("bob", "lrswipkxtea"), ("-bob", "x"), ("owner", "lrwstipekxa"), ("eve", "")],
                   "carol", frozenset({"staff"}))
    grants = {g.principal: g for g in p.grants}
    assert grants["anyone"].scope == Scope.PUBLIC and grants["anyone"].rights == {"list", "read"}
    assert grants["authenticated"].scope == Scope.EVERYONE and "write" in grants["authenticated"].rights
    assert grants["group staff"].scope == Scope.ORGANISATION and grants["group hr"].scope == Scope.GROUP
    assert grants["bob"].rights == {"list", "read", "write", "admin"} and "denied x" in grants["bob"].note
    assert grants["carol"].scope == Scope.USER and "admin" in grants["carol"].rights
    assert "eve" not in grants
    assert acl_policy([], None, frozenset()).unknown_reason
    assert decode_mutf7("L&APg-n") == "Løn" and decode_mutf7("a&-b") == "a&b" and decode_mutf7("&bad") == "&bad"


def test_a_server_without_acl_support_is_unknown_with_a_reason(server, password):
    c = connector(server, folders=["INBOX"])
    try:
        c._connect()
        c._caps = c._caps - {"ACL"}
        folder = [r for r in c.walk() if isinstance(r, Resource) and r.kind == "folder"][0]
    finally:
        c.close()
    assert folder.access.owner == "auditor" and "does not support IMAP ACLs" in folder.access.unknown_reason


def _scan(tmp_path, server, name="imap", extra="", env=None, workers=1):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[[targets]]\nname = "{name}"\ntype = "imap"\nenvironment = "production"\n'
                   f'host = "127.0.0.1"\nport = {server.ssl_port}\nusername = "auditor"\n'
                   f'password_env = "{PW_ENV}"\nca_file = "{server.ca}"\n{extra}')
    out = tmp_path / f"out-{name}"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "state", "--quiet",
                   "--workers", str(workers), env={PW_ENV: server.users["auditor"], **(env or {})})
    return proc, (load_json(out / "report.json") if (out / "report.json").exists() else None)


def test_e2e_shared_support_mailbox_with_a_cpr_is_a_critical_exposure(server, tmp_path):
    """The demo story through the installed console script: everyone can read the support mailbox."""
    # two workers: each reads its messages through a connector of its own that never walked
    proc, report = _scan(tmp_path, server, extra=f"exclude_folders = {json.dumps(OTHER_TESTS)}\n", workers=2)
    assert report is not None, proc.stdout + proc.stderr
    assert proc.returncode == 2, proc.stdout + proc.stderr  # Public/closed could not be read: incomplete
    assert "Traceback" not in proc.stderr
    ids = {(_folder_name(f["resource"]).rsplit("/", 1)[0], f["kind"], o["location"].get("member") or
            o["location"].get("section")) for f in report["findings"]
           if f["check_id"] == "identifiers" and f["verdict"] == "real" for o in f["occurrences"]}
    assert ("Public/support", "dk.cpr", "body") in ids  # in the mail's text
    assert ("Public/support", "dk.cpr", "kunde.txt") in ids, ids  # and in its attachment
    assert ("Projekter/HR", "se.personnummer", "body") in ids
    named = [f for f in report["findings"] if f["check_id"] == "identifiers" and "Kunde" in f["resource"]]
    assert named and all("120485-" in f["resource"] and CPR_BODY not in f["resource"] for f in named)
    assert report["targets"][0]["resources_read"] == 9  # every readable message, the one under a masked name too
    exposure = [f for f in report["findings"] if f["check_id"] == "exposure"]
    critical = [f for f in exposure if f["severity"] == "critical"]
    assert [_folder_name(f["resource"]) for f in critical] == ["Public/support"], exposure
    assert critical[0]["kind"] == "exposure.public" and "anyone" in critical[0]["evidence"]
    assert not any("Projekter" in f["resource"] for f in exposure)  # the auditor's own folder is private
    assert [(_folder_name(s["uri"]), s["reason"]) for s in report["skipped"]] == [("Public/closed",
                                                                                   "permission-denied")]
    blobs = {p: p.read_bytes() for p in files_under(tmp_path / "out-imap", tmp_path / "state")}
    blobs["stdout"], blobs["stderr"] = proc.stdout.encode(), proc.stderr.encode()
    assert_no_planted(blobs)
    assert server.users["auditor"].encode() not in b"".join(blobs.values())


def test_e2e_wrong_password_exit_2_without_traceback(server, tmp_path):
    proc, _ = _scan(tmp_path, server, name="badpw", env={PW_ENV: "not-the-password-77"})
    assert proc.returncode == 2
    assert "authentication failed" in proc.stdout + proc.stderr and PW_ENV in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "not-the-password-77" not in proc.stdout + proc.stderr


class TestImapContract(ConnectorContract):
    """The connector contract on a real Dovecot: a fresh public folder per test, planted by the admin account."""

    @pytest.fixture
    def contract_estate(self, server, password):
        folder = f"Public/contract{next(_counter)}"
        server.public_folder(folder.split("/", 1)[1], {"user=auditor": "lr", "user=admin": dovecot.ALL_RIGHTS})
        uids = {}
        bodies = [mail("a", "plain text\n"), mail("b", f"CPR-nr: {CPR_BODY}\n", ("x.txt", b"attached\n")),
                  mail("c", "y" * 20_000 + "\n"), mail("d", "flagged\n")]
        for i, body in enumerate(bodies):
            uid = server.append("admin", folder, body, flags="\\Flagged" if i == 3 else "")
            uids[f"{uid}.eml"] = uid
        c = connector(server, folders=[folder], fetch_block=4096)
        yield Estate(c, set(uids), lambda name: server.expunge("admin", folder, uids[name]), None,
                     server.snapshot,
                     why_no_denial="IMAP rights (RFC 4314) belong to a whole mailbox: one message of a folder the "
                                   "account may read cannot be denied alone (a folder without the r right is "
                                   "test_expunged_and_revoked_after_the_walk's permission-denied)")
        c.close()


def test_a_dropped_connection_is_retried_mid_message(server, password, monkeypatch):
    """The server ends the session between two blocks of one message: the reader reconnects, re-opens the folder
    read-only and goes on from the same offset."""
    big = mail("Stor", "z" * 50_000 + "\n")
    uid = server.append("admin", "Public/team", big)
    c = connector(server, fetch_block=8192, folders=["Public/team"])
    logins = []
    real = c._connect
    monkeypatch.setattr(c, "_connect", lambda: (logins.append(1), real())[1])
    try:
        r = [r for r in c.walk() if isinstance(r, Resource) and r.uri.endswith(f"/{uid}.eml")][0]
        with c.open(r) as f:
            head = f.read(8192)
            out = dovecot.kick(server, "auditor")
            assert "auditor" in out, out
            rest = f.read()
        assert head + rest == big and len(logins) == 2  # logged in again once
    finally:
        c.close()
        server.expunge("admin", "Public/team", uid)


def test_an_unreachable_server_is_a_clear_error(password):
    c = ImapConnector(ImapConnector.Options(host="127.0.0.1", port=dovecot.free_port(), username="auditor",
                                            password_env=PW_ENV, max_retries=1), context())
    with pytest.raises(ConnectorError, match="cannot reach 127.0.0.1"):
        list(c.walk())


def test_incremental_rescan_reads_only_new_or_changed_messages(server, tmp_path):
    """UIDVALIDITY.UID.MODSEQ is the change marker: an unchanged folder is not read again, a new message is."""
    server.public_folder("incr", {"user=auditor": "lra", "user=admin": dovecot.ALL_RIGHTS})
    for i in range(3):
        server.append("admin", "Public/incr", mail(f"m{i}", f"besked {i}\n"))
    extra = 'folders = ["Public/incr"]\n'
    cov = [_scan(tmp_path, server, name="incr", extra=extra)[1]["targets"][0]]
    cov.append(_scan(tmp_path, server, name="incr", extra=extra)[1]["targets"][0])
    uid = server.append("admin", "Public/incr", mail("ny", "ny besked\n"))
    cov.append(_scan(tmp_path, server, name="incr", extra=extra)[1]["targets"][0])
    conn = server.login("admin")  # someone reads a mail: its flags (and MODSEQ) change, its content does not
    conn.select('"Public/incr"')
    conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")
    conn.logout()
    cov.append(_scan(tmp_path, server, name="incr", extra=extra)[1]["targets"][0])
    assert [(c["resources_read"], c["resources_unchanged"]) for c in cov] == [(3, 0), (0, 3), (1, 3), (1, 3)]


def test_server_gone_mid_walk_lists_the_rest_as_connection_lost(monkeypatch):
    s = dovecot.start_dovecot()
    try:
        for name in ("a", "b", "c"):
            s.public_folder(name, {"user=auditor": "lra", "user=admin": dovecot.ALL_RIGHTS})
            s.append("admin", f"Public/{name}", mail(name, "tekst\n"))
        monkeypatch.setenv(PW_ENV, s.users["auditor"])
        c = connector(s, folders=["Public/*"], max_retries=1)
        walk = c.walk()
        first = next(walk)
        assert first.kind == "folder" and first.uri.endswith("/Public/a")
        message = next(walk)
        dovecot.stop_dovecot(s, keep=True)
        rest = list(walk)
        assert [(r.uri.rsplit("/", 1)[1], r.reason) for r in rest] == [("b", "connection-lost"),
                                                                       ("c", "connection-lost")]
        with pytest.raises(ResourceError) as caught:
            with c.open(message) as f:
                f.read()
        assert caught.value.reason == "connection-lost"
        c.close()
    finally:
        dovecot.stop_dovecot(s)


def test_verification_off_is_a_listed_weakness_and_a_bad_ca_file_a_clear_error(server, password, tmp_path):
    loose = ImapConnector(ImapConnector.Options(host="127.0.0.1", port=server.ssl_port, username="auditor",
                                                password_env=PW_ENV, verify_tls=False, folders=["INBOX"]), context())
    try:
        assert "not verified" in loose.weaknesses()[0]
        assert any(isinstance(r, Resource) for r in loose.walk())
    finally:
        loose.close()
    assert connector(server).weaknesses() == []
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(ConnectorError, match="cannot load ca_file"):
        list(connector(server, ca_file=str(bad)).walk())


def test_responses_with_literals_parse():
    from vendorscan.connectors.imap import parse_lines
    data = [(b'(\\HasNoChildren) "/" {7}', b'a "b" c'), b"", b'(\\Noselect) "." "Sag \\"1\\""',
            (b'1 (UID 7 BODY[]<0> {5}', b"Hi\r\n)"), b" MODSEQ (12))", b"2 (UID 8 BODY[]<0> NIL)"]
    lines = parse_lines(data)
    assert lines[0] == [["\\HasNoChildren"], "/", b'a "b" c']
    assert lines[1] == [["\\Noselect"], ".", 'Sag "1"']
    assert lines[2] == ["1", ["UID", "7", "BODY[]<0>", b"Hi\r\n)", "MODSEQ", ["12"]]]
    assert lines[3] == ["2", ["UID", "8", "BODY[]<0>", None]]
