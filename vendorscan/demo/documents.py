"""Documents of the demo estate and the tests, written with known content: case-view screenshots, Word and Excel."""
from __future__ import annotations

from pathlib import Path

_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _font(size: int, bold: bool = False):
    from PIL import ImageFont
    try:
        return ImageFont.truetype(_FONTS[bold], size)
    except OSError:  # no DejaVu: Pillow's own scalable font
        return ImageFont.load_default(size=size)


def screenshot(path: Path, title: str, header: list[str], rows: list[list[str]], widths: list[int]) -> list:
    """A case-management screen as a PNG: a title bar and a table; returns each cell's (x, y) in pixels."""
    from PIL import Image, ImageDraw
    width = sum(widths) + 40
    height = 100 + 30 * len(rows)
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, width, 40], fill=(32, 64, 120))
    d.text((12, 10), title, font=_font(15, True), fill="white")
    xs = [20 + sum(widths[:i]) for i in range(len(widths))]
    for x, h in zip(xs, header):
        d.text((x, 60), h, font=_font(15, True), fill="black")
    places = []
    for i, row in enumerate(rows):
        y = 95 + i * 30
        if i % 2:
            d.rectangle([10, y - 5, width - 10, y + 22], fill=(240, 244, 250))
        places.append([(x, y) for x in xs])
        for x, cell in zip(xs, row):
            d.text((x, y), cell, font=_font(15), fill="black")
    img.save(path, format="PNG")
    return places


def word(path: Path, title: str, paragraphs: list[str], table: list[list[str]] | None = None,
         header: str = "", footer: str = "", comment: str = "") -> None:
    """A .docx with a heading, paragraphs, an optional table, header/footer text and a comment."""
    import docx
    document = docx.Document()
    document.add_heading(title, level=1)
    first = None
    for text in paragraphs:
        p = document.add_paragraph(text)
        first = first or p
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    if comment and first is not None:
        document.add_comment(first.runs, text=comment, author="Handläggare")
    document.save(path)


def excel(path: Path, sheets: dict[str, list[list]]) -> None:
    """An .xlsx with one sheet per entry; values keep their Python type (ints stay numbers)."""
    import openpyxl
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
