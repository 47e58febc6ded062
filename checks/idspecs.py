"""The one table of identifier kinds: the built-in ones here, a plugin package's through entry points.

Each kind's row (vendorscan.identifier.IdentifierKind) gives its country, category, the name reports
use and the words that announce it; the identifier check's names, categories, selectable types and
context words follow from it. The built-in kinds are found by one compiled pass (checks/identifiers.py,
checks/_pass.c) and validated by checks/nordic.py (checks/_nordic.c); a plugin kind brings its own
pattern, validator and masker and runs in a second pass (checks/patterns.py).
"""
from __future__ import annotations

import functools
import re

from vendorscan import plugins
from vendorscan.identifier import IdentifierKind

_GENERIC_ID = ("ssn", "national id", "national identity", "social security", "personal id", "id-nr", "id nr",
               "person id", "personid")

_ID = IdentifierKind
# The built-in kinds, found by the compiled pass. Their validators are checks/nordic.py's (by the
# candidate's shape, several countries' rules at once), checks/financial.py's and the e-mail pass;
# each names the test-number rule that made a value a test one (cards: test_note, below).
SPECS: tuple[IdentifierKind, ...] = (
    _ID("se.personnummer", "se", "national_id", "Swedish personnummer",
        ("personnummer", "personnr", "pers.nr", "pnr", "personnumret", "födelsenummer")),
    _ID("se.samordningsnummer", "se", "national_id", "Swedish samordningsnummer",
        ("samordningsnummer", "samordningsnr", "samo-nr")),
    _ID("dk.cpr", "dk", "national_id", "Danish CPR number", ("cpr", "cpr-nr", "cprnr", "cpr-nummer", "personnummer")),
    _ID("no.fodselsnummer", "no", "national_id", "Norwegian fødselsnummer",
        ("fødselsnummer", "fodselsnummer", "fødselsnr", "fnr", "personnummer")),
    _ID("no.dnummer", "no", "national_id", "Norwegian D-number", ("d-nummer", "dnummer", "d-nr")),
    _ID("no.hnummer", "no", "national_id", "Norwegian H-number", ("h-nummer", "hjelpenummer")),
    _ID("fi.hetu", "fi", "national_id", "Finnish henkilötunnus",
        ("henkilötunnus", "henkilotunnus", "hetu", "sotu", "personbeteckning", "henkilötunnuksen")),
    _ID("is.kennitala", "is", "national_id", "Icelandic kennitala", ("kennitala", "kennitölu", "kt.", "kt:")),
    _ID("email", "", "contact", "E-mail address", ("e-post", "epost", "email", "e-mail", "sähköposti", "mail")),
    _ID("iban", "", "financial", "IBAN bank account number",
        ("iban", "konto", "kontonummer", "bankkonto", "tilinumero", "account")),
    _ID("card", "", "financial", "Payment card number",
        ("kort", "kortnummer", "kreditkort", "betalkort", "card", "visa", "mastercard", "amex", "kortti"),
        test_note="published test card number"),
)
# Identifiers with no form of their own, of the immigration and healthcare cases: found only next to their
# labels (checks/labelled.py). Their words are labels, not context for the kinds above.
LABELLED: tuple[IdentifierKind, ...] = (
    _ID("dk.udlaendingenummer", "dk", "national_id", "Danish udlændingenummer (immigration case)",
        ("udlændingenummer", "udlaendingenummer", "udl")),
    _ID("no.duf", "no", "national_id", "Norwegian DUF number (immigration case)", ("duf",)),
    _ID("se.lma", "se", "national_id", "Swedish LMA/dossier number (asylum case)", ("dossier", "lma")),
    _ID("se.reservnummer", "se", "national_id", "Swedish healthcare reservnummer", ("reserv",)),
)
BY_KIND = {s.kind: s for s in SPECS + LABELLED}
NATIONAL_COUNTRIES = tuple(dict.fromkeys(s.country for s in SPECS if s.category == "national_id"))
# A masked national id whose country the words around it do not name: no row of its own, not selectable.
MASKED_NATIONAL = _ID("nordic.national_id", "", "national_id", "Nordic national identifier")


@functools.cache  # once per process: entry points are read once
def plugin_kinds() -> tuple[str, ...]:
    """The kinds of installed plugin packages (entry points `vendorscan.identifiers`), none imported."""
    names = tuple(sorted(plugins.available("identifiers")))
    for name in names:
        if name in BY_KIND or name == MASKED_NATIONAL.kind:
            raise plugins.PluginError(f"identifier plugin '{name}': a built-in kind cannot be replaced")
    return names


@functools.cache  # once per process: a plugin module is imported once
def load(kind: str) -> IdentifierKind:
    """The row of an installed plugin kind, checked; PluginError names what is wrong with it."""
    row = plugins.load("identifiers", kind)
    why = ["not an IdentifierKind"] if not isinstance(row, IdentifierKind) else row.problems()
    if not why:
        try:
            re.compile(row.pattern)
        except re.error:
            why = ["its pattern is not a valid regular expression"]
    if why:
        raise plugins.PluginError(f"identifier plugin '{kind}': {'; '.join(why)}")
    return row


def forget() -> None:
    """Read the installed plugin kinds again on next use (tests install and remove them)."""
    plugin_kinds.cache_clear()
    load.cache_clear()


def all_kinds() -> tuple[str, ...]:
    """The selectable identifier types (the check's `types` option): built-in kinds, then installed ones."""
    return tuple(BY_KIND) + plugin_kinds()


def selected(types) -> list[IdentifierKind]:
    """The rows of the plugin kinds among `types`, loaded (a broken one that is not selected is not imported)."""
    return [load(k) for k in types if k not in BY_KIND]


def spec(kind: str) -> IdentifierKind | None:
    """The row of a kind the identifier check reports (a masked one's too), or None if none is installed."""
    if kind == MASKED_NATIONAL.kind:
        return MASKED_NATIONAL
    return BY_KIND.get(kind) or (load(kind) if kind in plugin_kinds() else None)


def _context_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    words: dict[str, set[str]] = {}
    for row in SPECS:
        if row.category == "national_id":
            for w in row.context:
                words.setdefault(w, set()).add(row.country)
    groups = []
    for country in NATIONAL_COUNTRIES:
        own = sorted((w for w, cs in words.items() if cs == {country}), key=len, reverse=True)
        groups.append((country, tuple(own)))
    shared = {w for w, cs in words.items() if len(cs) > 1}
    groups.append(("any", tuple(sorted(shared | set(_GENERIC_ID), key=len, reverse=True))))
    return tuple(groups)


# Context words of national ids by country ("any" for words several countries share), in the order
# they are tried at a position (the first that matches wins, as in the alternation below). They are
# matched against folded text (cheaper than IGNORECASE on every window) after a non-letter.
CONTEXT_GROUPS = _context_groups()
NATIONAL_CONTEXT = re.compile(r"(?<![^\W\d_])(?:" + "|".join(
    f"(?P<{name}>{'|'.join(map(re.escape, alts))})" for name, alts in CONTEXT_GROUPS) + ")")


def context_words(kind: IdentifierKind | str) -> re.Pattern[str] | None:
    """Compiled context-word pattern of one kind the compiled pass does not score by country (None: no words)."""
    row = BY_KIND[kind] if isinstance(kind, str) else kind
    if not row.context:
        return None
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(map(re.escape, row.context)) + ")", re.IGNORECASE)
