"""SFTP connector against a real OpenSSH sshd on loopback: findings, access, host keys, faults."""
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import servers
from vendorscan.connectors.sftp import SftpConnector
from conftest import load_json, popen_cli, run_cli, wait_for_cached, write_bulk
from contract import ConnectorContract, Estate, context
from estates import DiskEstate

HR = "namn;personnummer\nAnna Lindqvist;850412-1230\nErik Berg;720915-4561\n"


@pytest.fixture(scope="module")
def sshd():
    s = servers.start_sshd()
    yield s
    servers.stop_sshd(s)


@pytest.fixture
def share():
    """A supplier tree the SFTP user can walk: an open project folder, a private one, a shared drop folder."""
    root = Path(tempfile.mkdtemp(prefix="vendorscan-sftp-", dir="/tmp"))
    os.chmod(root, 0o755)
    (root / "projects" / "hr").mkdir(parents=True)
    (root / "private").mkdir()
    (root / "drop").mkdir()
    (root / "projects" / "hr" / "export.csv").write_text(HR)
    (root / "projects" / "hr" / "notes.txt").write_text("CPR-nr: 120485-1006, sygemeldt\n")
    (root / "private" / "salaries.csv").write_text(HR)
    (root / "drop" / "case.txt").write_text("henkilötunnus 131052-308T\n")
    for d, mode in ((root / "projects", 0o755), (root / "projects" / "hr", 0o755), (root / "private", 0o700),
                    (root / "drop", 0o777)):
        os.chmod(d, mode)
    for f in root.rglob("*.*"):
        os.chmod(f, 0o644)
    shutil.chown(root / "private", "root")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _config(tmp_path, sshd, paths, name="sftp", **extra):
    opts = {"host_key_fingerprint": sshd.host_key_fingerprint, **extra}
    lines = "".join(f'{k} = "{v}"\n' if isinstance(v, str) else f"{k} = {v}\n" for k, v in opts.items())
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[[targets]]\nname = "{name}"\ntype = "sftp"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
                   f'username = "{sshd.user}"\nkey_file = "{sshd.client_key}"\npaths = ["{paths}"]\n{lines}')
    return cfg


def _scan(tmp_path, cfg, name="sftp", *extra):
    out = tmp_path / f"out-{name}"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "state", "--quiet",
                   "--workers", "1", *extra)
    return proc, (load_json(out / "report.json") if (out / "report.json").exists() else None)


def _tree_state(root):
    return {str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "")
            for p in sorted(root.rglob("*"))}


@pytest.mark.server
def test_findings_and_access_equal_planted_truth(sshd, share, tmp_path):
    before = _tree_state(share)
    proc, report = _scan(tmp_path, _config(tmp_path, sshd, share))
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    got = {(f["resource"].rsplit("/", 1)[1], f["kind"]) for f in report["findings"]
           if f["check_id"] == "identifiers" and f["verdict"] == "real"}
    assert got == {("export.csv", "se.personnummer"), ("notes.txt", "dk.cpr"), ("case.txt", "fi.hetu")}
    # the private folder (0700, owned by root) cannot be listed by the audit account: listed as skipped
    assert [(s["uri"].rsplit("/", 1)[1], s["reason"]) for s in report["skipped"]] == [("private", "permission-denied")]
    assert proc.returncode == 2  # a folder it could not read makes the scan incomplete
    access = {f["resource"].rsplit("/", 1)[1]: f["kind"] for f in report["findings"] if f["check_id"] == "access"}
    assert access[share.name] == "access.read.everyone"  # the root rolls up the open project tree
    assert access["drop"] == "access.write.everyone"
    exposure = [f for f in report["findings"] if f["check_id"] == "exposure"]
    assert {f["resource"].rsplit("/", 1)[1] for f in exposure} == {"hr", "drop"}
    assert _tree_state(share) == before  # nothing changed on the server side


