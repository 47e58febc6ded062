"""Custom detectors: identifiers an auditor declares in [[checks.identifiers.custom]], without code (checks/custom.py)."""
import os
import pickle
import random
import sqlite3
import time
import tomllib
import zipfile

import pytest
from stdnum import luhn as stdnum_luhn
from stdnum.iso7064 import mod_97_10
from stdnum.no import kontonr

from vendorscan.agent.config import parse
from vendorscan.checks import custom
from vendorscan.checks.custom import CustomDetector, mask, pattern_problem
from vendorscan.checks.identifiers import IdentifierCheck
from vendorscan.check import ResourceFacts
from vendorscan.context import ScanContext, ValueHasher
from vendorscan.errors import ConfigError
from vendorscan.format import Problem
from vendorscan.identifier import IdentifierKind
from vendorscan.checks.patterns import PatternPass
from vendorscan.model import Aggregate, Chunk, Hit, Severity, Verdict
from conftest import assert_no_planted, every_form, files_under, load_json, run_cli

H = ValueHasher(b"k" * 32)


def digits_of(text):
    return [int(ch) for ch in text if ch.isdigit()]


def luhn_digit(body: str) -> str:
    """The digit that makes body + digit pass Luhn."""
    return next(str(d) for d in range(10) if custom.luhn(digits_of(body + str(d))))


def customer(serial: str) -> str:
    """A supplier's customer number KN-NNNNNN-C with a Luhn check digit."""
    return f"KN-{serial}-{luhn_digit(serial)}"


PERSONNUMMER = "850412-123" + luhn_digit("850412123")  # 850412-1230: Luhn over YYMMDDNNN (850412-1231 is not valid)
CUSTOMERS = [customer("104522"), customer("377190"), customer("550031")]
BAD_CHECK = CUSTOMERS[0][:-1] + str((int(CUSTOMERS[0][-1]) + 1) % 10)
DETECTOR = '''
[[checks.identifiers.custom]]
name = "acme.customer"
title = "ACME customer number"
pattern = 'KN-\\d{6}-\\d'
context = ["kundnummer", "customer no"]
validator = "luhn"
severity = "high"
mask = "last:2"
category = "national_id"
'''
# Nested quantifiers: catastrophic backtracking on a long run of a's, yet every match holds four digits.
PATHOLOGICAL = '''
[[checks.identifiers.custom]]
name = "slow"
pattern = '\\d{4}(a|aa)+$'
'''


def options(toml: str) -> IdentifierCheck.Options:
    config = parse(tomllib.loads(toml))
    return next(c.options for c in config.checks if c.id == "identifiers")


def hits(check, text):
    ctx = ScanContext("t", "production", H)
    return list(check.scan(Chunk(text, 0, 0, len(text), 1, 1), None, ctx))


# -- validators -----------------------------------------------------------------------------------------
def test_the_test_values_are_what_they_say():
    assert PERSONNUMMER == "850412-1230" and not custom.luhn(digits_of("850412-1231"))
    assert all(stdnum_luhn.is_valid("".join(map(str, digits_of(c)))) for c in CUSTOMERS)
    assert not custom.luhn(digits_of(BAD_CHECK))


@pytest.mark.parametrize("number", ["79927398713", "4532015112830366", "1040", "18"])
def test_luhn_accepts_what_stdnum_accepts(number):
    assert custom.luhn(digits_of(number)) and stdnum_luhn.is_valid(number)
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not custom.luhn(digits_of(wrong)) and not stdnum_luhn.is_valid(wrong)


def test_luhn_needs_two_digits():
    assert not custom.luhn([0]) and not custom.luhn([])


def test_mod11_is_the_weights_2_to_7_check_of_norwegian_account_numbers():
    assert custom.mod11(digits_of("8601.11.17947")) and not custom.mod11(digits_of("8601.11.17948"))
    rng = random.Random(11)
    numbers = [f"{rng.randrange(10**7, 10**11):011d}" for _ in range(3000)]  # stdnum reads 0000… otherwise
    assert [custom.mod11(digits_of(n)) for n in numbers] == [kontonr.is_valid(n) for n in numbers]
    assert sum(map(kontonr.is_valid, numbers)) > 100


