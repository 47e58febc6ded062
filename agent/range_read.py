"""A worker's read of one byte range of a large plain-text file (agent/ranges.py plans and merges them).

The coordinator counted the characters and lines before the range, so the range is read as the very chunks a
whole read gives there (same text, bounds and line numbers: the checks see what they see in a whole read, and
a chunk-wide judgement such as the identifier check's country vote comes out the same). A range answers for the
chunks whose own part starts in it, reading on past its end to finish the last one; the overlap before its first
chunk comes from the bytes just before the range.
"""
from __future__ import annotations

import codecs
import time

from vendorscan.agent.deadline import Expired, hard_limit
from vendorscan.agent.chunkscan import CountingReader, scan_chunk, text_location, timed_out
from vendorscan.connector import ResourceError
from vendorscan.formats.text import OVERLAP, Resume, header_of, iter_chunks
from vendorscan.model import Resource, Skipped

PRE = 4 * OVERLAP + 8  # bytes before a range that hold at least OVERLAP characters of any UTF-8 text
_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that never start a character


def read_range(connector, resource: Resource, span, limits, contexts, rec, out) -> None:
    """Scan the chunks whose own part starts in one range of a text file into `rec` (its Outcome: `out`), at the
    file's locations."""
    if span.problem:  # the coordinator could not count the file to this range
        raise ResourceError(*span.problem)
    cc, timeout = limits.chunk_size, limits.resource_timeout
    first = -(-span.chars // cc) * cc  # the own start of the first chunk that starts in the range
    if first >= span.next_chars:  # no chunk starts here (the tail of a long line): the range before read it
        out.bytes_read = span.end - span.start
        return
    deadline = time.monotonic() + timeout if timeout else None
    problems: list = []
    counting = CountingReader(None, 0)
    try:
        with hard_limit(timeout):
            header = resume = None
            encoding = span.encoding
            if span.start:
                with connector.open_from(resource, 0) as f:  # the file's first line: every chunk's column context
                    header = header_of(f, span.encoding)
                before = _before(connector, resource, span, span.chars - (first - OVERLAP))
                resume, encoding = Resume(span.chars, span.lines + 1, first, before), _without_bom(encoding)
            with connector.open_from(resource, span.start) as f:
                counting = CountingReader(f, 0)
                for chunk in iter_chunks(counting, encoding, cc, header=header, resume=resume):
                    if chunk.own_start >= span.next_chars:
                        break  # the next range's
                    for cid, hit, line, col in scan_chunk(chunk, resource, contexts, problems):
                        rec.add(cid, hit, text_location(line, col, hit))
                    if deadline is not None and time.monotonic() > deadline:
                        out.skipped = timed_out(resource, timeout, span.start + counting.count)
                        break
    except Expired:
        out.skipped = timed_out(resource, timeout, span.start + counting.count)
    finally:
        out.bytes_read = min(counting.count, span.end - span.start)
        out.partial = out.skipped is not None
        out.problems += [Skipped(resource.uri, p.reason, p.detail, resource.target) for p in problems]


def _before(connector, resource: Resource, span, wanted: int) -> str:
    """The last `wanted` characters before the range (none when its first chunk's overlap lies inside it)."""
    if wanted <= 0:
        return ""
    at = max(0, span.start - PRE)
    with connector.open_from(resource, at) as f:
        data = f.read(span.start - at)
    if at and codecs.lookup(span.encoding).name.startswith("utf-8"):
        data = data.lstrip(_CONTINUATION)  # begin on a character; what precedes it is not wanted
    return codecs.decode(data, span.encoding if at == 0 else _without_bom(span.encoding), "replace")[-wanted:]


def _without_bom(encoding: str) -> str:
    """The encoding of text after the file's start: a byte-order mark is only one at offset 0."""
    return "utf-8" if codecs.lookup(encoding).name == "utf-8-sig" else encoding
