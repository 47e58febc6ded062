"""Identifier detection per country: valid examples, near misses, test numbers, masked values."""
import io
import random
from datetime import date

import pytest
from stdnum.dk import cpr as std_cpr
from stdnum.fi import hetu as std_hetu
from stdnum.is_ import kennitala as std_kt
from stdnum.no import fodselsnummer as std_fnr
from stdnum.se import personnummer as std_pnr

from vendorscan.context import ScanContext, ValueHasher
from vendorscan.formats.text import iter_chunks
from vendorscan.model import Verdict
from vendorscan.checks import synth
from vendorscan.checks.identifiers import IdentifierCheck, detect

TODAY = date(2026, 11, 24)
H = ValueHasher(b"k" * 32)


def hits(text, **kw):
    return detect(text, H, today=TODAY, **kw)


def one(text):
    found = hits(text)
    assert len(found) == 1, [(h.kind, text[h.start:h.end]) for h in found]
    return found[0]


# -- Sweden -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["850412-1230", "8504121230", "19850412-1230", "198504121230",
                                   "720915-4561", "19720915-4561"])
def test_se_valid(value):
    h = one(f"personnummer: {value}")
    assert (h.kind, h.verdict) == ("se.personnummer", Verdict.REAL)
    assert h.confidence >= 0.8
    assert h.evidence.endswith("-****") and value[-4:] not in h.evidence


def test_se_forms_share_one_hash():
    hashes = {one(f"pnr {v}").value_hash for v in ["850412-1230", "8504121230", "19850412-1230", "198504121230"]}
    assert len(hashes) == 1


def test_se_hundred_plus_separator_means_previous_century():
    young, old = one("pnr 250412-1233"), one("pnr 250412+1233")
    assert young.value_hash != old.value_hash


@pytest.mark.parametrize("value", [
    "850412-1231",  # bad Luhn
    "850231-1236",  # 31 Feb
    "850432-1234",  # day 32
    "850412-0001",  # serial 000
    "5560360793",   # organisationsnummer (month >= 20)
    "270101-1234",  # born in the future
])
def test_se_near_misses(value):
    assert [h for h in hits(f"personnummer {value}") if h.kind.startswith("se.")] == []


def test_se_samordningsnummer_which_stdnum_rejects():
    value = synth.se_personnummer(random.Random(5), coordination=True)
    assert not std_pnr.is_valid(value)  # python-stdnum 2.2 rejects coordination numbers
    h = one(f"samordningsnummer {value}")
    assert (h.kind, h.verdict) == ("se.samordningsnummer", Verdict.REAL)


def test_se_official_test_numbers():
    rng = random.Random(1)
    for _ in range(50):
        h = one(f"personnummer {synth.test('se.personnummer', rng)}")
        assert h.verdict == Verdict.TEST


def test_se_agrees_with_stdnum_on_random_valid_values():
    rng = random.Random(9)
    for _ in range(300):
        v = synth.se_personnummer(rng)
        assert std_pnr.is_valid(v)
        assert one(f"personnummer {v}").kind == "se.personnummer"


# -- Denmark ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["120485-1006", "1204851006"])
def test_dk_valid(value):
    h = one(f"CPR-nr: {value}")
    assert (h.kind, h.verdict) == ("dk.cpr", Verdict.REAL) and h.confidence >= 0.8


def test_dk_post_2007_number_failing_mod11_is_found():
    value = "1204851007"  # valid date and century digit, fails modulus 11
    assert std_cpr.is_valid(value)
    h = one(f"CPR: {value[:6]}-{value[6:]}")
    assert h.kind == "dk.cpr" and h.verdict == Verdict.REAL


@pytest.mark.parametrize("value", ["310285-1006", "320185-1006", "120485-X006"])
def test_dk_near_misses(value):
    assert [h for h in hits(f"cpr {value}") if h.kind == "dk.cpr"] == []


def test_dk_medcom_like_test_serial_is_low_confidence_hint():
    h = one("cpr 010190-2990")
    assert h.kind == "dk.cpr" and "possible test number" in h.note and h.confidence < 0.8