@pytest.mark.server
def test_host_key_mismatch_is_refused(sshd, share, tmp_path):
    cfg = _config(tmp_path, sshd, share, name="badkey",
                  host_key_fingerprint="SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    proc, _ = _scan(tmp_path, cfg, name="badkey")
    assert proc.returncode == 2
    assert "host key mismatch" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.server
def test_known_hosts_file_is_used(sshd, share, tmp_path):
    cfg = tmp_path / "kh.toml"
    cfg.write_text(f'[[targets]]\nname = "kh"\ntype = "sftp"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
                   f'username = "{sshd.user}"\nkey_file = "{sshd.client_key}"\npaths = ["{share}/drop"]\n'
                   f'known_hosts = "{sshd.known_hosts}"\n')
    proc, report = _scan(tmp_path, cfg, name="kh")
    assert proc.returncode == 1, proc.stdout
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    cfg.write_text(cfg.read_text().replace(str(sshd.known_hosts), str(empty)))
    proc, _ = _scan(tmp_path, cfg, name="kh")
    assert proc.returncode == 2 and "is not in" in proc.stdout


@pytest.mark.server
def test_wrong_key_is_a_clear_error(sshd, share, tmp_path):
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    cfg = _config(tmp_path, sshd, share, name="wrongkey")
    cfg.write_text(cfg.read_text().replace(str(sshd.client_key), str(other)))
    proc, _ = _scan(tmp_path, cfg, name="wrongkey")
    assert proc.returncode == 2
    assert "authentication failed for user vsaudit" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.server
def test_server_killed_mid_scan_gives_a_partial_report(share, tmp_path):
    s = servers.start_sshd()
    try:
        write_bulk(share / "projects" / "bulk", files=400)  # reads pipelined in 8 threads: enough to outlast the kill
        cfg = _config(tmp_path, s, share, name="killed", max_retries=1)
        out = tmp_path / "out-killed"
        scan = popen_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "state", "--quiet",
                         "--workers", "1")
        wait_for_cached(tmp_path / "state", 8)  # some files read, most still to come; then kill server and sessions
        servers.stop_process(s.proc, grace=5)
        for pid in s.sessions():
            subprocess.run(["kill", "-9", str(pid)])
        stdout, stderr = scan.communicate(timeout=180)
    finally:
        servers.stop_sshd(s)
    assert scan.returncode == 2, stdout + stderr
    assert "Traceback" not in stderr
    report = load_json(out / "report.json")
    reasons = {sk["reason"] for sk in report["skipped"]}
    assert "connection-lost" in reasons
    read = report["targets"][0]["resources_read"]
    assert read > 0 and report["targets"][0]["skipped"].get("connection-lost", 0) > 0


@pytest.mark.server
def test_documents_over_sftp_are_read_with_their_locations(sshd, share, tmp_path):
    import documents as docs
    docs.docx(share / "projects" / "hr" / "memo.docx")
    docs.zip_of(share / "projects" / "hr" / "export.zip",
                {"list.xlsx": docs.bytes_of(docs.xlsx, "l.xlsx", tmp_path)})
    for f in (share / "projects" / "hr").iterdir():
        os.chmod(f, 0o644)
    proc, report = _scan(tmp_path, _config(tmp_path, sshd, share / "projects", name="docs"), name="docs")
    assert proc.returncode != 2, proc.stdout + proc.stderr
    where = {(f["resource"].rsplit("/", 1)[1], o["location"].get("section") or o["location"].get("member"))
             for f in report["findings"] if f["check_id"] == "identifiers" and f["verdict"] == "real"
             for o in f["occurrences"]}
    assert ("memo.docx", "body") in where and ("export.zip", "list.xlsx") in where


@pytest.mark.server
def test_a_name_that_is_not_utf8_is_scanned_and_its_folder_listed(sshd, tmp_path):
    """paramiko decodes names as strict UTF-8: one bad name once failed the listing of its whole folder."""
    root = Path(tempfile.mkdtemp(prefix="vendorscan-sftp-names-", dir="/tmp"))
    try:
        (root / "a").mkdir()
        (root / "b").mkdir()
        with open(os.fsencode(str(root / "a")) + b"/l\xf6ner-\xff.csv", "wb") as f:  # made on the server side
            f.write(b"personnummer 850412-1230\n")
        (root / "a" / "sibling.csv").write_text("CPR-nr: 120485-1006\n")
        (root / "b" / "after.txt").write_text("henkilötunnus 131052-308T\n")
        for p in root.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(root, 0o755)
        proc, report = _scan(tmp_path, _config(tmp_path, sshd, root), name="names")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # findings, nothing skipped
    found = {f["resource"].rsplit("/", 1)[1]: f["kind"] for f in report["findings"] if f["check_id"] == "identifiers"}
    assert found == {"l%F6ner-%FF.csv": "se.personnummer", "sibling.csv": "dk.cpr", "after.txt": "fi.hetu"}
    assert report["skipped"] == []


class TestSftpContract(ConnectorContract):
    """The connector contract on a real sshd: the estate belongs to root, the SFTP user only reads it."""

    @pytest.fixture
    def contract_estate(self, sshd):
        root = Path(tempfile.mkdtemp(prefix="vendorscan-sftp-contract-", dir="/tmp"))
        disk = DiskEstate(root)
        connector = SftpConnector(SftpConnector.Options(
            host="127.0.0.1", port=sshd.port, username=sshd.user, paths=[str(root)], key_file=str(sshd.client_key),
            host_key_fingerprint=sshd.host_key_fingerprint), context())
        yield Estate(connector, set(disk.names), disk.delete, disk.make_unreadable, disk.snapshot)
        connector.close()
        shutil.rmtree(root, ignore_errors=True)


# -- pipelined reads, threads ------------------------------------------------------------------------------------
from vendorscan.connectors import sftpread  # noqa: E402

WINDOW = sftpread.DEPTH * sftpread.BLOCK  # bytes in flight at most
EDGE_SIZES = [0, 1, sftpread.BLOCK - 1, sftpread.BLOCK, sftpread.BLOCK + 1, WINDOW, WINDOW + 1, 3 * WINDOW + 7]


