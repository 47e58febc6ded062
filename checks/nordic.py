"""Validators for Nordic national identifiers: checksum, real date, plausible age, test ranges.

Pure arithmetic on digit strings: this is the hot path, so no library call per candidate.
Each validator returns None (not this identifier) or a Verdicted tuple
(kind, verdict, normalised, strength, note): strength 0..1 says how much the checksum proves.
python-stdnum is used in tests as the reference where it is right; where it is wrong for us the
comment says so.
"""
from __future__ import annotations

from datetime import date

MAX_AGE = 120
# The strength of a reading that counts only next to its country's context word (a hand-typed separator,
# a number issued without a check digit, a rule not yet in force): checks/identifiers.py drops it otherwise.
NEEDS_CONTEXT = 0.45
HAND_TYPED = " "  # a space between date and serial: typed by hand, or a column of random digit groups
NO_RELAXED_FROM = date(2032, 1, 1)  # Skatteetaten: first check digit remainder 0-3 for numbers issued from then

_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_FI_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_FI_CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
               "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}
_NO_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_NO_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_IS_W = (3, 2, 7, 6, 5, 4, 3, 2)
_DK_W = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


def luhn_ok(digits: str) -> bool:
    """Luhn checksum over a digit string (check digit last)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        total += _LUHN_DOUBLE[d] if i & 1 else d
    return total % 10 == 0


def plausible_birth(year: int, month: int, day: int, today: date) -> bool:
    """A real calendar date, not in the future, at most MAX_AGE years ago."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    try:
        born = date(year, month, day)
    except ValueError:  # 31 Feb, 29 Feb in a common year
        return False
    return born <= today and year >= today.year - MAX_AGE


def _century_for(yy: int, today: date, hundred_plus: bool = False) -> int:
    year = today.year - (today.year - yy) % 100  # latest year ending in yy, not after this year
    return year - 100 if hundred_plus else year


def se(head: str, sep: str, tail: str, today: date, test_numbers: frozenset[str]):
    """Swedish personnummer / samordningsnummer, 10 or 12 digits."""
    if len(tail) != 4 or not tail.isdigit() or sep not in ("", "-", "+", HAND_TYPED):
        return None
    if len(head) == 8:
        if sep == "+":
            return None
        year, rest = int(head[:4]), head[2:]
    else:
        rest = head
        year = None
    yy, mm, dd = int(rest[0:2]), int(rest[2:4]), int(rest[4:6])
    if mm >= 20:  # organisationsnummer: a legal person (a sole trader's is their personnummer, found as such)
        return None
    if tail[:3] == "000":  # never issued (stdnum accepts it)
        return None
    if not luhn_ok(rest + tail):
        return None
    coordination = dd > 60
    day = dd - 60 if coordination else dd
    if year is None:
        year = _century_for(yy, today, sep == "+")
    if coordination and (mm == 0 or day == 0):
        # Skatteverket issues samordningsnummer with an unknown birth month or day (00 / 60).
        if not (year <= today.year and year >= today.year - MAX_AGE):
            return None
    elif not plausible_birth(year, mm, day, today):
        return None
    normalised = f"{year:04d}{mm:02d}{dd:02d}{tail}"
    kind = "se.samordningsnummer" if coordination else "se.personnummer"
    # Test lists are 12 digits; a 10-digit form leaves the century open, so any century matches.
    if normalised in test_numbers or (len(head) == 6 and normalised[2:] in test_numbers):
        return kind, "test", normalised, 1.0, "official test number (Skatteverket)"
    if sep == HAND_TYPED:
        return kind, "real", normalised, NEEDS_CONTEXT, ""
    # Coordination numbers are rare beside personnummer: an ambiguous value is more likely another country's id.
    return kind, "real", normalised, 0.6 if coordination else 0.9, ""


def dk(head: str, sep: str, tail: str, today: date):
    """Danish CPR number (modulus 11 is not required: numbers since 2007 may fail it)."""
    if len(head) != 6 or len(tail) != 4 or not tail.isdigit() or sep not in ("", "-", HAND_TYPED):
        return None
    dd, mm, yy = int(head[0:2]), int(head[2:4]), int(head[4:6])
    c7 = ord(tail[0]) - 48
    if c7 <= 3:
        year = 1900 + yy
    elif c7 in (4, 9):
        year = 2000 + yy if yy <= 36 else 1900 + yy
    else:
        year = 2000 + yy if yy <= 57 else 1800 + yy
    if not plausible_birth(year, mm, dd, today):
        return None
    digits = head + tail
    if sep == HAND_TYPED:
        return "dk.cpr", "real", digits, NEEDS_CONTEXT, ""
    mod11 = sum((ord(c) - 48) * w for c, w in zip(digits, _DK_W)) % 11 == 0
    if not mod11 and tail[1:] in ("989", "990", "995", "996"):
        # MedCom's test-CPR lists use such serials and fail mod 11: a hint, not proof.
        return "dk.cpr", "real", digits, 0.2, "possible test number (MedCom test-CPR range)"
    return "dk.cpr", "real", digits, 0.6 if mod11 else 0.4, ""


