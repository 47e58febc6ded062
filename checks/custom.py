"""Custom detectors: identifiers an auditor declares in the config, without code.

Each `[[checks.identifiers.custom]]` table becomes the kind `custom.<name>`. Its pattern runs in the
identifier check's pattern pass (checks/patterns.py) with the regex package under a time limit per
chunk; a whole-word match is checked by one validator over its digits, masked by a small rule and
hashed; its findings are titled, rated and described as the table says.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
# Python's own pattern parser (private, the same since 3.11): the anchor analysis below reads its tree.
from re import _constants as sre, _parser as sre_parse
from typing import Iterable, Iterator

import regex

from vendorscan.identifier import CATEGORIES, IdentifierKind
from vendorscan.model import Finding, Severity
from vendorscan.options import OptionError
from vendorscan.checks import idspecs, kinds
from vendorscan.checks.patterns import PatternPass

PREFIX = "custom."  # a custom detector's kind is PREFIX + its name: never a built-in or plugin kind
VALIDATORS = ("luhn", "mod11", "mod97", "none")
SEVERITIES = tuple(s.value for s in Severity)
MASK_RULES = 'last:N, first:N (N from 1 to 8) or all'
# Seconds each pattern may take on one chunk: 0.27 s on a 64 KiB chunk, about thirty times what a
# plain pattern needs there with the regex package (≈ 7 MB/s on one core). regex counts the time spent
# matching, not the time the caller spends between two matches.
TIME_BASE, TIME_PER_CHAR = 0.2, 1e-6
CHECKED, UNCHECKED = 0.6, 0.5  # confidence of a value with and without a check digit (context words add 0.3)
_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*\Z")
_MASK = re.compile(r"(?:(first|last):([1-8])|all)\Z")


@dataclass(frozen=True)
class CustomDetector:
    """One [[checks.identifiers.custom]] table: an identifier declared by its pattern, checked when the config is."""

    name: str  # the kind is "custom.<name>": lower-case letters and digits, parts joined by '.', '_' or '-'
    pattern: str  # the regex package's syntax shared with Python's re; every match holds four digits in a row or '@'
    title: str = ""  # what reports call it; "" = the name
    context: list[str] = field(default_factory=list)  # words that raise confidence when near a value
    validator: str = "none"  # one of VALIDATORS, over the digits of the match
    severity: str = ""  # one of SEVERITIES; "" = the severity rule (vendorscan/severity.py) by category
    mask: str = "last:2"  # one of MASK_RULES, over the value's letters and digits
    category: str = "national_id"  # one of vendorscan.identifier.CATEGORIES: remediation, references, exposure

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise OptionError("name", f"{self.name!r} is not a detector name: lower-case letters and digits, "
                                      "parts joined by '.', '_' or '-' (e.g. acme.customer)")
        why = pattern_problem(self.pattern)
        if why:
            raise OptionError("pattern", why)
        if any(not word.strip() for word in self.context):
            raise OptionError("context", "a context word cannot be empty")
        for key, value, allowed in (("validator", self.validator, VALIDATORS),
                                    ("severity", self.severity, ("", *SEVERITIES)),
                                    ("category", self.category, CATEGORIES)):
            if value not in allowed:
                raise OptionError(key, f"expected one of {', '.join(a for a in allowed if a)}, got {value!r}")
        if not _MASK.match(self.mask):
            raise OptionError("mask", f"expected {MASK_RULES}, got {self.mask!r}")

    @property
    def kind(self) -> str:
        """The kind its hits and findings carry."""
        return PREFIX + self.name


def check_detectors(detectors: list[CustomDetector]) -> None:
    """Raise OptionError naming a detector whose kind another detector, or an installed kind, already has."""
    taken = set(idspecs.all_kinds())
    for i, d in enumerate(detectors):
        if not isinstance(d, CustomDetector):
            raise OptionError(f"custom[{i}]", "expected a table ([[checks.identifiers.custom]])")
        if d.kind in taken:
            raise OptionError(f"custom[{i}].name", f"the kind {d.kind} is already taken (by another custom "
                                                   "detector or an installed identifier kind)")
        taken.add(d.kind)


class CustomPass:
    """The configured detectors' pattern pass, and their findings' titles and severities."""

    def __init__(self, detectors: list[CustomDetector], window: int):
        self._by_kind = {d.kind: d for d in detectors}
        self._pass = PatternPass([_row(d) for d in detectors], window, time_limit)

    def scan(self, text: str, lo: int, hi: int, base: int, hasher, minimum: float = 0.0):
        """Hits (and a Problem for each pattern that timed out) whose start lies in text[lo:hi]."""
        return self._pass.scan(text, lo, hi, base, hasher, minimum)

    def judged(self, findings: Iterable[Finding]) -> Iterator[Finding]:
        """The findings, a custom kind's titled by its `title` and rated by its `severity`."""
        for f in findings:
            d = self._by_kind.get(f.kind)
            if d is not None:
                f.title, f.remediation, refs = kinds.describe(d.title or d.name, f.verdict, d.category)
                f.references = tuple(refs)
                if d.severity and f.verdict == "real":
                    f.severity = Severity(d.severity)
            yield f


