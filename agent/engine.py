"""The scan: walk each target, judge resources, hand content to workers, correlate, then report."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import sqlite3
import time
import uuid
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from vendorscan import __version__, plugins
from vendorscan.agent.config import Config
from vendorscan.context import ScanContext, ValueHasher
from vendorscan.agent.cache import TargetCache
from vendorscan.agent.executor import make_executor
from vendorscan.agent.keys import hash_key, state_dir
from vendorscan.skips import makes_incomplete
from vendorscan.check import ResourceFacts
from vendorscan.report import summary
from vendorscan.reports.compliance import decision_row, evaluate
from vendorscan.directory import Breadth
from vendorscan.model import NAME_SECTION, Coverage, Finding, Resource, Severity, Skipped
from vendorscan.agent.names import NAME_PART, Names
from vendorscan.agent.state import ScanLock, State, StateError
from vendorscan.agent.store import RunStore, finding_row
from vendorscan.agent.records import ValueSet
from vendorscan.agent.ranges import Splits, plan
from vendorscan.agent.units import UnitQueue
from vendorscan.agent.worker import Outcome, Recorder, WorkUnit
from vendorscan.connector import STREAM_KINDS, TABLE_KINDS, ConnectorError

log = logging.getLogger("vendorscan")

CONTENT_KINDS = STREAM_KINDS | TABLE_KINDS  # what workers read


@dataclass
class ScanResult:
    """What a finished scan hands to reports and to the command line."""

    scan_id: str
    config_digest: str
    checks_digest: str
    agent_version: str
    started: str
    ended: str = ""
    coverage: list[Coverage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    store: RunStore | None = None
    run_dir: Path | None = None
    checks: list[dict[str, str]] = field(default_factory=list)
    host: str = ""
    operator: str = ""
    fail_on: str = "high"
    public_key: str = ""  # the state dir's bundle-signing key, printed in reports
    lifecycle: dict[str, int] = field(default_factory=dict)  # new / persisting / resolved / accepted counts
    accepted: dict[str, list[str]] = field(default_factory=dict)  # fingerprint -> [who, why, when]
    resumed_from: str = ""  # an interrupted scan whose finished work this one did not redo
    lang: str = "en"  # language of the HTML report
    stopped: bool = False  # stopped on request (Ctrl-C, SIGTERM): recorded as interrupted, the next scan resumes
    summary: dict[str, Any] = field(default_factory=dict)  # vendorscan.report.summary, made once when the scan ends
    compliance: dict[str, Any] = field(default_factory=dict)  # requirements and clauses decided, once at the end
    report_occurrences: int = 10_000  # occurrences listed per finding in report.json ([scan] report_occurrences)

    @property
    def complete(self) -> bool:
        """True when every target was scanned in full (nothing failed, nothing cut short)."""
        return not self.errors and all(c.complete for c in self.coverage)

    def finding_lifecycle(self, finding: Finding) -> dict[str, str] | None:
        """{status, first_seen, last_seen} of one of this scan's findings in the state's history (None: not recorded)."""
        return self.store.lifecycle(finding.fingerprint) if self.store is not None else None

    def resolved_findings(self) -> Iterator[dict[str, str]]:
        """Findings this scan resolved: fingerprint, target, resource, check_id, kind, severity, title, first/last seen."""
        return self.store.resolved() if self.store is not None else iter(())

    def to_dict(self) -> dict[str, Any]:
        """Header fields for reports."""
        return {"scan_id": self.scan_id, "agent_version": self.agent_version, "config_digest": self.config_digest,
                "checks_digest": self.checks_digest, "started": self.started, "ended": self.ended,
                "complete": self.complete, "host": self.host, "operator": self.operator,
                "fail_on": self.fail_on, "errors": list(self.errors), "signing_public_key": self.public_key,
                "lifecycle": self.lifecycle, "resumed_from": self.resumed_from}

    def save(self) -> None:
        """Keep every field but the open store beside the run store (for `vendorscan bundle SCAN_ID`)."""
        doc = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _RUNTIME}
        doc["coverage"] = [c.to_dict() for c in self.coverage]
        (self.run_dir / "result.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        os.chmod(self.run_dir / "result.json", 0o600)

    @classmethod
    def load(cls, run_dir: Path) -> "ScanResult":
        """A finished scan's result from its run dir (reports can be rendered from it again): every saved field."""
        doc = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
        if "signing_public_key" in doc:  # saved before every field was (the reports' header form)
            doc["public_key"] = doc.pop("signing_public_key")
        names = {f.name for f in dataclasses.fields(cls)} - _RUNTIME
        doc = {k: v for k, v in doc.items() if k in names}
        doc["coverage"] = [Coverage.from_dict(c) for c in doc.get("coverage", ())]
        return cls(**doc, store=_open_store(run_dir), run_dir=run_dir)


