"""The incremental cache of one target: unchanged resources carried from state.db into the run store.

The cache tables live in state.db (schema in agent.state); the run store's connection attaches it as
`st`. A resource read and cached in this scan has its value sets written straight into the cache under the
entry (scan) that read it, and the run store refers to them. Carrying a resource over copies its few finding
rows inside SQLite, in batches, and refers to its value sets the same way: no value is stored twice, and a
rescan of an unchanged estate writes one small row per resource.
"""
from __future__ import annotations

from vendorscan.agent.records import FindingRow, placeholders
from vendorscan.agent.store import RunStore

BATCH = 2000  # resources carried over per INSERT ... SELECT


class TargetCache:
    """Look-ups, carry-over and updates of one target's cache entries."""

    def __init__(self, store: RunStore, target: str, checks_digest: str, scan_id: str):
        if "st" not in store.attached:
            raise RuntimeError("the run store was opened without the state database attached")
        self.db, self.target, self.checks_digest, self.scan_id = store.db, target, checks_digest, scan_id
        self.waiting: list[tuple[str]] = []
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS carried (uri TEXT PRIMARY KEY)")

    def unchanged(self, uri: str, marker: str | None) -> bool:
        """True when the resource's change marker and the checks are those of its cached result."""
        return bool(marker) and self.db.execute(
            "SELECT 1 FROM st.cache WHERE target=? AND uri=? AND marker=? AND checks_digest=?",
            (self.target, uri, marker, self.checks_digest)).fetchone() is not None

    def carry(self, uri: str) -> int:
        """Queue an unchanged resource's findings for the run store; returns findings written by a flush."""
        self.waiting.append((uri,))
        return self.flush() if len(self.waiting) >= BATCH else 0

    def flush(self) -> int:
        """Copy the queued resources' findings and reference their occurrences; returns findings copied."""
        if not self.waiting:
            return 0
        self.db.executemany("INSERT OR IGNORE INTO temp.carried VALUES (?)", self.waiting)
        self.waiting = []
        # CROSS JOIN: drive from the batch through the cache's primary key, never scan the whole cache.
        self.db.execute("INSERT INTO main.carried SELECT k.target, k.uri, k.scan_id FROM temp.carried c "
                        "CROSS JOIN st.cache k ON k.target = ? AND k.uri = c.uri", (self.target,))
        n = self.db.execute("INSERT OR REPLACE INTO main.findings SELECT f.* FROM temp.carried c "
                            "CROSS JOIN st.cache_findings f ON f.target = ? AND f.resource = c.uri",
                            (self.target,)).rowcount
        self.db.execute("DELETE FROM temp.carried")
        return n

    def forget_unseen(self) -> None:
        """After a complete walk: drop the entries of resources this scan did not see (deleted, moved)."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS unseen (uri TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM temp.unseen")
        if not self.db.execute("INSERT INTO temp.unseen SELECT uri FROM st.cache WHERE target=? AND uri NOT IN "
                               "(SELECT uri FROM main.resources WHERE target=?)", (self.target, self.target)).rowcount:
            return  # the usual case: nothing went away
        self.db.execute("DELETE FROM st.cache WHERE target=? AND uri IN temp.unseen", (self.target,))
        self.db.execute("DELETE FROM st.cache_findings WHERE target=? AND resource IN temp.unseen", (self.target,))
        # Their value sets may still be referenced by a kept run store: freed later, as superseded ones are.
        self.db.execute("UPDATE st.cache_value_sets SET superseded_by=? WHERE target=? AND superseded_by IS NULL "
                        "AND resource IN temp.unseen", (self.scan_id, self.target))

    def remember(self, uri: str, marker: str, finding_rows: list[tuple]) -> None:
        """Replace a resource's cache entry by what this scan found in it (its value sets already in the cache)."""
        key = (self.target, uri)
        self.db.execute("DELETE FROM st.cache_findings WHERE target=? AND resource=?", key)
        # Earlier readings stay while a kept run store may refer to them (State.free_cache_entries).
        self.db.execute("UPDATE st.cache_value_sets SET superseded_by=? WHERE target=? AND resource=? "
                        "AND superseded_by IS NULL AND entry != ?", (self.scan_id, *key, self.scan_id))
        self.db.execute("INSERT INTO main.carried VALUES (?,?,?)", (*key, self.scan_id))
        self.db.executemany(f"INSERT INTO st.cache_findings VALUES ({placeholders(FindingRow)})", finding_rows)
        self.db.execute("INSERT OR REPLACE INTO st.cache VALUES (?,?,?,?,?)",
                        (self.target, uri, marker, self.checks_digest, self.scan_id))