def _planted(sizes, seed=1):
    """A world-readable folder of random files of the given sizes (named by size): (root, {name: bytes})."""
    from estates import plant, random_files
    root = Path(tempfile.mkdtemp(prefix="vendorscan-sftp-read-", dir="/tmp"))
    body = random_files(sizes, seed)
    plant(root, body)
    return root, body


def _connector(sshd, root):
    return SftpConnector(SftpConnector.Options(
        host="127.0.0.1", port=sshd.port, username=sshd.user, paths=[str(root)], key_file=str(sshd.client_key),
        host_key_fingerprint=sshd.host_key_fingerprint), context())


@pytest.mark.server
def test_pipelined_read_is_exact_and_bounded_at_block_edges(sshd):
    """Every size around the read-request size reads back byte for byte, in reads of every size; no more than
    DEPTH read requests are ever unanswered on the session, and a large file is never held whole."""
    root, body = _planted(EDGE_SIZES)
    connector = _connector(sshd, root)
    try:
        files = {r.uri.rsplit("/", 1)[1]: r for r in connector.walk() if r.kind == "file"}
        assert set(files) == set(body)
        from estates import peak_reading, read_back
        most_unanswered = read_back(connector, files, body, (1000, 65536, 10**9),
                                    lambda: len(connector._client()._expecting))
        assert 1 < most_unanswered <= sftpread.DEPTH + 1  # pipelined (several in flight), bounded (+1: a close)
        big = _planted([48 * 2**20], seed=2)[0]
        try:
            resource = next(r for r in _connector(sshd, big).walk() if r.kind == "file")
            peak = peak_reading(connector, resource)
            assert peak < 12 * 2**20, peak  # a 48 MiB file, read with at most DEPTH x BLOCK (2 MiB) in flight
        finally:
            shutil.rmtree(big, ignore_errors=True)
    finally:
        connector.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.server
def test_seeks_read_the_right_bytes(sshd):
    """A document library seeks (to the end, back, into the middle): each read after a seek gives those bytes."""
    size = 5 * sftpread.BLOCK + 123
    root, body = _planted([size])
    connector = _connector(sshd, root)
    try:
        resource = next(r for r in connector.walk() if r.kind == "file")
        data = next(iter(body.values()))
        with connector.open(resource) as f:
            assert f.seek(-22, os.SEEK_END) == size - 22 and f.read() == data[-22:]
            for at in (0, sftpread.BLOCK - 3, 3 * sftpread.BLOCK + 5, 17):
                f.seek(at)
                assert f.read(sftpread.BLOCK + 10) == data[at:at + sftpread.BLOCK + 10] and f.tell() == \
                    min(size, at + sftpread.BLOCK + 10)
    finally:
        connector.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.server
def test_threads_read_through_one_connector(sshd):
    """Eight threads read 300 files through one connector at once (its sessions shared on one SSH connection, as
    a worker's threads do): every file byte for byte, none lost, and the SFTP channels stay within OpenSSH's
    10 sessions per connection across several pools (a worker starts new threads for every unit)."""
    import random
    from concurrent.futures import ThreadPoolExecutor
    rng = random.Random(3)
    root, body = _planted([rng.choice([0, 1, 4000, 32000, sftpread.BLOCK + 1, 700_000]) for _ in range(300)])
    connector = _connector(sshd, root)
    try:
        files = [r for r in connector.walk() if r.kind == "file"]

        def read(resource):
            with connector.open(resource) as f:
                return resource.uri.rsplit("/", 1)[1], f.read()

        for _ in range(3):  # three pools in turn, as three units
            with ThreadPoolExecutor(8) as pool:
                got = dict(pool.map(read, files))
            assert got == body
        assert len(connector._transports) == 1  # one SSH connection; channels reused, not leaked
    finally:
        connector.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.server
def test_threads_give_the_same_findings_as_one(sshd, share, tmp_path):
    """A scan whose worker reads with 8 threads gives the findings (fingerprints, counts, locations) of one that
    reads one file at a time."""
    write_bulk(share / "projects" / "bulk", files=40)
    reports = []
    for threads in (1, 8):
        cfg = _config(tmp_path, sshd, share, name=f"t{threads}")
        cfg.write_text(f"[executor]\nthreads = {threads}\n\n" + cfg.read_text().replace(f'"t{threads}"', '"sftp"'))
        reports.append(_scan(tmp_path, cfg, f"t{threads}", "--full")[1])  # --full: read again, not carried
    one, eight = ({(f["fingerprint"], f["kind"], f["count"], json_key(f)) for f in r["findings"]} for r in reports)
    assert one == eight and len(one) > 5
    assert reports[0]["targets"][0]["resources_read"] == reports[1]["targets"][0]["resources_read"] > 40


def json_key(finding) -> str:
    import json
    return json.dumps(finding.get("occurrences", []), sort_keys=True)
