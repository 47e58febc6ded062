"""Identifier check: Nordic national ids, e-mail addresses, IBANs and payment cards in text.

One pass finds every national-id, card, masked and IBAN candidate, and e-mail has one of its own
(from each '@'); both run compiled (checks/_pass.c) with Python's re as the fallback. Each candidate
is validated (checksum, real date, plausible age, test ranges) and scored by its form and the words
around it. The kinds of installed plugin packages run in a second pass (checks/patterns.py); every
kind's name, category and words come from the one table (checks/idspecs.py).
"""
from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Iterator

from vendorscan.model import NAME_SECTION, Chunk, Hit, Verdict
from vendorscan.checks import idspecs, kinds, labelled, masking, nordic
from vendorscan.check import ContentCheck, require_known
from vendorscan.checks.financial import IBAN_LENGTHS, card_brand, iban_ok
from vendorscan.checks.custom import CustomDetector, CustomPass, check_detectors
from vendorscan.checks.idspecs import BY_KIND, CONTEXT_GROUPS, NATIONAL_CONTEXT, SPECS, context_words
from vendorscan.checks.patterns import PatternPass
from vendorscan.checks.nordic import NEEDS_CONTEXT
from vendorscan.checks.testnumbers import TEST_CARDS, swedish

# One pass finds every candidate but e-mail: checks/_pass.c, compiled, reads the text where it lies;
# Python's re runs the same pattern where it could not be built (identical hits, tested). So no
# back-references and no look-around; boundaries are checked afterwards. Groups: 1 card, 2 id,
# 3 masked, 4 masked with a masked date part, 5 IBAN, 6 a Norwegian id typed as DD MM YY NNN NN.
CANDIDATES = r"""\d{4}(?:
    (\x20\d{4}\x20\d{4}\x20\d{1,4}(?:\x20\d{1,3})??|-\d{4}-\d{4}-\d{1,4}(?:-\d{1,3})??|\d{9,15})
  | (\d{2}(?:\d{2})?[-+\x20A-FU-Y]?\d{3}[\dA-Ya-y]\d?)
  | (\d{2}(?:\d{2})?[-+]?[Xx*#?•]{4}|[Xx*#?•]{2}-?[Xx*#?•]{4})
)
| ([Xx*#?•]{6}[-+]?\d{4})
| ((?:""" + "|".join(IBAN_LENGTHS) + r""")\d{2}(?:\x20?[A-Z0-9]{4}){2,7}(?:\x20?[A-Z0-9]{1,4})?)
| (\d{2}\x20\d{2}\x20\d{2}\x20\d{3}\x20\d{2})"""
CARD, NATIONAL, MASKED, MASKED_LEAD, IBAN, SPACED = 1, 2, 3, 4, 5, 6
_PASS = re.compile(CANDIDATES, re.X | re.ASCII)  # ASCII: \d is 0-9, as the validators' arithmetic expects
try:
    from vendorscan.checks import _pass as _compiled

    _compiled.configure("".join(IBAN_LENGTHS),
                        [(word, g) for g, (_, words) in enumerate(CONTEXT_GROUPS) for word in words])
    _compiled.configure_labels(labelled.WORDS)
except ImportError:  # not built here (no C compiler): Python's re, the same hits
    _compiled = None
try:
    from vendorscan.checks import _nordic
except ImportError:  # the same: checks/nordic.py's validators
    _nordic = None
_GROUP_BIT = {name: 1 << g for g, (name, _) in enumerate(CONTEXT_GROUPS)}
# the context groups (countries, "any") a bit mask of them stands for
_NEAR = tuple(frozenset(name for name, bit in _GROUP_BIT.items() if mask & bit) for mask in range(1 << len(_GROUP_BIT)))
_NAMED = tuple(near - {"any"} for near in _NEAR)  # the countries the words name
_COUNTRY = {spec.kind: spec.country for spec in SPECS}
_ANY = ("se", "dk", "no")  # countries whose word for the id is shared ("personnummer")
# the countries whose ids the words allow: those they name, and those a shared word ("personnummer") names
_ACCEPTED = tuple(named | (frozenset(_ANY) if "any" in near else frozenset()) for near, named in zip(_NEAR, _NAMED))
_FOLD = labelled.FOLD  # upper case as the compiled pass folds it: ASCII and Latin-1 (the words' range)
_MASK_CHARS = "*#•?"
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}\Z")  # \Z: ends at the '@' (no line break between)
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}"
                           r"[A-Za-z0-9])?)*\.[A-Za-z]{2,24}")
