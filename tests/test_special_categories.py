"""Special-category terms: found in each language, at word starts only, same with and without RE2."""
import pytest

from vendorscan.model import Chunk
from vendorscan.checks.special_categories import SpecialCategoryCheck, _Matcher


def _kinds(text, check=None):
    check = check or SpecialCategoryCheck()
    return [h.kind for h in check.scan(Chunk(text, 0, 0, len(text), 1, 1), None, None)]


@pytest.mark.parametrize("text, kind", [
    ("Sjukskriven, diagnosen F32 enligt läkarintyg", "special.health"),
    ("sygemeldt pga. sygdom", "special.health"),
    ("sairausloma 2 viikkoa", "special.health"),
    ("Etniskt ursprung: syriskt", "special.ethnicity"),
    ("asylsøker siden 2022", "special.ethnicity"),
    ("turvapaikanhakija", "special.ethnicity"),
    ("Medlem i fackförbundet Kommunal", "special.union"),
    ("utdrag ur belastningsregistret", "special.criminal"),
    ("rikosrekisteriote", "special.criminal"),
    ("Ekonomiskt bistånd beviljat", "special.welfare"),
    ("sexual orientation: not recorded", "special.sexuality"),
])
def test_terms_in_each_language(text, kind):
    assert kind in _kinds(text)


@pytest.mark.parametrize("text", ["prediagnosis of the build", "osjukdomlig", "ödiagnos", "healthcheck endpoint"])
def test_only_at_word_starts_and_no_generic_words(text):
    assert _kinds(text) == []


def test_category_selection():
    check = SpecialCategoryCheck(SpecialCategoryCheck.Options(categories=["union"]))
    assert _kinds("diagnos och fackförbund", check) == ["special.union"]
    with pytest.raises(ValueError, match="unknown categories"):
        SpecialCategoryCheck.Options(categories=["astrology"])


def test_re2_and_python_paths_agree():
    text = ("Åsa Ødegård: diagnos F32; Diagnosen ändrad. ödiagnos. fagforening, Barnevernet. " * 50
            + "plain ascii diagnosis here")
    cats = list(SpecialCategoryCheck.Options().categories)
    fast = list(_Matcher(cats, use_re2=True).find(text, 0, len(text)))
    slow = list(_Matcher(cats, use_re2=False).find(text, 0, len(text)))
    assert fast == slow and len(fast) > 100


def test_own_part_only():
    text = "diagnos " * 10
    chunk = Chunk(text, 100, 108, 124, 1, 1)  # own part covers the 2nd and 3rd word
    hits = list(SpecialCategoryCheck().scan(chunk, None, None))
    assert [h.start for h in hits] == [108, 116]
