"""The severity rule, in one place: what data, how much of it, how exposed, and where.

    data finding      national id: medium; >= 100 persons: high; with special-category terms
                      in the same resource or in a test/shared environment: one level up.
                      special category alone: low. card/IBAN: medium/low; e-mail: low;
                      >= 1,000 values: one level up. Confidence < 0.5: one level down (not below low).
                      Official test numbers and masked values: info.
    access finding    read by public: high; everyone: medium; organisation: low;
                      write broader than group: one level up.
    breadth           with a directory: a principal reaching >= 100 enabled accounts or 20% of them is
                      the organisation, >= 90% everyone; without one, judged by its name.
    exposure          personal data x broad read: public -> critical; everyone -> high,
                      critical with >= 100 persons or special categories; organisation -> medium,
                      high with >= 100 persons or special categories; test/shared environment: one up.
                      Measured by a directory, a grant reaching >= 1,000 enabled accounts counts as everyone.
    real ids in a test environment (with or without broad access): high, critical with >= 100 persons.
"""
from __future__ import annotations

from vendorscan.model import Scope, Severity

RULE = __doc__
_LEVELS = list(Severity)
MANY_PERSONS = 100
MANY_VALUES = 1000
MANY_ACCOUNTS = 1000  # an exposure to this many enabled accounts (measured) is one to everyone


def _up(s: Severity, n: int = 1) -> Severity:
    return _LEVELS[max(0, s.rank - n)]


def _down(s: Severity) -> Severity:
    return _LEVELS[min(Severity.LOW.rank, s.rank + 1)] if s.rank < Severity.LOW.rank else s


def data(category: str, kind: str, verdict: str, distinct: int, environment: str,
         special: bool = False, confidence: float = 1.0) -> Severity:
    """Severity of personal data found in one resource."""
    if verdict != "real":
        return Severity.INFO
    if category == "national_id":
        s = Severity.HIGH if distinct >= MANY_PERSONS else Severity.MEDIUM
        if special or environment in ("test", "shared"):
            s = _up(s)
    elif category == "special_category":
        s = Severity.LOW
    elif category == "financial":
        s = Severity.MEDIUM if kind == "card" else Severity.LOW
        if distinct >= MANY_PERSONS:
            s = _up(s)
    else:
        s = Severity.LOW
        if distinct >= MANY_VALUES:
            s = _up(s)
    if confidence < 0.5:
        s = _down(s)
    return s


def access(scope: Scope, write: bool) -> Severity:
    """Severity of a grant broader than the data allows, before knowing what is inside."""
    s = {Scope.PUBLIC: Severity.HIGH, Scope.EVERYONE: Severity.MEDIUM}.get(scope, Severity.LOW)
    return _up(s) if write else s


def exposure(scope: Scope, persons: int, special: bool, environment: str, accounts: int | None = None) -> Severity:
    """Severity of personal data that a broad group of people can read (`accounts`: as a directory measured it)."""
    if scope == Scope.ORGANISATION and accounts is not None and accounts >= MANY_ACCOUNTS:
        scope = Scope.EVERYONE
    if scope == Scope.PUBLIC:
        return Severity.CRITICAL
    many = persons >= MANY_PERSONS or special
    if scope == Scope.EVERYONE:
        s = Severity.CRITICAL if many else Severity.HIGH
    else:
        s = Severity.HIGH if many else Severity.MEDIUM
    return _up(s) if environment in ("test", "shared") else s


def database_copy(persons: int, environment: str) -> Severity:
    """Severity of a database copy with national ids kept as a file on a share (outside any database's controls)."""
    s = Severity.HIGH if persons >= MANY_PERSONS else Severity.MEDIUM
    return _up(s) if environment in ("test", "shared") else s


def test_environment(persons: int) -> Severity:
    """Severity of real-looking identifiers kept in a test environment."""
    return Severity.CRITICAL if persons >= MANY_PERSONS else Severity.HIGH