_CARD_CONTEXT = context_words("card")
_IBAN_CONTEXT = context_words("iban")
_CARD_TEST_NOTE = BY_KIND["card"].test_note
_GLUE = "-_#"  # not '/': a value as a path part (/kunder/198504121230.json) is a file named by its id
# Words around a Norwegian 11-digit value that make it a bank account number (mod 11 too), unless an id word is near.
_ACCOUNT = re.compile(r"(?<![^\W\d_])(?:bankkonto|kontonummer|kontonr|konto|account|acct)", re.IGNORECASE)
# A date-time value whose last four digits are a clock time is a timestamp when its surroundings are a
# timestamp's: a backup or log file's name, a log line it starts, a line whose own timestamp has its date.
_STAMP_WORDS = frozenset("backup bak dump db snapshot snap log logs export archive arkiv image img build release "
                         "job run tmp temp save copy kopia kopi sql".split())
_STAMP_EXTENSIONS = frozenset("tar gz tgz zip sql bak log dump 7z bz2 xz".split())
_LOG_START = re.compile(r"\s*(?:[:.]\d{2}\b|\]|(?:INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL|NOTICE)\b)")
_ISO_STAMP = re.compile(r"(?:19|20)(\d{2})-(\d{2})-(\d{2})[T ]\d{2}:\d{2}")
STAMP_FACTOR = 0.15  # below the default minimum confidence (0.2) from any confidence
_VERDICTS = {v.value: v for v in Verdict}
HOME_VOTES, HOME_SHARE, HOME_BONUS = 3, 0.5, 0.35  # when a text's unambiguous ids make it one country's
_LISTED_TESTS = frozenset({"se.personnummer", "se.samordningsnummer"})  # published lists, not number ranges


_DATE = [0.0, date.today()]  # when it was read, and the date: date.today() costs more than a name's scan


def _current_date() -> date:
    """Today, read again at most once a minute (a scan over midnight moves on within a minute)."""
    now = time.monotonic()
    if now - _DATE[0] > 60:
        _DATE[:] = [now, date.today()]
    return _DATE[1]


