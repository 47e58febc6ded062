"""Directories: who a principal really is and how many enabled accounts it reaches, so breadth is measured.

A directory plugin (entry point group `vendorscan.directories`) answers `reach(principal)` for the principals
connectors put in access policies (an SMB DACL's SIDs, a POSIX "group NAME", a database role); the scan turns the
answer into a scope with `Breadth`. A directory that cannot be reached raises `DirectoryError`; its grants are then
"unknown (directory unreachable)" and counted broad, never narrow.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from vendorscan.errors import ConnectorError
from vendorscan.model import AccessPolicy, Grant, Scope

# How each target's breadth was judged, as the report's coverage says it (reports translate, then fill in).
DESCRIPTIONS = ("by names (no directory configured): groups judged by their names and the broad_groups list",
                "directory {name} ({type}) unreachable: breadth unknown, groups counted broad ({why})",
                "directory {name} ({type}): {accounts} enabled accounts")

# How a grant's scope was decided (Grant.breadth; the report says which).
BREADTH_DIRECTORY = "directory"  # measured: the enabled accounts the principal reaches
BREADTH_NAMES = "names"  # judged by the principal's name (no directory, or not a principal the directory knows)
BREADTH_UNREACHABLE = "unknown (directory unreachable)"
MAX_PATH = 6  # nested groups shown in a grant's path; the count covers every level


def path_text(via: tuple[str, ...]) -> str:
    """Nested groups as reports show them: outermost first, each containing the next."""
    return " ⊃ ".join(via)


def reach_details(widest: Grant | None, judged: str) -> dict:
    """A finding's details on breadth: the measured grant reaching the most accounts, or how it was judged."""
    if widest is None:
        return {"breadth": judged or BREADTH_NAMES}
    return {"accounts": widest.accounts, "via": list(widest.via), "breadth": widest.breadth}


class DirectoryError(ConnectorError):
    """The directory could not be reached or searched: breadth stays unknown."""


@dataclass(frozen=True, slots=True)
class Reach:
    """What a directory knows of one principal."""

    principal: str  # as the policy names it
    kind: str  # user, group, foreign (a foreign security principal: another domain's account or group)
    display: str  # the name a person recognises (sAMAccountName, cn)
    accounts: int  # enabled user accounts it reaches: nested groups followed, primary group members counted
    via: tuple[str, ...] = ()  # the nested groups on the way to the largest part of those accounts, outermost first
    note: str = ""


class Directory:
    """A source of principals: subclasses set `id`, `Options` (a Thresholds, kw_only), `reach`, `enabled_accounts`."""

    id: ClassVar[str] = ""

    def __init__(self, options: Any, name: str):
        self.options, self.name = options, name

    def reach(self, principal: str) -> Reach | None:
        """The principal's reach, or None when this directory has no such principal."""
        raise NotImplementedError

    def enabled_accounts(self) -> int:
        """Every enabled user account of the directory (the 'everyone' of its organisation)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class Memberships:
    """Groups and what they hold (enabled accounts by number, nested groups by key), counted with a cycle guard."""

    def __init__(self):
        self.names: dict[str, str] = {}
        self.accounts: dict[str, list[int]] = {}
        self.nested: dict[str, list[str]] = {}
        self.foreign: dict[str, int] = {}
        self.accounts_too: set[str] = set()  # groups that are also accounts (database login roles): not in paths

    def group(self, key: str, name: str) -> None:
        """Declare a group (before its members)."""
        self.names[key] = name
        self.accounts.setdefault(key, [])
        self.nested.setdefault(key, [])

    def reach(self, principal: str, key: str) -> Reach:
        """The group's reach: every enabled account below it once, the path to its largest part, foreign members."""
        below = self._groups_below(key)
        reached = {index for k in below for index in self.accounts.get(k, ())}
        foreign = sum(self.foreign.get(k, 0) for k in below)
        note = (f"{foreign} foreign security principal{'s' if foreign != 1 else ''} (other domains' accounts or "
                "groups) among its members, not counted") if foreign else ""
        return Reach(principal, "group", self.names[key], len(reached), self._path(key), note)

    def _groups_below(self, key: str) -> set[str]:
        seen, stack = set(), [key]
        while stack:  # every nested group once: a cycle (A contains B contains A) ends here
            k = stack.pop()
            if k not in seen:
                seen.add(k)
                stack.extend(self.nested.get(k, ()))
        return seen

    def _below(self, key: str, seen: set[str]) -> set[int]:
        reached: set[int] = set()
        for k in self._groups_below(key) - seen:
            reached.update(self.accounts.get(k, ()))
        return reached

    def _path(self, key: str) -> tuple[str, ...]:
        """The group and, level by level, the nested group that reaches the most accounts (cycles cut)."""
        path, seen = [], set()
        while key is not None and key not in seen:
            seen.add(key)
            path.append(self.names[key])
            children = [c for c in self.nested.get(key, ()) if c not in seen and c not in self.accounts_too]
            sizes = {c: len(self._below(c, seen)) for c in children}
            key = max(children, key=sizes.__getitem__, default=None)
            if key is not None and not sizes[key]:  # a nested group that reaches nobody is not a way in
                key = None
        return tuple(path)


