"""Base class for connectors: walk() yields metadata cheaply, open() streams content. Read-only."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Iterator

from vendorscan.errors import ConnectorError, ResourceError  # noqa: F401 - connectors raise them from here
from vendorscan.model import Resource, Skipped

if TYPE_CHECKING:
    from vendorscan.context import ScanContext


class Connector:
    """Reads one kind of store. Subclasses set `id`, `version`, docstring and `Options`."""

    id: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    scheme: ClassVar[str] = ""
    thread_safe: ClassVar[bool] = False  # True: open() may run in several threads at once
    Options: ClassVar[type]

    def __init__(self, options, ctx: "ScanContext"):
        self.options = options
        self.ctx = ctx

    def walk(self) -> Iterator[Resource | Skipped]:
        """Resources (folders before their contents) and skip records, one at a time."""
        raise NotImplementedError

    def open(self, resource: Resource) -> AbstractContextManager[BinaryIO]:
        """A read-only binary stream of the resource's content; raises ResourceError."""
        raise NotImplementedError

    def weaknesses(self) -> list[str]:
        """Protections of the scan's own connection that the options turned off (printed in the report)."""
        return []

    def close(self) -> None:
        """Release connections."""
