"""PDF: the text layer page by page; a page without one (a scan) goes to OCR when OCR is on."""
from __future__ import annotations

import re
import zlib
from typing import IO, Iterator

from vendorscan.format import Budget, FormatHandler, Item, Problem, Segment
from vendorscan.model import Location

MAX_IMAGES_PER_PAGE = 20
MAX_PAGE_CONTENT = 32 * 2**20  # decoded content of one page: far more than any page a person reads
SCREENSHOT = (300, 100)  # pixels: smaller pictures on a page with text are logos and icons, not read
# The inline-image operator, or something that may be it (pypdf ends an operator at whitespace or a delimiter).
_INLINE_IMAGE = re.compile(rb"BI(?![A-Za-z0-9])")


class Pdf(FormatHandler):
    """PDF: the text layer page by page; scanned pages and pasted screenshots through OCR."""

    id, kinds, seekable, switch = "pdf", ("pdf",), True, "documents"
    magic = ((b"%PDF-", "pdf"),)
    extensions = {".pdf": "pdf"}

    def read(self, f, kind, **kw):
        return read_pdf(f, **kw)


def read_pdf(f: IO[bytes], *, settings, budget: Budget, **_) -> Iterator[Item]:
    """Text per page (lines as the PDF lays them out); scanned pages and pasted screenshots through OCR."""
    from pypdf import PasswordType, PdfReader
    reader = PdfReader(f, strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        yield Problem("encrypted", "password-protected PDF: encrypted, not scanned")
        return
    seen: set = set()  # content streams already read: pages that share one are read once
    for number, page in enumerate(reader.pages, 1):
        try:
            streams = _content_streams(page)
            key = tuple(ref for ref, _ in streams)
            if key and key in seen:
                continue  # the same content as a page before it: the same text, found there
            seen.add(key)
            size = sum(_decoded_size(stream, MAX_PAGE_CONTENT + 1) for _, stream in streams)
            if size > MAX_PAGE_CONTENT or size > budget.left:
                yield Problem("too-large", f"page {number}: more than {MAX_PAGE_CONTENT} bytes of page content "
                                           "(or the unpacking limit for one resource); not read")
                continue
            budget.left -= size
            text = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one broken page must not hide the others
            yield Problem("malformed", f"page {number}: text could not be extracted ({type(exc).__name__})")
            continue
        if text.strip():
            yield Segment(text, Location(page=number))
            # A report with screenshots pasted in: their text is in no text layer. Listing a page's images parses
            # its content once more (for inline ones): not done for a page that can have none.
            if settings.ocr and _may_have_images(page, streams):
                yield from _ocr_page(page, number, settings, min_size=SCREENSHOT)
            continue
        if not settings.ocr:
            if _has_images(page):
                yield Problem("ocr-disabled", f"page {number} has no text layer (a scan?); OCR is turned off")
            continue
        yield from _ocr_page(page, number, settings)


def _content_streams(page) -> list[tuple[tuple[int, int] | int, object]]:
    """The page's content streams, each with its object number (or its id when it is inline)."""
    from pypdf.generic import ArrayObject, IndirectObject
    raw = page.raw_get("/Contents") if "/Contents" in page else None
    items = raw.get_object() if raw is not None else None
    refs = list(items) if isinstance(items, ArrayObject) else [raw] if raw is not None else []
    out = []
    for ref in refs:
        key = (ref.idnum, ref.generation) if isinstance(ref, IndirectObject) else id(ref)
        out.append((key, ref.get_object()))
    return out


def _decoded_size(stream, cap: int) -> int:
    """Bytes a content stream decodes to, counted up to cap without holding more (a Flate bomb stays packed)."""
    if stream.get("/Filter") == "/FlateDecode" and not stream.get("/DecodeParms"):
        inflate, data, size = zlib.decompressobj(), stream._data, 0
        try:
            while data and size <= cap:
                size += len(inflate.decompress(data, 2**20))
                data = inflate.unconsumed_tail
        except zlib.error:
            pass  # pypdf reads what it can of a broken stream
        return size
    return len(stream.get_data())


def _may_have_images(page, streams) -> bool:
    """Whether page.images can list anything: an XObject in the page's resources, or an inline image operator in
    its content (the content decoded once already, for its text)."""
    from pypdf.generic import DictionaryObject, StreamObject
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        if isinstance(resources, DictionaryObject) and "/XObject" in resources:
            return True
        return any(not isinstance(stream, StreamObject) or _INLINE_IMAGE.search(stream.get_data())
                   for _, stream in streams)
    except Exception:  # noqa: BLE001 - then page.images decides, and says what is wrong
        return True


def _has_images(page) -> bool:
    try:
        return bool(page.images)
    except Exception:  # noqa: BLE001
        return False


def _ocr_page(page, number: int, settings, min_size: tuple[int, int] = (0, 0)) -> Iterator[Item]:
    from vendorscan.formats.images import ocr_image
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
