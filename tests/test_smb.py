"""SMB connector against a real Samba smbd on loopback, and the DACL mapping on built descriptors."""
import hashlib
import os
import shutil

import pytest
from smbprotocol.security_descriptor import AccessAllowedAce, AccessDeniedAce, AclPacket, SIDPacket

import servers
from vendorscan.model import Scope
from vendorscan.connectors.smb import SmbConnector, dacl_policy, sid_principal
from conftest import load_json, popen_cli, run_cli, wait_for_cached, write_bulk
from contract import ConnectorContract, Estate, context
from estates import DiskEstate

HR = "namn;personnummer\nAnna Lindqvist;850412-1230\nErik Berg;720915-4561\n"


@pytest.fixture(scope="module")
def smbd():
    s = servers.start_smbd()
    root = s.share_path
    for d, mode in (("projects", 0o755), ("screenshots", 0o777), ("closed", 0o700)):
        (root / d).mkdir()
        os.chmod(root / d, mode)
    (root / "projects" / "export.csv").write_text(HR)
    (root / "screenshots" / "case-notes.txt").write_text("CPR-nr 120485-1006, etnisk oprindelse: syrisk\n")
    (root / "closed" / "salaries.csv").write_text(HR)
    for f in root.rglob("*.*"):
        os.chmod(f, 0o644)
    yield s
    servers.stop_smbd(s)


def _scan(tmp_path, s, name="smb", password=None):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[[targets]]\nname = "{name}"\ntype = "smb"\nserver = "127.0.0.1"\nport = {s.port}\n'
                   f'share = "{s.share}"\nusername = "{s.user}"\npassword_env = "SMB_PW"\n')
    out = tmp_path / f"out-{name}"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "state", "--quiet",
                   "--workers", "1", env={"SMB_PW": password or s.password})
    return proc, (load_json(out / "report.json") if (out / "report.json").exists() else None)


@pytest.mark.server
def test_findings_and_access_equal_planted_truth(smbd, tmp_path):
    before = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in smbd.share_path.rglob("*.*")}
    proc, report = _scan(tmp_path, smbd)
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the closed folder could not be listed
    ids = {(f["resource"].rsplit("/", 1)[1], f["kind"]) for f in report["findings"]
           if f["check_id"] == "identifiers" and f["verdict"] == "real"}
    assert ids == {("export.csv", "se.personnummer"), ("case-notes.txt", "dk.cpr")}
    assert [(s["uri"].rsplit("/", 1)[1], s["reason"]) for s in report["skipped"]] == [("closed", "permission-denied")]
    access = {f["resource"].rsplit("/", 1)[1]: f for f in report["findings"] if f["check_id"] == "access"}
    assert access["projects"]["kind"] == "access.read.everyone"  # the share root, rolled up
    assert access["screenshots"]["kind"] == "access.write.everyone"
    assert any("Everyone" in e for e in access["screenshots"]["evidence"])
    exposure = {f["resource"].rsplit("/", 1)[1]: f for f in report["findings"] if f["check_id"] == "exposure"}
    assert exposure["screenshots"]["details"]["special_category"] is True
    assert exposure["screenshots"]["severity"] == "critical"
    after = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in smbd.share_path.rglob("*.*")}
    assert after == before


@pytest.mark.server
def test_installed_command_with_workers_reads_the_share(smbd, tmp_path):
    """The installed command (its bin/ holds impacket's smbclient.py) walks in the coordinator and reads in pool
    workers: both must get smbprotocol's smbclient, not the script."""
    cfg = tmp_path / "pool.toml"
    cfg.write_text(f'[[targets]]\nname = "pool"\ntype = "smb"\nserver = "127.0.0.1"\nport = {smbd.port}\n'
                   f'share = "{smbd.share}"\nusername = "{smbd.user}"\npassword_env = "SMB_PW"\n')
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   "--workers", "2", env={"SMB_PW": smbd.password})
    assert "walk stopped" not in proc.stdout and "internal-error" not in proc.stdout, proc.stdout + proc.stderr
    report = load_json(tmp_path / "o" / "report.json")
    assert {f["resource"].rsplit("/", 1)[1] for f in report["findings"] if f["check_id"] == "identifiers"} == \
        {"export.csv", "case-notes.txt"}


