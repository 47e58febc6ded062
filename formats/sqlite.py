"""SQLite database files found among files: every table read like a database target's, sampled."""
from __future__ import annotations

import sqlite3
from typing import Iterator
from urllib.parse import quote

from vendorscan.format import FormatError, FormatHandler, Item
from vendorscan.formats import programs
from vendorscan.formats.tables import row_limit, table_segments


class Sqlite(FormatHandler):
    """SQLite 3 database files: each table's columns, rows sampled by [formats] sample_rows (full_scan: all)."""

    id, kinds, seekable, switch = "sqlite", ("sqlite",), True, "documents"
    magic = ((b"SQLite format 3\x00", "sqlite"),)
    extensions = {".sqlite": "sqlite", ".sqlite3": "sqlite"}  # not .db: Thumbs.db is OLE2

    def read(self, f, kind, *, settings, **_):
        with programs.on_disk(f, in_process=True) as path:
            # Read-only and immutable: no journal, no lock, nothing written beside the file.
            conn = sqlite3.connect(f"file:{quote(path)}?mode=ro&immutable=1", uri=True)
            try:
                yield from _tables(conn, row_limit(settings))
            except sqlite3.DatabaseError as exc:
                raise FormatError(f"not a readable SQLite database ({type(exc).__name__})") from None
            finally:
                conn.close()


def _tables(conn: sqlite3.Connection, limit: int | None) -> Iterator[Item]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in names:
        q = '"' + table.replace('"', '""') + '"'
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({q})")]
        if not columns:
            continue
        select = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        cur = conn.execute(f"SELECT {select} FROM {q}" + (f" LIMIT {int(limit)}" if limit is not None else ""))
        yield from table_segments(table, columns, _fetched(cur), limit)


def _fetched(cur) -> Iterator[tuple]:
    while rows := cur.fetchmany(1000):
        yield from rows
