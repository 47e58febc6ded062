"""The state database: scan history, finding lifecycle and the incremental cache (SQLite, WAL).

Only masked evidence and keyed value hashes are stored here, as everywhere.
"""
from __future__ import annotations

import functools
import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vendorscan.agent.records import FindingRow, ValueSet, columns
from vendorscan.agent.store import LIFECYCLE_FIELDS
from vendorscan.model import Severity

SCHEMA_VERSION = 3
_MIGRATIONS = {
    1: """
    CREATE TABLE IF NOT EXISTS scans (
        scan_id TEXT PRIMARY KEY, started TEXT, ended TEXT, status TEXT, config_digest TEXT, checks_digest TEXT,
        summary TEXT, coverage TEXT);
    CREATE TABLE IF NOT EXISTS findings (
        fingerprint TEXT PRIMARY KEY, target TEXT, resource TEXT, check_id TEXT, kind TEXT, severity TEXT,
        title TEXT, status TEXT, first_seen TEXT, last_seen TEXT, first_scan TEXT, last_scan TEXT,
        accepted_by TEXT, accepted_reason TEXT, accepted_at TEXT, body TEXT);
    CREATE TABLE IF NOT EXISTS scan_findings (scan_id TEXT, fingerprint TEXT, severity TEXT, PRIMARY KEY (scan_id, fingerprint));
    CREATE TABLE IF NOT EXISTS cache (
        target TEXT, uri TEXT, marker TEXT, checks_digest TEXT, scan_id TEXT, outcome TEXT,
        PRIMARY KEY (target, uri));
    """,
    # The cache keeps findings in the run store's own row shape (copied inside SQLite) and occurrences per
    # entry, the scan that read them: run stores refer to them instead of copying them, and an entry
    # superseded by a later reading is freed once no kept run can refer to it.
    # The cache tables' columns are the records' (agent/records.py) as they were when version 2 was made: a change
    # to a record needs a migration here (tests/test_agent_state.py compares the tables with the records).
    2: f"""
    DROP TABLE IF EXISTS cache;
    CREATE TABLE cache (target TEXT, uri TEXT, marker TEXT, checks_digest TEXT, scan_id TEXT, PRIMARY KEY (target, uri));
    CREATE TABLE cache_findings ({columns(FindingRow)});
    CREATE INDEX cache_findings_resource ON cache_findings(target, resource);
    CREATE TABLE cache_occurrences (entry TEXT, superseded_by TEXT, target TEXT, resource TEXT, part TEXT,
        check_id TEXT, kind TEXT, verdict TEXT, category TEXT, value_hash TEXT, confidence REAL, evidence TEXT,
        location TEXT);
    CREATE INDEX cache_occurrences_entry ON cache_occurrences(resource, entry, target);
    CREATE INDEX cache_occurrences_superseded ON cache_occurrences(superseded_by) WHERE superseded_by IS NOT NULL;
    """,
    # Occurrences one row each made the state dir many times the data scanned: version 3 keeps an aggregate's
    # values as one row of two blobs (agent/values.py). The old cache cannot be turned into it (what was not
    # listed has no hash of its own there): it is emptied, and the next scan reads everything once more.
    3: f"""
    DROP TABLE IF EXISTS cache_occurrences;
    DELETE FROM cache;
    DELETE FROM cache_findings;
    CREATE TABLE cache_value_sets (entry TEXT, superseded_by TEXT, {columns(ValueSet)});
    CREATE INDEX cache_value_sets_entry ON cache_value_sets(resource, entry, target);
    CREATE INDEX cache_value_sets_superseded ON cache_value_sets(superseded_by) WHERE superseded_by IS NOT NULL;
    """,
}


class StateError(RuntimeError):
    """The state dir cannot be used as it is; the message says why and what to do."""


class StateBusy(StateError):
    """Another scan holds the state dir."""


class StateDamaged(StateError):
    """state.db is not a database, or a damaged one."""

    def __init__(self, path: Path, exc: sqlite3.DatabaseError):
        super().__init__(f"state database {path.absolute()} is damaged ({type(exc).__name__}); move it away to "
                         "start a new history, or restore it from a backup")


_CORRUPT = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB (primary codes)