def test_smbclient_is_smbprotocols_even_behind_a_shadowing_scripts_dir(tmp_path):
    """A script run from a dir holding a plain smbclient.py (as a Dask worker's bin/ does) gets the package."""
    import subprocess
    import sys
    (tmp_path / "smbclient.py").write_text("raise SystemExit('the shadowing script was imported')\n")
    (tmp_path / "probe.py").write_text("from vendorscan.connectors.smb import smbclient_module\n"
                                       "m = smbclient_module()\nprint(m.register_session.__module__)\n")
    proc = subprocess.run([sys.executable, str(tmp_path / "probe.py")], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("smbclient"), proc.stdout


@pytest.mark.server
def test_wrong_password_is_a_clear_error(smbd, tmp_path):
    proc, _ = _scan(tmp_path, smbd, name="badpw", password="not-the-password-77")
    assert proc.returncode == 2
    assert "authentication failed" in proc.stdout and "Traceback" not in proc.stderr
    assert "not-the-password-77" not in proc.stdout + proc.stderr


def _ace(cls, sid, mask, flags=0):
    ace = cls()
    packet = SIDPacket()
    packet.from_string(sid)
    ace["sid"] = packet
    ace["mask"] = mask
    ace["ace_flags"] = flags
    return ace


def _dacl(*aces):
    acl = AclPacket()
    acl["aces"] = list(aces)
    return acl


def test_null_dacl_is_full_access_for_everyone():
    policy = dacl_policy("S-1-5-21-1-2-3-1000", None, True)
    assert policy.grants[0].scope == Scope.EVERYONE and "write" in policy.grants[0].rights


def test_deny_ace_takes_rights_away():
    dacl = _dacl(_ace(AccessDeniedAce, "S-1-5-11", 0x1),  # deny read to Authenticated Users
                 _ace(AccessAllowedAce, "S-1-5-11", 0x1200A9),  # read & execute
                 _ace(AccessAllowedAce, "S-1-5-21-1-2-3-513", 0x1301BF))  # Domain Users: modify
    policy = dacl_policy(None, dacl, False)
    by_name = {g.principal: g for g in policy.grants}
    assert "Authenticated Users" not in by_name
    assert by_name["Domain Users"].scope == Scope.ORGANISATION and "write" in by_name["Domain Users"].rights


def test_inherit_only_and_inherited_aces():
    dacl = _dacl(_ace(AccessAllowedAce, "S-1-1-0", 0x120089, flags=0x08 | 0x03),  # inherit-only: not on this item
                 _ace(AccessAllowedAce, "S-1-5-32-545", 0x120089, flags=0x10))  # inherited from the parent
    policy = dacl_policy(None, dacl, True)
    assert [(g.principal, g.inherited) for g in policy.grants] == [("BUILTIN\\Users", True)]


@pytest.mark.parametrize("sid, scope", [("S-1-1-0", Scope.EVERYONE), ("S-1-5-7", Scope.PUBLIC),
                                        ("S-1-5-21-9-9-9-514", Scope.PUBLIC), ("S-1-22-2-1001", Scope.GROUP),
                                        ("S-1-5-21-9-9-9-1105", Scope.GROUP)])
def test_sid_scopes(sid, scope):
    assert sid_principal(sid)[1] == scope


@pytest.fixture(scope="module")
def smbd_dacls():
    """A share whose DACLs were set over SMB: Authenticated Users, a named group, a deny ACE."""
    s = servers.start_smbd(nt_acls_only=True)
    root = s.share_path
    try:
        for d in ("authusers", "team", "denied"):
            (root / d).mkdir()
            os.chmod(root / d, 0o755)
            (root / d / "hr.csv").write_text(HR)
            os.chmod(root / d / "hr.csv", 0o644)
        owner_full = ("allow", "S-1-22-1-0", 0x1F01FF, 0x3)
        audit = ("allow", "S-1-5-11", 0x1200A9, 0x3)  # Authenticated Users: read & execute, inherited below
        group = ("allow", "S-1-22-2-100", 0x1200A9, 0x3)  # a named (unix) group
        reader = ("allow", "S-1-22-1-" + _uid(s.user), 0x1200A9, 0x3)  # the audit account by name
        servers.set_dacl(s, "", [owner_full, reader])  # the share root: not broad
        servers.set_dacl(s, "authusers", [owner_full, audit])
        servers.set_dacl(s, "authusers/hr.csv", [owner_full, ("allow", "S-1-5-11", 0x120089, 0)])
        servers.set_dacl(s, "team", [owner_full, group, reader])
        servers.set_dacl(s, "team/hr.csv", [owner_full, group, ("allow", "S-1-22-1-" + _uid(s.user), 0x120089, 0)])
        servers.set_dacl(s, "denied", [("deny", "S-1-1-0", 0x1, 0), owner_full, audit])
        yield s
    finally:
        servers.stop_smbd(s)


def _uid(user):
    import pwd
    return str(pwd.getpwnam(user).pw_uid)


@pytest.mark.server
def test_dacls_set_over_smb(smbd_dacls, tmp_path):
    proc, report = _scan(tmp_path, smbd_dacls, name="dacls")
    access = {f["resource"].split("/projects", 1)[1]: f for f in report["findings"] if f["check_id"] == "access"}
    # Authenticated Users is every account: the folder is one finding, its file rolls up into it
    assert access["/authusers"]["kind"] == "access.read.everyone"
    assert access["/authusers"]["count"] == 2
    assert "Authenticated Users" in " ".join(access["/authusers"]["evidence"])
    assert not [k for k in access if k.startswith("/team")]  # a named group is not broad
    # the deny ACE for Everyone shuts the audit account out too: listed as skipped, never as open
    assert ("denied", "permission-denied") in [(s["uri"].rsplit("/", 1)[1], s["reason"]) for s in report["skipped"]]
    assert not [k for k in access if k.startswith("/denied")]
    ids = {f["resource"].split("/projects", 1)[1] for f in report["findings"]
           if f["check_id"] == "identifiers" and f["verdict"] == "real"}
    assert ids == {"/authusers/hr.csv", "/team/hr.csv"}
    assert proc.returncode == 2  # the denied folder could not be read


@pytest.mark.server
def test_server_killed_mid_scan_gives_a_partial_report(tmp_path):
    import subprocess
    s = servers.start_smbd()
    try:
        write_bulk(s.share_path / "bulk", files=400)
        cfg = tmp_path / "killed.toml"
        cfg.write_text(f'[[targets]]\nname = "killed"\ntype = "smb"\nserver = "127.0.0.1"\nport = {s.port}\n'
                       f'share = "{s.share}"\nusername = "{s.user}"\npassword_env = "SMB_PW"\ntimeout = 5\n')
        scan = popen_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                         "--workers", "1", env={"SMB_PW": s.password})
        wait_for_cached(tmp_path / "s", 8)  # some files read, most still to come
        servers.stop_process(s.proc, grace=5)
        subprocess.run(["pkill", "-9", "-f", str(s.dir / "smb.conf")], capture_output=True)
        stdout, stderr = scan.communicate(timeout=180)
    finally:
        servers.stop_smbd(s)
    assert scan.returncode == 2, stdout + stderr
    assert "Traceback" not in stderr
    report = load_json(tmp_path / "o" / "report.json")
    assert report["targets"][0]["resources_read"] > 0
    cov = report["targets"][0]
    assert cov["skipped"].get("connection-lost", 0) > 0 and "internal-error" not in cov["skipped"]
    # every file accounted for (a broken pipe mid-read is the lost connection too, not a read error)
    others = [x for x in report["skipped"] if x["reason"] != "connection-lost"]
    assert cov["resources_read"] + cov["skipped"]["connection-lost"] >= 400, others


