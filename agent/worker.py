"""One work unit: open each resource, type it, chunk it, run the content checks, aggregate.

Runs in a worker process (or in the coordinating one). It returns masked, hashed aggregates and
coverage counts, and writes each aggregate's value set (distinct keyed hashes, the first occurrences) to the
unit's spool file; never content, never plaintext.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vendorscan.agent.config import Config
from vendorscan.context import ScanContext, ValueHasher
from vendorscan.agent.deadline import Expired, hard_limit
from vendorscan.formats.cells import cell_text, id_width
from vendorscan.format import BombError, Budget, FormatError, Problem, TextStream
from vendorscan.formats.extract import Extractor, failure
from vendorscan.formats.sniff import HEAD_SIZE
from vendorscan.formats.text import iter_chunks, text_chunks
from vendorscan.model import Aggregate, Chunk, Location, Resource, Skipped
from vendorscan.agent.names import Names
from vendorscan.agent.chunkscan import CountingReader, scan_chunk, text_location, timed_out
from vendorscan.agent.range_read import read_range
from vendorscan.agent.values import BlobSpool, ValueCollector
from vendorscan.connector import TABLE_KINDS, ConnectorError, ResourceError

EVIDENCE_SAMPLES = 3
CHANGED = "changed-during-read"  # a resource that changed while it was read: read once more


@dataclass(slots=True)
class WorkUnit:
    """What to read: a target's name and resources. Never credentials, never content."""

    unit_id: int
    target: str
    resources: list[Resource]
    spool: str
    span: Any = None  # a ByteRange: one byte range of its one resource (agent/ranges.py), else whole resources


@dataclass(slots=True)
class Outcome:
    """What reading one resource gave."""

    uri: str
    bytes_read: int = 0
    aggregates: list[Aggregate] = field(default_factory=list)
    skipped: Skipped | None = None
    partial: bool = False
    rows_sampled: int = 0
    rows_total: int | None = None
    marker: str | None = None  # the resource's change marker when it was read (for the incremental cache)
    problems: list[Skipped] = field(default_factory=list)  # parts not read: archive members, pages, a claim
    # Per aggregate, in the same order: (distinct values, offset in the unit's spool, hash bytes, listed bytes).
    value_sets: list[tuple[int, int, int, int]] = field(default_factory=list)
    stored: bool = False  # its value sets are in the run store already (the merged ranges of a split file)


