"""Images (screenshots, scans): text through Tesseract OCR, each hit located by the region it was read from."""
from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
from typing import IO, Iterator

from vendorscan.format import FormatHandler, Item, Problem, Segment
from vendorscan.model import Location

MAX_PIXELS = 60_000_000  # larger than any screenshot or A3 scan at 400 dpi; more is a decompression bomb
MAX_FRAMES = 50
SMALL_WIDTH = 1800  # screenshots narrower than this are enlarged: Tesseract wants ~30 px letters


class Image(FormatHandler):
    """Images (png, jpeg, gif, tiff, bmp): text through Tesseract OCR."""

    id, kinds, switch, any_name = "image", ("png", "jpeg", "gif", "tiff", "bmp"), "ocr", True
    magic = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
             (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"BM", "bmp"))
    extensions = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".tif": "tiff", ".tiff": "tiff",
                  ".bmp": "bmp"}

    def read(self, f, kind, **kw):
        return read_image(f, **kw)


def read_image(f: IO[bytes], *, settings, **_) -> Iterator[Item]:
    """OCR of every frame (a multi-page TIFF's pages)."""
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        picture = Image.open(f)
        frames = getattr(picture, "n_frames", 1)
    except Image.DecompressionBombError:
        yield Problem("too-large", f"image over {MAX_PIXELS} pixels: not decoded")
        return
    for index in range(min(frames, MAX_FRAMES)):
        picture.seek(index)
        yield from ocr_image(picture, settings, Location(page=index + 1) if frames > 1 else Location())
    if frames > MAX_FRAMES:
        yield Problem("too-many-members", f"{frames} frames; the first {MAX_FRAMES} were read")


@functools.lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """Languages the local Tesseract has data for (empty if Tesseract is missing)."""
    if shutil.which("tesseract") is None:
        return frozenset()
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def ocr_image(picture, settings, location: Location) -> Iterator[Item]:
    """Lines of text Tesseract reads in one image; a hit's place is its bounding box in the original pixels."""
    from PIL import Image
    have = installed_languages()
    if not have:
        yield Problem("ocr-unavailable", "Tesseract is not installed: apt-get install tesseract-ocr "
                                         "tesseract-ocr-dan tesseract-ocr-swe tesseract-ocr-nor tesseract-ocr-fin")
        return
    langs = [lang for lang in settings.ocr_languages if lang in have]
    if not langs:
        yield Problem("ocr-unavailable", f"no Tesseract data for {', '.join(settings.ocr_languages)}: install "
                                         f"tesseract-ocr-<lang> (installed: {', '.join(sorted(have))})")
        return
    gray = picture.convert("L")
    scale = 2 if gray.width < SMALL_WIDTH else 1
    if scale != 1:
        gray = gray.resize((gray.width * scale, gray.height * scale), Image.LANCZOS)
    png = io.BytesIO()
    gray.save(png, format="PNG")
    try:
        proc = subprocess.run(["tesseract", "stdin", "stdout", "-l", "+".join(langs), "--psm", "3", "tsv"],
                              input=png.getvalue(), capture_output=True, timeout=settings.ocr_timeout,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})  # one core per worker process
    except subprocess.TimeoutExpired:
        yield Problem("ocr-timeout", f"OCR took longer than {settings.ocr_timeout}s ([formats] ocr_timeout)")
        return
    if proc.returncode != 0:
        yield Problem("ocr-failed", f"tesseract exit {proc.returncode}")
        return
    text, boxes = tsv_lines(proc.stdout.decode("utf-8", "replace"), scale)
    if text:
        yield Segment(text, location, lambda line, col, n: {"region": region(boxes[line - 1], col, n)})


def tsv_lines(tsv: str, scale: int) -> tuple[str, list[list[tuple[int, int, tuple[int, int, int, int]]]]]:
    """Text with one line per OCR line, and per line its words' (start, end, box) in original pixels."""
    lines: list[str] = []
    boxes: list[list[tuple[int, int, tuple[int, int, int, int]]]] = []
    current, words, key = [], [], None
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        line_key = (cols[1], cols[2], cols[3], cols[4])
        if line_key != key and current:
            lines.append(" ".join(current))
            boxes.append(words)
            current, words = [], []
        key = line_key
        start = sum(len(w) + 1 for w in current)
        word = cols[11].strip()
        left, top, width, height = (int(c) // scale for c in cols[6:10])
        words.append((start, start + len(word), (left, top, width, height)))
        current.append(word)
    if current:
        lines.append(" ".join(current))
        boxes.append(words)
    return "\n".join(lines), boxes


def region(words: list[tuple[int, int, tuple[int, int, int, int]]], column: int, length: int) -> tuple[int, ...]:
    """The box around the words that a hit at 1-based column with this length covers."""
    lo, hi = column - 1, column - 1 + length
    hit = [box for start, end, box in words if start < hi and end > lo] or [box for _, _, box in words]
    x0 = min(b[0] for b in hit)
    y0 = min(b[1] for b in hit)
    x1 = max(b[0] + b[2] for b in hit)
    y1 = max(b[1] + b[3] for b in hit)
    return (x0, y0, x1 - x0, y1 - y0)
