"""The table of identifier specs: what each kind is, where it is from, the words that announce it.

Patterns are not per spec: every kind is found by one shared scanner pass (checks/identifiers.py)
and then handed to the validators named here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from vendorscan.checks import nordic


@dataclass(frozen=True)
class Spec:
    """One identifier kind."""

    kind: str
    country: str  # se, dk, no, fi, is, or "" for international kinds
    category: str  # national_id, contact, financial
    context: tuple[str, ...]  # words (sv/da/no/fi/en) that raise confidence when near a value
    validator: Callable | None = None


_GENERIC_ID = ("ssn", "national id", "national identity", "social security", "personal id", "id-nr", "id nr",
               "person id", "personid")

SPECS: tuple[Spec, ...] = (
    Spec("se.personnummer", "se", "national_id",
         ("personnummer", "personnr", "pers.nr", "pnr", "personnumret", "födelsenummer"), nordic.se),
    Spec("se.samordningsnummer", "se", "national_id", ("samordningsnummer", "samordningsnr", "samo-nr"), nordic.se),
    Spec("dk.cpr", "dk", "national_id", ("cpr", "cpr-nr", "cprnr", "cpr-nummer", "personnummer"), nordic.dk),
    Spec("no.fodselsnummer", "no", "national_id",
         ("fødselsnummer", "fodselsnummer", "fødselsnr", "fnr", "personnummer"), nordic.no),
    Spec("no.dnummer", "no", "national_id", ("d-nummer", "dnummer", "d-nr"), nordic.no),
    Spec("no.hnummer", "no", "national_id", ("h-nummer", "hjelpenummer"), nordic.no),
    Spec("fi.hetu", "fi", "national_id",
         ("henkilötunnus", "henkilotunnus", "hetu", "sotu", "personbeteckning", "henkilötunnuksen"), nordic.fi),
    Spec("is.kennitala", "is", "national_id", ("kennitala", "kennitölu", "kt."), nordic.is_),
    Spec("email", "", "contact", ("e-post", "epost", "email", "e-mail", "sähköposti", "mail")),
    Spec("iban", "", "financial", ("iban", "konto", "kontonummer", "bankkonto", "tilinumero", "account")),
    Spec("card", "", "financial",
         ("kort", "kortnummer", "kreditkort", "betalkort", "card", "visa", "mastercard", "amex", "kortti")),
)
BY_KIND = {s.kind: s for s in SPECS}
NATIONAL_COUNTRIES = ("se", "dk", "no", "fi", "is")


def _context_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    words: dict[str, set[str]] = {}
    for spec in SPECS:
        if spec.category == "national_id":
            for w in spec.context:
                words.setdefault(w, set()).add(spec.country)
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


def context_words(kind: str) -> re.Pattern[str]:
    """Compiled context-word pattern of one non-national kind."""
    spec = BY_KIND[kind]
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(map(re.escape, spec.context)) + ")", re.IGNORECASE)