class Worker:
    """Builds connectors and checks once per process and runs units with them."""

    def __init__(self, config: Config, key: bytes):
        self.config = config
        self.hasher = ValueHasher(key)
        self.targets = {t.name: t for t in config.targets}
        self.checks = [(sel.id, sel.cls(sel.options)) for sel in config.checks if sel.cls.kind == "content"]
        self._connectors: dict[str, Any] = {}

    def _connector(self, name: str):
        if name not in self._connectors:
            from vendorscan import plugins
            t = self.targets[name]
            ctx = ScanContext(t.name, t.environment, self.hasher, t.options, self.config.limits)
            self._connectors[name] = plugins.load("connectors", t.type)(t.options, ctx)
        return self._connectors[name]

    def close(self) -> None:
        """Close the connectors this worker opened."""
        for connector in self._connectors.values():
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - closing must not fail a finished scan
                pass
        self._connectors.clear()

    def run(self, unit: WorkUnit) -> list[Outcome]:
        """Read every resource of the unit; value sets go to unit.spool (their places in each Outcome)."""
        target = self.targets[unit.target]
        ctx = ScanContext(target.name, target.environment, self.hasher, None, self.config.limits)
        contexts = [(cid, check, ctx.with_options(check.options)) for cid, check in self.checks]
        names = Names(contexts, self.hasher)  # the checks, and what masks names and finds in them
        outcomes = []
        spool = BlobSpool(unit.spool)
        try:
            try:
                connector = self._connector(unit.target)
            except ConnectorError as exc:
                return [Outcome(r.uri, skipped=Skipped(r.uri, "connector-error", str(exc), r.target))
                        for r in unit.resources]
            threads = self.config.executor.threads
            if threads > 1 and connector.thread_safe and len(unit.resources) > 1:
                # Network reads wait most of the time: overlap them (the spool takes each value set under a lock).
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    outcomes = list(pool.map(lambda r: self._read(connector, r, names, spool), unit.resources))
            else:
                outcomes = [self._read(connector, r, names, spool, unit.span) for r in unit.resources]
        finally:
            spool.close()
        return outcomes

    def _read(self, connector, resource: Resource, names: Names, spool: BlobSpool, span=None) -> Outcome:
        """Read one resource (or its byte range); one that changed while it was read is read once more, then
        skipped."""
        for _ in range(2):
            rec = Recorder(self.config.limits.max_locations, self.config.listed_occurrences())
            out = self._read_once(connector, resource, names, rec, span)
            if out.skipped is None or out.skipped.reason != CHANGED:
                for agg, distinct, pieces, listed in rec.finish():
                    out.aggregates.append(agg)
                    out.value_sets.append((distinct, *spool.put(pieces, listed)))
                return out
            rec.discard()  # what a mixed read found is not kept
        return out

    def _read_once(self, connector, resource: Resource, names: Names, rec: "Recorder", span=None) -> Outcome:
        out = Outcome(resource.uri, marker=resource.etag)
        try:
            if span is not None:
                read_range(connector, resource, span, self.config.limits, names.contexts, rec, out)
            elif resource.kind in TABLE_KINDS:
                self._read_table(connector, resource, names, rec, out)
            else:
                self._read_stream(connector, resource, names, rec, out)
        except ResourceError as exc:
            out.skipped = Skipped(resource.uri, exc.reason, exc.detail, resource.target)
        except OSError as exc:
            # The system's words for the errno, never the exception's text (a library's OSError can quote content).
            why = os.strerror(exc.errno) if isinstance(exc.errno, int) else type(exc).__name__
            # A broken pipe or a reset from a network connector's socket: the connection went, not the resource.
            reason = "connection-lost" if isinstance(exc, ConnectionError) else "read-error"
            out.skipped = Skipped(resource.uri, reason, why, resource.target)
        except Exception as exc:  # noqa: BLE001 - one bad resource must not end the scan
            # Only the type: a message could quote scanned content.
            out.skipped = Skipped(resource.uri, "internal-error", type(exc).__name__, resource.target)
        return out

    def _read_stream(self, connector, resource: Resource, names: Names, rec: "Recorder", out: Outcome) -> None:
        limits, formats = self.config.limits, self.config.formats
        deadline = time.monotonic() + limits.resource_timeout if limits.resource_timeout else None
        extractor = Extractor(formats, Budget(formats.max_expanded_size, formats.max_ratio))
        problems: list[Problem] = []
        found_text = False
        seen_names: dict = {}
        counting = CountingReader(None, 0)
        try:  # the hard limit holds inside a library call too (in a main thread; elsewhere the checks below)
            with hard_limit(limits.resource_timeout), connector.open(resource) as stream:
                counting = CountingReader(stream, 0)
                head = counting.read(HEAD_SIZE)
                if not head:
                    out.skipped = Skipped(resource.uri, "empty", "0 bytes: nothing to scan", resource.target)
                    return
                name = resource.address.rsplit("/", 1)[-1]
                for item in extractor.extract(counting, head, name):
                    if isinstance(item, Problem):
                        problems.append(item)
                        continue
                    found_text = True
                    container, in_names = names.location(item.location, seen_names, resource)
                    for cid, hit, loc in in_names:
                        rec.add(cid, hit, loc)
                    if isinstance(item, TextStream):
                        chunks, place = iter_chunks(item.stream, item.encoding, limits.chunk_size, head=item.head), None
                    else:
                        chunks, place = text_chunks(item.text, limits.chunk_size), item.place
                    try:
                        for chunk in chunks:
                            chunk.location = item.location
                            for cid, hit, line, col in scan_chunk(chunk, resource, names.contexts, problems):
                                if place is None:
                                    loc = {**text_location(line, col, hit), **container}
                                else:
                                    loc = {**container, **place(line, col, hit.end - hit.start)}
                                rec.add(cid, hit, loc)
                            if deadline is not None and time.monotonic() > deadline:
                                break
                    except (BombError, FormatError) as exc:  # a member that broke off or blew up while being read
                        problems.append(failure(exc, "text member", item.location.member or ""))
                    if deadline is not None and time.monotonic() > deadline:
                        # Parts already found unreadable are still listed below; the rest was not read.
                        out.skipped = timed_out(resource, limits.resource_timeout, counting.count)
                        break
                out.bytes_read = counting.count
        except Expired:
            out.skipped = timed_out(resource, limits.resource_timeout, counting.count)
            out.bytes_read = counting.count
        for p in problems:
            uri = f"{resource.uri}!/{names.mask(p.member)}" if p.member else resource.uri
            skip = Skipped(uri, p.reason, p.detail, resource.target)
            if not p.member and out.skipped is None and not found_text:
                out.skipped = skip  # nothing of the resource could be read: it counts as skipped
            else:
                out.problems.append(skip)
        if out.skipped is not None and found_text:
            out.partial = True

    def _read_table(self, connector, resource: Resource, names: Names, rec: "Recorder", out: Outcome) -> None:
        # Each column of a batch of sampled rows becomes one chunk, a cell a line: one scan per
        # column and batch, and a hit's line number gives its row key back.
        sample = connector.sample(resource)
        out.rows_total = sample.total_rows
        table = names.mask(sample.table)
        shown = [names.mask(column) for column in sample.columns]
        problems: list[Problem] = []  # what a check could not scan (a custom detector's pattern timing out)
        for column, masked in zip(sample.columns, shown):
            for cid, hit in names.hits(column, resource):
                rec.add(cid, hit, {"table": table, "column_name": masked, "section": "column name"}, part=masked)
        for keys, rows in sample.batches:
            first = out.rows_sampled + 1
            out.rows_sampled += len(rows)
            for ci, column in enumerate(sample.columns):
                width = id_width([row[ci] for row in rows])
                text = "\n".join(cell_text(row[ci], width) for row in rows)
                out.bytes_read += len(text)
                # The real column name: it is context for the values (a column named personnummer).
                chunk = Chunk(text, 0, 0, len(text), 1, 1, Location(table=table, column_name=column))
                for cid, hit, line, _ in scan_chunk(chunk, resource, names.contexts, problems):
                    key = names.row_key(keys[line - 1], first + line - 1)
                    rec.add(cid, hit, {"table": table, "column_name": shown[ci], "row_key": key}, part=shown[ci])
        out.problems += [Skipped(resource.uri, p.reason, p.detail, resource.target) for p in problems]