_RUNTIME = frozenset({"store", "run_dir"})  # ScanResult's fields that only a running process has


def _open_store(run_dir: Path) -> RunStore:
    """A finished scan's store, with the state db it refers to for carried-over value sets."""
    state_db = run_dir.parent.parent / "state.db"
    if _before_value_sets(run_dir / "run.db"):
        raise StateError(f"scan {run_dir.name} was made by an earlier vendorscan, which kept occurrences one row "
                         "each: its reports and bundle are the ones written when it ran; it cannot be rendered again")
    return RunStore(run_dir / "run.db", attach={"st": state_db} if state_db.exists() else None)


# A unit also closes once its files hold this many bytes: a few large files are spread over the workers, not
# read by one while the others wait.
UNIT_BYTES = 16 * 2**20


def _before_value_sets(path: Path) -> bool:
    """Whether a run store is of the kind made before value sets (an occurrences table, no value_sets)."""
    if not path.exists():
        return False
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()
    return "occurrences" in tables and "value_sets" not in tables


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Scan:
    """One scan of every target in a config."""

    def __init__(self, config: Config, state: Path | None = None,
                 on_progress: Callable[[str, Coverage, int], None] | None = None, full: bool = False):
        self.config = config
        self.full = full
        self.state = state_dir(str(state)) if state else state_dir(config.scan.state_dir)
        self.db = State(self.state)
        self.stop_requested = False  # set by a signal handler: finish the current resource, then stop
        self.key = hash_key(self.state, config.scan.hash_key_env, config.scan.hash_key_file)
        self.hasher = ValueHasher(self.key)
        self.on_progress = on_progress or (lambda *_: None)
        self._breadths: dict[str, Breadth] = {}  # by directory name: one directory read per scan, shared by targets

    def breadth(self, directory: str) -> Breadth:
        """The breadth judge of a [directories.NAME] ("" : judged by names), made once per scan."""
        if directory not in self._breadths:
            chosen = self.config.directories.get(directory) if directory else None
            self._breadths[directory] = Breadth(chosen.cls(chosen.options, chosen.name) if chosen else None)
        return self._breadths[directory]

    def run(self) -> ScanResult:
        """Scan every target; the result's store holds findings for the reports."""
        # One scan per state dir at a time: a second one would take the first's live run for a killed one.
        with ScanLock(self.state):
            return self._run()

    def _run(self) -> ScanResult:
        executor = make_executor(self.config, self.key)  # before the run dir: a cluster out of reach leaves nothing
        try:
            return self._run_with(executor)
        finally:
            for breadth in self._breadths.values():
                breadth.close()
            if self.stop_requested and hasattr(executor, "abort"):
                executor.abort()  # units still running were abandoned: do not wait for them
            executor.shutdown()

    def _run_with(self, executor) -> ScanResult:
        # Microseconds in the id: scan ids sort in the order the scans started (run pruning and the cache rely on it).
        scan_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + uuid.uuid4().hex[:8]
        run_dir = self.state / "runs" / scan_id
        interrupted = self.db.mark_interrupted(self.state / "runs")
        last = self.db.history()[-1:]
        if not interrupted and last and last[0][3] == "interrupted":  # stopped on request: its cache is kept
            interrupted = [last[0][0]]
        run_dir.parent.mkdir(mode=0o700, exist_ok=True)
        run_dir.mkdir(mode=0o700)
        (run_dir / "spool").mkdir(mode=0o700)
        store = RunStore(run_dir / "run.db", attach={"st": self.db.path})
        result = ScanResult(scan_id, self.config.digest(), self.config.checks_digest(), __version__, _now(),
                            store=store, run_dir=run_dir, host=socket.gethostname(),
                            operator=self.config.scan.operator or os.environ.get("USER", ""),
                            fail_on=self.config.scan.fail_on, report_occurrences=self.config.scan.report_occurrences,
                            checks=[{"id": c.id, "version": c.cls.version, "description": plugins.describe(c.cls),
                                     "kind": c.cls.kind} for c in self.config.checks],
                            # resources an interrupted run finished are in the cache: they are not read again
                            resumed_from=interrupted[-1] if interrupted else "")
        started = time.monotonic()
        budget = self.config.limits.time_budget
        for target in self.config.targets:
            cov = Coverage(target.name, target.type, target.environment)
            result.coverage.append(cov)
            deadline = started + budget if budget else None
            _TargetScan(self, target, cov, store, executor, run_dir, deadline).run()
            store.commit()
        result.ended = _now()
        result.stopped = self.stop_requested
        store.commit()
        result.summary = summary(result)  # once: the state, the reports and the command line all read this one
        result.compliance = compliance_of(self.config.compliance, result)
        with store.idle():  # the state db's connection reads the run store and writes the cache it attaches
            result.lifecycle = self.db.record_scan(result, result.summary)
            result.accepted = {fp: list(self.db.acceptance(fp)) for fp in self.db.accepted()}
            result.save()
            self.db.free_cache_entries(_prune_runs(self.state / "runs", self.config.scan.keep_runs, keep=scan_id))
        return result


