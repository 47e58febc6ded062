"""The identifier rules of 2026 (issue 18), as tables: real-looking, near-miss, test and masked values, each
run through the compiled and the pure-Python path, which must give the same hits."""
from __future__ import annotations

import hashlib
import io
import random
from datetime import date

import pytest

from vendorscan.checks.identifiers import IdentifierCheck, detect
from vendorscan.context import ScanContext
from vendorscan.formats.text import iter_chunks

TODAY = date(2026, 12, 2)


def _hash(kind, value):
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:16]


def reported(text: str, today: date = TODAY) -> list[tuple[str, str]]:
    """(kind, verdict) of the hits a default scan reports; the compiled and Python paths must agree."""
    found = []
    for compiled in (True, False):
        hits = detect(text, _hash, today=today, compiled=compiled)
        found.append([(h.kind, h.verdict.value, h.confidence, h.start, h.end, h.evidence, h.note)
                      for h in hits if h.confidence >= IdentifierCheck.Options().min_confidence])
    assert found[0] == found[1], text
    return [(kind, verdict) for kind, verdict, *_ in found[0]]


def notes(text: str) -> list[str]:
    return [h.note for h in detect(text, _hash, today=TODAY) if h.confidence >= 0.2]


# (text, what a scan reports) — every row both ways.
RULES = [
    # Iceland: since 18 Feb 2026 no computed check digit; kerfiskennitala 8/9 without one; companies stay out.
    ("kennitala 120485-2389", [("is.kennitala", "real")]),  # ninth digit not the check digit, context: a person
    ("kt. 120485-2389", [("is.kennitala", "real")]),
    ("kt: 1204852389", [("is.kennitala", "real")]),
    ("ref 120485-2389 lokið", []),  # without context the check digit still decides
    ("kennitala 120485-2379", [("is.kennitala", "real")]),  # a classic one, check digit right
    ("kt. 8904851239", [("is.kennitala", "real")]),  # kerfiskennitala
    ("ref 8904851239", []),
    ("kennitala 520485-2389", []),  # a company (day + 40), not a person
    ('"kennitala": "100501-xxxx", "phone": "8163297883"', [("is.kennitala", "masked")]),  # the word labels the first
    ("kt. 120485-2389 og 8163297883", [("is.kennitala", "real")]),  # only the value right after the word
    ("kennitala 120485-****", [("is.kennitala", "masked")]),
    # Norway: relaxed K1 only from 2032 or next to context; FH only next to context; account numbers out.
    ("fødselsnummer 01058500026", [("no.fodselsnummer", "real")]),
    ("ref 01058500026", []),
    ("fnr 85058500033", [("no.fodselsnummer", "real")]),  # FH-number
    ("ref 85058500033", []),
    ("ref 01058500190", [("no.fodselsnummer", "real")]),  # the classic check: no context needed
    ("kontonummer 01058500190", []),  # both checks pass, but the words say bank account
    ("konto: 0105.85.00190", []),  # the dotted account form is no candidate
    ("fnr 01058500190 kontonummer 12345678903", [("no.fodselsnummer", "real")]),
    ("ref 01898500035", [("no.fodselsnummer", "test")]),  # month + 80: Tenor
    ("ref 01458500092", [("no.hnummer", "test")]),  # month + 40: H-number or NAV synthetic
    # Finland: lower-case check character, the 2023 century signs.
    ("hetu 131052-308t", [("fi.hetu", "real")]),
    ("henkilötunnus 131052-308T", [("fi.hetu", "real")]),
    ("hetu 131052-308u", []),  # a wrong check character in lower case is still wrong
    *[(f"hetu {v}", [("fi.hetu", "real")]) for v in (
        "010594Y234F", "020394X234H", "030494W234Y", "040594V234D", "050694U234V",
        "010505B234H", "020306C234T", "030407D234H", "040508E2347", "050609F234X")],
    ("hetu 010594Y234f", [("fi.hetu", "real")]),
    ("hetu 131052-9085", [("fi.hetu", "test")]),  # individual number 900-999: a temporary/test number
    # Denmark: a real CPR reading is not demoted by a Finnish temporary-number reading.
    ("CPR-nr 120485-9020", [("dk.cpr", "real")]),
    ("hetu 120485-9020", [("fi.hetu", "test")]),  # Finnish context: the Finnish reading
    # Hand-typed separators count next to a context word, and only there.
    ("personnummer 850412 1230", [("se.personnummer", "real")]),
    ("ref 850412 1230", []),
    ("pnr 19850412 1230", [("se.personnummer", "real")]),
    ("cpr 120485 1234", [("dk.cpr", "real")]),
    ("ref 120485 1234", []),
    ("fnr 010585 00190", [("no.fodselsnummer", "real")]),
    ("ref 010585 00190", []),
    ("fødselsnummer 01 05 85 001 90", [("no.fodselsnummer", "real")]),
    ("ref 01 05 85 001 90", []),
    ("fnr 010585-00190", [("no.fodselsnummer", "real")]),
    ("ref 010585-00190", []),
    ('{"name": "Kari", "fnr": "010585 00190"}', [("no.fodselsnummer", "real")]),  # a JSON field name is context
    # Timestamps: a clock-time tail where timestamps stand.
    ("backup_20170908-1416.tar", []),
    ("db_201709081416.sql.gz", []),
    ("170908-1416 INFO job started", []),
    ("2017-09-08 14:12:03 job 170908-1416 done", []),
    ("job 170908-1416 done", [("se.personnummer", "real")]),  # the same value without a timestamp's shape
    ("personnummer 170908-1416 INFO", [("se.personnummer", "real")]),  # named: no timestamp
    # Ids in paths and glued to their own label keep their confidence.
    ("/kunder/198504121230.json", [("se.personnummer", "real")]),
    ("upload cpr_0412851234.png ok", [("dk.cpr", "real")]),
    ("ORD-0412851234", []),  # glued to an order prefix
    # Immigration and healthcare case numbers, only next to their labels.
    ("Udl.nr. 1234567 ansøger", [("dk.udlaendingenummer", "real")]),
    ("Politiets udlændingenummer: 12-345678", [("dk.udlaendingenummer", "real")]),
    ("ref 1234567", []),
    ("DUF-nummer: 201912345678", [("no.duf", "real")]),
    ("DUF 2019 1234 5678", [("no.duf", "real")]),
    ("DUF-nr 203012345678", []),  # a first application in the future
    ("ordre 201912345678", []),
    ("Dufte 201912345678", []),
    ("LMA 12-345678/1", [("se.lma", "real")]),
    ("dossiernummer 12-345678", [("se.lma", "real")]),
    ("LMA-kort nr 12-345678", [("se.lma", "real")]),
    ("tel 12-345678", []),
    ("reservnummer 991985123453", [("se.reservnummer", "real")]),  # Region Stockholm, Luhn over 5-12
    ("reservnummer 991985123456", []),
    ("reservnr: 19850412-K123", [("se.reservnummer", "real")]),  # VGR
    ("reservnummer 19851312-K123", []),  # no such date
]