@dataclass(frozen=True)
class Thresholds:
    """When a principal counts as the organisation or as everyone, by the accounts it reaches."""

    broad_min_accounts: int = 100  # this many enabled accounts or more: organisation
    broad_share: float = 0.2  # or this share of every enabled account
    everyone_share: float = 0.9  # this share or more: everyone (nearly all)

    def __post_init__(self):
        if self.broad_min_accounts < 2 or not 0 < self.broad_share <= self.everyone_share <= 1:
            raise ValueError("broad_min_accounts must be >= 2 and 0 < broad_share <= everyone_share <= 1")

    def scope(self, accounts: int, total: int, kind: str) -> Scope:
        """The scope a principal of this kind has when it reaches `accounts` of `total` enabled accounts."""
        if total and accounts >= self.everyone_share * total and accounts > 1:
            return Scope.EVERYONE
        if accounts >= self.broad_min_accounts or (total and accounts >= self.broad_share * total and accounts > 1):
            return Scope.ORGANISATION
        return Scope.USER if kind == "user" else Scope.GROUP


class Breadth:
    """Rewrites access policies with measured scopes; caches each principal's answer for the whole scan."""

    def __init__(self, directory: Directory | None):
        self.directory = directory
        self.thresholds = directory.options if directory is not None else Thresholds()
        self.unreachable = ""  # why, once the directory failed (then every later principal is unknown too)
        self._total: int | None = None
        self._seen: dict[str, Reach | None] = {}
        self._policies: dict[int, tuple[AccessPolicy, AccessPolicy]] = {}

    @property
    def total(self) -> int | None:
        """Every enabled account of the directory, or None when it cannot be reached."""
        if self._total is None and self.directory is not None and not self.unreachable:
            try:
                self._total = self.directory.enabled_accounts()
            except DirectoryError as exc:
                self.unreachable = str(exc)
        return self._total

    def policy(self, policy: AccessPolicy) -> AccessPolicy:
        """The same policy with each grant's scope measured (or marked unknown) where the directory can say."""
        if self.directory is None or not policy.grants:
            return policy
        hit = self._policies.get(id(policy))
        if hit is not None and hit[0] is policy:  # connectors share one policy object among a folder's files
            return hit[1]
        grants = tuple(self._grant(g) for g in policy.grants)
        result = policy if all(a is b for a, b in zip(grants, policy.grants)) else replace(policy, grants=grants)
        if len(self._policies) >= 4096:
            self._policies.clear()
        self._policies[id(policy)] = (policy, result)
        return result

    def _grant(self, g: Grant) -> Grant:
        if g.scope == Scope.PUBLIC or g.accounts is not None:  # anonymous, or measured already (database roles)
            return g
        total = self.total
        reach = None if total is None else self._reach(g.principal)
        if self.unreachable:
            if g.scope in (Scope.GROUP,):  # a group of unknown size: never narrow
                return replace(g, scope=Scope.ORGANISATION, breadth=BREADTH_UNREACHABLE)
            return replace(g, breadth=BREADTH_UNREACHABLE)
        if reach is None:
            if g.scope == Scope.EVERYONE:  # Everyone, Authenticated Users, o+r: every account there is
                return replace(g, accounts=total, breadth=BREADTH_DIRECTORY)
            return replace(g, breadth=BREADTH_NAMES)
        scope = self.thresholds.scope(reach.accounts, total, reach.kind)
        principal, sid = g.principal, ""
        if principal.startswith("S-1-") and reach.display:  # a DACL's SID: the name a person recognises
            principal, sid = reach.display, f"SID {principal}"
        note = "; ".join(n for n in (g.note, reach.note, sid) if n)
        return replace(g, principal=principal, scope=scope, accounts=reach.accounts, via=reach.via[:MAX_PATH],
                       breadth=BREADTH_DIRECTORY, note=note)

    def _reach(self, principal: str) -> Reach | None:
        if principal not in self._seen:
            try:
                self._seen[principal] = None if self.unreachable else self.directory.reach(principal)
            except DirectoryError as exc:
                self.unreachable, self._seen[principal] = str(exc), None
        return self._seen[principal]

    def described(self) -> tuple[str, list]:
        """How breadth was judged in this scan, for the report's coverage: (English text, [msgid, args])."""
        if self.directory is None:
            msgid, args = DESCRIPTIONS[0], {}
        elif self.unreachable or self.total is None:
            msgid = DESCRIPTIONS[1]
            args = {"name": self.directory.name, "type": self.directory.id, "why": self.unreachable}
        else:
            msgid = DESCRIPTIONS[2]
            args = {"name": self.directory.name, "type": self.directory.id, "accounts": self.total}
        return msgid.format(**args), [msgid, args]

    def close(self) -> None:
        """Close the directory's connections."""
        if self.directory is not None:
            self.directory.close()
