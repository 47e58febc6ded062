"""Access: resources readable by public/everyone/organisation or writable beyond a group; folders roll up."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from vendorscan import severity
from vendorscan.model import Finding, Grant, Resource, Scope, Severity
from vendorscan.check import SCOPE_NAMES, ResourceCheck, evidence, message, require_known
from vendorscan.directory import path_text, reach_details

REFERENCES = ("GDPR Art. 5(1)(f)", "GDPR Art. 32", "ISO/IEC 27001 A.5.15", "ISO/IEC 27001 A.8.3")
_WHO = {Scope.PUBLIC: "anyone on the internet", Scope.EVERYONE: "every account that can log on",
        Scope.ORGANISATION: "the whole organisation"}


@dataclass
class _Held:
    """A flagged folder whose finding waits until the walk leaves its subtree."""

    prefix: str
    resource: Resource
    broad: tuple[Grant, ...]
    covered: int = 0


def _broad_grants(resource: Resource, read_scopes: set[Scope]) -> tuple[Grant, ...]:
    out = []
    for g in resource.access.grants if resource.access else ():
        if not g.effective:
            continue
        reads = bool({"read", "list"} & g.rights) and g.scope in read_scopes
        writes = bool({"write", "admin"} & g.rights) and g.scope.rank < Scope.GROUP.rank
        if reads or writes:
            out.append(g)
    return tuple(out)


def _covers(held: tuple[Grant, ...], grant: Grant) -> bool:
    return any(h.principal == grant.principal and h.scope == grant.scope and grant.rights <= h.rights
               | ({"read"} if "list" in h.rights else set()) for h in held)


class AccessCheck(ResourceCheck):
    """Folders, files, buckets and tables open to far more people than the data allows."""

    id = "access"
    version = "1"

    @dataclass(frozen=True)
    class Options:
        read_scopes: list[str] = field(default_factory=lambda: ["public", "everyone", "organisation"])

        def __post_init__(self):
            require_known(self.read_scopes, SCOPE_NAMES, "scopes")

    def __init__(self, options=None):
        super().__init__(options)
        self._scopes = {Scope(s) for s in self.options.read_scopes}
        self._held: list[_Held] = []

    def evaluate(self, resource: Resource, ctx) -> Iterator[Finding]:
        """Findings for folders whose subtree the walk has left, and for this resource if not rolled up."""
        while self._held and not resource.uri.startswith(self._held[-1].prefix):
            yield self._finding(self._held.pop(), ctx)
        if resource.access is not None and resource.access.unknown_reason:
            yield Finding(check_id=self.id, severity=Severity.INFO, confidence=1.0, title="Permissions unknown",
                          resource=resource.uri, target=ctx.target, kind="access.unknown", category="access",
                          evidence=(resource.access.unknown_reason,),
                          remediation="Give the audit account the right to read permissions, then scan again.")
        broad = _broad_grants(resource, self._scopes)
        if not broad:
            return
        if self._held and all(_covers(self._held[-1].broad, g) for g in broad):
            self._held[-1].covered += 1
            return
        if resource.kind in ("folder", "bucket", "schema", "share"):
            self._held.append(_Held(resource.uri.rstrip("/") + "/", resource, broad))
        else:
            yield self._finding(_Held("", resource, broad), ctx)

    def finish(self, ctx) -> Iterator[Finding]:
        """Findings of the folders still held when the walk ends."""
        while self._held:
            yield self._finding(self._held.pop(), ctx)

    def _finding(self, held: _Held, ctx) -> Finding:
        grants = sorted(held.broad, key=lambda g: g.scope.rank)
        top = grants[0]
        write = any({"write", "admin"} & g.rights for g in grants)
        action = "writable" if write else "readable"
        kind_right = "write" if write else "read"
        noun = held.resource.kind
        args = {"noun": noun.capitalize(), "action": action, "who": _WHO.get(top.scope, top.scope.value)}
        if held.covered:
            title, msg = message("{noun} {action} by {who} ({covered} resources under it alike)",
                                 covered=held.covered, **args)
        else:
            title, msg = message("{noun} {action} by {who}", **args)
        remediation, rmsg = message("Remove {principals} from this {noun} and grant access to the named group that "
                                    "needs it; check that new files do not inherit it.", field="remediation",
                                    principals=", ".join(sorted({g.principal for g in grants})), noun=noun)
        shown, emsg = evidence(*(_grant_evidence(g) for g in grants))
        msg.update(rmsg, **emsg)
        return Finding(
            check_id=self.id, severity=severity.access(top.scope, write), confidence=1.0, title=title,
            resource=held.resource.uri, target=ctx.target, kind=f"access.{kind_right}.{top.scope.value}",
            category="access", verdict="", count=1 + held.covered,
            evidence=shown,
            remediation=remediation,
            references=REFERENCES,
            details={"principals": sorted({g.principal for g in grants}), "scope": top.scope.value,
                     "rights": sorted(set().union(*(g.rights for g in grants))),
                     "children_covered": held.covered, "notes": [g.note for g in grants if g.note],
                     **_measured(grants), **msg})


def _grant_evidence(g) -> tuple[str, dict]:
    """A grant as evidence: who, which rights, from where, and the accounts it reaches when a directory measured it."""
    if g.accounts is None:
        return message("{principal}: {rights} ({source})", "evidence", principal=g.principal,
                       rights=sorted(g.rights), source=g.source)
    if not g.via:  # Everyone, Authenticated Users: every enabled account, through no group
        return message("{principal}: {rights} ({source}; {accounts} enabled accounts)", "evidence",
                       principal=g.principal, rights=sorted(g.rights), source=g.source, accounts=g.accounts)
    return message("{principal}: {rights} ({source}; {accounts} enabled accounts via {path})", "evidence",
                   principal=g.principal, rights=sorted(g.rights), source=g.source, accounts=g.accounts,
                   path=path_text(g.via))


def _measured(grants) -> dict:
    """How breadth was judged for a finding's grants: the largest measured reach, or by names."""
    widest = max((g for g in grants if g.accounts is not None), key=lambda g: g.accounts, default=None)
    return reach_details(widest, next((g.breadth for g in grants if g.breadth), ""))
