"""The data model every stage shares: resources, access, locations, hits, findings, coverage.

This module imports nothing from the other vendorscan packages.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any


class Scope(str, Enum):
    """How many people a grant reaches, broadest first."""

    PUBLIC = "public"
    EVERYONE = "everyone"
    ORGANISATION = "organisation"
    GROUP = "group"
    USER = "user"

    @property
    def rank(self) -> int:
        """0 for public (broadest) up to 4 for a single user."""
        return _SCOPE_ORDER.index(self)


_SCOPE_ORDER = [Scope.PUBLIC, Scope.EVERYONE, Scope.ORGANISATION, Scope.GROUP, Scope.USER]


class Severity(str, Enum):
    """How bad a finding is, worst first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical up to 4 for info."""
        return _SEVERITY_ORDER.index(self)

    def at_least(self, other: "Severity") -> bool:
        """True when this severity is as bad as `other` or worse."""
        return self.rank <= other.rank


_SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
_SEVERITY_OF = {s.value: s for s in Severity}  # from_dict runs once per finding and report: no Enum call


class Verdict(str, Enum):
    """What a detected value is: a real-looking value, an official test value, or a masked one."""

    REAL = "real"
    TEST = "test"
    MASKED = "masked"


@dataclass(frozen=True, slots=True)
class Grant:
    """One entry of an access policy, in vendorscan's common form."""

    principal: str
    scope: Scope
    rights: frozenset[str]
    source: str  # posix-mode, posix-acl, ntfs-dacl, s3-acl, s3-policy, sql-grant
    inherited: bool = False
    # False when the grant exists but cannot take effect (e.g. o+r on a file under a 0700 folder).
    effective: bool = True
    note: str = ""
    # Measured by a directory (vendorscan.directory): the enabled accounts the principal reaches, the nested
    # groups it reaches them through (outermost first), and how the scope was decided (BREADTH_*).
    accounts: int | None = None
    via: tuple[str, ...] = ()
    breadth: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain form for reports and state."""
        d = {
            "principal": self.principal,
            "scope": self.scope.value,
            "rights": sorted(self.rights),
            "source": self.source,
            "inherited": self.inherited,
            "effective": self.effective,
        }
        if self.note:
            d["note"] = self.note
        if self.accounts is not None:
            d["accounts"] = self.accounts
        if self.via:
            d["via"] = list(self.via)
        if self.breadth:
            d["breadth"] = self.breadth
        return d


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Who can do what to a resource: an owner and grants."""

    owner: str | None
    grants: tuple[Grant, ...] = ()
    # Set when the connector could not read the permissions: unknown is never "private".
    unknown_reason: str | None = None

    def broadest(self, *rights: str) -> Grant | None:
        """The effective grant of any of `rights` (default read) with the broadest scope, or None."""
        wanted = set(rights or ("read",))
        best = None
        for g in self.grants:
            if g.effective and wanted & g.rights and (best is None or (g.scope.rank, -(g.accounts or 0))
                                                       < (best.scope.rank, -(best.accounts or 0))):
                best = g
        return best

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AccessPolicy":
        """Inverse of to_dict."""
        grants = tuple(Grant(g["principal"], Scope(g["scope"]), frozenset(g["rights"]), g["source"],
                             g.get("inherited", False), g.get("effective", True), g.get("note", ""),
                             g.get("accounts"), tuple(g.get("via", ())), g.get("breadth", ""))
                       for g in d.get("grants", ()))
        return cls(d.get("owner"), grants, d.get("unknown_reason"))

    def to_dict(self) -> dict[str, Any]:
        """Plain form for reports and state."""
        d: dict[str, Any] = {"owner": self.owner, "grants": [g.to_dict() for g in self.grants]}
        if self.unknown_reason:
            d["unknown_reason"] = self.unknown_reason
        return d


