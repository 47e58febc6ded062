"""Base class for connectors: walk() yields metadata cheaply, open() or sample() reads content. Read-only.

What every connector must do (tests/contract.py checks it against each connector's real server):

- `walk()` yields typed `Resource`s (never a backend's dict) and `Skipped` records, one at a time, folders
  before their contents. A resource's `uri` starts with the connector's `scheme`, its `kind` is one of
  `KINDS`, `target` is the scan context's target and `parent` the containing folder/bucket/schema.
- Access is read per container and cached, and mapped into `AccessPolicy`; where it cannot be read the
  policy says so in `unknown_reason` (unknown is never "private").
- Content is read through `open()` for `STREAM_KINDS` (a read-only binary stream, as a context manager) and
  through `sample()` for `TABLE_KINDS`. A connector never writes, renames or changes what it reads.
- Errors are records: one resource that cannot be read raises `ResourceError(reason)` (the engine turns it
  into a `Skipped`), a whole target that cannot be reached raises `ConnectorError`. A resource gone since
  the walk gives reason "vanished" (or "not-found"), one the account may not read "permission-denied".
  Messages hold our own words, never a library's text (it can quote scanned content or secrets).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Iterator

from vendorscan.errors import ConnectorError, ResourceError  # noqa: F401 - connectors raise them from here
from vendorscan.model import Resource, Skipped

if TYPE_CHECKING:
    from vendorscan.context import ScanContext

STREAM_KINDS = frozenset({"file", "object"})  # content read with open()
TABLE_KINDS = frozenset({"table"})  # content read with sample()
CONTAINER_KINDS = frozenset({"folder", "bucket", "schema"})  # hold other resources; their access is judged
KINDS = STREAM_KINDS | TABLE_KINDS | CONTAINER_KINDS | {"column"}


@dataclass
class TableSample:
    """What sample() gives: a table's scanned columns and its sampled rows in batches of (row keys, rows).

    A row key is the row's primary key as text ("" without one); each row is a tuple in `columns` order."""

    table: str  # the table's name as shown (schema.table)
    columns: list[str]
    total_rows: int | None  # rows in the table, where known
    batches: Iterator[tuple[list[str], list[tuple]]]


def backoff(attempt: int, first: float = 0.5, cap: float = 4.0) -> float:
    """Seconds to wait before retry number `attempt` (0-based): `first`, doubling each time, at most `cap`."""
    return min(first * 2 ** attempt, cap)


class Connector:
    """Reads one kind of store. Subclasses set `id`, `version`, `scheme`, a docstring and `Options`."""

    id: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    scheme: ClassVar[str] = ""  # every uri it yields starts with "<scheme>://"
    # True: open()/sample() may run in several threads at once on one instance (the worker then overlaps reads).
    thread_safe: ClassVar[bool] = False
    # True: open_from() works, and a large plain-text file is read in byte ranges by several workers at once.
    ranges: ClassVar[bool] = False
    Options: ClassVar[type]

    def __init__(self, options, ctx: "ScanContext"):
        self.options = options
        self.ctx = ctx

    def walk(self) -> Iterator[Resource | Skipped]:
        """Resources (folders before their contents) and skip records, one at a time; never raises for one entry."""
        raise NotImplementedError

    def open(self, resource: Resource) -> AbstractContextManager[BinaryIO]:
        """A read-only binary stream of a file or object (STREAM_KINDS), as a context manager; raises ResourceError."""
        raise NotImplementedError

    def open_from(self, resource: Resource, offset: int) -> AbstractContextManager[BinaryIO]:
        """Like open(), the stream starting at byte `offset`; it raises ResourceError("changed-during-read") when the
        resource is no longer the version the walk saw (ranges read at different times must be of one version)."""
        raise NotImplementedError(f"connector {self.id!r} cannot open at an offset")

    def sample(self, resource: Resource) -> TableSample:
        """A table's (TABLE_KINDS) columns and sampled rows, read-only; raises ResourceError, also from its batches."""
        raise NotImplementedError(f"connector {self.id!r} yields no tables")

    def weaknesses(self) -> list[str]:
        """Protections of the scan's own connection that the options turned off (printed in the report)."""
        return []

    def close(self) -> None:
        """Release connections."""
