"""Generators of identifiers with known truth: real-looking, official test, masked and near misses.

For the demo estate, tests and benchmarks. Seeded by the caller's random.Random; no I/O
beyond reading the shipped Swedish test-number list.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from vendorscan.checks import nordic
from vendorscan.checks.testnumbers import swedish

_FI_SIGNS_1900 = "-YXWVU"
_FI_SIGNS_2000 = "ABCDEF"


def _birth(rng: random.Random, lo: int = 1940, hi: int = 2005) -> date:
    start = date(lo, 1, 1)
    return start + timedelta(days=rng.randrange((date(hi, 12, 31) - start).days))


def _luhn_digit(payload: str) -> str:
    for d in "0123456789":
        if nordic.luhn_ok(payload + d):
            return d
    raise AssertionError("unreachable")


def se_personnummer(rng: random.Random, separator: bool = True, twelve: bool = False,
                    coordination: bool = False) -> str:
    """A checksum-valid Swedish personnummer (or samordningsnummer) that is not a test number."""
    tests = swedish()
    while True:
        b = _birth(rng)
        day = b.day + (60 if coordination else 0)
        serial = f"{rng.randrange(1, 1000):03d}"
        payload = f"{b:%y%m}{day:02d}{serial}"
        value = payload + _luhn_digit(payload)
        full = f"{b.year // 100}{value}"
        if full in tests:
            continue
        head = full[:8] if twelve else value[:6]
        return head + ("-" if separator else "") + value[6:]


def dk_cpr(rng: random.Random, separator: bool = True) -> str:
    """A Danish CPR number with a century digit that fits its year, passing modulus 11."""
    while True:
        b = _birth(rng, 1940, 1999)
        c7 = rng.choice("0123")
        payload = f"{b:%d%m%y}{c7}{rng.randrange(0, 100):02d}"
        for last in "0123456789":
            digits = payload + last
            if sum(int(c) * w for c, w in zip(digits, nordic._DK_W)) % 11 == 0 and digits[7:] not in ("989", "990", "995", "996"):
                return digits[:6] + ("-" if separator else "") + digits[6:]


def _no_checks(nine: str) -> str | None:
    d = [int(c) for c in nine]
    k1 = (11 - sum(a * b for a, b in zip(d, nordic._NO_W1)) % 11) % 11
    if k1 == 10:
        return None
    d.append(k1)
    k2 = (11 - sum(a * b for a, b in zip(d, nordic._NO_W2)) % 11) % 11
    if k2 == 10:
        return None
    return f"{k1}{k2}"


def no_fodselsnummer(rng: random.Random, day_shift: int = 0, month_shift: int = 0) -> str:
    """A Norwegian fødselsnummer (day_shift 40: D-number; month_shift 80: Tenor test number)."""
    while True:
        b = _birth(rng, 1940, 1999)
        nine = f"{b.day + day_shift:02d}{b.month + month_shift:02d}{b:%y}{rng.randrange(0, 500):03d}"
        checks = _no_checks(nine)
        if checks:
            return nine + checks


def fi_hetu(rng: random.Random, test: bool = False) -> str:
    """A Finnish henkilötunnus; test=True gives a 900-999 individual number."""
    b = _birth(rng)
    sign = rng.choice(_FI_SIGNS_2000 if b.year >= 2000 else _FI_SIGNS_1900)
    zzz = rng.randrange(900, 1000) if test else rng.randrange(2, 900)
    head = f"{b:%d%m%y}"
    check = nordic._FI_CHECK[int(f"{head}{zzz:03d}") % 31]
    return f"{head}{sign}{zzz:03d}{check}"


def is_kennitala(rng: random.Random, separator: bool = True) -> str:
    """An Icelandic kennitala of a person."""
    while True:
        b = _birth(rng, 1940, 2005)
        eight = f"{b:%d%m%y}{rng.randrange(20, 100):02d}"
        c = 11 - sum(int(x) * w for x, w in zip(eight, nordic._IS_W)) % 11
        c = 0 if c == 11 else c
        if c == 10:
            continue
        value = f"{eight}{c}{'9' if b.year < 2000 else '0'}"
        return value[:6] + ("-" if separator else "") + value[6:]


def card(rng: random.Random) -> str:
    """A Luhn-valid Visa number in groups of four (not a published test card)."""
    payload = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    digits = payload + _luhn_digit(payload)
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def iban(rng: random.Random, country: str = "SE") -> str:
    """A mod-97-valid IBAN of the country's length, in groups of four."""
    from vendorscan.checks.financial import IBAN_LENGTHS
    bban = "".join(rng.choice("0123456789") for _ in range(IBAN_LENGTHS[country] - 4))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    compact = f"{country}{check:02d}{bban}"
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


