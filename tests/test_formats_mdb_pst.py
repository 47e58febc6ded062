"""Access databases, Outlook data files and legacy Word/PowerPoint files as suppliers keep them: real sample files
(tests/data, see its README) with planted ids written over text of the same length in a tmp copy, scanned by the
installed vendorscan — each id found at its place, none in any output; a missing reader program is format-unavailable,
a broken file malformed."""
import json
from pathlib import Path

from conftest import assert_no_planted, run_cli

DATA = Path(__file__).parent / "data"

# Outlook's "compressible encryption" (MS-PST 5.1, NDB_CRYPT_PERMUTE): a stored byte b is the plain byte
# _DECODE[b]. The table as java-libpst has it (Apache-2.0); planting in a .pst encodes with its inverse.
_DECODE = (
    0x47, 0xf1, 0xb4, 0xe6, 0x0b, 0x6a, 0x72, 0x48, 0x85, 0x4e, 0x9e, 0xeb, 0xe2, 0xf8, 0x94, 0x53,
    0xe0, 0xbb, 0xa0, 0x02, 0xe8, 0x5a, 0x09, 0xab, 0xdb, 0xe3, 0xba, 0xc6, 0x7c, 0xc3, 0x10, 0xdd,
    0x39, 0x05, 0x96, 0x30, 0xf5, 0x37, 0x60, 0x82, 0x8c, 0xc9, 0x13, 0x4a, 0x6b, 0x1d, 0xf3, 0xfb,
    0x8f, 0x26, 0x97, 0xca, 0x91, 0x17, 0x01, 0xc4, 0x32, 0x2d, 0x6e, 0x31, 0x95, 0xff, 0xd9, 0x23,
    0xd1, 0x00, 0x5e, 0x79, 0xdc, 0x44, 0x3b, 0x1a, 0x28, 0xc5, 0x61, 0x57, 0x20, 0x90, 0x3d, 0x83,
    0xb9, 0x43, 0xbe, 0x67, 0xd2, 0x46, 0x42, 0x76, 0xc0, 0x6d, 0x5b, 0x7e, 0xb2, 0x0f, 0x16, 0x29,
    0x3c, 0xa9, 0x03, 0x54, 0x0d, 0xda, 0x5d, 0xdf, 0xf6, 0xb7, 0xc7, 0x62, 0xcd, 0x8d, 0x06, 0xd3,
    0x69, 0x5c, 0x86, 0xd6, 0x14, 0xf7, 0xa5, 0x66, 0x75, 0xac, 0xb1, 0xe9, 0x45, 0x21, 0x70, 0x0c,
    0x87, 0x9f, 0x74, 0xa4, 0x22, 0x4c, 0x6f, 0xbf, 0x1f, 0x56, 0xaa, 0x2e, 0xb3, 0x78, 0x33, 0x50,
    0xb0, 0xa3, 0x92, 0xbc, 0xcf, 0x19, 0x1c, 0xa7, 0x63, 0xcb, 0x1e, 0x4d, 0x3e, 0x4b, 0x1b, 0x9b,
    0x4f, 0xe7, 0xf0, 0xee, 0xad, 0x3a, 0xb5, 0x59, 0x04, 0xea, 0x40, 0x55, 0x25, 0x51, 0xe5, 0x7a,
    0x89, 0x38, 0x68, 0x52, 0x7b, 0xfc, 0x27, 0xae, 0xd7, 0xbd, 0xfa, 0x07, 0xf4, 0xcc, 0x8e, 0x5f,
    0xef, 0x35, 0x9c, 0x84, 0x2b, 0x15, 0xd5, 0x77, 0x34, 0x49, 0xb6, 0x12, 0x0a, 0x7f, 0x71, 0x88,
    0xfd, 0x9d, 0x18, 0x41, 0x7d, 0x93, 0xd8, 0x58, 0x2c, 0xce, 0xfe, 0x24, 0xaf, 0xde, 0xb8, 0x36,
    0xc8, 0xa1, 0x80, 0xa6, 0x99, 0x98, 0xa8, 0x2f, 0x0e, 0x81, 0x65, 0x73, 0xe4, 0xc2, 0xa2, 0x8a,
    0xd4, 0xe1, 0x11, 0xd0, 0x08, 0x8b, 0x2a, 0xf2, 0xed, 0x9a, 0x64, 0x3f, 0xc1, 0x6c, 0xf9, 0xec,
)
_ENCODE = bytes(_DECODE.index(p) for p in range(256))


def _planted(src: str, dest: Path, old: str, new: str, encode=lambda b: b, encoding="utf-16-le") -> Path:
    """A copy of a sample file with every `old` text value overwritten by `new` (same length, same encoding)."""
    assert len(old) == len(new)
    data = (DATA / src).read_bytes()
    before, after = encode(old.encode(encoding)), encode(new.encode(encoding))
    assert before in data, f"{old!r} not in {src}"
    dest.write_bytes(data.replace(before, after))
    return dest


def _pst(b: bytes) -> bytes:
    return b.translate(_ENCODE)