def test_dk_bare_run_without_context_is_low_confidence():
    found = hits("Order 2003115678 shipped")
    assert all(h.confidence < 0.5 for h in found)
    glued = hits("ORD-2003115678")
    assert all(h.confidence < 0.3 for h in glued)


# -- Norway -----------------------------------------------------------------------------------
def test_no_valid_and_spaced():
    assert std_fnr.is_valid("01058510072")
    a, b = one("fødselsnummer 01058510072"), one("fnr 010585 10072")
    assert a.kind == b.kind == "no.fodselsnummer" and a.value_hash == b.value_hash
    assert a.evidence == "010585 *****"


def test_no_d_number_and_synthetic_numbers():
    rng = random.Random(3)
    d = one(f"d-nummer {synth.no_fodselsnummer(rng, day_shift=40)}")
    assert (d.kind, d.verdict) == ("no.dnummer", Verdict.REAL)
    tenor = one(f"fnr {synth.no_fodselsnummer(rng, month_shift=80)}")
    assert tenor.verdict == Verdict.TEST and "Tenor" in tenor.note
    h = one(f"fnr {synth.no_fodselsnummer(rng, month_shift=40)}")
    assert h.verdict == Verdict.TEST and "not a population-register number" in h.note


@pytest.mark.parametrize("value", ["01058510073", "31028510072", "01058510082"])
def test_no_near_misses(value):
    assert [h for h in hits(f"fnr {value}") if h.kind.startswith("no.")] == []


# -- Finland ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sign", list("-YXWVU"))
def test_fi_all_1900s_signs(sign):
    head, tail = "131052", "308T"
    assert std_hetu.is_valid(f"{head}{sign}{tail}")
    h = one(f"henkilötunnus {head}{sign}{tail}")
    assert (h.kind, h.verdict) == ("fi.hetu", Verdict.REAL)


def test_fi_century_sign_is_part_of_identity():
    assert one("hetu 131052-308T").value_hash != one("hetu 131052Y308T").value_hash


def test_fi_2000s_signs_and_test_range():
    rng = random.Random(4)
    for _ in range(50):
        v = synth.fi_hetu(rng)
        assert std_hetu.is_valid(v)
        assert one(f"hetu {v}").verdict == Verdict.REAL
    t = one(f"hetu {synth.fi_hetu(rng, test=True)}")
    assert t.verdict == Verdict.TEST


@pytest.mark.parametrize("value", ["131052-308U", "310252-308T", "131052-001N"])
def test_fi_near_misses(value):
    assert [h for h in hits(value) if h.kind == "fi.hetu"] == []


# -- Iceland ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["120174-2079", "1201742079"])
def test_is_valid(value):
    assert std_kt.is_valid(value.replace("-", ""))
    h = one(f"kennitala {value}")
    assert (h.kind, h.verdict) == ("is.kennitala", Verdict.REAL)


def test_is_company_is_not_a_person():
    # day + 40: a company's kennitala (check digit valid)
    d = "520174" + "20"
    c = 11 - sum(int(x) * w for x, w in zip(d, (3, 2, 7, 6, 5, 4, 3, 2))) % 11
    value = f"{d}{0 if c == 11 else c}9"
    if c != 10:
        assert [h for h in hits(f"kennitala {value}") if h.kind == "is.kennitala"] == []


# -- masked values ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["850412-XXXX", "850412-****", "8504**-****", "XXXXXX-1234", "850412-xxxx",
                                   "19850412-####", "850412-••••"])
def test_masked_forms(value):
    h = one(f"personnummer {value}")
    assert h.verdict == Verdict.MASKED and h.value_hash is None


# -- e-mail, IBAN, cards ----------------------------------------------------------------------
def test_email_iban_card():
    text = ("mail anna.lindqvist@kommun-exempel.se, konto SE45 5000 0000 0583 9825 7466 och "
            "DK5000400440116243; kort 4532 0151 1283 0366")
    kinds = sorted(h.kind for h in hits(text))
    assert kinds == ["card", "email", "iban", "iban"]


