"""An identifier kind: one row of the identifier check's spec table, built in or from a plugin package.

A plugin adds a kind with one module holding an `IdentifierKind` and one entry point naming it
(group `vendorscan.identifiers`, name = the kind). The identifier check finds the kind's candidates
with `pattern`, keeps those `validate` accepts, and reports them masked by `mask` and hashed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

CATEGORIES = ("national_id", "contact", "financial")
VERDICTS = ("real", "test")


@dataclass(frozen=True)
class IdentifierKind:
    """One kind of identifier: what it is, where it is from, the words that announce it, how it is checked."""

    kind: str  # permanent: "se.personnummer", "xx.memberno"; a plugin's equals its entry-point name
    country: str  # ISO 3166 alpha-2 in lower case; "" for international kinds
    category: str  # one of CATEGORIES: what the severity rule and remediation go by
    name: str  # what reports call it: "Swedish personnummer"
    context: tuple[str, ...] = ()  # words (any language) that raise confidence when near a value
    # A plugin kind's candidates, a Python regex; "" for the built-in kinds the compiled pass finds.
    pattern: str = ""
    # candidate text -> (normalised value, "real" | "test"), or None when it is not this kind
    validate: Callable[[str], tuple[str, str] | None] | None = None
    mask: Callable[[str], str] | None = None  # normalised value -> evidence that never shows the value
    test_note: str = ""  # why a value `validate` calls "test" is a test number: the hit's note
    confidence: float = 0.6  # of a valid candidate without context words near it (they add 0.3)
    version: str = "1"  # raised when what it accepts or how it masks changes: cached results are read again

    @property
    def id(self) -> str:
        """The kind, as the plugin loader compares it with the entry-point name."""
        return self.kind

    def problems(self) -> list[str]:
        """What is wrong with a plugin kind's declaration (empty when it can be used)."""
        found = []
        if self.category not in CATEGORIES:
            found.append(f"category must be one of {', '.join(CATEGORIES)}")
        if not self.pattern or not callable(self.validate):
            found.append("a plugin kind needs a pattern and a validate callable")
        if self.mask is not None and not callable(self.mask):
            found.append("mask must be callable")
        if not 0.0 <= self.confidence <= 1.0:
            found.append("confidence must be between 0 and 1")
        return found
