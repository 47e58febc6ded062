"""The generators behind bench/accuracy.py's issue-18 classes: each value really is what its label says.

python-stdnum is the outside reference where it knows the rule; the rest is the arithmetic of
/work/shared/IDENTIFIERS.md. No scan runs here.
"""
import random
import re
import sys
from collections import Counter

import pytest
from stdnum.dk import cpr as std_cpr
from stdnum.fi import hetu as std_hetu
from stdnum.is_ import kennitala as std_kt
from stdnum.no import fodselsnummer as std_fnr

from conftest import ROOT
from vendorscan.checks import nordic, synth

sys.path.insert(0, str(ROOT))
from bench import accuracy  # noqa: E402

N = 200


@pytest.fixture
def rng():
    return random.Random(18)


def _many(gen, rng, *args, **kw):
    return [gen(rng, *args, **kw) for _ in range(N)]


def test_plain_readings_agree_with_stdnum_on_valid_ids(rng):
    for v in _many(synth.se_personnummer, rng):
        assert "se" in synth.plain_readings(v)
    for v in _many(synth.dk_cpr, rng):
        assert "dk" in synth.plain_readings(v) and std_cpr.is_valid(v)
    for v in _many(synth.no_fodselsnummer, rng):
        assert "no" in synth.plain_readings(v) and std_fnr.is_valid(v)
    for v in _many(synth.fi_hetu, rng):
        assert "fi" in synth.plain_readings(v) and std_hetu.is_valid(v)
    for v in _many(synth.is_kennitala, rng):
        assert "is" in synth.plain_readings(v) and std_kt.is_valid(v)


def test_kennitala_without_check_digit(rng):
    for clean in (False, True):
        for v in _many(synth.is_unchecked, rng, clean=clean):
            d = v.replace("-", "")
            assert d[9] in "09" and int(d[8]) != synth.is_check(d[:8])
            assert not std_kt.is_valid(v)  # the old rule rejects it: only the context word makes it a person
            century = 1900 if d[9] == "9" else 2000
            assert synth._plausible(century + int(d[4:6]), int(d[2:4]), int(d[:2]), synth.date.today())
            if clean:
                assert synth.plain_readings(v) == set(), v


def test_kerfiskennitala_and_companies(rng):
    for v in _many(synth.is_kerfiskennitala, rng):
        assert v[0] in "89" and not synth.plain_readings(v)
    for v in _many(synth.is_company, rng):
        d = v.replace("-", "")
        assert 41 <= int(d[:2]) <= 71 and int(d[8]) == synth.is_check(d[:8]) and not synth.plain_readings(v)


def test_relaxed_k1_has_remainder_1_to_3_and_a_valid_k2(rng):
    values = _many(synth.no_relaxed, rng)
    for v in values:
        r1, r2 = synth.no_remainders(v)
        assert 1 <= r1 <= 3 and r2 == 0, v
        assert nordic.plausible_birth(1900 + int(v[4:6]), int(v[2:4]), int(v[:2]), synth.date.today())
        assert not synth.plain_readings(v) and not std_fnr.is_valid(v)  # not a fødselsnummer before 2032
    assert {synth.no_remainders(v)[0] for v in values} == {1, 2, 3}


def test_fh_numbers_pass_both_check_digits(rng):
    for v in _many(synth.no_fh, rng):
        assert v[0] in "89" and synth.no_remainders(v) == (0, 0) and not synth.plain_readings(v)


def test_account_numbers_pass_mod_11_and_some_pass_as_fodselsnummer(rng):
    like = Counter()
    for dotted in (False, True):
        for like_fnr in (False, True):
            for v in _many(synth.no_account, rng, like_fnr=like_fnr, dotted=dotted):
                if dotted:
                    assert re.fullmatch(r"\d{4}\.\d{2}\.\d{5}", v), v
                d = v.replace(".", "")
                ten = d[:10]
                c = (-sum(int(a) * b for a, b in zip(ten, nordic._NO_W2))) % 11
                assert c <= 9 and int(d[10]) == c, v  # the kontonummer check digit
                like[like_fnr] += synth.plain_readings(d) == {"no"} and std_fnr.is_valid(d)
    assert like[True] == 2 * N and like[False] == 0


