"""A library's exception message never reaches a record or an output: only its type and vendorscan's own words."""
import io
import zipfile

import documents as docs
from conftest import PLANTED, assert_no_planted, files_under, load_json, run_cli

HIDDEN = f"hr/{PLANTED['se.personnummer'][0]}.txt"  # an identifier as a member name that only the local header shows


def _hidden_name_zip() -> bytes:
    """A zip whose central directory names a member unlike its local header does (zipfile's message quotes both)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(HIDDEN, "anteckning\n")
        z.writestr("ok.txt", f"CPR-nr {PLANTED['dk.cpr'][0]}\n")
    data = bytearray(buf.getvalue())
    central = data.find(b"PK\x01\x02")
    data[central:] = data[central:].replace(HIDDEN.encode(), b"hr/aaaaaa-aaaa.txt", 1)
    return bytes(data)


def _bad_crc_zip(tmp_path) -> bytes:
    """A stored zip whose Word member has one byte changed after its CRC was written."""
    inner = docs.bytes_of(docs.docx, "inner.docx", tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("hr/lista.docx", inner)
    data = bytearray(buf.getvalue())
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


def test_a_hidden_member_name_and_a_bad_crc_leave_only_our_words(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "hidden.zip").write_bytes(_hidden_name_zip())
    (tree / "crc.zip").write_bytes(_bad_crc_zip(tmp_path))
    out, state = tmp_path / "out", tmp_path / "state"
    proc = run_cli("scan", tree, "--out", out, "--state-dir", state, "--quiet", "--workers", "1")
    assert "Traceback" not in proc.stderr, proc.stderr
    report = load_json(out / "report.json")
    skips = {s["uri"].split("!/", 1)[-1]: s for s in report["skipped"]}
    # Each broken member is its own skip record; the rest of its archive is still read.
    assert skips["hr/aaaaaa-aaaa.txt"]["reason"] == "malformed" and skips["hr/lista.docx"]["reason"] == "malformed"
    assert any(f["resource"].endswith("hidden.zip") and f["kind"] == "dk.cpr" for f in report["findings"])
    for s in report["skipped"]:
        assert "lista" not in s["detail"] and "aaaa" not in s["detail"] and "'" not in s["detail"], s
    blobs = {p: p.read_bytes() for p in files_under(out, state)}
    blobs["terminal"] = (proc.stdout + proc.stderr).encode()
    assert_no_planted(blobs)
