"""Base class for connectors: walk() yields metadata cheaply, open() streams content. Read-only."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Iterator

from agent.model import Resource, Skipped

if TYPE_CHECKING:
    from agent.context import ScanContext


class ConnectorError(Exception):
    """A target cannot be scanned at all (bad credentials, host key mismatch, missing root).
    The message says what to fix and never holds a secret or a scanned value."""


class ResourceError(Exception):
    """One resource cannot be read; `reason` is the short skip reason shown in the report."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


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