def _prune_runs(runs: Path, keep_last: int, keep: str) -> str:
    """Remove finished run stores beyond the newest keep_last; returns the oldest kept scan id.

    An agent running for months must not fill the disk."""
    import shutil
    finished = sorted(p for p in runs.iterdir() if (p / "result.json").exists() and p.name != keep)
    cut = max(0, len(finished) - (keep_last - 1))
    for old in finished[:cut]:
        shutil.rmtree(old, ignore_errors=True)
        log.info("removed the run store of scan %s (scan.keep_runs = %d)", old.name, keep_last)
    kept = [p.name for p in finished[cut:]] + [keep]
    return min(kept)


class _TargetScan:
    """The scan of one target: walk, resource checks, content units, correlation."""

    def __init__(self, scan: Scan, target, cov: Coverage, store: RunStore, executor, run_dir: Path,
                 deadline: float | None):
        self.scan, self.target, self.cov, self.store = scan, target, cov, store
        self.executor, self.run_dir, self.deadline = executor, run_dir, deadline
        self.config = scan.config
        self.ctx = ScanContext(target.name, target.environment, scan.hasher, None, self.config.limits,
                               {"connector": target.type})
        self.units = UnitQueue(executor, self.config.executor.max_pending or 2 * executor.workers, run_dir / "spool",
                               target.name, lambda: scan.stop_requested, self._collect, self._not_read)
        self.splits = Splits(store, self._store_sets, self.config.limits.max_locations)
        self.findings = 0
        self.checks_digest = self.config.checks_digest()
        self.scan_id = run_dir.name
        self.cache = TargetCache(store, target.name, self.checks_digest, self.scan_id)
        contexts = [(c.id, c.cls(c.options), self.ctx.with_options(c.options))
                    for c in self.config.checks if c.cls.kind == "content"]
        self.names = Names(contexts, scan.hasher)
        self.content_checks = {cid: (check, cctx) for cid, check, cctx in contexts}

    def run(self) -> None:
        if self.scan.stop_requested:
            self._fail("not scanned: the scan was stopped before this target", reason="stopped")
            return
        resource_checks = [(c.cls(c.options), self.ctx.with_options(c.options))
                           for c in self.config.checks if c.cls.kind == "resource"]
        log.info("target %s: scanning (%s, %s)", self.target.name, self.target.type, self.target.environment,
                 extra={"target": self.target.name})
        try:
            connector = plugins.load("connectors", self.target.type)(self.target.options, self.ctx)
        except ConnectorError as exc:
            self._fail(str(exc))
            return
        self.cov.weaknesses = connector.weaknesses()
        breadth = self.scan.breadth(self.target.directory)
        for w in self.cov.weaknesses:
            log.warning("target %s: weakness of this scan: %s", self.target.name, w, extra={"target": self.target.name})
        batch: list[Resource] = []
        batch_bytes = 0
        try:
            for item in connector.walk():
                if isinstance(item, Skipped):
                    self._skip(self.names.skipped(item))
                    continue
                self.cov.resources_seen += 1
                in_name = self.names.disguise(item)  # from here on, only the masked uri is recorded or shown
                if item.access is not None and breadth.directory is not None:
                    item.access = breadth.policy(item.access)
                self.store.add_resource(item)
                if in_name:
                    self._name_findings(item, in_name)
                for check, cctx in resource_checks:
                    for f in check.evaluate(item, cctx):
                        self._add(f)
                if item.kind in CONTENT_KINDS and not self.scan.full and self.cache.unchanged(item.uri, item.etag):
                    self.cov.resources_unchanged += 1
                    self.findings += self.cache.carry(item.uri)
                    continue
                if item.kind in CONTENT_KINDS:
                    limit = self.config.limits.max_file_size
                    if item.size is not None and limit and item.size > limit:
                        self._skip(Skipped(item.uri, "too-large", f"{item.size} bytes > limit {limit}", item.target))
                        continue
                    split = False
                    for span in plan(connector, item, self.config.limits.split_size):
                        split = True  # a large text file: one unit per byte range, merged in self.splits
                        if self.scan.stop_requested:
                            break  # the walk stops below; the ranges submitted are listed as not read once
                        self.units.submit([item], span)
                    if not split:
                        batch.append(item)
                        batch_bytes += item.size or 0
                    if len(batch) >= self.config.executor.unit_files or batch_bytes >= UNIT_BYTES:
                        self.units.submit(batch)
                        batch, batch_bytes = [], 0
                if self.scan.stop_requested:
                    self._fail(f"stopped on request after {self.cov.resources_seen} resources; the rest of the "
                               "target was not walked", reason="stopped")
                    break
                if self.deadline is not None and time.monotonic() > self.deadline:
                    self._fail(f"time budget of {self.config.limits.time_budget}s used up after "
                               f"{self.cov.resources_seen} resources; the rest of the target was not walked",
                               reason="time-budget")
                    break
        except ConnectorError as exc:
            self._fail(f"walk stopped: {exc}")
        except Exception as exc:  # noqa: BLE001 - a connector bug ends this target, not the scan
            # Only the type: a library's message could quote what it read.
            self._fail(f"walk stopped by an unexpected {type(exc).__name__}", reason="internal-error")
        finally:
            for check, cctx in resource_checks:
                for f in check.finish(cctx):
                    self._add(f)
            if batch:
                self.units.submit(batch)
            self.units.finish()
            self.splits.abandon()  # files whose ranges a stop left unread: listed as not read, nothing of them kept
            self.findings += self.cache.flush()
            connector.close()
            self.cov.breadth, self.cov.breadth_msg = breadth.described()
        if self.cov.complete:
            self.store.commit()  # writes out the walk's batched resource rows: they say what still exists
            self.cache.forget_unseen()
        for sel in self.config.checks:
            if sel.cls.kind == "correlation":
                for f in sel.cls(sel.options).correlate(self.store, self.ctx.with_options(sel.options)):
                    self._add(f)

    def _fail(self, message: str, reason: str = "connector-error") -> None:
        message = self.names.mask(message)
        self.cov.complete = False
        self.cov.errors.append(message)
        # A stop on request is the user's own doing: the report says so, the terminal needs no error line.
        log.log(logging.INFO if reason == "stopped" else logging.ERROR, "target %s: %s", self.target.name, message,
                extra={"target": self.target.name, "reason": reason})

    def _skip(self, s: Skipped) -> None:
        if s.detail:
            s = dataclasses.replace(s, detail=self.names.mask(s.detail))
        self.cov.skipped[s.reason] = self.cov.skipped.get(s.reason, 0) + 1
        if makes_incomplete(s.reason):
            self.cov.complete = False
        self.store.add_skipped(s)
        log.info("skipped %s: %s %s", s.uri, s.reason, s.detail, extra={"target": s.target})

    def _add(self, f: Finding) -> None:
        log.debug("finding %s %s %s: %s x%d evidence %s", f.severity.value, f.check_id, f.kind, f.resource,
                  f.count, ", ".join(f.evidence), extra={"target": f.target, "fingerprint": f.fingerprint})
        self.store.add_finding(f)
        self.findings += 1

    def _not_read(self, resources: list[Resource]) -> None:
        for r in {r.uri: r for r in resources}.values():  # the ranges of a split file: once
            self._skip(Skipped(r.uri, "stopped", "the scan was stopped before it was read", r.target))

    def _collect(self, fut: Future, unit: WorkUnit, alone: bool) -> None:
        if unit.span is not None:
            merged = self.splits.collect(fut, unit)  # stores each range's value sets as the ranges come in, in order
            if merged is not None:
                self._ingest(merged, None)
                self.store.commit()
                self.scan.on_progress(self.target.name, self.cov, self.findings)
            return
        try:
            outcomes: list[Outcome] = fut.result()
        except Exception as exc:  # noqa: BLE001 - a crashed worker loses a unit, never the scan
            if not alone:
                # The worker died (a crash in a document library, memory), and with it every unit it held:
                # read these again, one by one, once the rest of the target is done.
                log.warning("target %s: a worker failed (%s) with %d resources; they are read again one by one",
                            self.target.name, type(exc).__name__, len(unit.resources),
                            extra={"target": self.target.name})
                self.units.read_alone_later(unit.resources)
                return
            for r in unit.resources:
                self._skip(Skipped(r.uri, "worker-crashed", f"{type(exc).__name__}: its worker failed reading it, "
                                   "also when it was read alone", r.target))
            return
        spool = Path(unit.spool)
        with open(spool, "rb") if spool.exists() else nullcontext() as blobs:
            for out in outcomes:
                self._ingest(out, blobs)
        spool.unlink(missing_ok=True)
        self.store.commit()
        self.scan.on_progress(self.target.name, self.cov, self.findings)

    def _ingest(self, out: Outcome, blobs) -> None:
        log.debug("read %s: %d bytes, %d kinds found", out.uri, out.bytes_read, len(out.aggregates),
                  extra={"target": self.target.name})
        if out.skipped is not None:
            self._skip(out.skipped)
        for part in out.problems:
            self._skip(part)
        if out.skipped is None or out.partial:
            self.cov.resources_read += 1
        self.cov.bytes_read += out.bytes_read
        self.cov.rows_sampled += out.rows_sampled
        cached = out.skipped is None and out.marker is not None
        if out.stored:  # a split file's ranges: their value sets are rows here; distinct values, a union of them
            distinct = [self.store.distinct_of(self.target.name, out.uri, a) for a in out.aggregates]
            if cached:
                self.store.move_to_cache(self.target.name, out.uri, self.scan_id)
        else:
            # A cached resource's value sets go straight into the cache (the run store refers to them), others here.
            self._store_sets(out, blobs, "st" if cached else "main")
            distinct = [d for d, *_ in out.value_sets]
        made = self._judge(out.uri, out.aggregates, distinct, out.rows_sampled, out.rows_total)
        for f in made:
            self._add(f)
        if cached:
            # Cache what this resource gave, so an unchanged resource is not read again next time.
            rows = []
            for f in made:
                f.details = {**f.details, "carried_over": True}
                rows.append(finding_row(f))
            self.cache.remember(out.uri, out.marker, rows)

    def _name_findings(self, resource: Resource, hits) -> None:
        """Findings for what the content checks saw in a resource's own name (made at every walk, never cached)."""
        rec = Recorder(self.config.limits.max_locations, self.config.listed_occurrences())
        for cid, hit in hits:
            rec.add(cid, hit, {"section": NAME_SECTION}, part=NAME_PART)
        aggregates, distinct = [], []
        for a, n, hashes, listed in rec.finish():  # a name holds a few values: its blobs whole
            self.store.add_value_set(value_set(self.target.name, resource.uri, a, n, b"".join(hashes),
                                               b"".join(listed)))
            aggregates.append(a)
            distinct.append(n)
        for f in self._judge(resource.uri, aggregates, distinct, 0, None):
            self._add(f)

    def _store_sets(self, out: Outcome, blobs, schema: str = "main") -> None:
        store_value_sets(self.store, self.target.name, out, blobs, schema, self.scan_id)

    def _judge(self, uri: str, aggregates: list, distinct: list[int], rows_sampled: int,
               rows_total: int | None) -> list[Finding]:
        """Findings from one resource's aggregates (distinct: the values of each), each check judging its own."""
        counts = {id(a): n for a, n in zip(aggregates, distinct)}
        facts = ResourceFacts(uri, lambda a: counts[id(a)], rows_sampled,
                              rows_total, special=any(a.category == "special_category" for a in aggregates))
        by_check: dict[str, list] = {}
        for a in aggregates:
            by_check.setdefault(a.check_id, []).append(a)
        made: list[Finding] = []
        for cid, aggs in by_check.items():
            check, cctx = self.content_checks[cid]
            made.extend(check.findings(aggs, facts, cctx))
        return made


