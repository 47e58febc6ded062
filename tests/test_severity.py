"""The severity rule, as written in agent/severity.py and shown in the report."""
from vendorscan import severity
from vendorscan.model import Scope, Severity as S


def test_data_findings():
    assert severity.data("national_id", "se.personnummer", "real", 1, "production") == S.MEDIUM
    assert severity.data("national_id", "se.personnummer", "real", 100, "production") == S.HIGH
    assert severity.data("national_id", "se.personnummer", "real", 1, "test") == S.HIGH
    assert severity.data("national_id", "se.personnummer", "real", 500, "test", special=True) == S.CRITICAL
    assert severity.data("national_id", "dk.cpr", "real", 1, "production", confidence=0.3) == S.LOW
    assert severity.data("national_id", "fi.hetu", "test", 999, "test") == S.INFO
    assert severity.data("national_id", "se.personnummer", "masked", 0, "production") == S.INFO
    assert severity.data("special_category", "special.health", "real", 0, "production") == S.LOW
    assert severity.data("contact", "email", "real", 1, "production") == S.LOW
    assert severity.data("contact", "email", "real", 5000, "production") == S.MEDIUM
    assert severity.data("financial", "card", "real", 1, "production") == S.MEDIUM


def test_access_and_exposure():
    assert severity.access(Scope.PUBLIC, write=False) == S.HIGH
    assert severity.access(Scope.EVERYONE, write=True) == S.HIGH
    assert severity.access(Scope.ORGANISATION, write=False) == S.LOW
    assert severity.exposure(Scope.PUBLIC, 1, False, "production") == S.CRITICAL
    # the ministry case: screenshots with ids and ethnicity, open to every employee
    assert severity.exposure(Scope.EVERYONE, 5000, True, "production") == S.CRITICAL
    assert severity.exposure(Scope.EVERYONE, 3, False, "production") == S.HIGH
    assert severity.exposure(Scope.ORGANISATION, 3, False, "production") == S.MEDIUM
    assert severity.exposure(Scope.ORGANISATION, 3, False, "test") == S.HIGH
    # the HR case: a copy of a city's staff database in a test environment
    assert severity.test_environment(175_000) == S.CRITICAL
    assert severity.test_environment(3) == S.HIGH


def test_rule_is_documented_for_the_report():
    assert "national id" in severity.RULE and "exposure" in severity.RULE