def time_limit(chars: int) -> float:
    """Seconds one pattern may take on a chunk of `chars` characters."""
    return TIME_BASE + chars * TIME_PER_CHAR


def _row(d: CustomDetector) -> IdentifierKind:
    """The detector as a row of the pattern pass."""
    return IdentifierKind(d.kind, "", d.category, d.title or d.name, tuple(d.context), d.pattern,
                          functools.partial(_validate, _CHECKS[d.validator]), functools.partial(mask, d.mask),
                          confidence=UNCHECKED if d.validator == "none" else CHECKED)


# -- validators and masks ------------------------------------------------------------------------------
def luhn(digits: list[int]) -> bool:
    """The Luhn (mod 10) check: the last digit makes the doubled-alternate sum a multiple of 10."""
    if len(digits) < 2:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return total % 10 == 0


def mod11(digits: list[int]) -> bool:
    """Modulus 11 with weights 2, 3, …, 7, 2, 3, … from the right; check = 11 − sum mod 11, 11 → 0, 10 never valid."""
    if len(digits) < 2:
        return False
    total = sum(d * (2 + i % 6) for i, d in enumerate(reversed(digits[:-1])))
    check = 11 - total % 11
    return check != 10 and check % 11 == digits[-1]


def mod97(digits: list[int]) -> bool:
    """ISO 7064 MOD 97-10 (IBAN, LEI): the digits read as one number leave 1 when divided by 97."""
    if len(digits) < 3:
        return False
    rest = 0
    for d in digits:
        rest = (rest * 10 + d) % 97
    return rest == 1


def _unchecked(digits: list[int]) -> bool:
    return True


_CHECKS = {"luhn": luhn, "mod11": mod11, "mod97": mod97, "none": _unchecked}


def _validate(check, candidate: str) -> tuple[str, str] | None:
    """(letters and digits of the candidate in upper case, "real") when `check` accepts its digits."""
    normalised = "".join(ch for ch in candidate if ch.isalnum()).upper()
    if not normalised or not check([int(ch) for ch in candidate if ch.isdecimal()]):
        return None
    return normalised, "real"