@pytest.mark.server
def test_all_shares_and_unknown_share_permissions(tmp_path):
    """share = "" lists the disk shares; share permissions the account cannot read are unknown, never open."""
    s = servers.start_smbd()
    try:
        (s.share_path / "open").mkdir()
        os.chmod(s.share_path / "open", 0o777)
        (s.share_path / "open" / "hr.csv").write_text(HR)
        os.chmod(s.share_path / "open" / "hr.csv", 0o644)
        cfg = tmp_path / "all.toml"
        cfg.write_text(f'[[targets]]\nname = "all"\ntype = "smb"\nserver = "127.0.0.1"\nport = {s.port}\n'
                       f'username = "{s.user}"\npassword_env = "SMB_PW"\n')

        def scan(name):
            out = tmp_path / name
            run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "st", "--quiet", "--workers", "1",
                    env={"SMB_PW": s.password})
            return load_json(out / "report.json")

        report = scan("o1")
        kinds = {f["kind"] for f in report["findings"]}
        assert any("/projects/open/hr.csv" in f["resource"] for f in report["findings"])  # found without naming it
        assert "posture.share_permissions" in kinds  # empty answer from srvsvc: unknown, never "open"
        assert "exposure.everyone" in kinds
    finally:
        servers.stop_smbd(s)