def test_mod11_maps_remainder_0_to_0_and_rejects_10():
    # 0000000000 + check: sum 0 -> 11 - 0 = 11 -> 0
    assert custom.mod11([0] * 11)
    # a body whose check would be 10 is never valid, whatever its last digit
    body = next(b for b in (f"{n:06d}" for n in range(1000)) if 11 - sum(
        int(d) * (2 + i % 6) for i, d in enumerate(reversed(b))) % 11 == 10)
    assert not any(custom.mod11(digits_of(body + str(d))) for d in range(10))
    assert not custom.mod11([5])


@pytest.mark.parametrize("number", ["GB82WEST12345698765432", "DE89370400440532013000", "5493001KJTIIGC8Y1R12"])
def test_mod97_is_iso_7064_as_in_iban_and_lei(number):
    # IBAN: the country and check moved to the end, letters as numbers (A = 10): what MOD 97-10 reads
    moved = number[4:] + number[:4] if number[:2].isalpha() and number[2:4].isdigit() else number
    as_digits = "".join(str(int(ch, 36)) for ch in moved)
    assert mod_97_10.is_valid(as_digits) and custom.mod97(digits_of(as_digits))
    assert not custom.mod97(digits_of(as_digits[:-1] + str((int(as_digits[-1]) + 1) % 10)))


def test_none_accepts_any_digits():
    assert custom._CHECKS["none"]([1, 2, 3])


def test_a_value_is_normalised_to_its_letters_and_digits():
    check = custom._CHECKS["luhn"]
    assert custom._validate(check, CUSTOMERS[0]) == (CUSTOMERS[0].replace("-", ""), "real")
    assert custom._validate(check, CUSTOMERS[0].lower().replace("-", " ")) == (CUSTOMERS[0].replace("-", ""), "real")
    assert custom._validate(check, BAD_CHECK) is None


# -- mask rules -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule, value, shown", [
    ("last:2", "KN1045227", "*******27"),
    ("first:2", "KN1045227", "KN*******"),
    ("all", "KN1045227", "*********"),
    ("last:4", "KN1045227", "*****5227"),
    ("last:8", "KN1045227", "*****5227"),  # never more than half
    ("first:8", "123456", "123***"),
    ("last:1", "1", "*"),
])
def test_mask_rules(rule, value, shown):
    assert mask(rule, value) == shown


# -- config errors, each naming its key -----------------------------------------------------------------
def test_a_detector_from_the_config():
    (d,) = options(DETECTOR).custom
    assert d == CustomDetector("acme.customer", r"KN-\d{6}-\d", "ACME customer number", ["kundnummer", "customer no"],
                               "luhn", "high", "last:2", "national_id")
    assert d.kind == "custom.acme.customer"
    defaults = options('[[checks.identifiers.custom]]\nname = "x"\npattern = \'X\\d{4}\'\n').custom[0]
    assert (defaults.title, defaults.validator, defaults.severity, defaults.mask, defaults.category) == (
        "", "none", "", "last:2", "national_id")


@pytest.mark.parametrize("change, key, why", [
    (("validator = \"luhn\"", "validator = \"crc32\""), "validator", "expected one of luhn, mod11, mod97, none"),
    (("severity = \"high\"", "severity = \"urgent\""), "severity", "expected one of critical, high, medium, low, info"),
    (("mask = \"last:2\"", "mask = \"middle:2\""), "mask", "expected last:N, first:N"),
    (("mask = \"last:2\"", "mask = \"last:9\""), "mask", "expected last:N, first:N"),
    (("category = \"national_id\"", "category = \"gossip\""), "category", "expected one of national_id"),
    (("name = \"acme.customer\"", "name = \"ACME customer\""), "name", "not a detector name"),
    (("name = \"acme.customer\"\n", ""), "name", "required option is missing"),
    (("pattern = 'KN-\\d{6}-\\d'\n", ""), "pattern", "required option is missing"),
    (("pattern = 'KN-\\d{6}-\\d'", "pattern = 'KN-(\\d{6}'"), "pattern", "not a valid regular expression"),
    (("pattern = 'KN-\\d{6}-\\d'", "pattern = '(KN-\\d{6})?'"), "pattern", "matches the empty string"),
    (("pattern = 'KN-\\d{6}-\\d'", "pattern = 'KN-\\d{3}-\\d{3}'"), "pattern", "four digits in a row or an '@'"),
    (("pattern = 'KN-\\d{6}-\\d'", "pattern = '(a+)+$'"), "pattern", "four digits in a row or an '@'"),
    (("pattern = 'KN-\\d{6}-\\d'", "pattern = '\\p{Lu}\\d{6}'"), "pattern", "syntax only the regex package reads"),
    (("context = [\"kundnummer\", \"customer no\"]", "context = \"kundnummer\""), "context", "expected list of string"),
    (("context = [\"kundnummer\", \"customer no\"]", "context = [\" \"]"), "context", "cannot be empty"),
    (("title = \"ACME customer number\"", "colour = \"red\""), "colour", "unknown option"),
])
def test_a_bad_key_is_a_config_error_naming_it(change, key, why):
    old, new = change
    assert old in DETECTOR
    with pytest.raises(ConfigError, match=why) as err:
        options(DETECTOR.replace(old, new))
    assert err.value.path == f"checks.identifiers.custom[0].{key}"


