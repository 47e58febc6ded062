"""Faults around the scan: a full disk while writing reports leaves the earlier report set whole."""
import os
import subprocess
from contextlib import contextmanager

from conftest import OUTSIDE, cli, crash_estate, load_json, run_cli
from documents import SE


@contextmanager
def _small_tmpfs(path, size: str):
    """A tmpfs of `size` mounted on `path` for the test's length (needs root)."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                             text=True)
    assert mounted.returncode == 0, f"this test mounts a small tmpfs (needs root): {mounted.stderr}"
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], capture_output=True)


def _leave_free(out, room: int) -> None:
    """Fill the file system of `out` until only about `room` bytes are free."""
    st = os.statvfs(out)
    with open(out / "filler", "wb") as f:
        f.write(b"\0" * (st.f_bavail * st.f_frsize - room))


def _grow(tree, files: int) -> None:
    for i in range(files):  # a bigger scan: its reports cannot fit in what is left
        (tree / f"b{i}.csv").write_text("".join(f"personnummer {SE} rad {n}\n" for n in range(200)))


def _set(out) -> dict:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.name != "filler"}


def _first_scan(tmp_path, out):
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "a.csv").write_text(f"personnummer {SE}\n")
    first = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "s", "--quiet")
    assert first.returncode in (0, 1), first.stderr
    return tree, _set(out)  # the whole set: html, json, csv, sarif


def _assert_earlier_set_kept(second, out, before) -> None:
    assert second.returncode == 2
    assert "No space left on device" in second.stderr and "unchanged" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr and "internal error" not in second.stderr
    assert _set(out) == before  # whole, and the earlier scan's: never the new HTML beside the old JSON
    assert load_json(out / "report.json")["summary"]["findings_total"] >= 1
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp files left behind


def test_disk_full_while_writing_reports_keeps_the_earlier_report_set(tmp_path):
    with _small_tmpfs(tmp_path / "out", "512k") as out:
        tree, before = _first_scan(tmp_path, out)
        _grow(tree, 300)
        _leave_free(out, 16 * 1024)  # less than any of the bigger reports needs
        second = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "s", "--quiet")
        _assert_earlier_set_kept(second, out, before)


def test_disk_full_after_the_new_html_fits_keeps_the_earlier_report_set(tmp_path):
    """Room for the new report.html (written first) but not for the new report.json: each file replaced on its
    own would leave the new HTML beside the earlier JSON."""
    with _small_tmpfs(tmp_path / "out", "2m") as out:
        tree, before = _first_scan(tmp_path, out)
        _grow(tree, 40)
        sizes = tmp_path / "sizes"  # the same scan elsewhere, to learn how big its HTML is
        assert run_cli("scan", tree, "--out", sizes, "--state-dir", tmp_path / "s2", "--quiet").returncode in (0, 1)
        html, json_size = (sizes / "report.html").stat().st_size, (sizes / "report.json").stat().st_size
        room = html + 16 * 1024
        assert json_size > room + len(before["report.html"]), "the JSON must not fit where the HTML did"
        _leave_free(out, room)
        second = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "s", "--quiet")
        _assert_earlier_set_kept(second, out, before)


def test_dns_failure_is_a_clear_error(tmp_path):
    """In a network namespace of the test's own, with no interface: no name resolves, no packet leaves."""
    ns = f"vendorscan-dns-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    assert made.returncode == 0, f"this test makes a network namespace (needs root and iproute2): {made.stderr}"
    try:
        cfg = tmp_path / "dns.toml"
        cfg.write_text('[[targets]]\nname = "dns"\ntype = "sftp"\nhost = "sftp.supplier.example"\n'
                       'paths = ["/"]\nusername = "audit"\npassword_env = "PW"\n'
                       'host_key_fingerprint = "SHA256:AAAA"\ntimeout = 5\n')
        proc = subprocess.run(["ip", "netns", "exec", ns, *cli("scan", "--config", cfg, "--out", tmp_path / "o",
                                                               "--state-dir", tmp_path / "s", "--quiet")],
                              cwd=OUTSIDE, capture_output=True, text=True, timeout=120, env={**os.environ, "PW": "x"})
    finally:
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cannot resolve the host name sftp.supplier.example" in proc.stdout + proc.stderr


