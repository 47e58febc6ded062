"""What the machine-readable reports say about a kind of finding (a rule): its text and its severity."""
from __future__ import annotations

import string
from dataclasses import dataclass

from vendorscan import plugins
from vendorscan.model import Finding, Severity

_LEVELS = list(Severity)


@dataclass(frozen=True)
class Rule:
    """One kind of finding of one check: the text a dashboard shows for every result of it."""

    id: str  # check_id/kind, e.g. identifiers/se.personnummer
    check_id: str
    kind: str
    title: str
    description: str
    remediation: str
    references: tuple[str, ...]
    severity: Severity  # the worst of its findings about real values (or of all, when every one is a test value)


def severity_of(rank: int) -> Severity:
    """The Severity of a store rank (0 critical … 4 info)."""
    return _LEVELS[rank]


def rule(check_id: str, kind: str, severity: Severity, example: Finding | None, checks: dict[str, str]) -> Rule:
    """A rule's text: the check's own description of the kind when it has one (content checks), else the example's."""
    title, remediation, refs = "", "", ()
    try:
        cls = plugins.load("checks", check_id)
    except plugins.PluginError:  # a report rebuilt where that check is no longer installed
        cls = None
    if cls is not None and hasattr(cls, "describe"):
        title, remediation, refs = cls.describe(kind, "real")
    if example is not None:
        title = title if title and title != kind else generic_title(example)
        remediation = remediation or example.remediation
        refs = tuple(refs) or example.references
    title = title or kind
    about = checks.get(check_id, "")
    description = f"{title}: found by the {check_id} check" + (f" ({about.rstrip('.')})." if about else ".")
    return Rule(f"{check_id}/{kind}", check_id, kind, title, description, remediation, tuple(refs), severity)


def generic_title(f: Finding) -> str:
    """A finding's title without what is particular to it (counts), from its message template where it has one."""
    msg = f.details.get("title_msg") if isinstance(f.details, dict) else None
    if msg and isinstance(msg, list) and len(msg) == 2 and isinstance(msg[1], dict):
        template, args = msg
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        try:
            text = template.format(**{n: "N" if isinstance(args.get(n), (int, float)) else args.get(n, n)
                                      for n in names})
        except (KeyError, IndexError, ValueError):
            text = f.title
    else:
        text = f.title
    return text.split(" (")[0]