def test_month_shifts_are_not_real_persons(rng):
    for v in _many(synth.no_hnummer, rng):
        assert 41 <= int(v[2:4]) <= 52 and synth.no_remainders(v) == (0, 0) and not synth.plain_readings(v)
    for v in [synth.test("no.fodselsnummer", rng) for _ in range(N)]:
        assert 81 <= int(v[2:4]) <= 92 and not synth.plain_readings(v)


def test_finnish_lower_case_check_and_2023_signs(rng):
    for v in _many(synth.fi_hetu_signed, rng, lower=True):
        assert v[-1].islower() and std_hetu.is_valid(v[:-1] + v[-1].upper())
    signs = Counter()
    for v in _many(synth.fi_hetu_signed, rng):
        assert v[6] in "YXWVUBCDEF" and std_hetu.is_valid(v), v
        signs[v[6]] += 1
    assert len(signs) == 10


def test_danish_finnish_overlap_reads_both_ways(rng):
    for v in _many(synth.dk_fi_overlap, rng):
        assert std_cpr.is_valid(v) and v[7] == "9"
        assert std_hetu.is_valid(v, allow_temporary=True) and not std_hetu.is_valid(v)  # 900-999: temporary
        assert synth.plain_readings(v) == {"dk"}  # a real CPR; no other country's real id


def test_recent_cpr_mostly_fail_modulus_11(rng):
    for mod11 in (False, True):
        for v in _many(synth.dk_cpr_recent, rng, mod11=mod11):
            assert synth.dk_mod11(v) == mod11 and v[6] in "456789" and 7 <= int(v[4:6]) <= 25
            assert std_cpr.is_valid(v) and std_cpr.get_birth_date(v).year >= 2007


def test_spaced_forms_are_valid_ids_once_compacted(rng):
    for kind, country in (("se.personnummer", "se"), ("dk.cpr", "dk"), ("no.fodselsnummer", "no")):
        for form in range(3):
            for v in [synth.spaced(kind, rng, form) for _ in range(N)]:
                assert " " in v or "-" in v
                assert country in synth.plain_readings(v.replace(" ", "").replace("-", "")), v


def test_timestamps_would_pass_a_swedish_validator(rng):
    for _ in range(N):
        d, hhmm, yymmdd = synth.timestamp(rng)
        assert "se" in synth.plain_readings(f"{yymmdd}-{hhmm}") and "se" in synth.plain_readings(f"{d:%Y%m%d}{hhmm}")
        assert 1 <= int(hhmm[:2]) <= 23 and int(hhmm[2:]) <= 59


def test_case_ids_have_no_national_reading(rng):
    for v in _many(synth.udlaendingenummer, rng):
        assert 6 <= len(v) <= 10 and v.isdigit() and not synth.plain_readings(v)
    for v in _many(synth.duf, rng):
        assert len(v) == 12 and 1995 <= int(v[:4]) <= 2025 and not synth.plain_readings(v)
    for v in _many(synth.lma, rng):
        assert re.fullmatch(r"\d{2}-\d{6}(/\d)?", v)
    for v in _many(synth.reservnummer, rng):
        if v.startswith("99") and v.isdigit():
            assert len(v) == 12 and nordic.luhn_ok(v[4:]), v  # Luhn over positions 5-11, check digit 12
        else:
            assert re.fullmatch(r"\d{8}[KMX]\d{3}", v), v
        assert not synth.plain_readings(v)


def test_every_class_is_planted_where_its_label_says(tmp_path):
    truth = accuracy.generate(tmp_path, files=20, lines=200, seed=3)
    classes = Counter(t[5] for t in truth)
    assert set(accuracy.ALL_CLASSES) <= set(classes), set(accuracy.ALL_CLASSES) - set(classes)
    texts = {}
    for name, line, col, kind, label, cls, length in truth:
        lines = texts.setdefault(name, (tmp_path / name).read_text(encoding="utf-8").split("\n"))
        value = lines[line - 1][col - 1:col - 1 + length]
        assert len(value) == length and value[0].isalnum(), (name, line, cls)
        # Near by construction: no rule accepts it; the spaced forms, timestamps and account numbers are
        # near by issue 18's rules (they would pass a validator, and must not be reported all the same).
        if cls and label == "near" and not cls.endswith("spaced") and not cls.startswith(("timestamp", "no.account")):
            assert not synth.plain_readings(value), (cls, name, line)
        if cls.endswith("-column"):
            assert value.isdigit() and lines[0].split(";")[2] in ("cpr", "personnummer", "fnr")