def test_a_name_used_twice_is_an_error_naming_the_second():
    with pytest.raises(ConfigError, match="already taken") as err:
        options(DETECTOR + DETECTOR)
    assert err.value.path == "checks.identifiers.custom[1].name"


def test_custom_must_be_tables():
    with pytest.raises(ConfigError, match="expected a table") as err:
        options('[checks.identifiers]\ncustom = ["KN-\\\\d{6}"]\n')
    assert err.value.path == "checks.identifiers.custom[0]"


@pytest.mark.parametrize("pattern", [r"KN-\d{6}-\d", r"\d{4}", r"[0-9]{2}(?:[0-9]{2})", r"(?i)kn\d{3}?\d",
                                     r"\w+@\w+\.se", r"(?:\d{4}|\w+@)x", r"\d{4}(a|aa)+$"])
def test_patterns_that_always_hold_the_anchor(pattern):
    assert pattern_problem(pattern) == ""


@pytest.mark.parametrize("pattern", [r"\d{2}-?\d{2}", r"\d{3}[^a]", r"[0-9a]{4}", r"a|\d{4}", r"(\d)\1\1\1",
                                     r"(?=\d{4})\w+", r"\d{3}(?:\d|x)"])
def test_patterns_that_need_not_hold_the_anchor(pattern):
    assert "four digits in a row" in pattern_problem(pattern)


# -- hits -----------------------------------------------------------------------------------------------
def test_hits_are_masked_hashed_and_scored_by_context():
    check = IdentifierCheck(options(DETECTOR))
    text = f"kundnummer: {CUSTOMERS[0]}\n{' filler' * 10}\nsee {CUSTOMERS[1]}, not {BAD_CHECK} nor X{CUSTOMERS[2]}\n"
    found = [h for h in hits(check, text) if h.kind == "custom.acme.customer"]
    assert [text[h.start:h.end] for h in found] == CUSTOMERS[:2]
    first, second = found
    normalised = CUSTOMERS[0].replace("-", "")
    assert first.evidence == "*" * 7 + normalised[-2:] and first.value_hash == H("custom.acme.customer", normalised)
    assert (first.category, first.verdict, first.confidence, second.confidence) == ("national_id", Verdict.REAL, 0.9, 0.6)
    assert all(c[3:9] not in h.evidence for h, c in zip(found, CUSTOMERS))


def test_options_survive_pickling_to_a_worker_process():
    """Worker processes get options unpickled (no __post_init__): what they find must not change."""
    opts = options(DETECTOR)
    again = pickle.loads(pickle.dumps(opts))
    text = f"kundnummer {CUSTOMERS[0]}"
    assert again == opts and hits(IdentifierCheck(again), text) == hits(IdentifierCheck(opts), text) != []


def test_findings_carry_the_detectors_title_and_severity():
    check = IdentifierCheck(options(DETECTOR))
    ctx = ScanContext("t", "production", H)
    agg = Aggregate("identifiers", "custom.acme.customer", "national_id", "real", count=1, confidence=0.6,
                    evidence=["*******27"])
    facts = ResourceFacts("file:///x", lambda a: 1)
    (f,) = check.findings([agg], facts, ctx)
    assert (f.title, f.severity, f.category) == ("ACME customer number", Severity.HIGH, "national_id")
    assert f.references == IdentifierCheck.describe("dk.cpr", "real")[2] and "pseudonyms" in f.remediation
    # without a severity: the severity rule (a national id, one person, production: medium)
    plain = IdentifierCheck(options(DETECTOR.replace('severity = "high"\n', "").replace('title = "ACME customer number"\n', "")))
    (g,) = plain.findings([agg], facts, ctx)
    assert (g.title, g.severity) == ("acme.customer", Severity.MEDIUM)


