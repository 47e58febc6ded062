"""The identifier check's second pass: the kinds plugin packages declare by a pattern.

The built-in kinds' compiled pass is not touched: each plugin kind's regex runs on its own over the
chunk, a candidate that stands as a whole word goes to the kind's validator, and an accepted one
becomes a Hit with the kind's masked evidence and the keyed hash of its normalised value.
"""
from __future__ import annotations

import re
from typing import Iterator

from vendorscan.identifier import IdentifierKind
from vendorscan.model import Hit, Verdict
from vendorscan.checks import masking
from vendorscan.checks.idspecs import context_words

CONTEXT_BONUS = 0.3  # context words near a value, as for cards
# Resource names are masked only where four digits in a row or an '@' stand (agent/names.py's cheap
# prefilter): a value without them would be found in a name but shown unmasked, so it is not reported.
_MASKABLE = re.compile(r"\d{4}|@")
_VERDICTS = {"real": Verdict.REAL, "test": Verdict.TEST}


class PatternPass:
    """Finds, validates, masks and hashes the values of the given plugin kinds."""

    def __init__(self, rows: list[IdentifierKind], window: int):
        self._rows = tuple((row, re.compile(row.pattern), context_words(row), row.mask or masking.generic)
                           for row in rows)
        self._window = window

    def scan(self, text: str, lo: int, hi: int, base: int, hasher, minimum: float = 0.0) -> Iterator[Hit]:
        """Hits of at least `minimum` confidence whose start lies in text[lo:hi] (offsets made absolute with base)."""
        w = self._window
        for row, rx, near, mask in self._rows:
            for m in rx.finditer(text, lo):
                s, e = m.span()
                if s >= hi:
                    break
                raw = m.group()
                if s == e or not _whole(text, s, e) or not _MASKABLE.search(raw):
                    continue
                found = row.validate(raw)
                if found is None:
                    continue
                normalised, verdict = found
                verdict = _VERDICTS[verdict]  # a KeyError otherwise: the resource is skipped as an internal error
                conf = row.confidence
                if near is not None and near.search(text, max(0, s - w), min(len(text), e + w)):
                    conf = min(0.99, conf + CONTEXT_BONUS)
                if conf < minimum:
                    continue
                yield Hit(row.kind, row.category, verdict, round(conf, 3), base + s, base + e,
                          _evidence(mask, normalised, raw), hasher(row.kind, normalised),
                          row.test_note if verdict is Verdict.TEST else "")


def _whole(text: str, s: int, e: int) -> bool:
    """True when the match is not part of a longer run of letters or digits."""
    return not (s and text[s - 1].isalnum()) and not (e < len(text) and text[e].isalnum())


def _evidence(mask, normalised: str, raw: str) -> str:
    """The plugin's masked evidence; the generic mask instead if it would show the value."""
    shown = mask(normalised)
    if not isinstance(shown, str) or normalised in shown or raw in shown:
        return masking.generic(normalised)
    return shown
