"""Base classes for checks: content checks see chunks, resource checks see resources,
correlations see findings. Subclasses set `id`, `version`, a one-line docstring and `Options`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable, Iterator

from vendorscan import severity
from vendorscan.model import Aggregate, Chunk, Finding, Hit, Location, Resource, Scope

if TYPE_CHECKING:
    from vendorscan.context import ScanContext


@dataclass(frozen=True)
class NoOptions:
    """A plugin without options."""


def message(msgid: str, field: str = "title", **args) -> tuple[str, dict]:
    """(English text, details entry) of a title or remediation with parameters: reports translate, then fill.

    A list argument is a set of words (rights: list, read): joined by '+', each word translated by the report."""
    text = msgid.format(**{k: "+".join(v) if isinstance(v, (list, tuple)) else v for k, v in args.items()})
    return text, {f"{field}_msg": [msgid, args]}


def evidence(*messages: tuple[str, dict]) -> tuple[tuple[str, ...], dict]:
    """(English evidence texts, details entry) from message(…, field="evidence") results, one per evidence item."""
    return tuple(text for text, _ in messages), {"evidence_msg": [m["evidence_msg"] for _, m in messages]}


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

    @classmethod
    def cache_parts(cls, options) -> list:
        """Besides id, version and options: what else changes this check's results (cached results key on it)."""
        return []


class ContentCheck(Check):
    """Finds values in text. Stateless and thread-safe: one instance serves every chunk."""

    kind = "content"
    # A cheap pre-filter: a text it does not match holds no hit (names are skipped by it); None: no such filter.
    hint: ClassVar[re.Pattern | None] = None

    @classmethod
    def describe(cls, kind: str, verdict: str) -> tuple[str, str, tuple[str, ...]]:
        """Title, remediation and references for an aggregated finding of this kind (override to say more)."""
        return kind + ("" if verdict == "real" else f" ({verdict})"), "", ()

    def scan(self, chunk: Chunk, resource: Resource, ctx: "ScanContext") -> Iterator[Hit]:
        """Hits whose start lies in the chunk's own part; a vendorscan.Problem for a part it could not scan (listed
        on the resource as skipped, with the Problem's reason: one declared in vendorscan/skips.py)."""
        raise NotImplementedError

    def findings(self, aggregates: Iterable[Aggregate], facts: "ResourceFacts", ctx: "ScanContext") -> Iterator[Finding]:
        """Findings, with their severity, from this check's aggregated occurrences in one resource.

        The default judges by the severity rule (vendorscan.severity); override to judge otherwise."""
        for a in aggregates:
            distinct = facts.distinct(a) if a.verdict != "masked" else 0
            details = {"notes": a.notes, "environment": ctx.environment}
            persons = distinct
            if facts.rows_sampled:
                # A sample stands for the whole table: scale the distinct count by the sample ratio.
                share = a.count / facts.rows_sampled
                details.update(rows_sampled=facts.rows_sampled, rows_total=facts.rows_total,
                               share_of_rows=round(share, 3), identifier_column=share >= 0.5)
                if facts.rows_total and facts.rows_total > facts.rows_sampled:
                    persons = round(distinct * facts.rows_total / facts.rows_sampled)
                    details["estimated_persons"] = persons
            sev = severity.data(a.category, a.kind, a.verdict, persons, ctx.environment,
                                special=facts.special and a.category == "national_id", confidence=a.confidence)
            title, remediation, refs = self.describe(a.kind, a.verdict)
            yield Finding(check_id=a.check_id, severity=sev, confidence=a.confidence, title=title, resource=facts.uri,
                          target=ctx.target, kind=a.kind, part=a.part, category=a.category, verdict=a.verdict,
                          evidence=tuple(a.evidence), count=a.count, distinct=distinct,
                          locations=tuple(Location(**loc) for loc in a.locations), remediation=remediation,
                          references=tuple(refs), details=details)


@dataclass(frozen=True)
class ResourceFacts:
    """What a content check's findings about one resource rest on besides its own aggregates."""

    uri: str
    distinct: Callable[[Aggregate], int]  # distinct value hashes of an aggregate's occurrences (persons)
    rows_sampled: int = 0  # a table's sample, which stands for rows_total rows
    rows_total: int | None = None
    special: bool = False  # special-category terms in the same resource, found by any check


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