class Recorder:
    """Aggregates hits per (check, kind, verdict, part), with the value set (hashes, first occurrences) of each."""

    __slots__ = ("max_locations", "listed", "aggs")

    def __init__(self, max_locations: int, listed: int):
        """listed: occurrences a value set lists (< 0: every one)."""
        self.max_locations, self.listed = max_locations, listed
        self.aggs: dict[tuple, tuple[Aggregate, ValueCollector]] = {}

    def add(self, cid: str, hit, loc: dict[str, Any], part: str = "") -> None:
        """Count one hit: in its aggregate, and (masked, hashed) in the aggregate's value set."""
        # Keyed by the verdict member (its value is read through the enum machinery: once per aggregate).
        key = (cid, hit.kind, hit.verdict, part)
        entry = self.aggs.get(key)
        if entry is None:
            entry = self.aggs[key] = (Aggregate(cid, hit.kind, hit.category, hit.verdict.value, part),
                                      ValueCollector(self.listed))
        agg, values = entry
        agg.count += 1
        if hit.confidence > agg.confidence:
            agg.confidence = hit.confidence
        evidence = agg.evidence
        if len(evidence) < EVIDENCE_SAMPLES and hit.evidence not in evidence:
            evidence.append(hit.evidence)
        if len(agg.locations) < self.max_locations:
            agg.locations.append(loc)
        if hit.note and hit.note not in agg.notes and len(agg.notes) < 5:
            agg.notes.append(hit.note)
        values.add(hit.value_hash, hit.confidence, hit.evidence, loc)

    def finish(self):
        """(aggregate, distinct values, hash bytes in pieces, listed blob in pieces) of each aggregate, in the order
        made (each piece read before the next aggregate)."""
        for agg, values in self.aggs.values():
            yield (agg, *values.finish())
        self.aggs = {}

    def discard(self) -> None:
        """Drop everything recorded."""
        for _, values in self.aggs.values():
            values.discard()
        self.aggs = {}


_PROCESS_WORKER: Worker | None = None


def process_worker(config_raw: dict, source: str, key: bytes) -> Worker:
    """The Worker of a process of its own (a pool's, a Dask worker's): the config parsed again, plugins loaded here."""
    from vendorscan.agent import logs
    from vendorscan.agent.config import parse
    logs.quiet_libraries()  # as in the coordinating process
    return Worker(parse(config_raw, source), key)


def init_process(config_raw: dict, source: str, key: bytes) -> None:
    """Pool initializer: this process's Worker."""
    global _PROCESS_WORKER
    _PROCESS_WORKER = process_worker(config_raw, source, key)


def run_in_process(unit: WorkUnit) -> list[Outcome]:
    """Pool entry point."""
    assert _PROCESS_WORKER is not None, "worker process not initialised"
    return _PROCESS_WORKER.run(unit)
