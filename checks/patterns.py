"""The identifier check's second pass: the kinds plugin packages declare by a pattern.

The built-in kinds' compiled pass is not touched: each plugin kind's regex runs on its own over the
chunk, a candidate that stands as a whole word goes to the kind's validator, and an accepted one
becomes a Hit with the kind's masked evidence and the keyed hash of its normalised value. The kinds a
config declares (checks/custom.py) run here too, with the regex package under a time limit per chunk.
"""
from __future__ import annotations

import re
from typing import Callable, Iterator

import regex

from vendorscan.format import Problem
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

    def __init__(self, rows: list[IdentifierKind], window: int, time_limit: Callable[[int], float] | None = None):
        """time_limit: seconds each pattern may take on a text of n characters (the regex package's timeout)."""
        engine = re if time_limit is None else regex
        self._rows = tuple((row, engine.compile(row.pattern), context_words(row), row.mask or masking.generic)
                           for row in rows)
        self._window = window
        self._limit = time_limit

    def scan(self, text: str, lo: int, hi: int, base: int, hasher, minimum: float = 0.0) -> Iterator[Hit | Problem]:
        """Hits of at least `minimum` confidence whose start lies in text[lo:hi] (offsets made absolute with base);
        with a time limit, a Problem for each pattern that ran past it (its hits until then are kept)."""
        w = self._window
        limit = None if self._limit is None else self._limit(len(text))
        for row, rx, near, mask in self._rows:
            matches = rx.finditer(text, lo) if limit is None else rx.finditer(text, lo, timeout=limit)
            try:
                for m in matches:
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
            except TimeoutError:
                if limit is None:
                    raise
                # The kind and the rule only, never the text: the same words for every chunk, listed once per resource.
                yield Problem("pattern-timeout", f"{row.kind}: its pattern ran past its time limit; the rest of that "
                                                 "text was scanned by every other detector")


def _whole(text: str, s: int, e: int) -> bool:
    """True when the match is not part of a longer run of letters or digits."""
    return not (s and text[s - 1].isalnum()) and not (e < len(text) and text[e].isalnum())


def _evidence(mask, normalised: str, raw: str) -> str:
    """The plugin's masked evidence; the generic mask instead if it would show the value."""
    shown = mask(normalised)
    if not isinstance(shown, str) or normalised in shown or raw in shown:
        return masking.generic(normalised)
    return shown
