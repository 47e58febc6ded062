"""The state database: scan history, finding lifecycle and the incremental cache (SQLite, WAL).

Only masked evidence and keyed value hashes are stored here, as everywhere.
"""
from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from agent.model import Finding

SCHEMA_VERSION = 1
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
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class State:
    """One state database per state dir: migrations run on open."""

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

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # -- cache --------------------------------------------------------------------------------
    def cached(self, target: str, uri: str, marker: str | None, checks_digest: str) -> dict[str, Any] | None:
        """The last outcome of a resource when its change marker and the checks are unchanged."""
        if not marker:
            return None
        row = self.db.execute("SELECT outcome FROM cache WHERE target=? AND uri=? AND marker=? AND checks_digest=?",
                              (target, uri, marker, checks_digest)).fetchone()
        return json.loads(row[0]) if row else None

    def remember(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        """Store (target, uri, marker, checks_digest, scan_id, outcome json) rows."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT OR REPLACE INTO cache VALUES (?,?,?,?,?,?)", rows)
        self.db.execute("COMMIT")

    # -- lifecycle ----------------------------------------------------------------------------
    def record_scan(self, result, findings: Iterator[Finding], summary: dict[str, Any]) -> dict[str, int]:
        """Store a finished scan and move every finding along new -> persisting -> resolved."""
        scan_id, now = result.scan_id, result.ended or _now()
        complete_targets = {c.target for c in result.coverage if c.complete}
        scanned_targets = {c.target for c in result.coverage}
        counts = {"new": 0, "persisting": 0, "resolved": 0, "accepted": 0}
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT OR REPLACE INTO scans VALUES (?,?,?,?,?,?,?,?)",
                        (scan_id, result.started, result.ended, "complete" if result.complete else "incomplete",
                         result.config_digest, result.checks_digest, json.dumps(summary),
                         json.dumps([c.to_dict() for c in result.coverage])))
        seen = set()
        for f in findings:
            seen.add(f.fingerprint)
            self.db.execute("INSERT OR REPLACE INTO scan_findings VALUES (?,?,?)", (scan_id, f.fingerprint,
                                                                                 f.severity.value))
            row = self.db.execute("SELECT status FROM findings WHERE fingerprint=?", (f.fingerprint,)).fetchone()
            if row is None or row[0] == "resolved":
                status = "new"
                self.db.execute("INSERT OR REPLACE INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                (f.fingerprint, f.target, f.resource, f.check_id, f.kind, f.severity.value, f.title,
                                 status, now, now, scan_id, scan_id, None, None, None,
                                 json.dumps(f.to_dict(), ensure_ascii=False)))
            else:
                status = "accepted" if row[0] == "accepted" else "persisting"
                self.db.execute("UPDATE findings SET status=?, last_seen=?, last_scan=?, severity=?, title=?, body=? "
                                "WHERE fingerprint=?", (status, now, scan_id, f.severity.value, f.title,
                                                        json.dumps(f.to_dict(), ensure_ascii=False), f.fingerprint))
            counts[status] += 1
        # Gone from a target that was scanned in full: fixed. An incomplete target proves nothing.
        for fp, target in self.db.execute(
                "SELECT fingerprint, target FROM findings WHERE status IN ('new','persisting')").fetchall():
            if fp not in seen and target in complete_targets and target in scanned_targets:
                self.db.execute("UPDATE findings SET status='resolved', last_scan=? WHERE fingerprint=?",
                                (scan_id, fp))
                counts["resolved"] += 1
        self.db.execute("COMMIT")
        return counts

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

    def accepted(self) -> set[str]:
        """Fingerprints of findings accepted as a risk."""
        return {fp for (fp,) in self.db.execute("SELECT fingerprint FROM findings WHERE status='accepted'")}

    def accept(self, fingerprint: str, who: str, reason: str) -> bool:
        """Mark a finding as accepted risk (kept out of the fail threshold); False if unknown."""
        cur = self.db.execute("UPDATE findings SET status='accepted', accepted_by=?, accepted_reason=?, accepted_at=? "
                              "WHERE fingerprint=?", (who, reason, _now(), fingerprint))
        return cur.rowcount == 1

    def acceptance(self, fingerprint: str) -> tuple[str, str, str] | None:
        """(who, why, when) of an accepted finding."""
        row = self.db.execute("SELECT accepted_by, accepted_reason, accepted_at FROM findings WHERE fingerprint=? "
                              "AND status='accepted'", (fingerprint,)).fetchone()
        return tuple(row) if row else None

    def history(self) -> list[tuple]:
        """(scan_id, started, ended, status, summary json) of every scan, oldest first."""
        return self.db.execute("SELECT scan_id, started, ended, status, summary FROM scans ORDER BY scan_id"
                               ).fetchall()

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