def mask(rule: str, value: str) -> str:
    """The value with '*' for every character but the first or last N (never more than half of them): all."""
    how, _, n = rule.partition(":")
    shown = 0 if how == "all" else min(int(n), len(value) // 2)
    hidden = len(value) - shown
    if how == "first":
        return value[:shown] + "*" * hidden
    return "*" * hidden + value[hidden:]


# -- checking a pattern ---------------------------------------------------------------------------------
def pattern_problem(pattern: str) -> str:
    """What makes a detector's pattern unusable, or ""."""
    try:
        rx = regex.compile(pattern)
    except regex.error as exc:
        return f"not a valid regular expression: {exc}"
    if rx.search("") is not None:
        return "it matches the empty string"
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return ("it uses syntax only the regex package reads; write it in the syntax Python's re shares with "
                "regex, so that vendorscan can check it")
    if _reach(tree)[0]:
        return ("a match need not hold four digits in a row or an '@': such a value could not be masked in a "
                "resource's name (require them, e.g. \\d{4} or \\d{6})")
    return ""


# The anchor analysis. A state is the number of digits in a row at the end of what a match has consumed so far
# (0-3; four is the anchor, like '@', and ends the search); a piece of pattern maps each state to the states it
# can leave. A pattern is usable when, from state 0, every way through it meets the anchor. Where the analysis
# cannot tell (a negated class, a back-reference), it assumes the worst: a pattern is rejected, never let through.
_STATES = range(4)
_Rel = tuple  # state -> frozenset of states
_IDENTITY: _Rel = tuple(frozenset({s}) for s in _STATES)
_ANYTHING: _Rel = tuple(frozenset(_STATES) for _ in _STATES)
_DIGIT_ONE = re.compile(r"\d")


def _then(a: _Rel, b: _Rel) -> _Rel:
    return tuple(frozenset().union(*(b[t] for t in a[s])) for s in _STATES)


def _either(a: _Rel, b: _Rel) -> _Rel:
    return tuple(x | y for x, y in zip(a, b))


def _power(r: _Rel, n: int) -> _Rel:
    out = _IDENTITY
    while n:
        if n & 1:
            out = _then(out, r)
        r, n = _then(r, r), n >> 1
    return out


def _upto(r: _Rel, n: int) -> _Rel:
    """Zero to n repetitions (n may be MAXREPEAT): grows until it stops changing."""
    step, out = _either(_IDENTITY, r), _IDENTITY
    for _ in range(min(n, len(_STATES) + 1)):
        out = _then(out, step)
    return out


def _char(digit: bool, other: bool) -> _Rel:
    """One character that can be a digit, and/or a character that is neither a digit nor '@'."""
    return tuple(frozenset(({s + 1} if digit and s + 1 < len(_STATES) else set()) | ({0} if other else set()))
                 for s in _STATES)


def _kinds_of(code: int) -> tuple[bool, bool]:
    ch = chr(code)
    digit = _DIGIT_ONE.match(ch) is not None
    return digit, not digit and ch != "@"


_CATEGORY = {sre.CATEGORY_DIGIT: (True, False), sre.CATEGORY_NOT_DIGIT: (False, True),
             sre.CATEGORY_SPACE: (False, True), sre.CATEGORY_NOT_WORD: (False, True),
             sre.CATEGORY_LINEBREAK: (False, True)}


def _set(items) -> tuple[bool, bool]:
    digit = other = False
    for op, av in items:
        if op is sre.LITERAL:
            d, o = _kinds_of(av)
        elif op is sre.RANGE:
            lo, hi = av
            # a wide or non-ASCII range: assume it holds both (Unicode has digits beyond 0-9)
            d = (lo <= 0x39 and hi >= 0x30) or hi >= 0x80
            o = hi - lo > 64 or any(_kinds_of(c)[1] for c in range(lo, hi + 1))
        elif op is sre.CATEGORY:
            d, o = _CATEGORY.get(av, (True, True))
        else:  # NEGATE and anything else: a class that can be anything
            return True, True
        digit, other = digit or d, other or o
    return digit, other


def _reach(tree) -> _Rel:
    out = _IDENTITY
    for op, av in tree:
        out = _then(out, _piece(op, av))
    return out


def _piece(op, av) -> _Rel:
    if op is sre.LITERAL:
        return _char(*_kinds_of(av))
    if op in (sre.NOT_LITERAL, sre.ANY):
        return _char(True, True)
    if op is sre.IN:
        return _char(*_set(av))
    if op is sre.SUBPATTERN:
        return _reach(av[-1])
    if op is sre.ATOMIC_GROUP:
        return _reach(av)
    if op is sre.BRANCH:
        out = tuple(frozenset() for _ in _STATES)
        for alternative in av[1]:
            out = _either(out, _reach(alternative))
        return out
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        lo, hi, inner = av
        r = _reach(inner)
        return _then(_power(r, lo), _upto(r, hi - lo))
    if op is sre.GROUPREF_EXISTS:
        _, yes, no = av
        return _either(_reach(yes), _reach(no) if no is not None else _IDENTITY)
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return _IDENTITY  # consumes nothing
    return _ANYTHING  # a back-reference, or what this analysis does not know: anything
