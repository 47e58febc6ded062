"""Hostile files and trees: each gives a finding or a skip with its reason, never a crash, a hang or a memory spike."""
import io
import os
import subprocess
import sys
import time
import zipfile

import documents as docs
from conftest import OUTSIDE, cli, load_json
from documents import DK, SE

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + "]>")


# Runs one command and prints the peak RSS of it and its descendants alone (not of this test process's other
# children, such as the readers the fuzz suite ran before).
_PEAK = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
         "sys.stderr.write(p.stderr); print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def _scan_child(tmp_path, tree, timeout=300):
    """A scan in a child process; returns (exit code, report, the child's peak RSS in MiB, seconds)."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _PEAK, *cli("scan", tree, "--out", tmp_path / "out", "--state-dir",
                                                              tmp_path / "state", "--quiet", "--workers", "1")],
                          capture_output=True, text=True, cwd=OUTSIDE, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    code, peak = proc.stdout.split()[-2:]
    return int(code), load_json(tmp_path / "out" / "report.json"), int(peak) / 1024, time.monotonic() - t0


def _skips(report):
    return {(s["uri"].split("!/", 1)[1] if "!/" in s["uri"] else s["uri"].rsplit("/", 1)[1], s["reason"])
            for s in report["skipped"]}


def test_a_95_mb_single_line_is_read_in_bounded_memory(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    with open(tree / "one-line.csv", "wb") as f:
        block = b"x;" * 2**19
        for _ in range(95):  # under the default 100 MiB size limit
            f.write(block)
        f.write(f";personnummer {SE}".encode())
    code, report, peak, _ = _scan_child(tmp_path, tree)
    assert code != 2 and any(f["kind"] == "se.personnummer" for f in report["findings"])
    assert peak < 300, f"peak RSS {peak:.0f} MiB for a 100 MB line"


def test_entity_expansion_and_deep_nesting_are_not_expanded(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    # A Word document and an OpenDocument text whose XML declares a billion laughs.
    whole = docs.docx(tmp_path / "w.docx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(whole)) as src, zipfile.ZipFile(tree / "laughs.docx", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                doctype = BILLION_LAUGHS.split("?>", 1)[1].replace("lolz", "w:document").encode()
                data = data.replace(b"?>", b"?>" + doctype, 1).replace("Personalärende".encode(), b"&lol9;", 1)
            dst.writestr(info, data)
    with zipfile.ZipFile(tree / "laughs.odt", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", BILLION_LAUGHS + '<office:document-content xmlns:office="urn:oasis:names:tc:'
                   'opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
                   "<office:body><office:text><text:p>&lol9;</text:p></office:text></office:body>"
                   "</office:document-content>")
    (tree / "deep.json").write_text("[" * 500_000 + f'"CPR-nr {DK}"' + "]" * 500_000)
    code, report, peak, seconds = _scan_child(tmp_path, tree)
    assert code != 2 and seconds < 60 and peak < 300
    assert ("laughs.odt", "malformed") in _skips(report)  # defusedxml refuses entity declarations
    assert any(f["resource"].endswith("deep.json") and f["kind"] == "dk.cpr" for f in report["findings"])
    assert not any("lollol" in str(f) for f in report["findings"])


def test_a_member_that_breaks_off_mid_read_is_malformed_and_the_scan_complete(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    whole = docs.tar_gz_of(tmp_path / "a.tar.gz", {"a.txt": os.urandom(300_000).hex().encode()}).read_bytes()
    (tree / "cut.tar.gz").write_bytes(whole[: len(whole) // 2])
    (tree / "ok.txt").write_text(f"CPR-nr {DK}\n")
    code, report, _, _ = _scan_child(tmp_path, tree)
    assert code != 2 and report["targets"][0]["complete"]
    assert any(name.startswith("cut.tar/") and reason == "malformed" for name, reason in _skips(report))


def test_devices_fifos_and_files_swapped_during_the_scan_are_never_opened(tmp_path, open_dir):
    from vendorscan.context import ScanContext, ValueHasher
    from vendorscan.connector import ResourceError
    from vendorscan.connectors.local import LocalConnector
    tree = open_dir / "odd"
    tree.mkdir()
    os.mkfifo(tree / "pipe")
    os.mknod(tree / "null", 0o600 | 0o020000, os.makedev(1, 3))  # a character device, as /dev/null
    (tree / "later-a-fifo.txt").write_text("x")
    (tree / "gone.txt").write_text("x")
    ctx = ScanContext("t", "production", ValueHasher(b"k" * 32))
    conn = LocalConnector(LocalConnector.Options(paths=[str(tree)]), ctx)
    items = list(conn.walk())
    skipped = {i.uri.rsplit("/", 1)[1]: i.reason for i in items if not hasattr(i, "kind")}
    assert skipped == {"pipe": "special-file", "null": "special-file"}
    files = {i.uri.rsplit("/", 1)[1]: i for i in items if getattr(i, "kind", "") == "file"}
    os.unlink(tree / "later-a-fifo.txt")
    os.mkfifo(tree / "later-a-fifo.txt")  # swapped after the walk: must not block the read
    os.unlink(tree / "gone.txt")
    for name, reason in (("later-a-fifo.txt", "special-file"), ("gone.txt", "vanished")):
        try:
            with conn.open(files[name]):
                raise AssertionError(f"{name} was opened")
        except ResourceError as exc:
            assert exc.reason == reason