def test_share_acl_narrows_folder_grants():
    # Samba answers srvsvc level 502 with an empty descriptor unless the caller holds admin rights over RPC,
    # so the narrowing itself is tested on a connector that has read a share ACL.
    from vendorscan.context import ScanContext, ValueHasher
    from vendorscan.connectors.smb import SmbConnector
    conn = SmbConnector(SmbConnector.Options(server="x", username="u", password_env="P"),
                        ScanContext("t", "production", ValueHasher(b"k" * 32)))
    dacl = _dacl(_ace(AccessAllowedAce, "S-1-1-0", 0x1F01FF), _ace(AccessAllowedAce, "S-1-22-1-1002", 0x1F01FF))
    conn._share_read = {"unix user 1002"}
    narrowed = conn._with_share_acl(dacl_policy(None, dacl, True))
    everyone = next(g for g in narrowed.grants if g.principal == "Everyone")
    assert not everyone.effective and "share's permissions" in everyone.note
    conn._share_read = {"Everyone"}
    assert all(g.effective for g in conn._with_share_acl(dacl_policy(None, dacl, True)).grants)


@pytest.mark.server
def test_a_word_document_on_a_share_is_read_with_its_locations(tmp_path):
    import documents as docs
    s = servers.start_smbd()
    try:
        docs.docx(s.share_path / "memo.docx")
        os.chmod(s.share_path / "memo.docx", 0o644)
        proc, report = _scan(tmp_path, s, name="docx")
    finally:
        servers.stop_smbd(s)
    assert proc.returncode != 2, proc.stdout + proc.stderr
    sections = {o["location"].get("section") for f in report["findings"] if f["resource"].endswith("memo.docx")
                and f["verdict"] == "real" for o in f["occurrences"]}
    assert {"body", "comments"} <= sections


class TestSmbContract(ConnectorContract):
    """The connector contract on a real smbd: a fresh folder of the share per test, owned by root."""

    @pytest.fixture
    def contract_estate(self, smbd, request, monkeypatch):
        folder = f"contract-{request.node.name}"
        disk = DiskEstate(smbd.share_path / folder)
        monkeypatch.setenv("SMB_PW", smbd.password)
        connector = SmbConnector(SmbConnector.Options(
            server="127.0.0.1", port=smbd.port, share=smbd.share, paths=[folder], username=smbd.user,
            password_env="SMB_PW"), context())
        yield Estate(connector, set(disk.names), disk.delete, disk.make_unreadable, disk.snapshot)
        connector.close()
        shutil.rmtree(disk.root, ignore_errors=True)


# -- one-round-trip descriptors, pipelined reads, threads ---------------------------------------------------------
from vendorscan.connectors import smbread  # noqa: E402
from vendorscan.connectors.smb import parse_sd  # noqa: E402

EDGE_SIZES = [0, 1, smbread.CHUNK - 1, smbread.CHUNK, smbread.CHUNK + 1, smbread.DEPTH * smbread.CHUNK + 1,
              3 * smbread.DEPTH * smbread.CHUNK + 7]


def test_parse_sd_reads_descriptors_as_smbprotocol_does():
    """The descriptor parser the walk uses gives the policy smbprotocol's own parsing gives, ACE for ACE."""
    from smbprotocol.security_descriptor import SDControl, SMB2CreateSDBuffer
    dacl = _dacl(_ace(AccessDeniedAce, "S-1-1-0", 0x1),
                 _ace(AccessAllowedAce, "S-1-5-11", 0x1200A9, flags=0x10),
                 _ace(AccessAllowedAce, "S-1-5-21-1-2-3-513", 0x1301BF, flags=0x08 | 0x03),
                 _ace(AccessAllowedAce, "S-1-22-1-1002", 0x1F01FF))
    for with_dacl in (True, False):
        sd = SMB2CreateSDBuffer()
        sd["control"].set_flag(SDControl.SELF_RELATIVE)
        owner = SIDPacket()
        owner.from_string("S-1-5-21-4-5-6-1000")
        sd.set_owner(owner)
        if with_dacl:
            sd.set_dacl(dacl)
        packed = sd.pack()
        theirs = SMB2CreateSDBuffer()
        theirs.unpack(packed)
        got_owner, got_dacl = parse_sd(packed)
        assert got_owner == str(theirs.get_owner())
        for is_dir in (True, False):
            assert dacl_policy(got_owner, got_dacl, is_dir) == dacl_policy(got_owner, theirs.get_dacl(), is_dir)
        assert (got_dacl is None) == (not with_dacl)