@dataclass(slots=True)
class Resource:
    """One thing a connector found: a file, folder, bucket, object, table or column."""

    uri: str
    kind: str  # file, folder, bucket, object, table, column
    target: str = ""
    size: int | None = None
    modified: float | None = None  # seconds since the epoch, UTC
    etag: str | None = None
    access: AccessPolicy | None = None
    parent: str | None = None  # uri of the containing folder/bucket/schema
    posture: dict[str, Any] | None = None  # configuration facts a posture check judges (encryption, …)
    # The connector's own address when `uri` shows a name with its identifiers masked: used to open the
    # resource, never recorded or shown.
    locator: str | None = None

    @property
    def address(self) -> str:
        """What the connector opens: the real uri, also when `uri` is the masked one shown everywhere."""
        return self.locator or self.uri

    def to_dict(self) -> dict[str, Any]:
        """Plain form for reports and state."""
        return {
            "uri": self.uri,
            "kind": self.kind,
            "target": self.target,
            "size": self.size,
            "modified": self.modified,
            "etag": self.etag,
            "parent": self.parent,
            "access": self.access.to_dict() if self.access else None,
            "posture": self.posture,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A resource that was not read, and why: never dropped silently."""

    uri: str
    reason: str  # short machine-readable reason: permission-denied, too-large, binary, vanished, …
    detail: str = ""
    target: str = ""


ENVIRONMENTS = ("production", "test", "shared")  # what a target is, as its config says
NAME_SECTION = "name"  # Location.section of a value found in a name (a file's, a member's, a column's)


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a resource a value is: enough for a person to find it again."""

    line: int | None = None
    column: int | None = None
    offset: int | None = None
    page: int | None = None
    sheet: str | None = None
    cell: str | None = None
    member: str | None = None
    section: str | None = None  # part of a document: body, header, comments, slide 3, notes 3
    paragraph: int | None = None
    table: str | None = None
    column_name: str | None = None
    row_key: str | None = None
    region: tuple[int, int, int, int] | None = None
    end_column: int | None = None  # the column just after the value, on its line (SARIF's endColumn)

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that are set."""
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    def label(self, _=str) -> str:
        """Short human form, e.g. 'line 12, col 4' (`_` translates each part's wording: a report's gettext)."""
        parts = []
        if self.member:
            parts.append(self.member)
        if self.section:
            parts.append(_(self.section))
        parts += [_(form).format(getattr(self, field)) for field, form in LABEL_WORDS
                  if getattr(self, field) is not None and getattr(self, field) != ""]
        if self.region is not None:
            parts.append(_(REGION_WORDS).format(*self.region))
        return ", ".join(parts) or _(WHOLE_RESOURCE)


# How a location's parts read, in label() order (a report's catalog translates each form).
LABEL_WORDS = (("page", "page {}"), ("paragraph", "paragraph {}"), ("sheet", "sheet {}"), ("cell", "cell {}"),
               ("table", "{}"), ("column_name", "column {}"), ("row_key", "row {}"), ("line", "line {}"),
               ("column", "col {}"))
REGION_WORDS = "region x={} y={} w={} h={}"
WHOLE_RESOURCE = "whole resource"


@dataclass(slots=True)
class Chunk:
    """A window of decoded text. Hits starting before `own_start` or at/after `own_end` belong
    to a neighbouring chunk (the overlap), so each value is counted once."""

    text: str
    start: int  # absolute character offset of text[0]
    own_start: int  # absolute offsets of the part this chunk answers for
    own_end: int
    line: int  # 1-based line number of text[0]
    column: int  # 1-based column of text[0]
    location: Location | None = None  # container location (page, sheet, member) if any
    header: str | None = None  # a text file's first line: a CSV/TSV header names its columns (context)


@dataclass(slots=True)
class Hit:
    """One detected value in a chunk, already masked and hashed: what a content check yields."""

    kind: str  # e.g. se.personnummer, dk.cpr, email, iban, card, special.health
    category: str  # national_id, contact, financial, special_category
    verdict: Verdict
    confidence: float
    start: int  # absolute character offset
    end: int
    evidence: str  # masked
    value_hash: str | None  # keyed hash of the normalised value; None for masked values
    note: str = ""


@dataclass(slots=True)
class Aggregate:
    """Occurrences of one kind and verdict in one resource (and part), by one content check: what it judges."""

    check_id: str
    kind: str
    category: str
    verdict: str
    part: str = ""
    count: int = 0
    confidence: float = 0.0
    evidence: list[str] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Finding:
    """One reported result: per resource (aggregated occurrences) or per folder (roll-up)."""

    check_id: str
    severity: Severity
    confidence: float
    title: str
    resource: str  # uri
    target: str
    kind: str  # identifier type, access kind, exposure, …
    part: str = ""  # a table's column or an archive's member the finding is about; "" for the whole resource
    category: str = ""
    verdict: str = ""
    evidence: tuple[str, ...] = ()  # masked samples
    value_hash: str | None = None
    count: int = 1
    distinct: int = 0
    locations: tuple[Location, ...] = ()  # the first few; every occurrence is in the store
    remediation: str = ""
    references: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.check_id, self.resource, self.kind, self.verdict, self.value_hash,
                                           self.part)

    def to_dict(self) -> dict[str, Any]:
        """Plain form for reports and state (masked and hashed only)."""
        return {
            "fingerprint": self.fingerprint,
            "check_id": self.check_id,
            "severity": self.severity.value,
            "confidence": round(self.confidence, 3),
            "title": self.title,
            "resource": self.resource,
            "target": self.target,
            "kind": self.kind,
            "part": self.part,
            "category": self.category,
            "verdict": self.verdict,
            "evidence": list(self.evidence),
            "value_hash": self.value_hash,
            "count": self.count,
            "distinct": self.distinct,
            "locations": [loc.to_dict() for loc in self.locations],
            "remediation": self.remediation,
            "references": list(self.references),
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        """Inverse of to_dict."""
        return cls(
            check_id=d["check_id"],
            severity=_SEVERITY_OF[d["severity"]],
            confidence=d["confidence"],
            title=d["title"],
            resource=d["resource"],
            target=d["target"],
            kind=d["kind"],
            part=d.get("part", ""),
            category=d.get("category", ""),
            verdict=d.get("verdict", ""),
            evidence=tuple(d.get("evidence", ())),
            value_hash=d.get("value_hash"),
            count=d.get("count", 1),
            distinct=d.get("distinct", 0),
            locations=tuple(Location(**loc) if "region" not in loc else
                            Location(**{**loc, "region": tuple(loc["region"])}) for loc in d.get("locations", ())),
            remediation=d.get("remediation", ""),
            references=tuple(d.get("references", ())),
            details=d.get("details", {}),
            fingerprint=d["fingerprint"],
        )


def fingerprint(check_id: str, resource: str, kind: str, verdict: str = "", value_hash: str | None = None,
                part: str = "") -> str:
    """Stable identity of a finding across scans: check + resource (+ column or member) + what was found."""
    raw = "\x1f".join((check_id, resource, kind, verdict, value_hash or "") + ((part,) if part else ()))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(slots=True)
class Coverage:
    """What one target's scan saw, read and skipped."""

    target: str
    connector: str
    environment: str
    resources_seen: int = 0
    resources_read: int = 0
    resources_unchanged: int = 0  # not read again: same change marker and checks as the cached scan
    bytes_read: int = 0
    rows_sampled: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    errors: list[str] = field(default_factory=list)
    complete: bool = True
    weaknesses: list[str] = field(default_factory=list)  # protections of the scan's connection turned off
    breadth: str = ""  # how its grants' breadth was judged: a directory (and its size), or by names
    breadth_msg: list = field(default_factory=list)  # the same as [msgid, args], for reports to translate

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Coverage":
        """Inverse of to_dict (derived figures such as skipped_total are left out)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @property
    def skipped_total(self) -> int:
        """How many resources were skipped, all reasons together."""
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain form for reports and state."""
        return {
            "target": self.target,
            "connector": self.connector,
            "environment": self.environment,
            "resources_seen": self.resources_seen,
            "resources_read": self.resources_read,
            "resources_unchanged": self.resources_unchanged,
            "bytes_read": self.bytes_read,
            "rows_sampled": self.rows_sampled,
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_total": self.skipped_total,
            "errors": list(self.errors),
            "complete": self.complete,
            "weaknesses": list(self.weaknesses),
            "breadth": self.breadth,
            "breadth_msg": list(self.breadth_msg),
        }
