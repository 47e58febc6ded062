"""Readers of legacy binary Office files: .xls by sheet and cell (xlrd), .doc and .ppt text (catdoc, catppt)."""
from __future__ import annotations

from typing import IO, Iterator

from vendorscan.format import FormatError, Item
from vendorscan.formats import programs
from vendorscan.formats.office import paragraph_segments, sheet_segments
from vendorscan.model import Location


def read_xls(f: IO[bytes], *, settings, **_) -> Iterator[Item]:
    """Every sheet of a BIFF workbook, as column segments with the first row's labels as context."""
    import xlrd
    with programs.on_disk(f, in_process=True) as path:  # xlrd maps a named file rather than reading it whole
        try:
            book = xlrd.open_workbook(path, on_demand=True, logfile=_Silent())
        except xlrd.XLRDError:
            raise FormatError("not a readable Excel 97-2003 workbook") from None
        yield from _sheets(book)


def _sheets(book) -> Iterator[Item]:
    from openpyxl.utils import get_column_letter
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = (tuple(_value(c) for c in sheet.row(r)) for r in range(sheet.nrows))
            yield from sheet_segments(sheet.name, rows, get_column_letter)
            book.unload_sheet(index)
    finally:
        book.release_resources()


def _value(cell):
    import xlrd
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return int(cell.value) if cell.value == int(cell.value) else cell.value
    if cell.ctype in (xlrd.XL_CELL_TEXT, xlrd.XL_CELL_DATE):
        return cell.value
    return None


class _Silent:
    """xlrd's log: it quotes what it finds in a file, so nothing is written."""

    def write(self, _):
        pass


def _program_text(f: IO[bytes], args: list[str], package: str, kind: str, section: str, settings) -> Iterator[Item]:
    problem = programs.missing(args[0], package, kind)
    if problem is not None:
        yield problem
        return
    with programs.on_disk(f) as path:
        blocks = programs.output([*args, path], int(settings.max_expanded_size))
        yield from paragraph_segments(programs.lines(programs.Blocks(blocks)), Location(section=section))


def read_doc(f: IO[bytes], *, settings, **_) -> Iterator[Item]:
    """A Word 97-2003 document's text, paragraph by paragraph (catdoc, unwrapped, UTF-8)."""
    return _program_text(f, ["catdoc", "-w", "-d", "utf-8"], "catdoc", "doc", "body", settings)


def read_ppt(f: IO[bytes], *, settings, **_) -> Iterator[Item]:
    """A PowerPoint 97-2003 presentation's text, paragraph by paragraph (catppt, UTF-8)."""
    return _program_text(f, ["catppt", "-d", "utf-8"], "catdoc", "ppt", "slides", settings)


READERS = {"xls": read_xls, "doc": read_doc, "ppt": read_ppt}