_REAL = {
    "se.personnummer": lambda rng, separator=True: se_personnummer(rng, separator),
    "se.samordningsnummer": lambda rng, separator=True: se_personnummer(rng, separator, coordination=True),
    "dk.cpr": lambda rng, separator=True: dk_cpr(rng, separator),
    "no.fodselsnummer": lambda rng, separator=True: no_fodselsnummer(rng),
    "no.dnummer": lambda rng, separator=True: no_fodselsnummer(rng, day_shift=40),
    "fi.hetu": lambda rng, separator=True: fi_hetu(rng),
    "is.kennitala": lambda rng, separator=True: is_kennitala(rng, separator),
    "card": lambda rng, separator=True: card(rng),
}


def real(kind: str, rng: random.Random, separator: bool = True, country: str = "SE") -> str:
    """A real-looking valid value of a kind."""
    if kind == "iban":
        return iban(rng, country)
    return _REAL[kind](rng, separator)


def test(kind: str, rng: random.Random) -> str:
    """An official test number of a kind (SE from Skatteverket's list, FI 900-999, NO Tenor)."""
    if kind == "se.personnummer":
        value = rng.choice(sorted(n for n in swedish() if len(n) == 12))
        return value[2:8] + "-" + value[8:]
    if kind == "fi.hetu":
        return fi_hetu(rng, test=True)
    if kind == "no.fodselsnummer":
        return no_fodselsnummer(rng, month_shift=80)
    raise ValueError(f"no official test numbers for {kind}")


def masked(kind: str, rng: random.Random) -> str:
    """A redacted value as exports show them: 850412-XXXX, 850412-****."""
    value = real(kind, rng)
    return value[:6] + "-" + rng.choice(["XXXX", "****", "xxxx"])



# Issue 18: values whose truth depends on the words next to them, and near misses that no rule may accept.
# The rules below are written out here, apart from checks/nordic.py, so that the corpus does not inherit
# the detector's mistakes: `plain_readings` is what a detector may report WITHOUT any context word.

_KT_SINCE = date(2026, 2, 18)  # Þjóðskrá: kennitölur án vartölu
_MEDCOM = ("989", "990", "995", "996")


def _plausible(year: int, month: int, day: int, today: date) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return born <= today and year >= today.year - 120


def is_check(eight: str) -> int | None:
    """The Icelandic check digit of the first 8 digits (None: 10, never issued)."""
    c = 11 - sum(int(x) * w for x, w in zip(eight, nordic._IS_W)) % 11
    return None if c == 10 else 0 if c == 11 else c


def no_remainders(digits: str) -> tuple[int, int]:
    """(r1, r2) of an 11-digit Norwegian number: both 0 for a fødselsnummer issued before 2032."""
    d = [int(c) for c in digits]
    return ((sum(a * b for a, b in zip(d, nordic._NO_W1)) + d[9]) % 11,
            (sum(a * b for a, b in zip(d, nordic._NO_W2)) + d[10]) % 11)


def dk_mod11(digits: str) -> bool:
    """The pre-2007 CPR modulus 11 (weights 4,3,2,7,6,5,4,3,2,1)."""
    return sum(int(c) * w for c, w in zip(digits, nordic._DK_W)) % 11 == 0


def fi_check(nine: str) -> str:
    """The HETU check character of DDMMYY + ZZZ."""
    return nordic._FI_CHECK[int(nine) % 31]


