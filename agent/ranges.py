"""A plain-text file larger than [limits] split_size is read in byte ranges by several workers at once.

The coordinator plans the ranges of such a file (plan): it reads the file once, only decoding and counting
(about a GB/s), so each range starts at a line start whose character offset and line number are known; the
workers (agent/range_read.py) then read each range as the chunks a whole read gives there, at the file's own
locations. Splits merges what the ranges gave once every one is in: the Outcome of the resource, its skip and
problems once. A range that found the file changed drops the whole resource's results (the CHANGED rule: a
mixed read is not kept).
"""
from __future__ import annotations

import codecs
import logging
import os
from dataclasses import dataclass

from vendorscan.agent.worker import CHANGED, EVIDENCE_SAMPLES, Outcome
from vendorscan.connector import ResourceError
from vendorscan.formats.extract import claimed, kind_of
from vendorscan.formats.sniff import HEAD_SIZE
from vendorscan.model import Aggregate, Resource, Skipped

_BLOCK = 1 << 20
log = logging.getLogger("vendorscan")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Range `index` of `count` of a text file: bytes [start, end), both at line starts (or the end)."""

    index: int
    count: int
    start: int
    end: int
    encoding: str  # the file's, as its head was typed
    chars: int  # characters before start, as a whole read decodes them
    lines: int  # line ends before start
    next_chars: int  # characters before end
    problem: tuple[str, str] | None = None  # (reason, detail): the file could not be counted up to here


def splittable(encoding: str) -> bool:
    """Whether a text in this encoding can be cut at any line end: UTF-8 or a single-byte encoding."""
    name = codecs.lookup(encoding).name
    return name in ("utf-8", "utf-8-sig") or len(bytes(range(256)).decode(name, "replace")) == 256


def plan(connector, resource: Resource, split_size: int):
    """The ranges a large plain-text file is read in, one at a time as the count reaches them; none when it is
    read whole (small, not plain text, a connector that cannot open at an offset, a head that could not be read:
    the whole read reports why)."""
    if not split_size or not connector.ranges or resource.size is None or resource.size <= split_size:
        return
    n, done = -(-resource.size // split_size), 0
    try:
        with connector.open_from(resource, 0) as f:
            head = f.read(HEAD_SIZE)
            name = resource.address.rsplit("/", 1)[-1]
            kind, encoding = kind_of(head, name)
            if kind != "text" or claimed(name) is not None or not splittable(encoding):
                return
            log.debug("%s: read in %d byte ranges ([limits] split_size)", resource.uri, n,
                      extra={"target": resource.target})
            for span in _count(f, head, resource.size, n, encoding):
                yield span
                done += 1
    except (ResourceError, OSError) as exc:
        if not done:
            return
        problem = (exc.reason, exc.detail) if isinstance(exc, ResourceError) else ("read-error", "counting failed")
        for k in range(done, n):  # the ranges not counted: each reports why, the merge once
            yield ByteRange(k, n, 0, 0, "utf-8", 0, 0, 0, problem)


def _count(f, head: bytes, size: int, n: int, encoding: str):
    """The ranges of n nominally equal parts, each ending after the first line end from its nominal end on."""
    cuts = [size * k // n for k in range(1, n)]
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pos = chars = lines = index = 0  # bytes, characters and line ends counted; the range being counted
    begin = (0, 0, 0)  # (byte, characters, lines) where it starts
    block = head
    while block or (block := f.read(_BLOCK)):
        j = -1
        if index < n - 1 and pos + len(block) >= cuts[index]:
            j = block.find(b"\n", max(0, cuts[index] - 1 - pos))
        piece, block = (block[:j + 1], block[j + 1:]) if j >= 0 else (block, b"")
        chars += len(decoder.decode(piece))  # a piece ends at a line end or mid-range: nothing is miscounted
        lines += piece.count(b"\n")
        pos += len(piece)
        if j >= 0:
            yield ByteRange(index, n, begin[0], pos, encoding, begin[1], begin[2], chars)
            index, begin = index + 1, (pos, chars, lines)
    chars += len(decoder.decode(b"", final=True))
    yield ByteRange(index, n, begin[0], pos, encoding, begin[1], begin[2], chars)
    for k in range(index + 1, n):  # the file had no more line ends: these ranges are empty
        yield ByteRange(k, n, pos, pos, encoding, chars, lines, chars)


class Splits:
    """The ranges of split resources in flight, merged into one Outcome per resource.

    Each range's value sets go to the store as soon as the ranges before it are in (rows of the resource's
    aggregates, in file order: their listed occurrences read in order), so the coordinator stores them while the
    workers read on; the merged Outcome says they are stored (its distinct counts are unions over the rows)."""

    def __init__(self, store, store_sets, max_locations: int):
        """store_sets(outcome, spool file): store one range's value sets in the run store."""
        self.store, self.store_sets, self.max_locations = store, store_sets, max_locations
        self.parts: dict[str, dict[int, tuple[Outcome, str]]] = {}
        self.stored: dict[str, int] = {}  # by resource: the ranges stored so far; -1 once a range found it changed
        self.targets: dict[str, str] = {}  # by resource in flight: its target

    def collect(self, fut, unit) -> Outcome | None:
        """Take one range's result; the resource's merged Outcome once its last range is in, else None."""
        r, span = unit.resources[0], unit.span
        try:
            out = fut.result()[0]
        except Exception as exc:  # noqa: BLE001 - a crashed worker loses this range
            out = Outcome(r.uri, skipped=Skipped(r.uri, "worker-crashed", f"{type(exc).__name__}: its worker failed "
                                                 f"reading bytes from {span.start}", r.target))
        parts = self.parts.setdefault(r.uri, {})
        parts[span.index] = (out, unit.spool)
        self.targets[r.uri] = r.target
        self._store(r, parts)
        if len(parts) < span.count:
            return None
        del self.parts[r.uri], self.stored[r.uri], self.targets[r.uri]
        return self._merge(r, [parts[i][0] for i in range(span.count)])

    def abandon(self) -> None:
        """Forget the resources whose ranges did not all come in (the scan was stopped): they are listed as not
        read, so what their first ranges stored goes."""
        for uri, parts in self.parts.items():
            self.store.drop_value_sets(self.targets[uri], uri)
            for _, spool in parts.values():
                if os.path.exists(spool):
                    os.unlink(spool)
        self.parts.clear()
        self.stored.clear()
        self.targets.clear()

    def _store(self, r: Resource, parts: dict[int, tuple[Outcome, str]]) -> None:
        """Store the occurrences of the ranges now next in file order; a range that found the file changed drops
        what was stored, and nothing after it is stored (a mixed read is not kept)."""
        done = self.stored.get(r.uri, 0)
        while done >= 0 and done in parts:
            out, spool = parts[done]
            if out.skipped is not None and out.skipped.reason == CHANGED:
                self.store.drop_value_sets(r.target, r.uri)
                done = -1
                break
            if os.path.exists(spool):
                with open(spool, "rb") as f:
                    self.store_sets(out, f)
                os.unlink(spool)
            done += 1
        self.stored[r.uri] = done
        if done < 0:  # later ranges' spools are not kept
            for _, spool in parts.values():
                if os.path.exists(spool):
                    os.unlink(spool)

    def _merge(self, r: Resource, parts: list[Outcome]) -> Outcome:
        merged = Outcome(r.uri, marker=parts[0].marker, stored=True)
        aggs: dict[tuple, Aggregate] = {}
        for out in parts:
            for a in out.aggregates:
                self._add(aggs, a)
            merged.bytes_read += out.bytes_read
            merged.problems += [p for p in out.problems if p not in merged.problems]
            if out.skipped is not None and merged.skipped is None:  # the first range's skip is the resource's
                merged.skipped = out.skipped
        merged.partial = merged.skipped is not None and any(out.skipped is None or out.partial for out in parts)
        changed = next((out.skipped for out in parts if out.skipped and out.skipped.reason == CHANGED), None)
        if changed is not None:
            merged.skipped, merged.partial, aggs = changed, False, {}  # what was stored, _store dropped
        merged.aggregates = list(aggs.values())
        return merged

    def _add(self, aggs: dict, a: Aggregate) -> None:
        """One range's aggregate into the resource's, capped as the Recorder caps one whole read's."""
        key = (a.check_id, a.kind, a.verdict, a.part)
        m = aggs.get(key)
        if m is None:
            m = aggs[key] = Aggregate(a.check_id, a.kind, a.category, a.verdict, a.part)
        m.count += a.count
        m.confidence = max(m.confidence, a.confidence)
        m.evidence += [e for e in a.evidence if e not in m.evidence][:EVIDENCE_SAMPLES - len(m.evidence)]
        m.locations += a.locations[:self.max_locations - len(m.locations)]
        m.notes += [n for n in a.notes if n not in m.notes][:5 - len(m.notes)]
