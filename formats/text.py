"""Streaming decode of a text file into overlapping chunks with absolute offsets and lines."""
from __future__ import annotations

import codecs
from typing import BinaryIO, Iterator, NamedTuple

from vendorscan.model import Chunk

# Longer than the longest identifier plus its context window on both sides.
OVERLAP = 256
READ_SIZE = 64 * 1024
HEADER_CHARS = 4096  # a first line longer than this is nobody's column header


class Resume(NamedTuple):
    """Where a stream that starts at a line start later in a file (a byte range of it) stands in the file."""

    offset: int  # characters before the stream's first one
    line: int  # the line it starts
    own: int  # the own start of its first chunk: a multiple of chunk_chars
    before: str = ""  # text just before the stream (context for that chunk), ending with a line end


def iter_chunks(stream: BinaryIO, encoding: str, chunk_chars: int = 64 * 1024,
                head: bytes = b"", overlap: int = OVERLAP, header: str | None = None,
                resume: Resume | None = None) -> Iterator[Chunk]:
    """Chunks of at most chunk_chars + 2*overlap characters; each value starts in exactly one own part.

    resume, header: the stream starts later in the file; its chunks are then the very chunks (text, bounds,
    lines) a read from the file's start gives there, with the file's first line as header."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    buf = resume.before if resume else ""
    buf_start = resume.offset - len(buf) if resume else 0  # absolute offset of buf[0]
    own = resume.own if resume else 0  # absolute start of the next chunk's own part
    line, col = (resume.line - buf.count("\n"), 1) if resume else (1, 1)  # position of buf[0]
    pending = head
    eof = False  # header: the first line, once it is decoded (every chunk carries it)
    while not eof:
        block = pending or stream.read(READ_SIZE)
        pending = b""
        if not block:
            eof = True
            buf += decoder.decode(b"", final=True)
        else:
            buf += decoder.decode(block)
        if header is None and buf_start == 0:
            header = _first_line(buf, eof)
        cut = own - overlap - buf_start
        if 0 < cut <= len(buf):  # a resumed stream: its first chunk's text begins `overlap` before its own part
            line, col = _advance(buf, cut, line, col)
            buf, buf_start = buf[cut:], buf_start + cut
        while len(buf) - (own - buf_start) >= chunk_chars + overlap:
            yield Chunk(buf, buf_start, own, own + chunk_chars, line, col, None, header or None)
            cut = own + chunk_chars - overlap - buf_start
            line, col = _advance(buf, cut, line, col)
            buf = buf[cut:]
            buf_start += cut
            own += chunk_chars
    end = buf_start + len(buf)
    if own < end or own == 0:
        yield Chunk(buf, buf_start, own, end, line, col, None, header or None)


def header_of(stream: BinaryIO, encoding: str) -> str:
    """The first line of a text file as iter_chunks gives it to its chunks ("" when it has none), from its start."""
    data = stream.read(4 * HEADER_CHARS + 4)  # at least HEADER_CHARS characters in any encoding read here
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(data)
    return _first_line(text, len(data) < 4 * HEADER_CHARS + 4) or ""


def _first_line(buf: str, eof: bool) -> str | None:
    """The first line of a text without its byte-order mark; "" when it has none; None until it is read."""
    end = buf.find("\n", 0, HEADER_CHARS)
    if end < 0:
        return "" if eof or len(buf) >= HEADER_CHARS else None
    return buf[:end].rstrip("\r").lstrip("\ufeff")


def text_chunks(text: str, chunk_chars: int = 64 * 1024, overlap: int = OVERLAP) -> Iterator[Chunk]:
    """The chunks of a text already in memory (an extracted page, sheet column or OCR result)."""
    if len(text) <= chunk_chars:
        yield Chunk(text, 0, 0, len(text), 1, 1)
        return
    line, col, at = 1, 1, 0  # position of text[at]
    for own in range(0, len(text), chunk_chars):
        start = max(0, own - overlap)
        newlines = text.count("\n", at, start)
        line, col = (line + newlines, start - text.rfind("\n", at, start)) if newlines else (line, col + start - at)
        at = start
        yield Chunk(text[start:own + chunk_chars + overlap], start, own, min(own + chunk_chars, len(text)), line, col)


def _advance(text: str, cut: int, line: int, col: int) -> tuple[int, int]:
    newlines = text.count("\n", 0, cut)
    if newlines:
        return line + newlines, cut - text.rfind("\n", 0, cut)
    return line, col + cut


class LineLocator:
    """Line and column of absolute offsets within one chunk, for offsets given in rising order."""

    __slots__ = ("chunk", "_rel", "_line", "_col")

    def __init__(self, chunk: Chunk):
        self.chunk = chunk
        self._rel, self._line, self._col = 0, chunk.line, chunk.column

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based."""
        rel = offset - self.chunk.start
        if rel < self._rel:  # out of order: count again from the chunk start
            self._rel, self._line, self._col = 0, self.chunk.line, self.chunk.column
        self._line, self._col = _advance_between(self.chunk.text, self._rel, rel, self._line, self._col)
        self._rel = rel
        return self._line, self._col


def _advance_between(text: str, a: int, b: int, line: int, col: int) -> tuple[int, int]:
    newlines = text.count("\n", a, b)
    if newlines:
        return line + newlines, b - text.rfind("\n", a, b)
    return line, col + (b - a)