def test_a_server_that_resets_the_connection_is_a_clear_error(tmp_path):
    import socket
    import struct
    import threading
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)

    def reset():
        conn, _ = listener.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST, not FIN

    threading.Thread(target=reset, daemon=True).start()
    cfg = tmp_path / "reset.toml"
    cfg.write_text(f'[[targets]]\nname = "reset"\ntype = "sftp"\nhost = "127.0.0.1"\n'
                   f'port = {listener.getsockname()[1]}\npaths = ["/"]\nusername = "audit"\npassword_env = "PW"\n'
                   'host_key_fingerprint = "SHA256:AAAA"\ntimeout = 5\n')
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   env={"PW": "x"})
    listener.close()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert load_json(tmp_path / "o" / "report.json")["targets"][0]["errors"]


def test_a_resource_that_runs_out_of_time_keeps_the_parts_already_found_unreadable(tmp_path, monkeypatch):
    """The clock jumps (a fault no real file shows on demand): the timeout and the earlier part-skip both stay."""
    import gzip
    import itertools
    import zipfile

    from vendorscan.agent import config as cfg
    from vendorscan.agent import worker as w
    from vendorscan.model import Resource
    from vendorscan.connectors.local import LocalConnector
    tree = tmp_path / "t"
    tree.mkdir()
    gz = tmp_path / "notes.txt.gz"
    whole = gzip.compress(os.urandom(50_000).hex().encode())
    gz.write_bytes(whole[: len(whole) // 2])  # breaks off mid-stream
    with zipfile.ZipFile(tree / "export.zip", "w") as z:
        z.writestr("a-broken.txt.gz", gz.read_bytes())
        z.writestr("b.txt", "personnummer 850412-1230\n" * 10)
    config = cfg.parse({"limits": {"resource_timeout": 1},
                        "targets": [{"name": "t", "type": "local", "paths": [str(tree)]}]})
    worker = w.Worker(config, b"k" * 32)
    from vendorscan.context import ScanContext, ValueHasher
    ctx = ScanContext("t", "production", ValueHasher(b"k" * 32))
    resource = next(r for r in LocalConnector(config.targets[0].options, ctx).walk()
                    if isinstance(r, Resource) and r.kind == "file")
    clock = itertools.count(0, 10)  # every look at the clock is ten seconds later
    monkeypatch.setattr(w.time, "monotonic", lambda: next(clock))
    (out,) = worker.run(w.WorkUnit(1, "t", [resource], str(tmp_path / "spool.jsonl")))
    assert out.skipped.reason == "timeout" and out.partial
    # The unpacked file is what broke off: it is the part listed (the rest of the archive is still read).
    assert [(p.uri.split("!/")[1], p.reason) for p in out.problems] == [("a-broken.txt.gz/a-broken.txt", "malformed")]


def test_a_worker_process_that_dies_loses_only_the_resource_that_kills_it(tmp_path):
    cfg, env = crash_estate(tmp_path, 40, 17, "workers = 2\nunit_files = 5")  # f17 kills its worker process
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "s", "--quiet",
                   env=env)
    assert proc.returncode == 2, proc.stderr  # incomplete: one file could not be read
    report = load_json(tmp_path / "out" / "report.json")
    (cov,) = report["targets"]
    assert cov["skipped"] == {"worker-crashed": 1} and cov["resources_read"] == 39, cov
    (crashed,) = report["skipped"]
    assert crashed["uri"].endswith("/f17.txt") and "BrokenProcessPool" in crashed["detail"]
    ids = [f for f in report["findings"] if f["kind"] == "se.personnummer"]
    assert sum(f["count"] for f in ids) == 39  # every other file's id, including those its worker held
