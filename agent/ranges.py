"""A plain-text file larger than [limits] split_size is read in byte ranges by several workers at once.

The coordinator plans the ranges of such a file (plan) and merges what they gave once every range is in
(Splits): each range counted lines and character offsets from its own start, so the counts of the ranges
before it are added to its occurrences' and aggregates' locations; the merged Outcome is what one whole read
would have given. A range that was cut short (a timeout, a read error) ends the merge: what followed it is not
kept, as a whole read stops there, and its skip is the resource's, once. A range that found the file changed
drops the whole resource's results (the CHANGED rule: a mixed read is not kept).
"""
from __future__ import annotations

import codecs
import json
import os
from dataclasses import dataclass

from vendorscan.agent.records import Occurrence
from vendorscan.agent.worker import CHANGED, EVIDENCE_SAMPLES, Outcome
from vendorscan.connector import ResourceError
from vendorscan.formats.extract import claimed, kind_of
from vendorscan.formats.sniff import HEAD_SIZE
from vendorscan.model import Aggregate, Resource, Skipped


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Range `index` of `count` of a text file: nominally bytes [start, end), moved to line starts by its reader."""

    index: int
    count: int
    start: int
    end: int
    encoding: str  # the file's, as its head was typed


def splittable(encoding: str) -> bool:
    """Whether a text in this encoding can be cut at any line end: UTF-8 or a single-byte encoding."""
    name = codecs.lookup(encoding).name
    return name in ("utf-8", "utf-8-sig") or len(bytes(range(256)).decode(name, "replace")) == 256


def plan(connector, resource: Resource, split_size: int) -> list[ByteRange]:
    """The ranges a large plain-text file is read in; [] when it is read whole (small, not plain text, a connector
    that cannot open at an offset, a head that could not be read: the whole read reports why)."""
    if not split_size or not connector.ranges or resource.size is None or resource.size <= split_size:
        return []
    try:
        with connector.open_from(resource, 0) as f:
            head = f.read(HEAD_SIZE)
    except (ResourceError, OSError):
        return []
    name = resource.address.rsplit("/", 1)[-1]
    kind, encoding = kind_of(head, name)
    if kind != "text" or claimed(name) is not None or not splittable(encoding):
        return []
    n = -(-resource.size // split_size)
    cuts = [resource.size * k // n for k in range(n + 1)]
    return [ByteRange(k, n, cuts[k], cuts[k + 1], encoding) for k in range(n)]


class Splits:
    """The ranges of split resources in flight; add_occurrences(rows) stores a merged resource's occurrences."""

    def __init__(self, add_occurrences, max_locations: int):
        self.add_occurrences, self.max_locations = add_occurrences, max_locations
        self.parts: dict[str, dict[int, tuple[Outcome, str]]] = {}

    def collect(self, fut, unit) -> Outcome | None:
        """Take one range's result; the resource's merged Outcome once its last range is in, else None."""
        r, span = unit.resources[0], unit.span
        try:
            out = fut.result()[0]
        except Exception as exc:  # noqa: BLE001 - a crashed worker loses this range, and with it the rest
            out = Outcome(r.uri, skipped=Skipped(r.uri, "worker-crashed", f"{type(exc).__name__}: its worker failed "
                                                 f"reading bytes from {span.start}", r.target))
        parts = self.parts.setdefault(r.uri, {})
        parts[span.index] = (out, unit.spool)
        if len(parts) < span.count:
            return None
        del self.parts[r.uri]
        return self._merge(r, [parts[i] for i in range(span.count)])

    def _merge(self, r: Resource, parts: list[tuple[Outcome, str]]) -> Outcome:
        merged = Outcome(r.uri, marker=parts[0][0].marker)
        changed = next((out.skipped for out, _ in parts if out.skipped and out.skipped.reason == CHANGED), None)
        aggs: dict[tuple, Aggregate] = {}
        lines = chars = 0  # in the ranges before this one
        for out, spool in parts:
            if changed is None and merged.skipped is None:
                if os.path.exists(spool):
                    with open(spool, encoding="utf-8") as f:
                        self.add_occurrences(_shifted(f, lines, chars))
                for a in out.aggregates:
                    self._add(aggs, a, lines, chars)
                merged.bytes_read += out.bytes_read
                merged.problems += [p for p in out.problems if p not in merged.problems]
                if out.skipped is not None:  # what follows has no known line numbers: a whole read stopped here too
                    merged.skipped, merged.partial = out.skipped, out.partial or lines > 0 or bool(aggs)
                else:
                    chars, lines = chars + out.span[0], lines + out.span[1]
            if os.path.exists(spool):
                os.unlink(spool)
        if changed is not None:
            merged.skipped = changed
        merged.aggregates = list(aggs.values())
        return merged

    def _add(self, aggs: dict, a: Aggregate, lines: int, chars: int) -> None:
        """One range's aggregate into the resource's, capped as the Recorder caps one whole read's."""
        key = (a.check_id, a.kind, a.verdict, a.part)
        m = aggs.get(key)
        if m is None:
            m = aggs[key] = Aggregate(a.check_id, a.kind, a.category, a.verdict, a.part)
        m.count += a.count
        m.confidence = max(m.confidence, a.confidence)
        m.evidence += [e for e in a.evidence if e not in m.evidence][:EVIDENCE_SAMPLES - len(m.evidence)]
        m.locations += [_shift(loc, lines, chars) for loc in a.locations[:self.max_locations - len(m.locations)]]
        m.notes += [n for n in a.notes if n not in m.notes][:5 - len(m.notes)]


def _shift(loc: dict, lines: int, chars: int) -> dict:
    """A range's location as the file's: lines and characters of the ranges before it added."""
    return {**loc, "line": loc["line"] + lines, "offset": loc["offset"] + chars}


def _shifted(spool_lines, lines: int, chars: int):
    """A range's occurrence rows from its spool, their locations the file's, as JSON text (the stores' form)."""
    for line in spool_lines:
        occ = Occurrence._make(json.loads(line))
        yield occ._replace(location=json.dumps(_shift(occ.location, lines, chars)))
