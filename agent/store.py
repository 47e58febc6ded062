"""The run store: one SQLite file per scan holding findings, value sets, skips and resource access.

Findings go here as they are made; reports render from here afterwards, so no list of every
finding is held in memory. Only masked evidence and keyed hashes are ever written.
"""
from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from vendorscan.agent.records import FindingRow, ValueSet, columns, names, placeholders
from vendorscan.agent.values import PIECE, count_union, listed_occurrences
from vendorscan.model import Finding, Resource, Severity, Skipped
from vendorscan.report import dump_json

# Where each finding of this scan stands in the state db's history, and the findings this scan resolved: written
# by State.record_scan when the scan ends (one INSERT … SELECT), read by reports. Empty in stores made before it was.
LIFECYCLE_FIELDS = ("fingerprint", "status", "first_seen", "last_seen", "target", "resource", "check_id", "kind",
                    "severity", "title")
_LIFE = "l.status, l.first_seen, l.last_seen"
# Worst first (the find_order index), and by resource.
_BY_SEVERITY = "f.severity, f.distinct_count DESC, f.resource, f.kind"
_BY_RESOURCE = "f.target, f.resource, f.severity, f.kind"
LIFECYCLE_COLUMNS = "fingerprint TEXT PRIMARY KEY, " + ", ".join(f"{c} TEXT" for c in LIFECYCLE_FIELDS[1:])

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS findings ({columns(FindingRow, primary="fingerprint")});
CREATE TABLE IF NOT EXISTS value_sets ({columns(ValueSet)});
CREATE INDEX IF NOT EXISTS vs_resource ON value_sets(resource, check_id, kind, verdict, part);
CREATE INDEX IF NOT EXISTS find_resource ON findings(resource);
CREATE INDEX IF NOT EXISTS find_order ON findings(severity, distinct_count DESC, resource, kind);
CREATE TABLE IF NOT EXISTS skipped (target TEXT, uri TEXT, reason TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS carried (target TEXT, uri TEXT, entry TEXT);
CREATE INDEX IF NOT EXISTS carried_uri ON carried(uri);
CREATE TABLE IF NOT EXISTS resources (
    uri TEXT PRIMARY KEY, target TEXT, kind TEXT, parent TEXT, size INTEGER, access TEXT);
CREATE TABLE IF NOT EXISTS lifecycle ({LIFECYCLE_COLUMNS});
"""


def finding_row(f: Finding) -> FindingRow:
    """The findings-table row of a finding."""
    return FindingRow(f.fingerprint, f.target, f.resource, f.check_id, f.severity.rank, f.category, f.verdict, f.kind,
            f.distinct, dump_json(f.to_dict()))  # report.json copies it as it is


def _life(row) -> dict[str, str] | None:
    return dict(zip(("status", "first_seen", "last_seen"), row)) if row[0] is not None else None


class RunStore:
    """Append-mostly SQLite store for one scan; written by the coordinating process only."""

    def __init__(self, path: Path, attach: dict[str, Path] | None = None):
        """Open (or create) the store; attach: other databases by schema name, such as the state db's cache."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        self.db = sqlite3.connect(path, isolation_level=None)
        # No WAL and no syncs: a run store is read only once its scan has finished (result.json beside
        # it); a killed scan's store is never read again (the next run resumes from the state db's cache).
        self.db.execute("PRAGMA journal_mode=MEMORY")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(_SCHEMA)
        self.attached = dict(attach or {})
        self._resources: list[tuple] = []
        self._access_json: dict = {}  # policies repeat across a folder's files: encode each once
        for name, other in self.attached.items():  # before BEGIN: SQLite attaches outside transactions only
            self.db.execute(f"ATTACH DATABASE ? AS {name}", (str(other),))
        # Every value set of the scan: those kept here (names, resources not cached), and those in the state db's
        # cache under the entry (scan) that read them, which this store refers to (main.carried).
        carried = (f" UNION ALL SELECT v.rowid, {names(ValueSet, 'v.')} FROM main.carried c JOIN st.cache_value_sets v "
                   "ON v.target = c.target AND v.resource = c.uri AND v.entry = c.entry"
                   ) if "st" in self.attached else ""
        self.db.execute(f"CREATE TEMP VIEW IF NOT EXISTS all_value_sets AS SELECT rowid AS seq, {names(ValueSet)} "
                        f"FROM main.value_sets{carried}")
        self.db.execute("BEGIN")

    def commit(self) -> None:
        """Make what was written durable."""
        self._flush_resources()
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    @contextmanager
    def idle(self) -> Iterator[None]:
        """Commit and hold no transaction (no lock) for a while, so another connection may read this store."""
        self._flush_resources()
        self.db.execute("COMMIT")
        try:
            yield
        finally:
            self.db.execute("BEGIN")

    def close(self) -> None:
        """Commit and close."""
        self._flush_resources()
        self.db.execute("COMMIT")
        self.db.close()

    # -- writing --------------------------------------------------------------------------
    def add_finding(self, f: Finding) -> None:
        """Store a finding (a later one with the same fingerprint replaces it)."""
        self.db.execute(f"INSERT OR REPLACE INTO findings VALUES ({placeholders(FindingRow)})", finding_row(f))

    def add_value_set(self, row: ValueSet, spool=None, at: int = 0, schema: str = "main", entry: str = "") -> None:
        """Store a value set; its blobs as given, or (spool: a unit's spool file) read from it at offset `at`
        (row.hashes and row.listed then hold their lengths); into main or, with its entry, the state db's cache.
        A large set becomes several rows of at most PIECE bytes each, its counts on the first."""
        table = f"{schema}.value_sets" if schema == "main" else f"{schema}.cache_value_sets"
        lead = () if schema == "main" else (entry, None)
        sql = f"INSERT INTO {table} VALUES ({','.join('?' * (len(lead) + len(row)))})"
        if spool is None:
            self.db.execute(sql, (*lead, *row))
            return
        nh, nl = row.hashes, row.listed
        hashes_at, listed_at = at, at + nh
        first = True
        while first or nh or nl:
            spool.seek(hashes_at)
            hashes = spool.read(min(nh, PIECE))
            spool.seek(listed_at)
            listed = spool.read(min(nl, PIECE))
            if len(hashes) != min(nh, PIECE) or len(listed) != min(nl, PIECE):
                raise RuntimeError("a unit's spool ended before its value sets did")
            piece = row._replace(hashes=hashes, listed=listed) if first else \
                row._replace(count=0, distinct_count=0, hashes=hashes, listed=listed)
            self.db.execute(sql, (*lead, *piece))
            hashes_at, listed_at = hashes_at + len(hashes), listed_at + len(listed)
            nh, nl, first = nh - len(hashes), nl - len(listed), False

    def drop_value_sets(self, target: str, resource: str) -> None:
        """Forget a resource's value sets here (a file read in ranges that changed, or was not read to its end)."""
        self.db.execute("DELETE FROM main.value_sets WHERE resource=? AND target=?", (resource, target))

    def move_to_cache(self, target: str, resource: str, entry: str) -> None:
        """Move a resource's value sets from here into the state db's cache under `entry` (in their order)."""
        self.db.execute(f"INSERT INTO st.cache_value_sets SELECT ?, NULL, {names(ValueSet)} FROM main.value_sets "
                        "WHERE resource=? AND target=? ORDER BY rowid", (entry, resource, target))
        self.drop_value_sets(target, resource)

    def distinct_of(self, target: str, resource: str, a) -> int:
        """Distinct values of one aggregate of a resource over all its rows here (the ranges of a split file)."""
        return self._union("v.target=? AND v.resource=? AND v.check_id=? AND v.kind=? AND v.verdict=? AND v.part=?",
                           [target, resource, a.check_id, a.kind, a.verdict, a.part], cached=False)

    def add_skipped(self, s: Skipped) -> None:
        """Record a resource that was not read."""
        self.db.execute("INSERT INTO skipped VALUES (?,?,?,?)", (s.target, s.uri, s.reason, s.detail))

    def add_resource(self, r: Resource) -> None:
        """Remember a resource's container and access, for correlation (written in batches)."""
        access = None
        if r.access is not None:
            known = self._access_json.get(id(r.access))
            if known is not None and known[0] is r.access:  # the same policy object (a folder's files share it)
                access = known[1]
            else:
                if len(self._access_json) >= 4096:
                    self._access_json.clear()
                access = json.dumps(r.access.to_dict())
                self._access_json[id(r.access)] = (r.access, access)
        self._resources.append((r.uri, r.target, r.kind, r.parent, r.size, access))
        if len(self._resources) >= 1000:
            self._flush_resources()

    def _flush_resources(self) -> None:
        if self._resources:
            self.db.executemany("INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?,?)", self._resources)
            self._resources = []

    # -- reading --------------------------------------------------------------------------
    def findings(self, target: str | None = None, check_id: str | None = None,
                 order: str = "severity") -> Iterator[Finding]:
        """Findings, worst first (or by resource), optionally for one target or check."""
        for (body,) in self._finding_rows("f.body", target, check_id, order):
            yield Finding.from_dict(json.loads(body))

    def findings_with_lifecycle(self) -> Iterator[tuple[Finding, dict[str, str] | None]]:
        """(finding, its {status, first_seen, last_seen} as recorded at scan end, or None), worst first."""
        for body, *life in self._finding_rows(f"f.body, {_LIFE}"):
            yield Finding.from_dict(json.loads(body)), _life(life)

    def finding_texts(self) -> Iterator[tuple[str, tuple, str, int, dict[str, str] | None, bytes | None]]:
        """(body as stored JSON, occurrence key, category, count, lifecycle, first piece of its listed occurrences)
        of every finding, worst first: for writers that copy a finding's JSON as it is."""
        # The first piece comes in the same query: one query a finding cost more than the rest of its writing.
        first = ("(SELECT v.listed FROM all_value_sets v WHERE v.resource = f.resource AND v.check_id = f.check_id "
                 "AND v.kind = f.kind AND v.verdict = f.verdict AND v.part = json_extract(f.body, '$.part') "
                 "ORDER BY v.seq LIMIT 1)")
        for body, category, count, *rest in self._finding_rows(
                f"f.body, f.category, json_extract(f.body, '$.count'), f.resource, f.check_id, f.kind, f.verdict, "
                f"json_extract(f.body, '$.part'), {_LIFE}, {first}"):
            yield body, tuple(rest[:5]), category, count, _life(rest[5:8]), rest[8]

    def _finding_rows(self, select: str, target: str | None = None, check_id: str | None = None,
                      order: str = "severity"):
        sql, args = f"SELECT {select} FROM findings f LEFT JOIN lifecycle l ON l.fingerprint = f.fingerprint " \
                    "WHERE 1=1", []
        if target is not None:
            sql += " AND f.target=?"
            args.append(target)
        if check_id is not None:
            sql += " AND f.check_id=?"
            args.append(check_id)
        sql += " ORDER BY " + (_BY_SEVERITY if order == "severity" else _BY_RESOURCE)
        return self.db.execute(sql, args)

    def occurrences(self, f: Finding, limit: int = -1) -> Iterator[dict[str, Any]]:
        """The occurrences behind one finding in document order: every one, or the first `limit`."""
        return self.occurrences_of((f.resource, f.check_id, f.kind, f.verdict, f.part), limit)

    def occurrences_of(self, key: tuple, limit: int = -1) -> Iterator[dict[str, Any]]:
        """The occurrences of the finding with this key (resource, check_id, kind, verdict, part)."""
        # A large set's listed occurrences are one compressed stream over its rows (pieces), in order.
        yield from listed_occurrences((b for (b,) in self.db.execute(
            "SELECT listed FROM all_value_sets WHERE resource=? AND check_id=? AND kind=? AND verdict=? AND part=? "
            "ORDER BY seq", key)), limit)

    def occurrences_from(self, first: bytes | None, key: tuple, count: int, limit: int) -> Iterator[dict[str, Any]]:
        """The first `limit` occurrences of a finding from the first piece finding_texts gave, any rest from here."""
        n = 0
        for n, o in enumerate(listed_occurrences(first, limit), 1):
            yield o
        if n < min(limit, count):  # a set stored in several pieces (large, or read in byte ranges)
            yield from islice(self.occurrences_of(key, limit), n, None)

    def at_least(self, rank: int) -> Iterator[str]:
        """Fingerprints of the findings of severity rank `rank` or worse."""
        return (fp for (fp,) in self.db.execute("SELECT fingerprint FROM findings WHERE severity <= ?", (rank,)))

    def decision_rows(self) -> Iterator[tuple]:
        """(fingerprint, check_id, kind, verdict, target, resource, special category) of every finding, worst first."""
        return self._finding_rows("f.fingerprint, f.check_id, f.kind, f.verdict, f.target, f.resource, "
                                  "json_extract(f.body, '$.details.special_category')")

    def table_findings(self, target: str) -> Iterator[tuple[str, list[str]]]:
        """(resource, tables of its locations) of a target's real-looking national-id findings located in tables."""
        for uri, tables in self.db.execute(
                "SELECT f.resource, json_extract(f.body, '$.locations') FROM findings f WHERE f.target=? AND "
                "f.category='national_id' AND f.verdict='real' AND json_extract(f.body, '$.locations[0].table') != '' "
                f"ORDER BY {_BY_RESOURCE}", (target,)):
            yield uri, [loc["table"] for loc in json.loads(tables) if loc.get("table")]

    def skipped(self, target: str | None = None) -> Iterator[Skipped]:
        """Skip records in the order they were made."""
        sql = "SELECT uri, reason, detail, target FROM skipped"
        rows = self.db.execute(sql + " WHERE target=? ORDER BY rowid", (target,)) if target is not None \
            else self.db.execute(sql + " ORDER BY rowid")
        for uri, reason, detail, tgt in rows:
            yield Skipped(uri, reason, detail, tgt)

    def severity_counts(self) -> dict[str, int]:
        """Number of findings per severity name."""
        counts = {s.value: 0 for s in Severity}
        for rank, n in self.db.execute("SELECT severity, COUNT(*) FROM findings GROUP BY severity"):
            counts[list(Severity)[rank].value] = n
        return counts

    def findings_per_target(self) -> dict[str, int]:
        """Number of findings (info excluded) per target."""
        return dict(self.db.execute("SELECT target, COUNT(*) FROM findings WHERE severity < 4 GROUP BY target"))

    def distinct_persons(self, target: str | None = None, category: str = "national_id") -> int:
        """Distinct real-looking values of a category across the scan (or one target), by keyed hash."""
        where, args = "v.category=? AND v.verdict='real'", [category]
        if target is not None:
            where += " AND v.target=?"
            args.append(target)
        return self._union(where, args)

    def _union(self, where: str, args: list, chosen: bool = False, cached: bool = True) -> int:
        """Distinct hashes over the value sets that `where` selects (by bucket when they are many); chosen: only
        those of the resources in temp.sel, looked up by resource (the view would be read whole)."""
        parts = [f"FROM main.value_sets v WHERE {where}" + (" AND v.resource IN temp.sel" if chosen else "")]
        if cached and "st" in self.attached:
            # CROSS JOIN: from the references to the cache's index, never through the whole cache.
            refs = "temp.sel s CROSS JOIN main.carried c ON c.uri = s.uri" if chosen else "main.carried c"
            parts.append(f"FROM {refs} CROSS JOIN st.cache_value_sets v ON v.resource = c.uri AND v.entry = c.entry "
                         f"AND v.target = c.target WHERE {where}")
        total = sum(self.db.execute(f"SELECT COALESCE(SUM(v.distinct_count), 0) {p}", args).fetchone()[0]
                    for p in parts)
        return count_union(lambda: (b for p in parts for (b,) in self.db.execute(
            f"SELECT v.hashes {p} AND length(v.hashes) > 0", args)), total)

    def data_resources(self, target: str) -> Iterator[tuple[str, str | None, str | None, set[str]]]:
        """(uri, parent, access json, categories) of resources of a target that hold real-looking personal data."""
        self._flush_resources()
        for uri, parent, access, categories in self.db.execute(
                "SELECT f.resource, r.parent, r.access, group_concat(DISTINCT f.category) FROM findings f "
                "LEFT JOIN resources r ON r.uri = f.resource "
                "WHERE f.target=? AND f.verdict='real' AND f.category IN ('national_id','special_category',"
                "'contact','financial') GROUP BY f.resource ORDER BY f.resource", (target,)):
            yield uri, parent, access, set(categories.split(","))

    def _temp_set(self, name: str, values) -> None:
        """temp.<name>(uri) holding just these values: a selection joined through its primary key."""
        self.db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name}(uri TEXT PRIMARY KEY)")
        self.db.execute(f"DELETE FROM {name}")
        self.db.executemany(f"INSERT OR IGNORE INTO {name} VALUES (?)", ((v,) for v in values))

    def persons_in(self, uris: list[str], category: str = "national_id") -> int:
        """Distinct real-looking values of a category over a set of resources."""
        if not uris:
            return 0
        self._temp_set("sel", uris)
        return self._union("v.category=? AND v.verdict='real'", [category], chosen=True)


    def resources_with_findings(self, target: str) -> int:
        """How many resources of a target have findings."""
        return self.db.execute("SELECT COUNT(DISTINCT resource) FROM findings WHERE target=?", (target,)).fetchone()[0]

    def resources_by_severity(self, target: str) -> Iterator[tuple[str, int]]:
        """(resource, worst severity rank) of a target's findings, worst first."""
        yield from self.db.execute(
            "SELECT resource, MIN(severity) AS s FROM findings WHERE target=? GROUP BY resource "
            "ORDER BY s, resource", (target,))

    def lifecycle(self, fingerprint: str) -> dict[str, str] | None:
        """A finding's status (new, persisting, accepted; resolved), first_seen and last_seen at scan end."""
        return _life(self.db.execute(f"SELECT {_LIFE} FROM lifecycle l WHERE fingerprint=?", (fingerprint,)).fetchone()
                     or (None,))

    def resolved(self) -> Iterator[dict[str, str]]:
        """The findings this scan resolved (seen before, gone from a target scanned in full), by target and resource."""
        for row in self.db.execute(f"SELECT {', '.join(LIFECYCLE_FIELDS)} FROM lifecycle WHERE status='resolved' "
                                   "ORDER BY target, resource, check_id, kind"):
            yield dict(zip(LIFECYCLE_FIELDS, row))

    def kinds(self) -> Iterator[tuple[str, str, int | None, int]]:
        """(check_id, kind, worst rank of its findings not about test or masked values (None: none), worst rank)."""
        yield from self.db.execute(
            "SELECT check_id, kind, MIN(CASE WHEN verdict IN ('test', 'masked') THEN NULL ELSE severity END), "
            "MIN(severity) FROM findings GROUP BY check_id, kind ORDER BY check_id, kind")

    def example(self, check_id: str, kind: str) -> Finding | None:
        """The worst finding of a kind, one about real values first: what a rule for the kind is described by."""
        row = self.db.execute("SELECT body FROM findings WHERE check_id=? AND kind=? ORDER BY "
                              "verdict IN ('test', 'masked'), severity, resource LIMIT 1", (check_id, kind)).fetchone()
        return Finding.from_dict(json.loads(row[0])) if row else None

    def roots(self) -> dict[str, list[tuple[str, str]]]:
        """Per target, (uri, kind) of what its walk started from (resources whose container was not walked)."""
        self._flush_resources()
        found: dict[str, list[tuple[str, str]]] = {}
        for target, uri, kind in self.db.execute(
                "SELECT r.target, r.uri, r.kind FROM resources r WHERE NOT EXISTS "
                "(SELECT 1 FROM resources p WHERE p.uri = r.parent) ORDER BY r.target, r.uri"):
            found.setdefault(target, []).append((uri, kind))
        return found

    def findings_by_fingerprint(self, fingerprints: set[str]) -> dict[str, Finding]:
        """The findings with these fingerprints, worst first."""
        self._temp_set("fps", fingerprints)
        rows = self.db.execute("SELECT f.body FROM temp.fps t CROSS JOIN findings f ON f.fingerprint = t.uri "
                               f"ORDER BY {_BY_SEVERITY}").fetchall()
        return {(f := Finding.from_dict(json.loads(b))).fingerprint: f for (b,) in rows}

    def findings_of(self, resource: str) -> list[Finding]:
        """The findings of one resource, worst first."""
        return [Finding.from_dict(json.loads(b)) for (b,) in self.db.execute(
            "SELECT body FROM findings WHERE resource=? ORDER BY severity, check_id, kind", (resource,))]