def test_card_near_misses_and_test_cards():
    assert hits("kort 4532 0151 1283 0367") == []  # Luhn
    assert hits("ean 5901234123457") == []  # a barcode passes Luhn, but no issuer
    t = one("card 4111 1111 1111 1111")
    assert t.verdict == Verdict.TEST


def test_iban_with_bad_check_digits():
    assert hits("SE46 5000 0000 0583 9825 7466") == []


# -- engine ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["12345850412123067", "x8504121230", "8504121230x", "198504121230123"])
def test_ids_inside_longer_runs_do_not_match(text):
    assert [h for h in hits(text) if h.category == "national_id"] == []


def test_compiled_and_python_passes_agree():
    from bench.corpus import generate_text
    text = generate_text(2 * 2**20, seed=11) + " masked 850412-•••• Åsa € 850412-1230 SE45 5000 0000 0583 9825 7466\n"
    fast = [(h.kind, h.start, h.end, h.verdict, h.value_hash) for h in hits(text)]
    slow = [(h.kind, h.start, h.end, h.verdict, h.value_hash) for h in hits(text, compiled=False)]
    assert fast == slow and len(fast) > 500


@pytest.mark.parametrize("shift", range(0, 12))
def test_id_cut_by_chunk_boundary_is_found_once(shift):
    check = IdentifierCheck(today=TODAY)
    ctx = ScanContext("t", "production", H)
    filler = "a" * (4096 - 20 + shift)
    text = filler + " personnummer 850412-1230 slut\n" + "b" * 5000
    found = []
    for chunk in iter_chunks(io.BytesIO(text.encode()), "utf-8", chunk_chars=4096):
        found += list(check.scan(chunk, None, ctx))
    assert [(h.kind, text[h.start:h.end]) for h in found] == [("se.personnummer", "850412-1230")]


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8"])
def test_ids_in_other_encodings(encoding):
    from vendorscan.formats.sniff import sniff
    raw = "Malmö; Ødegård; personnummer 850412-1230\n".encode(encoding)
    kind, enc = sniff(raw)
    chunks = list(iter_chunks(io.BytesIO(raw), enc))
    check, ctx = IdentifierCheck(today=TODAY), ScanContext("t", "production", H)
    assert [h.kind for c in chunks for h in check.scan(c, None, ctx)] == ["se.personnummer"]


def test_types_option_limits_kinds():
    check = IdentifierCheck(IdentifierCheck.Options(types=["email"]), today=TODAY)
    assert [h.kind for h in detect("pnr 850412-1230 a@b.se", H, check.options, TODAY)] == ["email"]
    with pytest.raises(ValueError, match="unknown identifier types"):
        IdentifierCheck.Options(types=["se.passport"])


# -- deciding between countries ------------------------------------------------------------------
DK_ONLY = ["090476-0005", "230459-1024", "101076-1901", "230564-2013"]  # no other country's rules accept these
SE_ONLY = ["820104-2036", "480326-5042", "480904-3153", "951122-5675"]
BOTH = "181171-2619"  # a CPR number and, read as Swedish, a samordningsnummer


def test_an_ambiguous_value_goes_to_the_country_whose_ids_fill_the_text():
    assert hits("\n".join(DK_ONLY + [BOTH]))[-1].kind == "dk.cpr"
    assert hits("\n".join(SE_ONLY + [BOTH]))[-1].kind == "se.samordningsnummer"


def test_context_naming_another_id_makes_a_near_miss_not_a_find():
    assert one("ref 180742-1758").kind == "dk.cpr"  # a valid CPR number on its own
    assert hits("kennitala 180742-1758") == []  # but the text says kennitala, and it is not a valid one


def test_a_value_on_an_official_test_list_is_test_data_whatever_else_it_could_be():
    h = one("personnummer 010101-9818")  # Skatteverket's list; also a date-valid CPR shape
    assert (h.kind, h.verdict) == ("se.personnummer", Verdict.TEST)


def test_phone_numbers_with_country_code_and_readings_without_a_check_digit():
    assert hits("tel +4708253515") == []
    assert hits("ref 200587-2814") == []  # a CPR shape failing modulus 11, nothing naming it
    assert one("CPR-nr 200587-2814").kind == "dk.cpr"  # named: numbers since 2007 may fail modulus 11