# -- a pathological pattern -----------------------------------------------------------------------------
def test_a_pathological_pattern_times_out_and_the_rest_of_the_chunk_is_still_scanned():
    check = IdentifierCheck(options(DETECTOR + PATHOLOGICAL))
    text = (f"personnummer {PERSONNUMMER}; kundnummer {CUSTOMERS[0]}\n1234" + "a" * 20_000 + "!\n"
            f"anna@example.se {CUSTOMERS[1]}\n")
    started = time.monotonic()
    found = hits(check, text)
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    problems = [p for p in found if isinstance(p, Problem)]
    assert problems == [Problem("pattern-timeout", "custom.slow: its pattern ran past its time limit; the rest of "
                                                   "that text was scanned by every other detector")]
    assert {(h.kind, text[h.start:h.end]) for h in found if isinstance(h, Hit)} == {
        ("se.personnummer", PERSONNUMMER), ("email", "anna@example.se"),
        ("custom.acme.customer", CUSTOMERS[0]), ("custom.acme.customer", CUSTOMERS[1])}
    assert "a" * 10 not in problems[0].detail


def test_the_pattern_pass_stops_the_classic_pathological_pattern():
    """(a+)+$ on a long run of a's (the config refuses it: no anchor) is cut off by the time limit all the same."""
    row = IdentifierKind("xx.slow", "", "contact", "Slow", pattern=r"(a+)+$", validate=lambda c: (c, "real"))
    fast = IdentifierKind("xx.fast", "", "contact", "Fast", pattern=r"XF\d{4}", validate=lambda c: (c, "real"))
    text = "XF1234 " + "a" * 20_000 + "! XF5678"
    started = time.monotonic()
    out = list(PatternPass([row, fast], 40, custom.time_limit).scan(text, 0, len(text), 0, H))
    assert time.monotonic() - started < 5
    assert [type(o).__name__ for o in out] == ["Problem", "Hit", "Hit"] and out[0].reason == "pattern-timeout"


def test_the_time_limit_grows_with_the_chunk():
    assert custom.time_limit(0) == pytest.approx(0.2) and custom.time_limit(65536) == pytest.approx(0.2655, abs=1e-3)


# -- end to end, through the installed command ----------------------------------------------------------
def _estate(open_dir):
    tree = open_dir / "supplier"
    tree.mkdir()
    (tree / "kunder.csv").write_text(
        "namn;kundnummer;personnummer\n"
        f"Anna Lindqvist;{CUSTOMERS[0]};{PERSONNUMMER}\nBo Ek;{CUSTOMERS[1]};\nCecilia;{BAD_CHECK};\n", encoding="utf-8")
    (tree / f"faktura-{CUSTOMERS[2]}.txt").write_text("Faktura, se kundnummer i filnamnet\n", encoding="utf-8")
    return tree


def _config(tmp_path, tree, extra="", workers=2):
    cfg = tmp_path / "scan.toml"
    cfg.write_text(f"[executor]\nworkers = {workers}\n\n[checks.identifiers]\n{DETECTOR}{extra}\n"
                   f'[[targets]]\nname = "supplier"\ntype = "local"\npaths = ["{tree}"]\n', encoding="utf-8")
    return cfg


def _no_plaintext(proc, *dirs):
    blobs = {str(p): p.read_bytes() for p in files_under(*dirs)}
    blobs.update(stdout=proc.stdout.encode(), stderr=proc.stderr.encode())
    assert_no_planted(blobs)
    for value in [*CUSTOMERS, BAD_CHECK]:
        for form in every_form(value) | {value[3:9]}:
            for name, blob in blobs.items():
                for enc in ("utf-8", "utf-16-le"):
                    assert form.encode(enc) not in blob, f"{form!r} leaked into {name}"