def _dk_year(yy: int, c7: int) -> int:
    if c7 <= 3:
        return 1900 + yy
    if c7 in (4, 9):
        return 2000 + yy if yy <= 36 else 1900 + yy
    return 2000 + yy if yy <= 57 else 1800 + yy


_no_year = nordic._no_year  # the century table is a fact, not a rule under test


def plain_readings(value: str, today: date | None = None) -> set[str]:
    """The countries whose rules accept value as a real person's id with no context word (SE, DK, NO, FI, IS)."""
    today = today or date.today()
    found = set()
    compact = value.replace("-", "").replace("+", "")
    at = {11: 6, 13: 8}.get(len(value))
    sep = value[at] if at and value[at] in "-+" else ""
    if len(compact) == 12 and compact.isdigit() and sep != "+":
        if _se_ok(compact[2:], int(compact[:4]), today):
            found.add("se")
    if len(compact) == 10 and compact.isdigit():
        yy = int(compact[:2])
        year = today.year - (today.year - yy) % 100 - (100 if sep == "+" else 0)
        if _se_ok(compact, year, today):
            found.add("se")
        if sep != "+":
            dd, mm, yy = int(compact[:2]), int(compact[2:4]), int(compact[4:6])
            if _plausible(_dk_year(yy, int(compact[6])), mm, dd, today):
                found.add("dk")
            c = is_check(compact[:8])
            century = {"8": 1800, "9": 1900, "0": 2000}.get(compact[9])
            if c == int(compact[8]) and century and dd <= 31 and _plausible(century + yy, mm, dd, today):
                found.add("is")
    if len(value) == 11 and value[6] in nordic._FI_CENTURY and value[:6].isdigit() and value[7:10].isdigit():
        zzz = int(value[7:10])
        if 2 <= zzz <= 899 and fi_check(value[:6] + value[7:10]) == value[10] and _plausible(
                nordic._FI_CENTURY[value[6]] + int(value[4:6]), int(value[2:4]), int(value[:2]), today):
            found.add("fi")
    if len(value) == 11 and value.isdigit() and no_remainders(value) == (0, 0):
        dd, mm, yy, ind = int(value[:2]), int(value[2:4]), int(value[4:6]), int(value[6:9])
        year = _no_year(yy, ind)
        if dd < 80 and mm <= 12 and year is not None and _plausible(year, mm, dd - 40 if dd > 40 else dd, today):
            found.add("no")  # FH-numbers (dd >= 80) need context; month + 40 / + 80 are not real persons
    return found


def _se_ok(ten: str, year: int, today: date) -> bool:
    mm, dd = int(ten[2:4]), int(ten[4:6])
    if mm >= 20 or ten[6:9] == "000" or not nordic.luhn_ok(ten):
        return False
    if dd > 60 and (mm == 0 or dd == 60):
        return today.year - 120 <= year <= today.year
    return _plausible(year, mm, dd - 60 if dd > 60 else dd, today)


def _with_sep(digits: str, separator: bool, at: int = 6) -> str:
    return digits[:at] + ("-" if separator else "") + digits[at:]


def is_unchecked(rng: random.Random, separator: bool = True, clean: bool = False) -> str:
    """A kennitala issued since 18 Feb 2026: a real date, century 9/0, a 9th digit that is not the old check digit.

    clean=True: one that no country's rules accept without context (a 1927-1999 birth and a 7th digit 5-8,
    so that the Danish reading's century is impossible), for the near-miss class."""
    today = date.today()
    while True:
        if clean:
            b, rr = _birth(rng, 1927, 1999), rng.randrange(50, 90)
        elif rng.random() < 0.5 and today > _KT_SINCE:  # a newborn
            b, rr = _KT_SINCE + timedelta(days=rng.randrange((today - _KT_SINCE).days)), rng.randrange(20, 100)
        else:
            b, rr = _birth(rng, 1940, 2025), rng.randrange(20, 100)
        eight = f"{b:%d%m%y}{rr:02d}"
        ninth = rng.choice([d for d in range(10) if d != is_check(eight)])
        value = _with_sep(f"{eight}{ninth}{'9' if b.year < 2000 else '0'}", separator)
        if not clean or not plain_readings(value):
            return value


