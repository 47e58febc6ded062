"""A worker's read of one byte range of a large plain-text file (agent/ranges.py plans and merges them).

A range owns the lines that start in it: it begins after the first line end at or after its nominal start, and
ends after the first line end at or after its nominal end (a boundary never splits a character or a line).
Around them it reads context (PRE bytes before, as many after) and reports only hits that start in its own
lines, with lines counted from its first own line and character offsets from its first own character; its
Outcome.span says how many characters and line ends it owns, for the coordinator to add up.
"""
from __future__ import annotations

import codecs
import time

from vendorscan.agent.deadline import Expired, hard_limit
from vendorscan.agent.worker import Outcome, _scan_chunk, _text_location, _timed_out
from vendorscan.formats.text import OVERLAP, READ_SIZE, header_of, iter_chunks
from vendorscan.model import Resource, Skipped

PRE = 4 * OVERLAP + 8  # bytes of context on each side: at least OVERLAP characters of any UTF-8 text
_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that never start a character


def read_range(connector, resource: Resource, span, limits, contexts, rec, out: Outcome) -> None:
    """Scan one range of a text file into `rec`; out.span = (characters, line ends) it owns, unless it was cut."""
    timeout = limits.resource_timeout
    deadline = time.monotonic() + timeout if timeout else None
    encoding = span.encoding if span.index == 0 else _without_bom(span.encoding)
    problems: list = []
    window = None
    try:
        with hard_limit(timeout):
            header = None
            if span.index:  # the file's first line is every chunk's column context, as in a whole read
                with connector.open_from(resource, 0) as f:
                    header = header_of(f, span.encoding)
            with connector.open_from(resource, max(0, span.start - PRE)) as f:
                window = _Window(f, span, utf8=codecs.lookup(encoding).name.startswith("utf-8"))
                if window.empty:
                    out.span = (0, 0)
                    return
                pre_chars = _chars(window.pre, encoding)
                owned = 0
                for chunk in iter_chunks(window, encoding, limits.chunk_size, head=window.pre, header=header):
                    owned = chunk.own_end
                    for cid, hit, line, col in _scan_chunk(chunk, resource, contexts, problems):
                        line -= window.pre_lines
                        if line < 1 or (window.own_done and line > window.own_lines):
                            continue  # in the context around the range: a neighbour's
                        rec.add(cid, hit, _text_location(line, col, hit, hit.start - pre_chars))
                    if deadline is not None and time.monotonic() > deadline:
                        out.skipped = _timed_out(resource, timeout, span.start + window.own_read)
                        break
                else:
                    out.span = (owned - pre_chars - _chars(bytes(window.post), encoding), window.own_lines)
    except Expired:
        out.skipped = _timed_out(resource, timeout, span.start + (window.own_read if window else 0))
    finally:
        out.bytes_read = window.own_read if window else 0
        out.partial = out.skipped is not None
        out.problems += [Skipped(resource.uri, p.reason, p.detail, resource.target) for p in problems]


def _without_bom(encoding: str) -> str:
    """The encoding of text after the file's start: a byte-order mark is only one at offset 0."""
    return "utf-8" if codecs.lookup(encoding).name == "utf-8-sig" else encoding


def _chars(data: bytes, encoding: str) -> int:
    """Characters the chunker decodes these bytes to (they start and end on character boundaries or at EOF)."""
    return len(codecs.decode(data, encoding, "replace"))


class _Window:
    """A range's own bytes as a stream, then PRE bytes of what follows; `pre` holds PRE bytes of what precedes."""

    def __init__(self, f, span, utf8: bool):
        self.f, self.end, self.last = f, span.end, span.index == span.count - 1
        self.own_read = self.own_lines = self.pre_lines = 0
        self.own_done, self.post, self.pre, self._pending = False, bytearray(), b"", b""
        self.empty, self._at = False, 0  # _at: the file offset of the next own byte
        if span.start == 0:
            return
        data, at = b"", max(0, span.start - PRE)  # at: the file offset of data[0]
        while (i := data.find(b"\n", max(0, span.start - 1 - at))) < 0:  # the line the range starts in ends here
            block = f.read(READ_SIZE)
            if not block:
                self.empty = True  # that line runs to the end: it is the range's before
                return
            keep = data[-PRE:]
            at += len(data) - len(keep)
            data = keep + block
        own = at + i + 1
        self.empty = own >= self.end  # the line ends past the range: the range owns nothing
        pre = data[:i + 1][-PRE:]
        if utf8:
            pre = pre.lstrip(_CONTINUATION)  # begin on a character: what precedes it is context anyway
        self.pre, self.pre_lines, self._pending, self._at = pre, pre.count(b"\n"), data[i + 1:], own

    def read(self, n: int = -1) -> bytes:
        """The next bytes: own ones until the range's end, then context, then nothing."""
        if self.own_done:
            return self._context()
        block, self._pending = self._pending or self.f.read(READ_SIZE), b""
        if not block:
            return b""
        at = self._at
        if not self.last and at + len(block) >= self.end:  # the range ends after the first line end from end - 1
            j = block.find(b"\n", max(0, self.end - 1 - at))
            if j >= 0:
                block, self._pending, self.own_done = block[:j + 1], block[j + 1:], True
        self._at = at + len(block)
        self.own_read += len(block)
        self.own_lines += block.count(b"\n")
        return block

    def _context(self) -> bytes:
        need = PRE - len(self.post)
        if need <= 0:
            return b""
        block, self._pending = self._pending or self.f.read(need), b""
        block, self._pending = block[:need], block[need:]
        self.post += block
        return block