def store_value_sets(store: RunStore, target: str, out: Outcome, spool, schema: str = "main", entry: str = "") -> None:
    """Store an outcome's value sets from its unit's spool file: in the run store, or in the state db's cache."""
    for a, (distinct, at, nh, nl) in zip(out.aggregates, out.value_sets):
        store.add_value_set(value_set(target, out.uri, a, distinct, nh, nl), spool, at, schema, entry)


def value_set(target: str, uri: str, a, distinct: int, hashes, listed) -> ValueSet:
    """The value-set row of an aggregate (hashes and listed: the blobs, or their lengths in a spool)."""
    return ValueSet(target, uri, a.part, a.check_id, a.kind, a.verdict, a.category, a.count, distinct, hashes, listed)


def exit_code(result: ScanResult) -> int:
    """0: nothing at or above the threshold; 1: findings at or above it; 2: error or incomplete."""
    if not result.complete:
        return 2
    # Accepted risks stay in the report but do not fail the pipeline.
    return 1 if any(fp not in result.accepted for fp in result.store.at_least(Severity(result.fail_on).rank)) else 0


def compliance_of(settings, result: ScanResult) -> dict[str, Any]:
    """The report's `compliance` block: the configured frameworks and contract clauses decided by this scan."""
    environment = {c.target: c.environment for c in result.coverage}
    rows = (decision_row(row, environment.get(row[4], "")) for row in result.store.decision_rows())
    coverage = [{"target": c.target, "connector": c.connector, "environment": c.environment,
                 "complete": c.complete and not result.stopped} for c in result.coverage]
    block = evaluate(list(settings.frameworks), list(settings.clauses), rows, {c["id"] for c in result.checks},
                     coverage)
    if settings.shown:
        block["frameworks"] = [f for f in block["frameworks"] if f["id"] in settings.shown]
    block["contract_name"] = settings.contract
    return block