def is_kerfiskennitala(rng: random.Random, separator: bool = True) -> str:
    """A system kennitala (since 2021): first digit 8 or 9, nine random digits, no check digit; no plain reading."""
    while True:
        value = _with_sep(rng.choice("89") + "".join(rng.choice("0123456789") for _ in range(9)), separator)
        if not plain_readings(value):
            return value


def is_company(rng: random.Random, separator: bool = True) -> str:
    """An Icelandic company's kennitala (day + 40, check digit valid): not a person; no plain reading."""
    while True:
        b = _birth(rng, 1950, 2024)
        eight = f"{b.day + 40:02d}{b:%m%y}{rng.randrange(20, 100):02d}"
        c = is_check(eight)
        value = _with_sep(f"{eight}{c}{'9' if b.year < 2000 else '0'}", separator) if c is not None else ""
        if value and not plain_readings(value):
            return value


def _no_nine(rng: random.Random) -> str:
    b = _birth(rng, 1940, 1999)
    return f"{b:%d%m%y}{rng.randrange(0, 500):03d}"


def _no_finish(nine: str, r1: int) -> str | None:
    """nine + K1 + K2 with K1 leaving remainder r1 and K2 remainder 0, or None if a digit would be 10."""
    d = [int(c) for c in nine]
    k1 = (r1 - sum(a * b for a, b in zip(d, nordic._NO_W1))) % 11
    if k1 > 9:
        return None
    d.append(k1)
    k2 = (-sum(a * b for a, b in zip(d, nordic._NO_W2))) % 11
    return None if k2 > 9 else f"{nine}{k1}{k2}"


def no_relaxed(rng: random.Random) -> str:
    """A Norwegian number of the 2032 rule: a real date, K1 remainder 1-3, K2 valid (a person only with context)."""
    while True:
        value = _no_finish(_no_nine(rng), rng.randint(1, 3))
        if value:
            return value


def no_fh(rng: random.Random) -> str:
    """An FH-number: first digit 8 or 9, no date, both check digits valid (a person only with context)."""
    while True:
        value = _no_finish(rng.choice("89") + "".join(rng.choice("0123456789") for _ in range(8)), 0)
        if value:
            return value


def no_account(rng: random.Random, like_fnr: bool = False, dotted: bool = False) -> str:
    """A Norwegian bank account number (mod 11 over 10 digits); like_fnr: one that also passes as a fødselsnummer."""
    while True:
        if like_fnr:
            value = no_fodselsnummer(rng)
        else:
            ten = f"{rng.randrange(1000, 10000)}{rng.randrange(10**6):06d}"
            c = (-sum(int(a) * b for a, b in zip(ten, nordic._NO_W2))) % 11
            value = f"{ten}{c}" if c <= 9 else ""
            if not value or plain_readings(value):
                continue
        return f"{value[:4]}.{value[4:6]}.{value[6:]}" if dotted else value


def no_hnummer(rng: random.Random) -> str:
    """Month + 40: an H-number or NAV's synthetic test number, not a population-register number."""
    return no_fodselsnummer(rng, month_shift=40)


def fi_hetu_signed(rng: random.Random, lower: bool = False) -> str:
    """A HETU with a 2023 century sign (Y X W V U / B C D E F); lower: a letter check character, in lower case."""
    while True:
        b = _birth(rng, 1940, 2024)
        sign = rng.choice("YXWVU" if b.year < 2000 else "BCDEF")
        if lower:
            sign = rng.choice("-YXWVU" if b.year < 2000 else "ABCDEF")
        zzz = rng.randrange(2, 900)
        check = fi_check(f"{b:%d%m%y}{zzz:03d}")
        if lower and check.isdigit():
            continue
        return f"{b:%d%m%y}{sign}{zzz:03d}{check.lower() if lower else check}"