def _smb_connector(s, folder):
    os.environ["SMB_PW"] = s.password
    return SmbConnector(SmbConnector.Options(server="127.0.0.1", port=s.port, share=s.share, paths=[folder],
                                             username=s.user, password_env="SMB_PW"), context())


def _plant(s, folder, sizes, seed=1):
    from estates import plant, random_files
    root, body = s.share_path / folder, random_files(sizes, seed)
    plant(root, body)
    return root, body


@pytest.mark.server
def test_pipelined_read_is_exact_and_bounded_at_chunk_edges(smbd):
    """Every size around the read size reads back byte for byte, in reads of every size and after seeks; at most
    DEPTH reads are ever outstanding on the connection, and a large file is never held whole."""
    root, body = _plant(smbd, "edges", EDGE_SIZES)
    connector = _smb_connector(smbd, "edges")
    try:
        files = {r.uri.rsplit("/", 1)[1]: r for r in connector.walk() if r.kind == "file"}
        assert set(files) == set(body)
        from estates import peak_reading, read_back
        most = read_back(connector, files, body, (4096, 65536, 10**9),
                         lambda: len(connector._tree(smbd.share).session.connection.outstanding_requests))
        for name, resource in sorted(files.items()):
            with connector.open(resource) as f:
                data, size = body[name], len(body[name])
                for at in (size - 3, 0, smbread.CHUNK - 2, size // 2):
                    f.seek(max(at, 0))
                    assert f.read(smbread.CHUNK + 5) == data[max(at, 0):max(at, 0) + smbread.CHUNK + 5], (name, at)
        assert 1 < most <= smbread.DEPTH
        (root / "big.bin").write_bytes(os.urandom(64 * 2**20))
        os.chmod(root / "big.bin", 0o644)
        big = next(r for r in connector.walk() if r.kind == "file" and r.uri.endswith("/big.bin"))
        peak = peak_reading(connector, big)
        assert peak < 24 * 2**20, peak  # a 64 MiB file, read with at most DEPTH x CHUNK (4 MiB) in flight
    finally:
        connector.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.server
def test_threads_read_through_one_connector(smbd):
    """Eight threads read 300 files through one connector at once, in three pools in turn (a worker's units): every
    file byte for byte, and the descriptors the walk read in its threads are those of a one-by-one read."""
    import random
    from concurrent.futures import ThreadPoolExecutor
    rng = random.Random(3)
    root, body = _plant(smbd, "threads", [rng.choice([0, 1, 4000, 32000, smbread.CHUNK + 1, 2_500_000])
                                          for _ in range(300)])
    connector = _smb_connector(smbd, "threads")
    try:
        files = [r for r in connector.walk() if r.kind == "file"]
        assert all(r.access == connector._descriptor(r.uri.split(f"/{smbd.share}/", 1)[1], False) for r in files)

        def read(resource):
            with connector.open(resource) as f:
                return resource.uri.rsplit("/", 1)[1], f.read()

        for _ in range(3):
            with ThreadPoolExecutor(8) as pool:
                assert dict(pool.map(read, files)) == body
    finally:
        connector.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.server
def test_threads_give_the_same_findings_as_one(smbd, tmp_path):
    """A scan whose worker reads with 8 threads gives the findings (fingerprints, counts, locations) of one that
    reads one file at a time."""
    import json
    write_bulk(smbd.share_path / "bulk", files=40)
    reports = []
    try:
        for threads in (1, 8):
            cfg = tmp_path / f"t{threads}.toml"
            cfg.write_text(f'[executor]\nthreads = {threads}\n\n[[targets]]\nname = "smb"\ntype = "smb"\n'
                           f'server = "127.0.0.1"\nport = {smbd.port}\nshare = "{smbd.share}"\n'
                           f'username = "{smbd.user}"\npassword_env = "SMB_PW"\n')
            out = tmp_path / f"out{threads}"
            run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "state", "--quiet", "--full",
                    "--workers", "1", env={"SMB_PW": smbd.password})
            reports.append(load_json(out / "report.json"))
    finally:
        shutil.rmtree(smbd.share_path / "bulk", ignore_errors=True)
    one, eight = ({(f["fingerprint"], f["kind"], f["count"], json.dumps(f.get("occurrences", []), sort_keys=True))
                   for f in r["findings"]} for r in reports)
    assert one == eight and len(one) > 5
    assert reports[0]["targets"][0]["resources_read"] == reports[1]["targets"][0]["resources_read"] > 40
