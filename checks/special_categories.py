"""GDPR Art. 9/10 terms (health, ethnicity, religion, union, sexuality, crime, welfare) in sv/da/no/fi/en."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from vendorscan.model import Chunk, Hit, Resource, Verdict
from vendorscan.check import ContentCheck, require_known
from vendorscan.checks import kinds

# Word stems: a term matches at a word start and may continue with letters (diagnos → diagnosen).
TERMS: dict[str, tuple[str, ...]] = {
    "health": (
        # sv
        "diagnos", "sjukdom", "sjukskriv", "sjukfrånvaro", "läkarintyg", "patientjournal", "psykiatri",
        "psykisk ohälsa", "funktionsnedsättning", "funktionshinder", "missbruk", "rehabiliteringsplan",
        "graviditet", "hiv-",
        # da / no
        "sygdom", "sygemeld", "sygefravær", "diagnose", "handicap", "misbrug", "sykdom", "sykemeld",
        "sykefravær", "funksjonshemm", "rusmisbruk", "legeerklæring", "lægeerklæring",
        # fi
        "sairaus", "sairausloma", "diagnoosi", "vammai", "mielenterveys", "päihde", "lääkärinlausun",
        # en
        "diagnosis", "medical condition", "sick leave", "disability", "mental health", "substance abuse",
    ),
    "ethnicity": (
        "etnicitet", "etniskt ursprung", "etnisk tillhörighet", "asylsökande", "flyktingstatus",
        "etnisk oprindelse", "asylansøger", "etnisk opprinnelse", "etnisitet", "asylsøker",
        "etninen tausta", "etnisyys", "turvapaikanhakija",
        "ethnicity", "ethnic origin", "racial origin", "asylum seeker", "refugee status",
    ),
    "religion": (
        "trosuppfattning", "religionstillhörighet", "trosbekendelse", "trossamfunn", "livssyn",
        "uskonnollinen vakaumus", "religious belief", "religious affiliation",
    ),
    "union": (
        "fackförbund", "fackmedlem", "facklig tillhörighet", "fagforening", "fagforbund",
        "ammattiliitto", "trade union",
    ),
    "sexuality": (
        "sexuell läggning", "seksuel orientering", "seksuell orientering", "seksuaalinen suuntautuminen",
        "sexual orientation",
    ),
    "criminal": (
        "belastningsregist", "brottsregist", "lagöverträdelse", "strafferegist", "straffeattest",
        "børneattest", "politiattest", "rikosrekisteri", "rikostausta", "criminal record", "prior conviction",
    ),
    "welfare": (
        "ekonomiskt bistånd", "försörjningsstöd", "orosanmälan", "socialtjänstakt", "kontanthjælp",
        "underretning om barn", "sosialhjelp", "barnevern", "toimeentulotuki", "lastensuojelu",
        "social welfare", "child protection",
    ),
}

NAMES = {
    "health": "Health data terms (GDPR Art. 9)",
    "ethnicity": "Ethnic origin or migration terms (GDPR Art. 9)",
    "religion": "Religious or philosophical belief terms (GDPR Art. 9)",
    "union": "Trade-union membership terms (GDPR Art. 9)",
    "sexuality": "Sex life or sexual orientation terms (GDPR Art. 9)",
    "criminal": "Criminal records terms (GDPR Art. 10)",
    "welfare": "Social welfare terms (sensitive under national law)",
}


try:  # RE2 runs the whole alternation as one DFA: about 5x Python re on this pattern (bench/).
    import re2
except ImportError:  # the pure-Python path gives the same hits, only slower
    re2 = None


def _alternation(categories: list[str], groups: bool = True) -> str:
    parts = []
    for cat in categories:
        alts = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(TERMS[cat], key=len, reverse=True))
        parts.append(f"(?P<{cat}>{alts})" if groups else alts)
    return "(?:" + "|".join(parts) + ")"


# Where matching the text case-insensitively differs from matching its str.lower(): U+0130 (İ) lowers to two
# characters, and RE2 folds U+017F (ſ) to "s", which lowers to itself. A chunk holding one is lowered first.
# Everywhere else both find the same terms (checked over every code point in tests/).
_LOWER_DIFFERS = ("\u0130", "\u017f")


def _latin1(pattern: str) -> bytes:
    """The pattern for RE2's Latin-1 mode, which folds case in ASCII only: every other letter beside its capital."""
    return "".join(f"[{c}{c.upper()}]" if not c.isascii() and c.isalpha() else c for c in pattern).encode("latin-1")


