"""Base classes for checks: content checks see chunks, resource checks see resources,
correlations see findings. Subclasses set `id`, `version`, a one-line docstring and `Options`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterable, Iterator

from vendorscan.model import Chunk, Finding, Hit, Resource, Scope

if TYPE_CHECKING:
    from vendorscan.context import ScanContext


@dataclass(frozen=True)
class NoOptions:
    """A plugin without options."""


def message(msgid: str, field: str = "title", **args) -> tuple[str, dict]:
    """(English text, details entry) of a title or remediation with parameters: reports translate, then fill."""
    return msgid.format(**args), {f"{field}_msg": [msgid, args]}


def require_known(values, allowed, what: str) -> None:
    """Raise ValueError naming the values of an option that are not among `allowed`."""
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"unknown {what} {sorted(unknown)} (allowed: {', '.join(allowed)})")


SCOPE_NAMES = tuple(s.value for s in Scope)

class Check:
    """Common metadata of every check."""

    id: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    kind: ClassVar[str] = ""  # content | resource | correlation
    Options: ClassVar[type] = NoOptions

    def __init__(self, options=None):
        self.options = options if options is not None else self.Options()


class ContentCheck(Check):
    """Finds values in text. Stateless and thread-safe: one instance serves every chunk."""

    kind = "content"

    @classmethod
    def describe(cls, kind: str, verdict: str) -> tuple[str, str, tuple[str, ...]]:
        """Title, remediation and references for an aggregated finding of this kind (override to say more)."""
        return kind + ("" if verdict == "real" else f" ({verdict})"), "", ()

    def scan(self, chunk: Chunk, resource: Resource, ctx: "ScanContext") -> Iterator[Hit]:
        """Hits whose start lies in the chunk's own part."""
        raise NotImplementedError


class ResourceCheck(Check):
    """Judges a resource's metadata (access, posture). Sees resources in walk order
    (a folder before what is under it) and may hold a bounded roll-up until `finish`."""

    kind = "resource"

    def evaluate(self, resource: Resource, ctx: "ScanContext") -> Iterator[Finding]:
        """Findings about this resource (or earlier ones it completes)."""
        raise NotImplementedError

    def finish(self, ctx: "ScanContext") -> Iterator[Finding]:
        """Findings still held when the walk of a target ends."""
        return iter(())


class Correlation(Check):
    """Joins findings of other checks (data x access) into new findings."""

    kind = "correlation"

    def correlate(self, store, ctx: "ScanContext") -> Iterable[Finding]:
        """New findings from what the store holds for ctx.target."""
        raise NotImplementedError
