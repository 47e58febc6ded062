"""Identifiers with no form of their own, found only next to their labels: immigration and healthcare case numbers.

A Danish udlændingenummer, a Norwegian DUF-nummer, a Swedish LMA/dossier number or healthcare reservnummer
has no checksum that sets it apart from any other number, so a number counts only where its label stands
just before it ("Udl.nr. 1234567", "DUF-nummer: 201912345678", "LMA 12-345678/1"), or in a column the label
names. The labels (idspecs.LABELLED's words) are found by the compiled pass (checks/_pass.c labels()) or
by the same words in Python; each kind's value pattern is then tried right after its label.
"""
from __future__ import annotations

import functools
import re
from datetime import date
from typing import Iterator

from vendorscan.model import Hit, Verdict
from vendorscan.checks import masking
from vendorscan.checks.idspecs import LABELLED
from vendorscan.checks.nordic import luhn_ok, plausible_birth

CONFIDENCE = 0.9  # the label is right before the value
SHORT_LABEL = 4  # a label word this short must end where the word does (duf, not dufte); longer ones are stems
REACH = 48  # characters a label may stand before the part of the text a chunk answers for
# Upper case as the compiled pass folds it: ASCII and Latin-1 capitals.
FOLD = {c: c + 32 for c in (*range(0x41, 0x5B), *range(0xC0, 0xDF)) if c != 0xD7}

# The rest of the label (".nr", "-nummer", " kort nr") and what stands between it and the value (": ").
_LEAD = r"(?:[.\-\x20]?[^\W\d_]{1,20}){0,3}+[.\s:#=\"'()\-]{0,8}"
_VALUES = {
    "dk.udlaendingenummer": r"\d{6,10}|\d{2,4}[\-\x20]\d{4,8}",  # four digits in a row: names are masked by them
    "no.duf": r"(?:19|20)\d{2}(?:\x20?\d{4}){2}",
    "se.lma": r"\d{2}-?\d{6}(?:/\d{1,2})?",
    "se.reservnummer": r"99\d{10}|(?:19|20)\d{6}-?[A-Z0-9]{4}",
}
_VALUE = {kind: re.compile(_LEAD + "(" + pattern + ")") for kind, pattern in _VALUES.items()}
_CELL = {kind: re.compile(r"[\x20\t]*(" + pattern + ")") for kind, pattern in _VALUES.items()}

# (word, group) in the order they are tried; the group is the kind's place in LABELLED.
WORDS = [(word, g) for g, row in enumerate(LABELLED) for word in row.context]
_LABELS = re.compile(r"(?<![^\W\d_])(?:" + "|".join(
    re.escape(w) + (r"(?![^\W\d_])" if len(w) <= SHORT_LABEL else "") for w, _ in WORDS) + ")")
_GROUP_OF = {w: g for w, g in WORDS}


# The shortest beginnings every label word has: str.find looks for them, folding and the regex run only there.
_ANCHORS = tuple(w for w in dict.fromkeys(w for w, _ in WORDS)
                 if not any(o != w and w.startswith(o) for o, _ in WORDS))


def labels_re(text: str, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """(start, end, group) of the label words starting in [lo, hi): the compiled labels(), in Python."""
    lower = text.lower()
    if len(lower) != len(text):  # a character whose lower case is longer: offsets would shift
        folded = text.translate(FOLD)
        return [(m.start(), m.end(), _GROUP_OF[m.group()]) for m in _LABELS.finditer(folded, lo, len(text))
                if m.start() < hi]
    starts = set()
    for anchor in _ANCHORS:
        i = lower.find(anchor, lo, hi + len(anchor) - 1)
        while i >= 0:
            starts.add(i)
            i = lower.find(anchor, i + 1, hi + len(anchor) - 1)
    found = []
    for i in sorted(starts):
        back = 1 if i else 0  # the character before, for the look-behind
        window = text[i - back:i + 48].translate(FOLD)
        m = _LABELS.match(window, back)
        if m:
            found.append((i, i + m.end() - back, _GROUP_OF[m.group()]))
    return found


def normalised(kind: str, raw: str, today: date) -> str | None:
    """The value a label's number stands for, or None when it is not that kind's number."""
    compact = raw.replace(" ", "").replace("-", "")
    if kind == "dk.udlaendingenummer":
        return compact if 6 <= len(compact) <= 10 else None
    if kind == "no.duf":
        return compact if 1975 <= int(compact[:4]) <= today.year else None  # the year of the first application
    if kind == "se.lma":
        return compact[:2] + "-" + compact[2:8]  # the card's sequence (/n) is not part of the person's number
    if compact.isdigit():  # Region Stockholm: 99, the birth year, a serial and a Luhn digit over positions 5-12
        return compact if luhn_ok(compact[4:12]) else None
    if compact[8:].isdigit():
        return None  # a date and four digits: a personnummer's form, not a reservnummer's
    year, month, day = int(compact[:4]), int(compact[4:6]), int(compact[6:8])
    return compact if plausible_birth(year, month, day, today) else None


class LabelPass:
    """Finds, validates, masks and hashes the labelled kinds among the selected types."""

    def __init__(self, types: frozenset[str], find_labels):
        self._kinds = tuple(row.kind if row.kind in types else None for row in LABELLED)
        self._find_labels = find_labels

    def scan(self, text: str, lo: int, hi: int, base: int, hasher, today: date, column: int | None = None
             ) -> Iterator[Hit]:
        """Hits whose value starts in text[lo:hi]; in a column a label names (group `column`), every cell's value."""
        if column is not None:
            yield from self._cells(text, lo, hi, base, hasher, today, column)
            return
        for s, e, group in self._find_labels(text, max(0, lo - REACH), hi):
            kind = self._kinds[group]
            if kind is None:
                continue
            m = _VALUE[kind].match(text, e)
            if m is None or not lo <= m.start(1) < hi:
                continue
            hit = self._hit(kind, text, m.start(1), m.end(1), base, hasher, today)
            if hit is not None:
                yield hit

    def _cells(self, text, lo, hi, base, hasher, today, group) -> Iterator[Hit]:
        kind = self._kinds[group]
        if kind is None:
            return
        pos = lo if lo == 0 or text[lo - 1] == "\n" else _next_line(text, lo, hi)
        while pos < hi:  # a cell a line
            m = _CELL[kind].match(text, pos)
            if m is not None:
                hit = self._hit(kind, text, m.start(1), m.end(1), base, hasher, today)
                if hit is not None:
                    yield hit
            pos = _next_line(text, pos, hi)

    @staticmethod
    def _hit(kind, text, s, e, base, hasher, today) -> Hit | None:
        if (s and text[s - 1].isalnum()) or (e < len(text) and (text[e].isalnum() or text[e] in "/-")):
            return None  # part of a longer number or word
        value = normalised(kind, text[s:e], today)
        if value is None:
            return None
        return Hit(kind, "national_id", Verdict.REAL, CONFIDENCE, base + s, base + e, masking.generic(value),
                   hasher(kind, value))


def _next_line(text: str, pos: int, hi: int) -> int:
    nl = text.find("\n", pos, hi)
    return nl + 1 if nl >= 0 else hi


@functools.lru_cache(maxsize=1024)  # a database's cells each carry their column's name
def column_group(name: str) -> int | None:
    """The labelled kind (its place in LABELLED) a column's name is the label of (DUF_nr, udl_nr), or None."""
    found = labels_re(name.replace("_", " "), 0, len(name))
    return found[0][2] if found else None