class _Matcher:
    """Finds term starts as in lower-cased text; yields (start, end, category) in character offsets."""

    def __init__(self, categories: list[str], use_re2: bool = True):
        alternation = _alternation(categories)
        self._py = re.compile(r"(?<!\w)" + alternation + r"\w*")
        self._word = re.compile(r"\w*")
        self._re2 = self._re2_any_case = self._re2_latin1 = None
        if re2 is not None and use_re2:
            # Without groups (RE2 then needs no second pass for them): the matched term names its category, the
            # first one in the alternation's order that holds it, as the groups would.
            plain = _alternation(categories, groups=False)
            self._re2 = re2.compile(plain.encode())
            # Case-insensitive on the text itself: str.lower() of a Nordic chunk costs more than the match
            # (bench/); on Latin-1 text (most Nordic text) in Latin-1 mode, where a byte offset is the character's.
            self._re2_any_case = re2.compile(b"(?i)" + plain.encode())
            latin1 = re2.Options()
            latin1.encoding = re2.Options.Encoding.LATIN1
            self._re2_latin1 = re2.compile(b"(?i)" + _latin1(plain), options=latin1)
        self._category = {}
        for cat in categories:
            for term in TERMS[cat]:
                self._category.setdefault(term, cat)

    def find(self, text: str, lo: int, hi: int) -> Iterator[tuple[int, int, str]]:
        """Terms starting in text[lo:hi], matched case-insensitively at a word start."""
        if self._re2 is None:
            yield from self._find_py(text.lower(), lo, hi)
            return
        try:
            data = text.encode("latin-1")  # a copy, when every character is one
        except UnicodeEncodeError:
            pass
        else:
            yield from self._find_re2(self._re2_latin1, text, data, lo, hi)
            return
        if not any(c in text for c in _LOWER_DIFFERS):
            yield from self._find_re2(self._re2_any_case, text, text.encode("utf-8"), lo, hi)
            return
        low = text.lower()
        if len(low) != len(text):
            yield from self._find_py(low, lo, hi)
        else:
            yield from self._find_re2(self._re2, low, low.encode("utf-8"), lo, hi)

    def _find_py(self, low: str, lo: int, hi: int) -> Iterator[tuple[int, int, str]]:
        for m in self._py.finditer(low, lo, hi + 64):
            if m.start() >= hi:
                return
            yield m.start(), m.end(), m.lastgroup

    def _find_re2(self, pattern, text: str, data: bytes, lo: int, hi: int) -> Iterator[tuple[int, int, str]]:
        """RE2 over data, text encoded (lowered, or as it is with a case-insensitive pattern): lowering maps a
        character to one character here, and keeps whether it is a letter, so word starts and ends are the same."""
        one_byte = len(data) == len(text)  # Latin-1, or UTF-8 of ASCII: byte offsets are character offsets
        char_pos = byte_pos = 0
        for m in pattern.finditer(data):
            b = m.start()
            if one_byte:
                start, length = b, m.end() - b
            else:  # byte offset -> character offset, counted only up to each match
                char_pos += len(data[byte_pos:b].decode("utf-8"))
                byte_pos = b
                start, length = char_pos, len(m.group(0).decode("utf-8"))
            if start < lo:
                continue
            if start >= hi:
                return
            if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue  # not at a word start (RE2's \b knows only ASCII letters)
            end = self._word.match(text, start + length).end()
            yield start, end, self._category[" ".join(text[start:start + length].lower().split())]


class SpecialCategoryCheck(ContentCheck):
    """GDPR special-category terms (Art. 9/10) in Nordic languages and English; raise id findings."""

    id = "special_categories"
    version = "1"

    @dataclass(frozen=True)
    class Options:
        categories: list[str] = field(default_factory=lambda: list(TERMS))

        def __post_init__(self):
            require_known(self.categories, TERMS, "categories")

    @classmethod
    def describe(cls, kind: str, verdict: str) -> tuple[str, str, tuple[str, ...]]:
        """Title, remediation and references of a special-category finding."""
        return kinds.describe(NAMES.get(kind.removeprefix("special."), kind), verdict, "special_category")

    def __init__(self, options=None):
        super().__init__(options)
        self._matcher = _Matcher(self.options.categories)

    def scan(self, chunk: Chunk, resource: Resource, ctx) -> Iterator[Hit]:
        """A hit per special-category term whose start lies in the chunk's own part."""
        text, base = chunk.text, chunk.start
        lo, hi = chunk.own_start - base, chunk.own_end - base
        for start, end, cat in self._matcher.find(text, max(lo, 0), hi):
            # The term is not personal data by itself; it is shown so a reader sees why.
            yield Hit(f"special.{cat}", "special_category", Verdict.REAL, 0.6, base + start, base + end,
                      text[start:end][:40].lower(), None)