class IdentifierCheck(ContentCheck):
    """Unredacted Nordic national ids (SE, DK, NO, FI, IS), e-mail addresses, IBANs and payment cards."""

    hint = re.compile(r"\d{4}|@")  # every kind has four digits in a row (plugin kinds must) or an @
    id = "identifiers"
    version = "1"

    @dataclass(frozen=True)
    class Options:
        types: list[str] = field(default_factory=lambda: list(idspecs.all_kinds()))
        min_confidence: float = 0.2
        context_window: int = 40
        extra_test_numbers: list[str] = field(default_factory=list)
        custom: list[CustomDetector] = field(default_factory=list)  # [[checks.identifiers.custom]]: checks/custom.py

        def __post_init__(self):
            require_known(self.types, idspecs.all_kinds(), "identifier types")
            check_detectors(self.custom)
            idspecs.selected(self.types)  # a selected plugin kind that cannot be used fails here, by name
            if not 0.0 <= self.min_confidence <= 1.0:
                raise ValueError("min_confidence must be between 0 and 1")
            if not 0 <= self.context_window <= 200:
                raise ValueError("context_window must be between 0 and 200")

    @classmethod
    def kinds(cls) -> list[tuple[str, str, str]]:
        """(kind, name, where from) of every identifier type it can find: built in, then installed plugins'."""
        rows = [(k, BY_KIND[k].name, "built in") for k in BY_KIND]
        for k in idspecs.plugin_kinds():
            try:
                rows.append((k, idspecs.load(k).name, "plugin"))
            except Exception as exc:  # noqa: BLE001 - a broken plugin is listed with what is wrong, not a traceback
                rows.append((k, f"(cannot load: {exc})", "plugin"))
        return rows

    @classmethod
    def cache_parts(cls, options) -> list:
        """The selected plugin kinds' versions: a changed validator reads cached files again."""
        return [(kind, idspecs.load(kind).version) for kind in options.types if kind in idspecs.plugin_kinds()]

    def __init__(self, options=None, today: date | None = None, compiled: bool = True):
        super().__init__(options)
        if compiled and (_compiled is None or _nordic is None):
            _warn_fallback()
        fast = compiled and _compiled is not None
        self._find = _compiled.find if fast else _find_re
        self._near = _compiled.context if fast else _context_re
        self._readings = _nordic.readings if (compiled and _nordic is not None) else _readings_py
        self._find_emails = _compiled.emails if fast else _emails_re
        self._types = frozenset(self.options.types)
        self._all_national = all(s.kind in self._types for s in SPECS if s.category == "national_id")
        self._test_se = swedish(tuple(self.options.extra_test_numbers))
        self._today = today
        self._window = self.options.context_window
        wanted = self._types & {row.kind for row in idspecs.LABELLED}
        self._labelled = labelled.LabelPass(self._types, _compiled.labels if fast else labelled.labels_re) \
            if wanted else None
        rows = idspecs.selected(self.options.types)
        self._patterns = PatternPass(rows, self._window) if rows else None  # plugin kinds' pass
        self._custom = CustomPass(self.options.custom, self._window) if self.options.custom else None

    @classmethod
    def describe(cls, kind: str, verdict: str) -> tuple[str, str, tuple[str, ...]]:
        """Title, remediation and references of a finding, by its kind's row (a kind no longer installed: its id)."""
        row = idspecs.spec(kind)
        return kinds.describe(row.name if row else kind, verdict, row.category if row else "national_id")

    def scan(self, chunk: Chunk, resource, ctx) -> Iterator[Hit]:
        """Hits whose start lies in the chunk's own part, in text order per kind of pass."""
        text, base = chunk.text, chunk.start
        lo, hi = max(chunk.own_start - base, 0), chunk.own_end - base
        hasher = ctx.hasher
        today = self._today or _current_date()
        minimum = self.options.min_confidence
        loc = chunk.location
        column = loc.column_name if loc is not None else None
        # A column named personnummer/cpr/fnr/hetu/ssn… is context for every value in it.
        self_context = _column_context(column) if column else 0
        # In a name, '-' and '_' join its parts ("arende-4713-290897-1119.png"): no sign of an order number.
        glue = not (loc is not None and loc.section == NAME_SECTION)
        # A CSV/TSV header naming an id column is context for every value in that column, however far down.
        columns = _header_columns(chunk.header) if chunk.header else None
        taken = ()  # starts of labelled values: not also read as another kind's id
        if self._labelled is not None:
            found = list(self._labelled.scan(text, lo, hi, base, hasher, today,
                                             labelled.column_group(column) if column else None))
            if found:
                taken = {hit.start for hit in found}
                yield from found
        for hit in self._candidates(text, lo, hi, base, hasher, today, self_context, glue, columns):
            if hit.confidence >= minimum and hit.start not in taken:
                yield hit
        if "email" in self._types and "@" in text:
            yield from self._emails(text, lo, hi, base, hasher)
        if self._patterns is not None:
            yield from self._patterns.scan(text, lo, hi, base, hasher, minimum)
        if self._custom is not None:  # a pattern that times out yields a Problem: listed on the resource
            yield from self._custom.scan(text, lo, hi, base, hasher, minimum)

    def findings(self, aggregates, facts, ctx):
        """Findings as every content check's; a custom detector's titled and rated by its config (checks/custom.py)."""
        made = super().findings(aggregates, facts, ctx)
        return made if self._custom is None else self._custom.judged(made)

    # -- national ids, cards and masked values ---------------------------------------------------
    def _candidates(self, text, lo, hi, base, hasher, today, column_context=0, glue=True,
                    columns=None) -> Iterator[Hit]:
        # National ids are decided after the chunk's other candidates are seen: a value that several
        # countries' rules accept goes to the country whose unambiguous ids fill the text (an export
        # belongs to one country), so they are held back until the end of the chunk.
        pending = []
        votes: dict[str, int] = {}
        for s, e, which in self._find(text, lo, hi):
            if which == IBAN:
                if "iban" in self._types:
                    hit = self._iban(text, s, e, base, hasher)
                    if hit is not None:
                        yield hit
                continue
            if which == NATIONAL or which == SPACED:
                # DD MM YY NNN NN is read as the hand-typed DDMMYY NNNNN it stands for
                value = text[s:e] if which == NATIONAL else text[s:s + 8].replace(" ", "") + " " + text[s + 9:e].replace(" ", "")
                context = column_context | _column_at(text, s, columns) if columns else column_context
                found = self._national(text, s, e, today, context, value)
                if found is not None:
                    pending.append((s, e, found))
                    # A reading without a check digit (a CPR number failing modulus 11) fits nearly any
                    # date-shaped value: it does not make a checked reading ambiguous. A test reading beside
                    # a real one (a CPR number that is also a Finnish temporary number) is no vote either.
                    real = any(r[1] != "test" for r in found[1])
                    countries = {_COUNTRY[r[0]] for r in found[1] if r[3] >= 0.5 and not (real and r[1] == "test")}
                    if len(countries) == 1:
                        (country,) = countries
                        votes[country] = votes.get(country, 0) + 1
                continue
            if which == CARD:
                hit = self._card(text, s, e, base, hasher)
            else:
                hit = Hit(self._masked_kind(text, s, e), "national_id", Verdict.MASKED, 0.9, base + s, base + e,
                          text[s:e], None)
            if hit is not None:
                yield hit
        home = max(votes, key=votes.get) if votes else None
        if home is not None and (votes[home] < HOME_VOTES or votes[home] < HOME_SHARE * sum(votes.values())):
            home = None
        for s, e, found in pending:
            hit = self._decide(text, s, e, base, hasher, found, home, glue)
            if hit is not None:
                yield hit

    def _national(self, text, s, e, today, column_context=0, value=None):
        """(value parts, validator results, context) of a national-id candidate, or None."""
        found = self._readings(value or text[s:e], today.year, today.month, today.day, self._test_se)
        if found is None:
            return None
        (head, sep, tail), results = found
        if not self._all_national:
            results = [r for r in results if r[0] in self._types]
            if not results:
                return None
        mask = self._near(text, s, e, self._window) | column_context
        if _NAMED[mask]:
            accepted = _ACCEPTED[mask]
            for r in results:
                if _COUNTRY[r[0]] in accepted:
                    break
            else:
                # The words around it name an id this value is not (a broken checksum, a date that does not
                # exist): a near miss of that id, not by chance another country's.
                return None
        return (head, sep, tail), results, mask, column_context

    def _decide(self, text, s, e, base, hasher, found, home, glue=True) -> Hit | None:
        (head, sep, tail), results, mask, column_context = found
        near, named = _NEAR[mask], _NAMED[mask]
        length = e - s
        tests = [r for r in results if r[1] == "test"]
        if tests:
            reals = [r for r in results if r[1] != "test"]
            testers = {_COUNTRY[r[0]] for r in tests}
            # On an official test list, or in a test range of the country the words or the text name: test
            # data. Another country's test range never makes a real reading a test number (a CPR number
            # that reads as a Finnish temporary number is a CPR number outside Finnish text).
            if not reals or any(r[0] in _LISTED_TESTS for r in tests) or (
                    (testers & named or home in testers) and not {_COUNTRY[r[0]] for r in reals} & named):
                results = tests
            else:
                results = reals
        stamp = None  # is it a timestamp? asked once, only of a value whose tail is a clock time
        best, best_conf = None, -1.0
        accepted = _ACCEPTED[mask] if named else None
        for kind, verdict, normalised, strength, note in results:
            country = _COUNTRY[kind]
            if accepted is not None and country not in accepted:
                continue  # the words name another country's id ("kennitala": not a personnummer that fits too)
            if strength == NEEDS_CONTEXT:
                # Counts only as the value its country's word labels (hand-typed, no check digit, a rule not yet
                # in force): the word's column, or the word right before it with no other value in between.
                if not (_covers(_NEAR[column_context], country) or (
                        _covers(near, country) and _covers(self._label_before(text, s), country))):
                    continue
            elif strength < 0.5 and country != home and country not in near:
                continue  # a reading without a check digit needs its country named or the text to be its country's
            if country == "no" and length >= 11 and "no" not in named and verdict == "real" and _ACCOUNT.search(
                    text, max(0, s - self._window), e + self._window):
                continue  # a bank account number: 11 digits with a mod-11 check digit too
            if home is not None and country != home and not near and not sep and length == 10 and (
                    strength < 0.6 or sum(r[3] >= 0.5 for r in results) > 1):
                # In one country's text, a bare 10-digit run is more often a phone or customer number than
                # another country's id, unless only that country's rules, with a strong check, accept it.
                continue
            conf = strength
            if not sep and length == 10:
                conf *= 0.45  # bare 10-digit runs are everywhere: order, customer and phone numbers
            elif not sep and length == 12:
                conf *= 0.85
            if country in near or ("any" in near and country in _ANY):
                conf = min(0.99, max(conf + 0.45, 0.8)) + 0.001  # the named country wins a tie
            elif near:
                conf = min(0.99, conf + 0.25)
            if country == home and not named:
                conf += HOME_BONUS  # the text's own country, unless the words around the value name one
            if note.startswith("possible test number"):
                conf = min(conf, 0.6)
            if glue and s >= 2 and text[s - 1] in _GLUE and text[s - 2].isalnum() and not _names_id(text, s - 1):
                conf *= 0.25  # glued to a prefix such as ORD-: an order or case number
            if len(tail) == 4 and tail.isdigit() and tail < "2400" and tail[2] < "6":
                if stamp is None:
                    # the words that name an id must stand on its own line: a log line's neighbour's do not count
                    stamp = _timestamp(text, s, e, head) and not (named and self._named_on_line(text, s, e))
                if stamp:
                    conf *= STAMP_FACTOR
            if conf > best_conf:
                best, best_conf = (kind, verdict, normalised, note), conf
        if best is None:
            return None
        kind, verdict, normalised, note = best
        evidence = masking.norwegian(head + tail) if len(tail) == 5 else masking.national_id(head, sep)
        return Hit(kind, "national_id", _VERDICTS[verdict], round(min(best_conf, 0.99), 3), base + s, base + e,
                   evidence, hasher(kind, normalised), note)

    def _label_before(self, text: str, s: int) -> frozenset:
        """The context groups of the last context word before s, if no digit or mask stands between it and s."""
        start = max(0, s - self._window)
        last = None
        for last in NATIONAL_CONTEXT.finditer(text[start:s].translate(_FOLD)):
            pass
        if last is None or any(ch.isdigit() or ch in _MASK_CHARS for ch in text[start + last.end():s]):
            return frozenset()  # the word labels another value: '"kennitala": "100501-xxxx", "phone": "8163…"'
        return frozenset((last.lastgroup,))

    def _named_on_line(self, text: str, s: int, e: int) -> bool:
        """True when a word naming a country's id stands near the value on its own line."""
        start = _line_start(text, s, self._window)
        return bool(_NAMED[self._near(text, start, _line_end(text, e, self._window), 0)])

    def _masked_kind(self, text: str, s: int, e: int) -> str:
        named = _NAMED[self._near(text, s, e, self._window)]
        if len(named) == 1:
            (country,) = named
            return next(sp.kind for sp in SPECS if sp.country == country)
        return "nordic.national_id"

    def _card(self, text, s, e, base, hasher) -> Hit | None:
        if "card" not in self._types:
            return None
        raw = text[s:e]
        digits = raw.replace(" ", "").replace("-", "")
        if not 13 <= len(digits) <= 19 or card_brand(digits) is None or not nordic.luhn_ok(digits):
            return None
        grouped = digits != raw
        conf = 0.7 if grouped else 0.45  # EAN-13 and other barcodes pass Luhn too
        w = self._window
        if _CARD_CONTEXT.search(text, max(0, s - w), min(len(text), e + w)):
            conf = min(0.99, conf + 0.3)
        if digits in TEST_CARDS:
            return Hit("card", "financial", Verdict.TEST, conf, base + s, base + e, masking.card(digits),
                       hasher("card", digits), _CARD_TEST_NOTE)
        return Hit("card", "financial", Verdict.REAL, conf, base + s, base + e, masking.card(digits),
                   hasher("card", digits))

    # -- IBAN and e-mail --------------------------------------------------------------------------
    def _iban(self, text, s, e, base, hasher) -> Hit | None:
        if s and text[s - 1].isalnum():
            return None
        compact = text[s:e].replace(" ", "")
        length = IBAN_LENGTHS[compact[:2]]
        if len(compact) > length:
            # the greedy match took a following word too: cut at the country's length
            compact, e = compact[:length], _end_after(text, s, length)
        if (e < len(text) and text[e].isalnum()) or not iban_ok(compact):
            return None
        w = self._window
        conf = 0.9 if _IBAN_CONTEXT.search(text, max(0, s - w), min(len(text), e + w)) else 0.8
        return Hit("iban", "financial", Verdict.REAL, conf, base + s, base + e, masking.iban(compact),
                   hasher("iban", compact))

    def _emails(self, text, lo, hi, base, hasher) -> Iterator[Hit]:
        for s, e in self._find_emails(text, lo, hi):
            address = text[s:e]
            yield Hit("email", "contact", Verdict.REAL, 0.95, base + s, base + e, masking.email(address),
                      hasher("email", address.lower()))