@pytest.mark.parametrize("workers", [2, 1])
def test_scan_reports_custom_findings_with_their_title_and_severity(tmp_path, open_dir, workers):
    tree = _estate(open_dir)
    out, state = tmp_path / "o", tmp_path / "s"
    proc = run_cli("scan", "--config", _config(tmp_path, tree, workers=workers), "--out", out, "--state-dir", state,
                   "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = load_json(out / "report.json")
    mine = {f["resource"].rsplit("/", 1)[1].split("#")[0]: f for f in report["findings"]
            if f["kind"] == "custom.acme.customer"}
    assert set(mine) == {"kunder.csv", "faktura-*******" + CUSTOMERS[2][-3] + CUSTOMERS[2][-1] + ".txt"}, mine.keys()
    csv = mine["kunder.csv"]
    assert (csv["title"], csv["severity"], csv["category"], csv["verdict"]) == (
        "ACME customer number", "high", "national_id", "real")
    assert csv["count"] == 2 and csv["distinct"] == 2
    assert sorted(csv["evidence"]) == sorted("*" * 7 + c.replace("-", "")[-2:] for c in CUSTOMERS[:2])
    assert {f["kind"] for f in report["findings"]} >= {"se.personnummer", "custom.acme.customer"}
    assert not report["skipped"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "ACME customer number" in html
    _no_plaintext(proc, out, state)


SLOW_TEXT = f"kundnummer {CUSTOMERS[1]}\n1234" + "a" * 20_000 + "!\n"


def test_scan_lists_a_pattern_timeout_on_the_resource(tmp_path, open_dir):
    tree = _estate(open_dir)
    (tree / "log.txt").write_text(SLOW_TEXT * 5, encoding="utf-8")  # 100 KB: two chunks, each timing out
    with zipfile.ZipFile(tree / "logs.zip", "w") as z:
        z.writestr("old/log.txt", SLOW_TEXT)
    out, state = tmp_path / "o", tmp_path / "s"
    proc = run_cli("scan", "--config", _config(tmp_path, tree, PATHOLOGICAL), "--out", out, "--state-dir", state,
                   "--quiet")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # a pattern that timed out: the scan is incomplete
    report = load_json(out / "report.json")
    timeouts = [s for s in report["skipped"] if s["reason"] == "pattern-timeout"]
    # once per resource (the chunks of one file share it), an archive's by its member
    assert sorted(s["uri"].split("/supplier/", 1)[1] for s in timeouts) == ["log.txt", "logs.zip!/old/log.txt"]
    assert all(s["detail"].startswith("custom.slow: its pattern ran past its time limit") for s in timeouts)
    found = {f["resource"].rsplit("/", 1)[1] for f in report["findings"] if f["kind"] == "custom.acme.customer"}
    assert found >= {"log.txt", "kunder.csv", "logs.zip"}, found
    _no_plaintext(proc, out, state)


def test_scan_of_a_table_lists_a_pattern_timeout_and_finds_the_rest(tmp_path, open_dir):
    """Tables are read column by column (agent/worker.py _read_table): the timeout is listed on the table."""
    db = open_dir / "crm.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE kunder (id INTEGER PRIMARY KEY, kundnummer TEXT, logg TEXT)")
    con.executemany("INSERT INTO kunder VALUES (?,?,?)", [(1, CUSTOMERS[0], "1234" + "a" * 20_000 + "!"),
                                                          (2, CUSTOMERS[1], PERSONNUMMER)])
    con.commit()
    con.close()
    os.chmod(db, 0o644)
    cfg = tmp_path / "scan.toml"
    cfg.write_text(f"[executor]\nworkers = 1\n\n[checks.identifiers]\n{DETECTOR}{PATHOLOGICAL}\n"
                   f'[[targets]]\nname = "crm"\ntype = "odbc"\n'
                   f'connection_string = "Driver={{SQLite3}};Database={db};NoCreat=1"\n', encoding="utf-8")
    out, state = tmp_path / "o", tmp_path / "s"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", state, "--quiet")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = load_json(out / "report.json")
    assert [(s["uri"].rsplit("/", 1)[1], s["reason"]) for s in report["skipped"]] == [("kunder", "pattern-timeout")]
    mine = [f for f in report["findings"] if f["kind"] == "custom.acme.customer"]
    assert [(f["title"], f["severity"], f["count"], f["part"]) for f in mine] == [
        ("ACME customer number", "high", 2, "kundnummer")]
    assert any(f["kind"] == "se.personnummer" for f in report["findings"])
    _no_plaintext(proc, out, state)
