"""Office documents: Word, Excel and PowerPoint (Open XML) and OpenDocument text, sheets and slides."""
from __future__ import annotations

import re
import zipfile
from typing import IO, Iterable, Iterator

from defusedxml.ElementTree import iterparse  # entity expansion off

from vendorscan.format import FormatError, FormatHandler, Item, Nested, Segment
from vendorscan.formats.cells import cell_text, id_width
from vendorscan.model import Location

PARAGRAPHS_PER_SEGMENT = 2000
ROWS_PER_BATCH = 1000
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Word parts with text besides the body, by part name: what a reader calls them.
_WORD_PARTS = (("/word/header", "header"), ("/word/footer", "footer"), ("/word/comments", "comments"),
               ("/word/footnotes", "footnotes"), ("/word/endnotes", "endnotes"))


_OOXML = (("word/document.xml", "docx"), ("xl/workbook.xml", "xlsx"), ("ppt/presentation.xml", "pptx"))
_ODF = {"application/vnd.oasis.opendocument.text": "odt",
        "application/vnd.oasis.opendocument.spreadsheet": "ods",
        "application/vnd.oasis.opendocument.presentation": "odp"}


class Office(FormatHandler):
    """Word, Excel and PowerPoint (Open XML) and OpenDocument text, sheets and slides: zips told apart by parts."""

    id, kinds, seekable, switch = "office", ("docx", "xlsx", "pptx", "odt", "ods", "odp"), True, "documents"
    container = "zip"
    extensions = {".docx": "docx", ".xlsx": "xlsx", ".pptx": "pptx", ".odt": "odt", ".ods": "ods", ".odp": "odp"}

    @classmethod
    def probe(cls, f):
        with zipfile.ZipFile(f) as z:
            names = set(z.namelist())
            for part, kind in _OOXML:
                if part in names:
                    return kind
            if "mimetype" in names:
                return _ODF.get(z.read("mimetype")[:100].decode("ascii", "replace").strip())
        return None

    def read(self, f, kind, **kw):
        readers = {"docx": read_docx, "xlsx": read_xlsx, "pptx": read_pptx, "odt": read_odt, "ods": read_ods,
                   "odp": read_odp}
        return readers[kind](f, **kw)


def paragraph_segments(texts: Iterable[str], location: Location) -> Iterator[Segment]:
    """Paragraphs as lines of segments; a hit's line gives its paragraph number back."""
    batch: list[str] = []
    first = 1
    for text in texts:
        batch.append(text.replace("\n", " ").replace("\r", " "))
        if len(batch) >= PARAGRAPHS_PER_SEGMENT:
            yield _paragraphs(batch, first, location)
            first += len(batch)
            batch = []
    if batch:
        yield _paragraphs(batch, first, location)


def _paragraphs(batch: list[str], first: int, location: Location) -> Segment:
    return Segment("\n".join(batch), location, lambda line, col, n: {"paragraph": first + line - 1})


def read_docx(f: IO[bytes], **_) -> Iterator[Item]:
    """Body (tables included), headers, footers, comments, foot- and endnotes, paragraph by paragraph."""
    import docx
    from docx.text.paragraph import Paragraph
    try:
        document = docx.Document(f)
    except (KeyError, ValueError) as exc:  # a package without the parts a docx must have
        raise FormatError(f"not a valid Word document ({type(exc).__name__})") from None
    body = document.element.body
    yield from paragraph_segments((Paragraph(p, None).text for p in body.iter(_W + "p")), Location(section="body"))
    for part in document.part.package.iter_parts():
        name = str(part.partname)
        label = next((label for prefix, label in _WORD_PARTS if name.startswith(prefix)), None)
        if label is None:
            continue
        element = getattr(part, "element", None)
        if element is None:
            continue
        section = f"{label} {name.rsplit('/', 1)[1].removesuffix('.xml')}" if label in ("header", "footer") \
            else label
        yield from paragraph_segments((Paragraph(p, None).text for p in element.iter(_W + "p")),
                                      Location(section=section))
    yield from media(f)


def read_pptx(f: IO[bytes], **_) -> Iterator[Item]:
    """Every slide's text frames and tables, then its speaker notes."""
    from pptx import Presentation
    deck = Presentation(f)
    for number, slide in enumerate(deck.slides, 1):
        yield from paragraph_segments(_shape_texts(slide.shapes), Location(section=f"slide {number}"))
        if slide.has_notes_slide:
            yield from paragraph_segments(_shape_texts(slide.notes_slide.shapes), Location(section=f"notes {number}"))
    yield from media(f)


def _shape_texts(shapes) -> Iterator[str]:
    for shape in shapes:
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            for p in shape.text_frame.paragraphs:
                yield "".join(r.text for r in p.runs)
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                yield "\t".join(cell.text for cell in row.cells)
        if getattr(shape, "shapes", None) is not None:  # a group
            yield from _shape_texts(shape.shapes)


