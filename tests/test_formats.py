"""Documents, archives, mail and screenshots: ids found inside them with a location a person can follow."""
import os
import zipfile

import pytest

import documents as docs
from conftest import every_form, files_under, load_json, run_cli
from documents import DK, NO, SE

from vendorscan.checks import synth


def _scan(tmp_path, tree, *extra, config: str = ""):
    args = ["scan", tree, "--out", tmp_path / "out", "--state-dir", tmp_path / "state", "--quiet", "--workers", "1"]
    if config:
        cfg = tmp_path / "formats.toml"
        cfg.write_text(config + f'\n[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
        args = ["scan", "--config", cfg] + args[2:]
    proc = run_cli(*args, *extra)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, load_json(tmp_path / "out" / "report.json")


def _occurrences(report, name: str, kind: str | None = None):
    """Every occurrence (location dicts) of real ids in resources whose path ends with name."""
    out = []
    for f in report["findings"]:
        if f["resource"].endswith(name) and f["verdict"] == "real" and (kind is None or f["kind"] == kind):
            out += [dict(o["location"], kind=f["kind"]) for o in f["occurrences"]]
    return out


def _skips(report):
    return {(s["uri"].rsplit("/", 1)[1] if "!/" not in s["uri"] else s["uri"].split("!/", 1)[1], s["reason"])
            for s in report["skipped"]}


def test_docx_body_table_header_and_comment(tmp_path, tree):
    docs.docx(tree / "personal.docx")
    _, report = _scan(tmp_path, tree)
    occ = _occurrences(report, "personal.docx")
    where = {(o["kind"], o.get("section")) for o in occ}
    assert ("se.personnummer", "body") in where and ("dk.cpr", "body") in where  # paragraph and table cell
    assert ("no.fodselsnummer", "header header1") in where
    assert ("se.personnummer", "comments") in where
    body_se = next(o for o in occ if o["kind"] == "se.personnummer" and o.get("section") == "body")
    assert body_se["paragraph"] == 2  # after the heading


def test_xlsx_every_sheet_and_numbers_that_lost_their_leading_zero(tmp_path, tree):
    docs.xlsx(tree / "export.xlsx")
    _, report = _scan(tmp_path, tree)
    occ = _occurrences(report, "export.xlsx")
    cells = {(o["kind"], o["sheet"], o["cell"]) for o in occ}
    assert ("se.personnummer", "Personal", "B2") in cells
    assert ("dk.cpr", "CPR", "B2") in cells  # 1204851006 stored as a number
    assert ("dk.cpr", "CPR", "B3") in cells  # 0104851002 stored as 104851002
    assert all(o.get("column_name") in ("Personnummer", "CPR") for o in occ)


def test_pptx_slides_and_notes(tmp_path, tree):
    docs.pptx(tree / "deck.pptx")
    _, report = _scan(tmp_path, tree)
    where = {(o["kind"], o["section"]) for o in _occurrences(report, "deck.pptx")}
    assert where == {("se.personnummer", "slide 1"), ("dk.cpr", "notes 1")}


def _odf(path, mime: str, body: str):
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')
    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body>{body}' \
              '</office:body></office:document-content>'
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mime)
        z.writestr("content.xml", content)
    return path


def test_opendocument_text_and_sheet(tmp_path, tree):
    _odf(tree / "note.odt", "application/vnd.oasis.opendocument.text",
         f"<office:text><text:h>Rubrik</text:h><text:p>Personnummer <text:span>{SE}</text:span></text:p>"
         "</office:text>")
    _odf(tree / "list.ods", "application/vnd.oasis.opendocument.spreadsheet",
         '<office:spreadsheet><table:table table:name="Blad1">'
         '<table:table-row><table:table-cell office:value-type="string"><text:p>Navn</text:p></table:table-cell>'
         '<table:table-cell office:value-type="string"><text:p>CPR</text:p></table:table-cell></table:table-row>'
         '<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="2"/>'
         '</table:table-row>'
         '<table:table-row><table:table-cell office:value-type="string"><text:p>Mads</text:p></table:table-cell>'
         '<table:table-cell office:value-type="float" office:value="1204851006"><text:p>1,2E+09</text:p>'
         '</table:table-cell></table:table-row></table:table></office:spreadsheet>')
    _, report = _scan(tmp_path, tree)
    assert {(o["kind"], o["paragraph"]) for o in _occurrences(report, "note.odt")} == {("se.personnummer", 2)}
    cells = {(o["sheet"], o["cell"]) for o in _occurrences(report, "list.ods", "dk.cpr")}
    assert cells == {("Blad1", "B3")}  # a million formatted empty rows are not expanded