def no(head: str, sep: str, tail: str, today: date):
    """Norwegian fødselsnummer, D-number, H-number and synthetic test numbers (11 digits)."""
    if len(head) != 6 or len(tail) != 5 or not tail.isdigit() or sep not in ("", HAND_TYPED, "-"):
        return None
    digits = head + tail
    d = [ord(c) - 48 for c in digits]
    r1 = (sum(a * b for a, b in zip(d, _NO_W1)) + d[9]) % 11
    r2 = (sum(a * b for a, b in zip(d, _NO_W2)) + d[10]) % 11
    if r2 != 0 or r1 > 3:  # from 2032 K1 may leave remainder 0-3; K2 must give 0
        return None
    # Before 2032 no number has a relaxed first check digit: random 11-digit ids and account numbers do.
    # Separators are not part of a fødselsnummer: a spaced or hyphenated one was typed by hand.
    by_context = bool(sep) or (r1 != 0 and today < NO_RELAXED_FROM)
    dd, mm, yy, ind = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6:9])
    kind, verdict, note = "no.fodselsnummer", "real", ""
    if dd >= 80:  # FH-number: no date inside, a real person, but random numbers starting 8 or 9 pass as one
        return "no.fodselsnummer", "real", digits, NEEDS_CONTEXT, "FH-number (no birth date encoded)"
    if mm > 80:
        mm -= 80
        verdict, note = "test", "synthetic test number (Skatteetaten Tenor, month + 80)"
    elif mm > 40:
        mm -= 40
        kind, verdict = "no.hnummer", "test"
        note = "not a population-register number (H-number or NAV synthetic, month + 40)"
    if dd > 40:
        dd -= 40
        kind = "no.dnummer" if kind == "no.fodselsnummer" else kind
    year = _no_year(yy, ind)
    if year is None:
        if kind != "no.dnummer":  # D-numbers since 2021 use extended series: don't reject them for it
            return None
        year = _century_for(yy, today)
    if not plausible_birth(year, mm, dd, today):
        return None
    strength = NEEDS_CONTEXT if by_context else 0.95 if r1 == 0 else 0.8
    return kind, verdict, digits, strength, note


def _no_year(yy: int, ind: int) -> int | None:
    if ind <= 499:
        return 1900 + yy
    if ind <= 749 and yy >= 54:
        return 1800 + yy
    if yy <= 39:
        return 2000 + yy
    if ind >= 900:
        return 1900 + yy
    return None


def fi(head: str, sep: str, tail: str, today: date):
    """Finnish henkilötunnus with every century sign, the 2023 ones included."""
    if len(head) != 6 or len(tail) != 4 or sep not in _FI_CENTURY or not tail[:3].isdigit():
        return None
    tail = tail.upper()  # the check character is often typed in lower case
    if _FI_CHECK[int(head + tail[:3]) % 31] != tail[3]:
        return None
    zzz = int(tail[:3])
    if zzz < 2:
        return None
    dd, mm, yy = int(head[0:2]), int(head[2:4]), int(head[4:6])
    if not plausible_birth(_FI_CENTURY[sep] + yy, mm, dd, today):
        return None
    # The century sign is part of the identity: 010190-… and 010190Y… can be two people.
    normalised = head + sep + tail
    if zzz >= 900:
        return "fi.hetu", "test", normalised, 1.0, "temporary/test number (individual number 900-999)"
    return "fi.hetu", "real", normalised, 0.9, ""


def is_(head: str, sep: str, tail: str, today: date):
    """Icelandic kennitala of a person (companies have day + 40)."""
    if len(head) != 6 or len(tail) != 4 or not tail.isdigit() or sep not in ("", "-"):
        return None
    digits = head + tail
    d = [ord(c) - 48 for c in digits]
    if d[0] >= 8:  # kerfiskennitala: a system number for a short stay, random digits, a real person
        return "is.kennitala", "real", digits, NEEDS_CONTEXT, "kerfiskennitala (system number, no check digit)"
    check = 11 - sum(a * b for a, b in zip(d, _IS_W)) % 11
    if check == 11:
        check = 0
    century = {8: 1800, 9: 1900, 0: 2000}.get(d[9])
    if century is None:
        return None
    dd, mm, yy = int(head[0:2]), int(head[2:4]), int(head[4:6])
    if dd > 40:  # a company
        return None
    if not plausible_birth(century + yy, mm, dd, today):
        return None
    if check != d[8]:  # issued since 18 Feb 2026 without a computed check digit (Þjóðskrá)
        return "is.kennitala", "real", digits, NEEDS_CONTEXT, "kennitala without a check digit (issued since 2026)"
    return "is.kennitala", "real", digits, 0.85, ""


_BARE_HEAD = {10: 6, 11: 6, 12: 8}  # digits of a bare run -> length of its date part


def readings(value: str, today: date, test_se: frozenset[str]):
    """((head, sep, tail), [reading, ...]) of a national-id candidate by every rule that accepts it, or None."""
    if value.isdigit():
        head_len = _BARE_HEAD.get(len(value))
        if head_len is None:
            return None
        head, sep, tail = value[:head_len], "", value[head_len:]
    else:
        # The candidate pattern puts a separator after 6 (YYMMDD) or 8 (YYYYMMDD) digits.
        k = 6 if not value[6].isdigit() else 8
        head, sep, tail = value[:k], value[k], value[k + 1:]
    if len(head) == 8:
        found = [se(head, sep, tail, today, test_se)]
    elif len(tail) == 5:
        found = [no(head, sep, tail, today)]
    else:
        found = [se(head, sep, tail, today, test_se), fi(head, sep, tail, today), dk(head, sep, tail, today),
                 is_(head, sep, tail, today)]
    found = [r for r in found if r is not None]
    return ((head, sep, tail), found) if found else None