def read_xlsx(f: IO[bytes], **_) -> Iterator[Item]:
    """Every sheet, streamed row by row; each column of a batch of rows is one segment, a cell a line."""
    import openpyxl
    from openpyxl.utils import get_column_letter
    book = openpyxl.load_workbook(f, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            # The declared dimension is the file's word (A1:XFD1048576 in 4 KB): rows as they are, never padded to it.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
            yield from sheet_segments(sheet.title, rows, get_column_letter)
    finally:
        book.close()
    yield from media(f)


_MEDIA = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff")


def media(f: IO[bytes]) -> Iterator[Item]:
    """Pictures pasted into an Office document (word/media/, ppt/media/, xl/media/): screenshots are read too."""
    f.seek(0)
    with zipfile.ZipFile(f) as z:
        for info in z.infolist():
            name = info.filename
            if "/media/" in name and name.lower().endswith(_MEDIA) and not info.flag_bits & 0x1:
                yield Nested(name, lambda info=info: z.open(info), info.file_size, info.compress_size)


def sheet_segments(title: str, rows: Iterable[tuple], letter) -> Iterator[Segment]:
    """Column segments of a sheet in batches of rows; the first row's labels name the columns (context)."""
    header: list[str] = []
    batch: list[tuple] = []
    first_row = 1
    for number, row in enumerate(rows, 1):
        if number == 1:
            header = [v.strip() if isinstance(v, str) else "" for v in row]
        batch.append(row)
        if len(batch) >= ROWS_PER_BATCH:
            yield from _columns(title, batch, first_row, header, letter)
            first_row += len(batch)
            batch = []
    if batch:
        yield from _columns(title, batch, first_row, header, letter)


def _columns(title: str, batch: list[tuple], first_row: int, header: list[str], letter) -> Iterator[Segment]:
    width = max((len(r) for r in batch), default=0)
    for ci in range(width):
        digits = id_width([r[ci] for r in batch if ci < len(r)])
        text = "\n".join(cell_text(r[ci], digits) if ci < len(r) else "" for r in batch)
        if not text.strip():
            continue
        col = letter(ci + 1)
        name = header[ci] if ci < len(header) and header[ci] else None
        yield Segment(text, Location(sheet=title, column_name=name),
                      lambda line, c, n, col=col: {"cell": f"{col}{first_row + line - 1}"})


# -- OpenDocument ----------------------------------------------------------------------------------
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_MAX_REPEAT = 1000  # a formatted empty row can claim a million repeats, a run of spaces 300 million
_MAX_COLUMNS = 16384  # as many as a spreadsheet has: a row of repeated cells is cut there


def _count(value: str | None) -> int:
    """A repeat count from the document (spaces, rows, cells), 1 to _MAX_REPEAT whatever it says."""
    try:
        return min(max(int(value or 1), 1), _MAX_REPEAT)
    except ValueError:
        return 1


def _content(f: IO[bytes]):
    z = zipfile.ZipFile(f)
    try:
        return z, z.open("content.xml")
    except KeyError:
        z.close()
        raise FormatError("OpenDocument without content.xml") from None


def read_odt(f: IO[bytes], **_) -> Iterator[Item]:
    """Paragraphs and headings of an OpenDocument text, tables and frames included."""
    z, xml = _content(f)
    with z, xml:
        yield from paragraph_segments(_odf_paragraphs(xml), Location(section="body"))


def read_odp(f: IO[bytes], **_) -> Iterator[Item]:
    """Paragraphs of an OpenDocument presentation, page by page."""
    z, xml = _content(f)
    with z, xml:
        page, texts = 0, []
        for event, el in iterparse(xml, events=("start", "end")):
            if event == "start" and el.tag == _DRAW + "page":
                page += 1
            elif event == "end" and el.tag in (_TEXT + "p", _TEXT + "h"):
                texts.append(_odf_text(el))
                el.clear()
            elif event == "end" and el.tag == _DRAW + "page":
                yield from paragraph_segments(texts, Location(section=f"slide {page}"))
                texts = []
                el.clear()


def _odf_paragraphs(xml) -> Iterator[str]:
    for _, el in iterparse(xml, events=("end",)):
        if el.tag in (_TEXT + "p", _TEXT + "h"):
            yield _odf_text(el)
            el.clear()


def _odf_text(el) -> str:
    parts = []
    for node in el.iter():
        if node.tag == _TEXT + "s":  # a run of spaces: its count is the document's word, so bounded
            parts.append(" " * _count(node.get(_TEXT + "c")))
        elif node.tag in (_TEXT + "tab", _TEXT + "line-break"):
            parts.append(" ")
        if node.text and node.tag != _TEXT + "note-citation":
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return "".join(parts)


def read_ods(f: IO[bytes], **_) -> Iterator[Item]:
    """Every sheet of an OpenDocument spreadsheet, as column segments like Excel's (numbers from their value)."""
    from openpyxl.utils import get_column_letter
    z, xml = _content(f)
    with z, xml:
        title, rows = None, []
        for event, el in iterparse(xml, events=("start", "end")):
            if event == "start" and el.tag == _TABLE + "table":
                title, rows = el.get(_TABLE + "name", "sheet"), []
            elif event == "end" and el.tag == _TABLE + "table-row":
                row = _ods_row(el)
                repeat = _count(el.get(_TABLE + "number-rows-repeated"))
                rows.extend([row] * (repeat if any(v not in (None, "") for v in row) else 1))
                el.clear()
            elif event == "end" and el.tag == _TABLE + "table":
                while rows and not any(v not in (None, "") for v in rows[-1]):
                    rows.pop()
                yield from sheet_segments(title or "sheet", rows, get_column_letter)
                el.clear()


def _ods_row(row) -> tuple:
    cells: list = []
    for cell in row:
        if cell.tag not in (_TABLE + "table-cell", _TABLE + "covered-table-cell"):
            continue
        repeat = min(_count(cell.get(_TABLE + "number-columns-repeated")), _MAX_COLUMNS - len(cells))
        kind = cell.get(_OFFICE + "value-type")
        if kind in ("float", "percentage", "currency"):
            raw = cell.get(_OFFICE + "value", "")
            value = int(float(raw)) if re.fullmatch(r"-?\d+(\.0+)?", raw) else raw
        else:
            value = "\n".join(_odf_text(p) for p in cell.iter(_TEXT + "p")) or None
        cells.extend([value] * repeat)
    while cells and cells[-1] in (None, ""):
        cells.pop()
    return tuple(cells)