def _estate(d: Path) -> Path:
    d.mkdir()
    _planted("fixedTextTestV2000.mdb", d / "staff.mdb", "X03MO1qnZdYdgyfeuILPmQ==", "personnummer 850412-1230")
    _planted("fixedTextTestV2007.accdb", d / "kunder.accdb", "X03MO1qnZdYdgyfeuILPmQ==", "kunde cpr-nr 120485-1006")
    _planted("attachAndInline.pst", d / "arkiv.pst", "Attach and inline", "CPR: 120485-1006.", _pst)
    _planted("raw_text.doc", d / "notat.doc", "for your mockup? How quaint.", "for kunden, pnr 850412-1230.",
             encoding="cp1252")
    _planted("Single_Coloured_Page_With_Fonts_and_Alignments.ppt", d / "slides.ppt", "This bit is red (normal)",
             "personnummer 850412-1230", encoding="cp1252")
    return d


def _scan(tmp_path: Path, tree: Path, env=None):
    out = tmp_path / "out"
    proc = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "s", "--quiet", env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    blobs = {p.name: p.read_bytes() for p in [*out.rglob("*"), *(tmp_path / "s").rglob("*")] if p.is_file()}
    assert_no_planted(blobs | {"stdout": proc.stdout.encode(), "stderr": proc.stderr.encode()})
    return json.loads((out / "report.json").read_text())


def _where(report) -> dict:
    where = {}
    for f in report["findings"]:
        if f["kind"] in ("se.personnummer", "dk.cpr"):
            where.setdefault(f["resource"].rsplit("/", 1)[-1], []).extend(o["location"] for o in f["occurrences"])
    return where


def test_each_planted_id_found_at_its_place_through_the_installed_command(tmp_path):
    report = _scan(tmp_path, _estate(tmp_path / "tree"))
    where = _where(report)
    assert {"table": "users", "column_name": "c_user_pwd", "row_key": "#2"}.items() <= where["staff.mdb"][0].items()
    assert {"table": "users", "column_name": "c_user_pwd", "row_key": "#2"}.items() <= where["kunder.accdb"][0].items()
    assert {(loc["member"], loc["section"]) for loc in where["arkiv.pst"]} == {("attachAndInline/message 2.eml",
                                                                                "headers")}
    assert {(loc["section"], loc["paragraph"]) for loc in where["notat.doc"]} == {("body", 7)}
    assert {(loc["section"], loc["paragraph"]) for loc in where["slides.ppt"]} == {("slides", 4)}
    copies = {f["resource"].rsplit("/", 1)[-1] for f in report["findings"] if f["kind"] == "exposure.database_copy"}
    assert copies == {"staff.mdb", "kunder.accdb"}
    assert not report["skipped"], report["skipped"]
    assert "unsupported-format" not in json.dumps(report)


def test_without_the_reader_programs_each_file_is_format_unavailable(tmp_path):
    tree = _estate(tmp_path / "tree")
    empty = tmp_path / "bin"
    empty.mkdir()
    report = _scan(tmp_path, tree, env={"PATH": str(empty)})
    reasons = {s["uri"].rsplit("/", 1)[-1]: s["reason"] for s in report["skipped"]}
    assert reasons == {name: "format-unavailable" for name in
                       ("staff.mdb", "kunder.accdb", "arkiv.pst", "notat.doc", "slides.ppt")}
    assert not _where(report)


def test_a_broken_database_or_mail_archive_is_malformed_not_a_crash(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    mdb = (DATA / "fixedTextTestV2000.mdb").read_bytes()
    (tree / "cut.mdb").write_bytes(mdb[:4096] + bytes(range(256)) * 64)  # page 0, then no catalogue
    (tree / "cut.accdb").write_bytes(mdb[:600])
    (tree / "cut.pst").write_bytes((DATA / "attachAndInline.pst").read_bytes()[:30000])
    (tree / "noise.pst").write_bytes(b"!BDN" + bytes(range(256)) * 40)
    report = _scan(tmp_path, tree)
    reasons = {s["uri"].rsplit("/", 1)[-1]: s["reason"] for s in report["skipped"]}
    assert reasons == {name: "malformed" for name in ("cut.mdb", "cut.accdb", "cut.pst", "noise.pst")}


def _items(path: Path, settings, budget=None):
    from vendorscan.format import Budget
    from vendorscan.formats.extract import Extractor
    budget = budget or Budget(settings.max_expanded_size, settings.max_ratio)
    with path.open("rb") as f:
        return list(Extractor(settings, budget).extract(f, f.read(65536), path.name))


def test_access_rows_are_sampled_and_outlook_output_is_bounded(tmp_path):
    from vendorscan.agent.config import FormatSettings
    from vendorscan.format import Budget, Problem, Segment
    mdb = _planted("fixedTextTestV2000.mdb", tmp_path / "staff.mdb", "X03MO1qnZdYdgyfeuILPmQ==",
                   "personnummer 850412-1230")
    sampled = [i for i in _items(mdb, FormatSettings(sample_rows=1)) if isinstance(i, Segment)]
    assert sampled and all("\n" not in i.text for i in sampled)  # row #1 only: the planted row 2 is not read
    assert any("850412" in i.text for i in _items(mdb, FormatSettings()) if isinstance(i, Segment))
    pst = _planted("attachAndInline.pst", tmp_path / "arkiv.pst", "Attach and inline", "CPR: 120485-1006.", _pst)
    settings = FormatSettings()
    items = _items(pst, settings, Budget(10_000, settings.max_ratio))  # readpst writes ~60 KB for its message
    assert [(i.reason, i.member) for i in items if isinstance(i, Problem)] == [("archive-bomb", "")]
    assert not [i for i in items if isinstance(i, Segment)]
