"""Bounds that bound: every format reads through the unpacking bounds, and resource_timeout holds inside a library call.

The hostile files are built here, small and in pieces (a long run of one byte deflates to almost nothing).
"""
import base64
import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import documents as docs
from conftest import PLANTED, install_check, load_json, marker_check

SE = PLANTED["se.personnummer"][0]
_SLEEP_MARKER = "VENDORSCAN-TEST-SLEEP"
_SLEEP_CHECK = marker_check("sleeptest", "SleepCheck", _SLEEP_MARKER, "time", "time.sleep(60)",
                            "one call that does not return for a minute, as a library stuck on hostile input")


_PEAK = """import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
sys.exit(proc.returncode)
"""


def _scan(tmp_path, tree, config: str = "", env=None, timeout=120):
    """Scan tree with the extra config in a child of its own: (exit code, report, seconds, peak RSS in MiB)."""
    if "[executor]" not in config:  # in the scanning process: its peak RSS is the reading's (pool workers may
        config += "\n[executor]\nworkers = 1\n"  # end unwaited, and then they are not counted)
    cfg = tmp_path / "scan.toml"
    cfg.write_text(config + f'\n[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
    vendorscan = Path(sys.executable).parent / "vendorscan"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _PEAK, str(vendorscan), "scan", "--config", str(cfg), "--out",
                           str(tmp_path / "out"), "--state-dir", str(tmp_path / "state"), "--quiet"],
                          capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **(env or {})},
                          timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    peak = int(proc.stdout.strip().rsplit("\n", 1)[-1])
    return proc.returncode, load_json(tmp_path / "out" / "report.json"), time.monotonic() - t0, peak


def _skips(report):
    return {s["uri"].rsplit("/", 1)[1] if "!/" not in s["uri"] else s["uri"].split("!/", 1)[1]: s["reason"]
            for s in report["skipped"]}


def _found(report, name):
    return {f["kind"] for f in report["findings"] if f["resource"].endswith(name) and f["verdict"] == "real"}


@pytest.mark.parametrize("workers", [1, 2])
def test_resource_timeout_holds_inside_one_call_and_the_next_resource_is_read(tmp_path, workers):
    env = install_check(tmp_path, "sleeptest", _SLEEP_CHECK, "SleepCheck")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a-stuck.txt").write_text(_SLEEP_MARKER + "\n")
    (tree / "b-ok.txt").write_text(f"personnummer {SE}\n")
    config = (f"[limits]\nresource_timeout = 1\n\n[executor]\nworkers = {workers}\nunit_files = 2\n\n"
              "[checks.sleeptest]\nenabled = true\n")
    code, report, seconds, _ = _scan(tmp_path, tree, config, env=env)
    assert seconds < 30, seconds  # not the minute the call takes
    assert _skips(report).get("a-stuck.txt") == "timeout", report["skipped"]
    assert "se.personnummer" in _found(report, "b-ok.txt")  # the same worker read the next resource
    assert code == 2  # a timeout leaves the scan incomplete