def dk_fi_overlap(rng: random.Random) -> str:
    """DDMMYY-9NNQ: a real CPR (7th digit 9) that is also a Finnish temporary number (900-999, check Q a digit)."""
    while True:
        b = _birth(rng, 1937, 1999)
        head, zzz = f"{b:%d%m%y}", rng.randrange(900, 1000)
        q = fi_check(f"{head}{zzz}")
        value = f"{head}-{zzz}{q}"
        if q.isdigit() and value[8:] not in _MEDCOM and plain_readings(value) == {"dk"}:
            return value


def dk_cpr_recent(rng: random.Random, mod11: bool = False) -> str:
    """A bare CPR number issued since 2007 (born 2007-2025, 7th digit 4-9); mod11=False: one failing modulus 11."""
    while True:
        b = _birth(rng, 2007, 2025)
        digits = f"{b:%d%m%y}{rng.choice('456789')}{rng.randrange(1000):03d}"
        if dk_mod11(digits) == mod11 and digits[7:] not in _MEDCOM:
            return digits


def spaced(kind: str, rng: random.Random, form: int = 0) -> str:
    """A hand-typed id: SE `YYMMDD NNNN`, DK `DDMMYY NNNN`, NO `DDMMYY NNNNN` / `DD MM YY NNN NN` / `DDMMYY-NNNNN`."""
    if kind == "se.personnummer":
        v = se_personnummer(rng, separator=False)
    elif kind == "dk.cpr":
        v = dk_cpr(rng, separator=False)
    else:
        v = no_fodselsnummer(rng)
        if form == 1:
            return f"{v[:2]} {v[2:4]} {v[4:6]} {v[6:9]} {v[9:]}"
        if form == 2:
            return f"{v[:6]}-{v[6:]}"
    return f"{v[:6]} {v[6:]}"


def timestamp(rng: random.Random) -> tuple[date, str, str]:
    """(day, HHMM, YYMMDD) of a time whose compact form YYMMDD-HHMM passes the Swedish rules (and most the Danish)."""
    while True:
        d = date(2010, 1, 1) + timedelta(days=rng.randrange(16 * 365))
        hh = rng.randrange(1, 24)
        payload = f"{d:%y%m%d}{hh:02d}{rng.randrange(6)}"
        hhmm = payload[6:] + _luhn_digit(payload)
        if "se" in plain_readings(f"{d:%y%m%d}-{hhmm}") and "se" in plain_readings(f"{d:%Y%m%d}-{hhmm}"):
            return d, hhmm, f"{d:%y%m%d}"


def udlaendingenummer(rng: random.Random) -> str:
    """A Danish immigration case number: 6-10 digits, no public checksum; no national-id reading."""
    while True:
        n = rng.randint(6, 10)
        value = str(rng.randrange(10 ** (n - 1), 10 ** n))
        if not plain_readings(value):
            return value


def duf(rng: random.Random) -> str:
    """A Norwegian DUF number: the year of the first application (1995-2025) and 8 digits; no national-id reading."""
    while True:
        value = f"{rng.randint(1995, 2025)}{rng.randrange(10**8):08d}"
        if not plain_readings(value):
            return value


def lma(rng: random.Random) -> str:
    """A Swedish LMA number (asylum seeker's card): `xx-xxxxxx`, since 2022 often with `/n`."""
    value = f"{rng.randrange(100):02d}-{rng.randrange(10**6):06d}"
    return value + (f"/{rng.randint(1, 9)}" if rng.random() < 0.5 else "")


def reservnummer(rng: random.Random) -> str:
    """A Swedish reservnummer: Region Stockholm `99yyyyNNNNNC` (Luhn over positions 5-11) or VGR `yyyymmddKggC`."""
    if rng.random() < 0.5:
        value = f"99{rng.randint(1930, 2025)}{rng.randrange(10**5):05d}"
        return value + _luhn_digit(value[4:11])
    b = _birth(rng)
    return f"{b:%Y%m%d}{rng.choice('KMX')}{rng.randrange(100):02d}{rng.randrange(10)}"