def _find_re(text: str, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """(start, end, group) of the bounded candidates starting in [lo, hi): the compiled pass, in Python."""
    found = []
    for m in _PASS.finditer(text, lo):
        s, e = m.span()
        if s >= hi:
            break
        which = m.lastindex
        if which != IBAN and not _bounded(text, s, e):
            continue  # inside a longer run of letters or digits (an IBAN checks its own bounds)
        if which == NATIONAL and s and text[s - 1] == "+":
            continue  # +4703085953: a phone number with its country code
        found.append((s, e, which))
    return found


def _emails_re(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """(start, end) of the e-mail addresses starting in [lo, hi): the compiled e-mail pass, in Python."""
    found = []
    at = text.find("@", lo)
    while at != -1:
        left = _EMAIL_LOCAL.search(text, max(0, at - 64), at)
        right = _EMAIL_DOMAIN.match(text, at + 1) if left else None
        if right:
            s = left.start()
            while s < at and text[s] in ".-":
                s += 1
            e = right.end()
            if s < at and lo <= s < hi and not (e < len(text) and (text[e].isalnum() or text[e] == "@")):
                found.append((s, e))
        if at >= hi:
            break
        at = text.find("@", at + 1)
    return found


@functools.cache  # once per process
def _warn_fallback() -> None:
    logging.getLogger(__name__).warning(
        "the identifier check's compiled parts (checks/_pass.c, checks/_nordic.c) are not built: using the "
        "pure-Python pass, with the same results, about fifteen times slower; install gcc and python3-dev and run "
        "pip install -e . again")


def _readings_py(value: str, year: int, month: int, day: int, test_se: frozenset[str]):
    """nordic.readings with the compiled validators' arguments."""
    return nordic.readings(value, date(year, month, day), test_se)


def _context_re(text: str, s: int, e: int, w: int) -> int:
    """Bit mask of the context groups in the window around [s, e): the compiled context, in Python."""
    return _words_mask(text[max(0, s - w):e + w].translate(_FOLD))


def _words_mask(folded: str) -> int:
    """Bit mask of the context groups whose words stand in a lower-case text."""
    mask = 0
    for m in NATIONAL_CONTEXT.finditer(folded):
        mask |= _GROUP_BIT[m.lastgroup]
    return mask


_DIGITS3 = re.compile(r"\d{3}")  # a header has no numbers; a first row of data has


def _covers(near: frozenset, country: str) -> bool:
    """True when the context groups name the country, or are a word several countries share that names it."""
    return country in near or ("any" in near and country in _ANY)


def _column_context(name: str) -> int:
    """Bit mask of the context groups a column's name stands for (personnummer, cpr_nr, fnr, hetu, ssn…)."""
    spaced = name.lower().replace("_", " ").replace("-", " ")
    return _words_mask(spaced) | _words_mask(name.lower())


@functools.lru_cache(maxsize=256)  # a header per file, files by the thousand
def _header_columns(header: str) -> tuple[str, tuple[int, ...]] | None:
    """(delimiter, context mask per column) of a first line that is a header naming an id column, else None."""
    delimiter = max(";,\t|", key=header.count)
    names = [f.strip().strip("\"'").strip() for f in header.split(delimiter)]
    if len(names) < 2 or any(len(f) > 48 for f in names) or _DIGITS3.search(header):
        return None  # one field, prose with commas, or a first row of data: not a header
    masks = tuple(_column_context(f) if f and not f[0].isdigit() else 0 for f in names)
    return (delimiter, masks) if any(masks) else None


def _column_at(text: str, s: int, columns: tuple[str, tuple[int, ...]]) -> int:
    """Context mask of the column an offset lies in (0 in the header line or a line begun before the text)."""
    delimiter, masks = columns
    start = text.rfind("\n", 0, s) + 1
    if not start:
        return 0
    if '"' in text[start:s]:
        field, quoted = 0, False
        for ch in text[start:s]:
            if ch == '"':
                quoted = not quoted
            elif ch == delimiter and not quoted:
                field += 1
    else:
        field = text.count(delimiter, start, s)
    return masks[field] if field < len(masks) else 0


def _line_start(text: str, s: int, reach: int) -> int:
    """The start of the line an offset is on, at most `reach` characters back."""
    lo = max(0, s - reach)
    return max(lo, text.rfind("\n", lo, s) + 1)


def _word_start(text: str, end: int) -> int:
    """Where the run of letters that ends at `end` begins."""
    while end and text[end - 1].isalpha():
        end -= 1
    return end


def _line_end(text: str, e: int, reach: int) -> int:
    """The end of the line an offset is on, at most `reach` characters on."""
    nl = text.find("\n", e, e + reach)
    return min(len(text), e + reach) if nl < 0 else nl


def _names_id(text: str, glue: int) -> bool:
    """True when the word a value is glued to is an id's context word (cpr_0412851234.png)."""
    return bool(_words_mask(text[_word_start(text, glue):glue + 1].translate(_FOLD).replace("_", " ")))


def _timestamp(text: str, s: int, e: int, head: str) -> bool:
    """True when a date-time-shaped value stands where timestamps do (its tail is a clock time)."""
    line_start = _line_start(text, s, 200)
    if text[line_start:s].strip(" \t[") == "" and _LOG_START.match(text, e):
        return True  # a log line it starts: 170908-1412 INFO ...
    i = s - 1
    if i > 0 and text[i] in "_-." and text[_word_start(text, i):i].lower() in _STAMP_WORDS:
        return True  # backup_20170908-1412.tar
    if e + 1 < len(text) and text[e] == ".":
        k = e + 1
        while k < len(text) and text[k].isalnum():
            k += 1
        if text[e + 1:k].lower() in _STAMP_EXTENSIONS:
            return True  # …-201709081412.sql.gz
    for m in _ISO_STAMP.finditer(text, line_start, _line_end(text, e, 200)):
        yymmdd = "".join(m.groups())
        if head[-6:] == yymmdd or head == yymmdd[4:] + yymmdd[2:4] + yymmdd[:2]:
            return True  # the line's own timestamp has its date (SE order YYMMDD, or DK order DDMMYY)
    return False


def _bounded(text: str, s: int, e: int) -> bool:
    """True when the match is not part of a longer run of letters or digits."""
    if s and (text[s - 1].isalnum() or text[s - 1] in _MASK_CHARS):
        return False
    return not (e < len(text) and (text[e].isalnum() or text[e] in _MASK_CHARS))


def _end_after(text: str, s: int, count: int) -> int:
    """End offset after `count` non-space characters from s."""
    i = s
    while count:
        if text[i] != " ":
            count -= 1
        i += 1
    return i


def detect(text: str, hasher, options=None, today: date | None = None, compiled: bool = True) -> list[Hit]:
    """Every hit in a whole text (for tests and benchmarks)."""
    from vendorscan.context import ScanContext
    check = IdentifierCheck(options, today=today, compiled=compiled)
    ctx = ScanContext("detect", "production", hasher)
    return list(check.scan(Chunk(text, 0, 0, len(text), 1, 1), None, ctx))