def test_pdf_text_per_page_and_scanned_page_through_ocr(tmp_path, tree):
    docs.pdf(tree / "beslut.pdf", ["Beslut", f"Sökande\npersonnummer {SE}"])
    docs.case_screenshot(tmp_path / "scan.png", [DK], [])
    docs.scanned_pdf(tree / "scan.pdf", tmp_path / "scan.png")
    _, report = _scan(tmp_path, tree)
    assert {(o["kind"], o["page"]) for o in _occurrences(report, "beslut.pdf")} == {("se.personnummer", 2)}
    scanned = _occurrences(report, "scan.pdf")
    assert [(o["kind"], o["page"]) for o in scanned] == [("dk.cpr", 1)] and len(scanned[0]["region"]) == 4


def test_screenshot_ocr_finds_ids_in_a_case_table_with_their_regions(tmp_path, tree):
    import random
    rng = random.Random(11)
    cpr = [synth.real("dk.cpr", rng) for _ in range(5)]
    pnr = [synth.real("se.personnummer", rng) for _ in range(5)]
    cells = docs.case_screenshot(tree / "case-view.png", cpr, pnr)
    _, report = _scan(tmp_path, tree)
    dk = _occurrences(report, "case-view.png", "dk.cpr")
    se = _occurrences(report, "case-view.png", "se.personnummer")
    assert len(dk) >= 4 and len(se) >= 4, (dk, se)
    expected = [row[1] for row in cells]  # where the id column was drawn, row by row
    for o in dk + se:
        x, y, w, h = o["region"]
        assert any(abs(x - ex) <= 6 and abs(y - ey) <= 8 for ex, ey in expected), o
        assert 60 <= w <= 140 and 6 <= h <= 24


def test_mail_headers_bodies_and_attached_document(tmp_path, tree):
    attachment = docs.bytes_of(docs.xlsx, "bilaga.xlsx", tmp_path)
    docs.eml(tree / "arende.eml", ("bilaga.xlsx", attachment))
    _, report = _scan(tmp_path, tree)
    occ = _occurrences(report, "arende.eml")
    where = {(o["kind"], o.get("section"), o.get("member"), o.get("cell")) for o in occ}
    assert ("se.personnummer", "headers", None, None) in where  # the subject
    assert ("dk.cpr", "body", None, None) in where
    assert ("no.fodselsnummer", "body (html)", None, None) in where
    assert ("dk.cpr", None, "bilaga.xlsx", "B3") in where


def test_outlook_msg_headers_body_and_attachment(tmp_path, tree):
    docs.msg(tree / "arende.msg", ("bilaga.txt", f"fødselsnummer {NO}\n".encode()))
    _, report = _scan(tmp_path, tree)
    where = {(o["kind"], o.get("section"), o.get("member")) for o in _occurrences(report, "arende.msg")
             if o["kind"] != "email"}
    assert where == {("se.personnummer", "headers", None), ("dk.cpr", "body", None),
                     ("no.fodselsnummer", None, "bilaga.txt")}


def test_zipped_export_and_tarball_members_are_read_and_named_safely(tmp_path, tree):
    docs.zip_of(tree / "export.zip", {"hr/personal.docx": docs.bytes_of(docs.docx, "p.docx", tmp_path),
                                      "hr/lista.xlsx": docs.bytes_of(docs.xlsx, "l.xlsx", tmp_path)})
    docs.tar_gz_of(tree / "backup.tar.gz", {"../../etc/notes.txt": f"personnummer {SE}\n".encode()})
    _, report = _scan(tmp_path, tree)
    members = {(o["kind"], o["member"]) for o in _occurrences(report, "export.zip")}
    assert {("se.personnummer", "hr/personal.docx"), ("dk.cpr", "hr/lista.xlsx")} <= members
    assert {o["member"] for o in _occurrences(report, "backup.tar.gz")} == {"backup.tar/etc/notes.txt"}


