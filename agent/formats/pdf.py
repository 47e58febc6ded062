"""PDF: the text layer page by page; a page without one (a scan) goes to OCR when OCR is on."""
from __future__ import annotations

from typing import IO, Iterator

from agent.formats.base import Item, Problem, Segment
from agent.model import Location

MAX_IMAGES_PER_PAGE = 20
SCREENSHOT = (300, 100)  # pixels: smaller pictures on a page with text are logos and icons, not read


def read_pdf(f: IO[bytes], *, settings, **_) -> Iterator[Item]:
    """Text per page (lines as the PDF lays them out); scanned pages and pasted screenshots through OCR."""
    from pypdf import PasswordType, PdfReader
    reader = PdfReader(f, strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        yield Problem("encrypted", "password-protected PDF: encrypted, not scanned")
        return
    for number, page in enumerate(reader.pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one broken page must not hide the others
            yield Problem("malformed", f"page {number}: text could not be extracted ({type(exc).__name__})")
            continue
        if text.strip():
            yield Segment(text, Location(page=number))
            if settings.ocr:  # a report with screenshots pasted in: their text is in no text layer
                yield from _ocr_page(page, number, settings, min_size=SCREENSHOT)
            continue
        if not settings.ocr:
            if _has_images(page):
                yield Problem("ocr-disabled", f"page {number} has no text layer (a scan?); OCR is turned off")
            continue
        yield from _ocr_page(page, number, settings)


def _has_images(page) -> bool:
    try:
        return bool(page.images)
    except Exception:  # noqa: BLE001
        return False


def _ocr_page(page, number: int, settings, min_size: tuple[int, int] = (0, 0)) -> Iterator[Item]:
    from agent.formats.images import ocr_image
    try:
        images = list(page.images)[:MAX_IMAGES_PER_PAGE]
    except Exception as exc:  # noqa: BLE001
        yield Problem("malformed", f"page {number}: images could not be read ({type(exc).__name__})")
        return
    for image in images:
        try:
            picture = image.image
        except Exception as exc:  # noqa: BLE001 - an image codec pypdf cannot decode
            yield Problem("malformed", f"page {number}: an image could not be decoded ({type(exc).__name__})")
            continue
        if picture.width < min_size[0] or picture.height < min_size[1]:
            continue  # a logo or an icon beside the text layer: no rows of text to read
        yield from ocr_image(picture, settings, Location(page=number))
