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

