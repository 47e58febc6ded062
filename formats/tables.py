"""Tables inside files (database files, dumps, data-lake files): column segments with the column name as context."""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from vendorscan.format import Segment
from vendorscan.formats.cells import cell_text, id_width
from vendorscan.model import Location

BATCH = 1000  # rows per segment of a column


def row_limit(settings) -> int | None:
    """Rows read per table: [formats] sample_rows, or None (all) with full_scan."""
    return None if getattr(settings, "full_scan", False) else getattr(settings, "sample_rows", 1000)


def table_segments(table: str, columns: Sequence[str], rows: Iterable[Sequence],
                   limit: int | None) -> Iterator[Segment]:
    """A table's rows (at most `limit`) in batches, one segment per column of a batch; a hit's row key is #row."""
    batch: list[Sequence] = []
    first = 1
    for n, row in enumerate(rows, 1):
        batch.append(row)
        if len(batch) >= BATCH:
            yield from _columns(table, columns, batch, first)
            first += len(batch)
            batch = []
        if limit is not None and n >= limit:
            break
    if batch:
        yield from _columns(table, columns, batch, first)


def _columns(table: str, columns: Sequence[str], batch: list[Sequence], first: int) -> Iterator[Segment]:
    for ci, name in enumerate(columns):
        values = [r[ci] if ci < len(r) else None for r in batch]
        digits = id_width(values)
        text = "\n".join(cell_text(v, digits) for v in values)
        if text.strip():
            yield Segment(text, Location(table=table, column_name=name),
                          lambda line, col, n, first=first: {"row_key": f"#{first + line - 1}"})