@pytest.mark.parametrize("text, expected", RULES, ids=[r[0] for r in RULES])
def test_rule(text, expected):
    assert reported(text) == expected


def test_relaxed_norwegian_check_digit_is_the_rule_from_2032():
    assert reported("ref 01058500026") == []
    assert reported("ref 01058500026", today=date(2032, 3, 1)) == [("no.fodselsnummer", "real")]


def test_notes_say_why_a_verdict_was_given():
    assert notes("kennitala 120485-2389") == ["kennitala without a check digit (issued since 2026)"]
    assert notes("kt. 8904851239") == ["kerfiskennitala (system number, no check digit)"]
    assert notes("fnr 85058500033") == ["FH-number (no birth date encoded)"]
    assert "not a population-register number" in notes("ref 01458500092")[0]
    assert "Tenor" in notes("ref 01898500035")[0]


def test_evidence_of_new_forms_is_masked():
    for text, plain in [("fødselsnummer 01 05 85 001 90", "00190"), ("DUF 2019 1234 5678", "12345678"),
                        ("Udl.nr. 1234567", "1234567"), ("LMA 12-345678/1", "345678"),
                        ("reservnr: 19850412-K123", "0412"), ("hetu 131052-308t", "308")]:
        for hit in detect(text, _hash, today=TODAY):
            assert plain not in hit.evidence and plain not in hit.note


def _cpr_failing_mod11(rng: random.Random) -> str:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    while True:
        born = date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        value = born.strftime("%d%m%y") + str(rng.randrange(4)) + f"{rng.randrange(1000):03d}"
        if sum(int(a) * w for a, w in zip(value, weights)) % 11:
            return value


@pytest.mark.parametrize("header, column", [("id;navn;cpr;adresse", 2), ("nr\tCPR-nummer\tby", 1),
                                            ('"id","name","cpr_nr"', 2)])
def test_a_csv_header_is_context_for_its_whole_column(header, column):
    rng = random.Random(7)
    delimiter = "\t" if "\t" in header else "," if "," in header else ";"
    values = [_cpr_failing_mod11(rng) for _ in range(400)]
    rows = [header] + [delimiter.join(v if i == column else f"x{n}" for i in range(3)) for n, v in enumerate(values)]
    data = ("\n".join(rows) + "\n").encode()
    for compiled in (True, False):
        check = IdentifierCheck(compiled=compiled, today=TODAY)
        ctx = ScanContext("t", "production", _hash)
        hits = [h for chunk in iter_chunks(io.BytesIO(data), "utf-8", chunk_chars=4096)
                for h in check.scan(chunk, None, ctx) if h.confidence >= 0.2]
        assert len(hits) == len(values) and {h.kind for h in hits} == {"dk.cpr"}


def test_a_header_that_names_no_id_gives_no_context():
    rng = random.Random(8)
    rows = ["id;navn;kundenr"] + [f"{n};Jens;{_cpr_failing_mod11(rng)}" for n in range(200)]
    check = IdentifierCheck(today=TODAY)
    ctx = ScanContext("t", "production", _hash)
    hits = [h for chunk in iter_chunks(io.BytesIO("\n".join(rows).encode()), "utf-8", chunk_chars=4096)
            for h in check.scan(chunk, None, ctx) if h.confidence >= 0.2]
    assert len(hits) < 20  # bare 10-digit numbers failing mod 11, with nothing to say they are CPR numbers


def test_a_column_a_label_names_makes_each_cell_a_value():
    from vendorscan.model import Chunk, Location
    check = IdentifierCheck(today=TODAY)
    ctx = ScanContext("t", "production", _hash)
    text = "201912345678\n201812345670\n123"
    chunk = Chunk(text, 0, 0, len(text), 1, 1, Location(table="cases", column_name="DUF_nr"))
    assert [h.kind for h in check.scan(chunk, None, ctx)] == ["no.duf", "no.duf"]
