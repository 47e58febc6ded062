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


@pytest.mark.parametrize("filler", [
    ["x", "Å", "ö", "Ø", "æ", " ", "\n", "-", "_", "1", "é", "ß", "ÄÖ", "öd", "µ", "ÿ", "\xa0"],  # Latin-1
    ["x", "Å", "ö", "Ø", "æ", " ", "\n", "-", "_", "1", "\u212a", "\u212b", "é", "ß", "ÄÖ", "öd", "Σ", "–"],
])
def test_case_insensitive_match_finds_what_lowering_finds(filler):
    """The case-insensitive RE2 patterns on the text itself give the hits of the literal one on text.lower()."""
    import random
    from vendorscan.checks.special_categories import TERMS
    rng = random.Random(4)
    # Not "hiv-": after it the Python fallback's \w* runs into the next word, RE2 finds a term there (as before).
    terms = [t for ts in TERMS.values() for t in ts if t != "hiv-"]
    words = []
    for _ in range(4000):
        term = rng.choice(terms)
        term = "".join(c.upper() if rng.random() < 0.3 else c for c in term)
        words.append(rng.choice(filler) * rng.randrange(2) + term + rng.choice(filler) * rng.randrange(3))
    text = "".join(words)
    assert "\u0130" not in text and "\u017f" not in text
    m = _Matcher(list(TERMS))
    hits = list(m.find(text, 0, len(text)))
    low = text.lower()
    assert hits == list(m._find_re2(m._re2, low, low.encode(), 0, len(text))) and len(hits) > 300
    assert hits == list(_Matcher(list(TERMS), use_re2=False).find(text, 0, len(text)))  # categories as groups


@pytest.mark.parametrize("text, kinds", [
    ("İSTANBUL: DIAGNOS F32, Sjukskriven", ["special.health", "special.health"]),  # İ lowers to 2 characters
    ("ſjukdom; Sjukdom", ["special.health"]),  # RE2 folds ſ to s; str.lower() does not: not a term
    ("\u212aONTANTHJÆLP", ["special.welfare"]),  # the Kelvin sign lowers to k
])
def test_texts_where_lowering_and_case_folding_differ(text, kinds):
    assert _kinds(text) == kinds


def test_lowering_differs_from_folding_only_where_the_matcher_knows():
    """Over every code point: the characters that lower to more than one, or that RE2 folds to a term letter
    str.lower() does not give, are the ones the fast path hands to the lowering path; lowering keeps \\w.
    In Latin-1 mode (characters up to U+00FF), the pattern's own case folding gives what lowering gives."""
    import re
    import re2
    from vendorscan.checks.special_categories import TERMS, _LOWER_DIFFERS, _latin1
    letters = {c for ts in TERMS.values() for t in ts for c in t}
    folds = re2.compile("(?i)[" + re.escape("".join(sorted(letters))) + "]")
    word = re.compile(r"\w")
    differs = set()
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        low = c.lower()
        if len(low) != 1 or bool(folds.fullmatch(c.encode())) != (low in letters):
            differs.add(c)
        else:
            assert bool(word.match(c)) == bool(word.match(low)) and c.isalnum() == low.isalnum(), hex(cp)
    assert differs == set(_LOWER_DIFFERS)
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    latin1 = [re2.compile(b"(?i)" + _latin1(re.escape(letter)), options=options) for letter in sorted(letters)]
    for cp in range(256):
        c = chr(cp)
        assert [bool(p.fullmatch(bytes([cp]))) for p in latin1] == [c.lower() == x for x in sorted(letters)], hex(cp)