def test_hostile_and_broken_files_are_reported_and_the_scan_goes_on(tmp_path, tree):
    docs.zip_bomb(tree / "bomb.zip")
    docs.nested_zip(tree / "deep.zip", levels=6)
    whole = docs.docx(tmp_path / "whole.docx").read_bytes()
    (tree / "truncated.docx").write_bytes(whole[: len(whole) // 2])
    pdf = docs.pdf(tmp_path / "x.pdf", [f"personnummer {SE}"]).read_bytes()
    (tree / "broken-xref.pdf").write_bytes(pdf.replace(b"startxref", b"startxref\n999999\n%", 1))
    (tree / "empty.txt").write_bytes(b"")
    with open(tree / "huge.log", "wb") as f:  # 2 GB sparse: over the size limit, never read
        f.truncate(2 * 2**30)
    (tree / "ok.txt").write_text(f"CPR-nr {DK}\n")
    proc, report = _scan(tmp_path, tree)
    skips = _skips(report)
    assert ("zeros.txt", "archive-bomb") in skips
    assert any(reason == "nesting-too-deep" for _, reason in skips)
    assert ("truncated.docx", "malformed") in skips
    assert ("empty.txt", "empty") in skips and ("huge.log", "too-large") in skips
    assert _occurrences(report, "ok.txt", "dk.cpr")  # the scan went on
    assert _occurrences(report, "broken-xref.pdf", "se.personnummer")  # pypdf rebuilt the xref
    assert proc.returncode != 2  # none of these makes the scan incomplete


def test_encrypted_archives_and_documents_are_reported_as_encrypted(tmp_path, tree):
    import io

    from pypdf import PdfReader, PdfWriter
    docs.encrypted_zip(tree / "locked.zip")
    writer = PdfWriter(clone_from=PdfReader(docs.pdf(tmp_path / "p.pdf", [f"personnummer {SE}"])))
    writer.encrypt("hemligt", algorithm="AES-256")
    writer.write(tree / "locked.pdf")
    plain = docs.xlsx(tmp_path / "plain.xlsx")
    out = io.BytesIO()
    from msoffcrypto.format.ooxml import OOXMLFile
    office = OOXMLFile(open(plain, "rb"))
    office.encrypt("hemligt", out)
    (tree / "locked.xlsx").write_bytes(out.getvalue())
    _, report = _scan(tmp_path, tree)
    assert {("secret.txt", "encrypted"), ("locked.pdf", "encrypted"), ("locked.xlsx", "encrypted")} <= _skips(report)
    assert not report["findings"] or all(f["category"] != "national_id" for f in report["findings"])


def test_content_decides_the_format_not_the_name(tmp_path, tree):
    (tree / "notes.docx").write_text(f"personnummer {SE}\n")  # a text file calling itself a Word document
    docs.docx(tree / "renamed.bin")  # a Word document without its extension
    _, report = _scan(tmp_path, tree)
    assert ("notes.docx", "malformed") in _skips(report) and _occurrences(report, "notes.docx")
    assert {o["section"] for o in _occurrences(report, "renamed.bin")} >= {"body"}


def test_formats_can_be_turned_off(tmp_path, tree):
    docs.case_screenshot(tree / "view.png", [DK], [SE])
    docs.zip_of(tree / "a.zip", {"a.txt": f"personnummer {SE}\n".encode()})
    _, report = _scan(tmp_path, tree, config="[formats]\nocr = false\narchives = false\n")
    assert {("view.png", "ocr-disabled"), ("a.zip", "format-disabled")} <= _skips(report)
    assert not report["findings"] or not any(f["verdict"] == "real" and f["category"] == "national_id"
                                             for f in report["findings"])


def test_a_document_that_is_a_zip_obeys_the_documents_switch_not_the_archives_one(tmp_path, tree):
    docs.docx(tree / "memo.docx")
    docs.zip_of(tree / "a.zip", {"a.txt": f"personnummer {SE}\n".encode()})
    _, report = _scan(tmp_path, tree, config="[formats]\narchives = false\n")
    assert _occurrences(report, "memo.docx") and ("a.zip", "format-disabled") in _skips(report)
    (tmp_path / "out").rename(tmp_path / "out-archives-off")
    _, report = _scan(tmp_path, tree, "--full", config="[formats]\ndocuments = false\n")
    skip = next(s for s in report["skipped"] if s["uri"].endswith("memo.docx"))
    assert skip["reason"] == "format-disabled" and skip["detail"].startswith("docx document")
    assert not _occurrences(report, "memo.docx") and _occurrences(report, "a.zip")


def test_nothing_planted_in_documents_leaks_into_any_output(tmp_path, tree):
    docs.docx(tree / "a.docx")
    docs.xlsx(tree / "b.xlsx")
    docs.eml(tree / "c.eml")
    docs.case_screenshot(tree / "d.png", [DK], [SE])
    _scan(tmp_path, tree)
    forms = set().union(*(every_form(v) for v in (SE, DK, NO, "1204851006", "0104851002")))
    for path in files_under(tmp_path / "out", tmp_path / "state"):
        data = path.read_bytes()
        for form in forms:
            assert form.encode() not in data, (path, form)
    assert os.stat(tmp_path / "out" / "report.json").st_mode & 0o077 == 0


def test_ocr_time_limit_per_image_and_missing_language_data(tmp_path, tree):
    from PIL import Image, ImageDraw
    from vendorscan.demo.documents import _font
    page = Image.new("L", (1700, 2400), 255)
    d = ImageDraw.Draw(page)
    for i in range(130):  # a dense page, enlarged: minutes of Tesseract work
        d.text((20, 10 + i * 18), f"Ärende UM-2024-{i:04d} sökande status under behandling " * 3, font=_font(14), fill=0)
    page.resize((3400, 4800)).save(tree / "dense.png")
    (tree / "ok.txt").write_text(f"CPR-nr {DK}\n")
    proc, report = _scan(tmp_path, tree, config="[formats]\nocr_timeout = 1\n")
    assert ("dense.png", "ocr-timeout") in _skips(report) and _occurrences(report, "ok.txt")
    assert proc.returncode != 2  # a slow image is listed, the scan is still complete
    (tree / "dense.png").unlink()
    docs.case_screenshot(tree / "view.png", [DK], [SE])
    proc, report = _scan(tmp_path, tree, "--full", config='[formats]\nocr_languages = ["tlh"]\n')
    skip = next(s for s in report["skipped"] if s["uri"].endswith("view.png"))
    assert skip["reason"] == "ocr-unavailable" and "tesseract-ocr-" in skip["detail"]
    assert proc.returncode == 2  # OCR was asked for and could not run: the scan is incomplete


def test_a_legacy_office_file_without_a_word_text_body_is_skipped_as_malformed(tmp_path, tree):
    """A compound file named .doc whose WordDocument stream is not Word's: listed as malformed, never dropped."""
    import uuid

    from pycfb import CFBWriter
    data = CFBWriter(["WordDocument"], [f"personnummer {SE} ".encode() * 300],
                     uuid.UUID("00020906-0000-0000-C000-000000000046")).data
    (tree / "old.doc").write_bytes(bytes(data))
    _, report = _scan(tmp_path, tree)
    skip = next(s for s in report["skipped"] if s["uri"].endswith("old.doc"))
    assert skip["reason"] == "malformed"


def test_jpeg_and_multipage_tiff_screenshots(tmp_path, tree):
    from PIL import Image
    docs.case_screenshot(tmp_path / "a.png", [DK], [])
    docs.case_screenshot(tmp_path / "b.png", [], [SE])
    a, b = Image.open(tmp_path / "a.png").convert("RGB"), Image.open(tmp_path / "b.png").convert("RGB")
    a.save(tree / "view.jpg", quality=92)
    a.save(tree / "scan.tiff", save_all=True, append_images=[b])
    _, report = _scan(tmp_path, tree)
    assert [o["kind"] for o in _occurrences(report, "view.jpg")] == ["dk.cpr"]
    assert {(o["kind"], o["page"]) for o in _occurrences(report, "scan.tiff")} == {("dk.cpr", 1),
                                                                                   ("se.personnummer", 2)}


def test_member_count_bound(tmp_path, tree):
    docs.zip_of(tree / "many.zip", {f"m{i}.txt": f"personnummer {SE}\n".encode() for i in range(5)})
    _, report = _scan(tmp_path, tree, config="[formats]\nmax_members = 2\n")
    assert ("many.zip", "too-many-members") in _skips(report)
    assert {o["member"] for o in _occurrences(report, "many.zip")} == {"m0.txt", "m1.txt"}


def test_a_column_of_ids_stored_as_numbers_gets_all_its_lost_zeros_back(tmp_path, tree):
    from vendorscan.demo import documents as demo_documents
    # 20000717-8486 and 20010203-1002 as Excel numbers: 7178486 lost three zeros, 102031002 one.
    demo_documents.excel(tree / "people.xlsx", {"Personal": [["Namn", "Personnummer"], ["A", 8504121230],
                                                             ["B", 7178486], ["C", 102031002], ["D", 7203051797]]})
    _, report = _scan(tmp_path, tree)
    cells = {o["cell"] for o in _occurrences(report, "people.xlsx", "se.personnummer")}
    assert {"B2", "B3", "B4", "B5"} <= cells


def test_a_screenshot_pasted_into_a_word_document_is_read_through_ocr(tmp_path, tree):
    import docx
    docs.case_screenshot(tmp_path / "shot.png", [DK], [SE])
    document = docx.Document()
    document.add_paragraph("Skärmbild från ärendesystemet:")
    document.add_picture(str(tmp_path / "shot.png"))
    document.save(tree / "rapport.docx")
    _, report = _scan(tmp_path, tree)
    shots = [o for o in _occurrences(report, "rapport.docx") if o.get("member", "").startswith("word/media/")]
    assert {o["kind"] for o in shots} == {"dk.cpr", "se.personnummer"} and all(len(o["region"]) == 4 for o in shots)


@pytest.mark.parametrize("drawn", ["xobject", "inline", "form"])
def test_a_screenshot_in_a_pdf_with_a_text_layer_is_read_too(tmp_path, tree, drawn):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    docs.case_screenshot(tmp_path / "shot.png", [DK], [])
    c = canvas.Canvas(str(tree / "beslut.pdf"), pagesize=A4)
    c.drawString(72, 800, "Beslut i ärendet, se skärmbild nedan")
    if drawn == "inline":  # BI … ID … EI in the page's content, no XObject
        c.drawInlineImage(str(tmp_path / "shot.png"), 20, 300, width=550, height=200)
    elif drawn == "form":  # inside a form XObject the page draws
        c.beginForm("bilaga")
        c.drawImage(str(tmp_path / "shot.png"), 20, 300, width=550, height=200)
        c.endForm()
        c.doForm("bilaga")
    else:
        c.drawImage(str(tmp_path / "shot.png"), 20, 300, width=550, height=200)
    c.showPage()
    c.save()
    _, report = _scan(tmp_path, tree)
    assert [(o["kind"], o["page"], len(o["region"])) for o in _occurrences(report, "beslut.pdf")] == [("dk.cpr", 1, 4)]


def test_which_pdf_pages_can_have_pictures(tmp_path):
    """A page with a text layer is looked at for pictures only when it can hold one (its content parsed once)."""
    from pypdf import PdfReader
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    from vendorscan.formats.pdf import _content_streams, _may_have_images
    docs.case_screenshot(tmp_path / "shot.png", [DK], [])
    c = canvas.Canvas(str(tmp_path / "p.pdf"), pagesize=A4)
    for page in ("text", "ABI EBI BIRGITTA", "inline", "xobject"):
        c.drawString(72, 800, page)
        if page == "inline":
            c.drawInlineImage(str(tmp_path / "shot.png"), 20, 300, width=50, height=20)
        elif page == "xobject":
            c.drawImage(str(tmp_path / "shot.png"), 20, 300, width=50, height=20)
        c.showPage()
    c.save()
    pages = PdfReader(tmp_path / "p.pdf").pages
    assert [bool(p.images) for p in pages] == [False, False, True, True]
    # "ABI " may be the operator: then pypdf's own listing decides
    assert [_may_have_images(p, _content_streams(p)) for p in pages] == [False, True, True, True]


def test_text_whose_first_bytes_look_like_a_binary_format_is_read_as_text(tmp_path, tree):
    import random
    rng = random.Random(5)
    ids = {name: synth.real("se.personnummer", rng) for name in ("vikt.csv", "lista.txt", "nul.csv", "utkast.txt",
                                                                  "bild.gif.txt", "data.bz.txt")}
    (tree / "vikt.csv").write_text(f"BMI;personnummer;namn\n27,1;{ids['vikt.csv']};Anna\n")  # "BM": a bitmap?
    (tree / "lista.txt").write_text(f"MZ-lista\nAnna Lindqvist {ids['lista.txt']}\n")  # "MZ": a program?
    (tree / "nul.csv").write_bytes(b"\x00" + f"namn;personnummer\nAnna;{ids['nul.csv']}\n".encode())
    (tree / "utkast.txt").write_text(f"%PDF-utkast\npersonnummer {ids['utkast.txt']}\n")  # a PDF that is not one
    (tree / "bild.gif.txt").write_text(f"GIF89a-rapport, personnummer {ids['bild.gif.txt']}\n")
    (tree / "data.bz.txt").write_text(f"BZh-export\npersonnummer {ids['data.bz.txt']}\n")
    (tree / "broken.bmp").write_bytes(b"BM" + bytes(range(256)) * 8)  # neither a bitmap nor text
    for config in ("", "[formats]\nocr = false\ndocuments = false\narchives = false\n"):
        proc, report = _scan(tmp_path, tree, config=config)
        for name in ids:
            assert _occurrences(report, name, "se.personnummer"), (config, name, report["skipped"])
        skips = {s["uri"].rsplit("/", 1)[1]: s for s in report["skipped"]}
        assert set(skips) == {"broken.bmp"}, skips
        if not config:  # both reasons: not the format its first bytes claim, and not text
            assert skips["broken.bmp"]["reason"] == "malformed" and "not text" in skips["broken.bmp"]["detail"]