def _guarded(method):
    """A State method that turns SQLite's 'malformed' and 'not a database' into StateDamaged."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _CORRUPT:
                raise StateDamaged(self.path, exc) from None
            raise
    return wrapper


class ScanLock:
    """An exclusive lock on a state dir for the length of one scan (released by the OS if the process dies)."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / "scan.lock"
        self.fd = -1

    def __enter__(self) -> "ScanLock":
        import fcntl
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(self.fd)
            raise StateBusy(f"another scan (pid {holder}) is using the state dir {self.path.parent}; wait for it to "
                            "finish or give this scan its own --state-dir") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)  # closing drops the flock


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class State:
    """One state database per state dir: migrations run on open."""

    @_guarded
    def __init__(self, state_dir: Path):
        self.path = state_dir / "state.db"
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        for target in range(version + 1, SCHEMA_VERSION + 1):
            # One script, one transaction: a crash mid-migration leaves the old version whole.
            self.db.executescript(f"BEGIN IMMEDIATE; {_MIGRATIONS[target]}; PRAGMA user_version = {target}; COMMIT;")

    @_guarded
    def check(self) -> None:
        """Read every page (PRAGMA quick_check): StateDamaged if the database is damaged anywhere."""
        (verdict,) = self.db.execute("PRAGMA quick_check(1)").fetchone()
        if verdict != "ok":
            raise StateDamaged(self.path, sqlite3.DatabaseError(verdict))

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # -- lifecycle ----------------------------------------------------------------------------
    @_guarded
    def record_scan(self, result, summary: dict[str, Any]) -> dict[str, int]:
        """Store a finished scan and move every finding along new -> persisting -> resolved."""
        scan_id, now = result.scan_id, result.ended or _now()
        # Gone from a target that was scanned in full: fixed. An incomplete target proves nothing.
        complete = json.dumps([c.target for c in result.coverage if c.complete])
        sev = "CASE r.severity " + " ".join(f"WHEN {i} THEN '{s.value}'" for i, s in enumerate(Severity)) + " END"
        title = "json_extract(r.body, '$.title')"
        # Set-based, inside SQLite: a scan with a million findings costs no per-finding Python here. The
        # finding bodies stay in each run's store; the lifecycle rows hold only what history and diff need.
        status = "interrupted" if result.stopped else "complete" if result.complete else "incomplete"
        self.db.execute("ATTACH DATABASE ? AS run", (str(result.store.path),))
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT OR REPLACE INTO scans VALUES (?,?,?,?,?,?,?,?)",
                            (scan_id, result.started, result.ended, status,
                             result.config_digest, result.checks_digest, json.dumps(summary),
                             json.dumps([c.to_dict() for c in result.coverage])))
            self.db.execute(f"INSERT OR REPLACE INTO scan_findings SELECT ?, r.fingerprint, {sev} FROM run.findings r",
                            (scan_id,))
            counts = {"new": 0, "persisting": 0, "resolved": 0, "accepted": 0}
            for status, n in self.db.execute(
                    "SELECT CASE WHEN f.status IS NULL OR f.status = 'resolved' THEN 'new' "
                    "WHEN f.status = 'accepted' THEN 'accepted' ELSE 'persisting' END AS s, COUNT(*) "
                    "FROM run.findings r LEFT JOIN findings f ON f.fingerprint = r.fingerprint GROUP BY s"):
                counts[status] = n
            self.db.execute(
                f"UPDATE findings SET status = CASE WHEN findings.status = 'accepted' THEN 'accepted' "
                f"ELSE 'persisting' END, last_seen=?, last_scan=?, severity={sev}, title={title} "
                f"FROM run.findings r WHERE findings.fingerprint = r.fingerprint AND findings.status != 'resolved'",
                (now, scan_id))
            self.db.execute(
                f"INSERT OR REPLACE INTO findings SELECT r.fingerprint, r.target, r.resource, r.check_id, r.kind, "
                f"{sev}, {title}, 'new', ?, ?, ?, ?, NULL, NULL, NULL, NULL FROM run.findings r "
                f"LEFT JOIN findings f ON f.fingerprint = r.fingerprint WHERE f.fingerprint IS NULL OR f.status = 'resolved'",
                (now, now, scan_id, scan_id))
            counts["resolved"] = self.db.execute(
                "UPDATE findings SET status='resolved', last_scan=? WHERE status IN ('new','persisting') "
                "AND target IN (SELECT value FROM json_each(?)) "
                "AND fingerprint NOT IN (SELECT fingerprint FROM run.findings)", (scan_id, complete)).rowcount
            # Every finding this scan saw or resolved now has last_scan = this scan: the run store keeps where each
            # stands, for the reports (status, first/last seen; the resolved ones whole, as they are not in the run).
            self.db.execute(f"INSERT OR REPLACE INTO run.lifecycle SELECT {', '.join(LIFECYCLE_FIELDS)} FROM findings "
                            "WHERE last_scan=?", (scan_id,))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        finally:
            self.db.execute("DETACH DATABASE run")
        return counts

    @_guarded
    def free_cache_entries(self, oldest_kept_run: str) -> int:
        """Delete cached value sets superseded before the oldest kept run (no kept run refers to them)."""
        self.db.execute("BEGIN IMMEDIATE")
        n = self.db.execute("DELETE FROM cache_value_sets WHERE superseded_by IS NOT NULL AND superseded_by <= ?",
                            (oldest_kept_run,)).rowcount
        self.db.execute("COMMIT")
        return n

    @_guarded
    def mark_interrupted(self, runs: Path) -> list[str]:
        """Record runs that never finished (killed mid-scan) as interrupted; returns their ids, oldest first."""
        known = {sid for (sid,) in self.db.execute("SELECT scan_id FROM scans")}
        found = []
        if runs.exists():
            for run in sorted(runs.iterdir()):
                if run.is_dir() and not (run / "result.json").exists() and run.name not in known:
                    self.db.execute("INSERT OR IGNORE INTO scans VALUES (?,?,?,?,?,?,?,?)",
                                    (run.name, None, None, "interrupted", None, None, json.dumps({}), json.dumps([])))
                    found.append(run.name)
        return found

    @_guarded
    def accepted(self) -> set[str]:
        """Fingerprints of findings accepted as a risk."""
        return {fp for (fp,) in self.db.execute("SELECT fingerprint FROM findings WHERE status='accepted'")}

    @_guarded
    def accept(self, fingerprint: str, who: str, reason: str) -> bool:
        """Mark a finding as accepted risk (kept out of the fail threshold); False if unknown."""
        cur = self.db.execute("UPDATE findings SET status='accepted', accepted_by=?, accepted_reason=?, accepted_at=? "
                              "WHERE fingerprint=?", (who, reason, _now(), fingerprint))
        return cur.rowcount == 1

    @_guarded
    def acceptance(self, fingerprint: str) -> tuple[str, str, str] | None:
        """(who, why, when) of an accepted finding."""
        row = self.db.execute("SELECT accepted_by, accepted_reason, accepted_at FROM findings WHERE fingerprint=? "
                              "AND status='accepted'", (fingerprint,)).fetchone()
        return tuple(row) if row else None

    @_guarded
    def history(self) -> list[tuple]:
        """(scan_id, started, ended, status, summary json) of every scan, oldest first."""
        return self.db.execute("SELECT scan_id, started, ended, status, summary FROM scans ORDER BY scan_id"
                               ).fetchall()

    @_guarded
    def diff(self, a: str, b: str) -> dict[str, list[tuple[str, str, str]]]:
        """Findings new in b, resolved since a, and persisting between two scans (fingerprint, severity, title)."""
        def of(scan):
            return {fp: sev for fp, sev in self.db.execute(
                "SELECT fingerprint, severity FROM scan_findings WHERE scan_id=?", (scan,))}
        for scan in (a, b):
            if not self.db.execute("SELECT 1 FROM scans WHERE scan_id=?", (scan,)).fetchone():
                raise KeyError(scan)
        fa, fb = of(a), of(b)
        titles = dict(self.db.execute("SELECT fingerprint, title || ' — ' || resource FROM findings"))
        pick = lambda fps, src: sorted((fp, src[fp], titles.get(fp, "")) for fp in fps)  # noqa: E731
        return {"new": pick(fb.keys() - fa.keys(), fb), "resolved": pick(fa.keys() - fb.keys(), fa),
                "persisting": pick(fa.keys() & fb.keys(), fb)}