def _tree(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    return tree


def _rezip(src: bytes, dst: Path, part: str, write) -> None:
    """A copy of the package src with `part` written by write(stream) in pieces (never whole in memory)."""
    with zipfile.ZipFile(io.BytesIO(src)) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename == part:
                with new.open(part, "w", force_zip64=True) as m:
                    write(m, old.read(info))
            else:
                new.writestr(info, old.read(info))


def test_a_word_document_whose_body_unpacks_to_400_mb_is_an_archive_bomb_found_before_the_library(tmp_path):
    tree = _tree(tmp_path)

    def padded(m, xml):  # the body's paragraphs, then 400 MiB of blanks before the end tag
        cut = xml.rindex(b"</w:body>")
        m.write(xml[:cut])
        block = b" " * 2**20
        for _ in range(400):
            m.write(block)
        m.write(xml[cut:])
    _rezip(docs.bytes_of(docs.docx, "a.docx", tmp_path), tree / "huge.docx", "word/document.xml", padded)
    assert (tree / "huge.docx").stat().st_size < 2 * 2**20
    (tree / "ok.txt").write_text(f"personnummer {SE}\n")
    _, report, seconds, peak = _scan(tmp_path, tree)
    assert _skips(report).get("word/document.xml") == "archive-bomb", report["skipped"]
    assert "se.personnummer" in _found(report, "ok.txt")
    assert seconds < 30 and peak < 200, (seconds, peak)


def test_a_run_of_300_million_spaces_in_an_opendocument_text_is_bounded_and_its_id_found(tmp_path):
    tree = _tree(tmp_path)
    with zipfile.ZipFile(tree / "spaces.odt", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
                   'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
                   f'<office:text><text:p>personnummer<text:s text:c="300000000"/> {SE}</text:p>'
                   f'<text:p>personnummer {SE}</text:p></office:text></office:body></office:document-content>')
    assert (tree / "spaces.odt").stat().st_size < 1000
    code, report, seconds, peak = _scan(tmp_path, tree)
    assert "se.personnummer" in _found(report, "spaces.odt") and not report["skipped"], report["skipped"]
    assert code != 2 and seconds < 30 and peak < 200, (code, seconds, peak)


def test_a_spreadsheet_declaring_every_cell_is_read_by_its_actual_cells(tmp_path):
    import openpyxl
    tree = _tree(tmp_path)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["A2"], sheet["XFD1048576"] = "personnummer", SE, "slut"  # the last cell a sheet has
    buf = io.BytesIO()
    book.save(buf)
    assert len(buf.getvalue()) < 10_000
    (tree / "all.xlsx").write_bytes(buf.getvalue())
    code, report, seconds, peak = _scan(tmp_path, tree, "[limits]\nresource_timeout = 30\n")
    assert "se.personnummer" in _found(report, "all.xlsx") and not report["skipped"], report["skipped"]
    assert code != 2 and seconds < 30, (code, seconds)


def _big_eml(path: Path, attachment_mib: int) -> None:
    """A mail with a base64 CSV attachment of that size, an id in its first row; written in pieces."""
    with open(path, "wb") as f:
        f.write(b"From: a@example.org\r\nTo: b@example.org\r\nSubject: export\r\nMessage-ID: <1@example.org>\r\n"
                b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
                b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSe bilaga.\r\n--XX\r\n"
                b'Content-Type: text/csv; name="lista.csv"\r\nContent-Disposition: attachment; filename="lista.csv"'
                b"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        block = (b"rad;" + b"x" * 52 + b"\n") * 1026  # a multiple of 3 bytes: each block whole base64 lines
        for i in range(attachment_mib * 2**20 // len(block)):
            data = block if i else f"personnummer {SE};".encode().ljust(len(block), b"x")
            encoded = base64.b64encode(data)
            f.write(b"\r\n".join(encoded[j:j + 76] for j in range(0, len(encoded), 76)) + b"\r\n")
        f.write(b"--XX--\r\n")


def test_a_67_mb_mail_is_read_in_a_small_multiple_of_its_attachment(tmp_path):
    tree = _tree(tmp_path)
    _big_eml(tree / "export.eml", 48)
    assert (tree / "export.eml").stat().st_size > 60 * 2**20
    code, report, seconds, peak = _scan(tmp_path, tree)
    assert "se.personnummer" in _found(report, "export.eml") and not report["skipped"], report["skipped"]
    assert peak < 250, f"peak RSS {peak} MiB for a 67 MB mail"  # was 617 MiB with the whole mail parsed at once


def test_200_pdf_pages_sharing_one_content_stream_read_it_once(tmp_path):
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
    tree = _tree(tmp_path)
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({NameObject(k): NameObject(v) for k, v in (
        ("/Type", "/Font"), ("/Subtype", "/Type1"), ("/BaseFont", "/Helvetica"))}))
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 10 Tf 50 800 Td (personnummer {SE}) Tj ET\n".encode()
                     + b"BT /F1 1 Tf 0 0 Td (x) Tj ET\n" * 3000)  # ~0.3 s of pypdf's time per page that reads it
    shared = writer._add_object(content.flate_encode())
    for _ in range(200):
        page = writer.add_blank_page(595, 842)
        page[NameObject("/Contents")], page[NameObject("/Resources")] = shared, resources
    writer.write(tree / "shared.pdf")
    code, report, seconds, _ = _scan(tmp_path, tree, "[limits]\nresource_timeout = 30\n")
    assert "se.personnummer" in _found(report, "shared.pdf") and not report["skipped"], report["skipped"]
    assert code != 2 and seconds < 30, (code, seconds)
