"""Identifiers in names: a resource's path, an archive member, a sheet, a table or column, a row key.

Suppliers name files after the people in them (`lonespec-850412-1234.txt`, `sag-0104851002.png`). A
name is scanned like content — what the content checks find in a resource's own name is a finding
whose location is the name — and every name that is recorded or shown anywhere is first masked:
each value the identifier check accepts, with any confidence, is replaced by its masked evidence,
so an auditor can still browse to `lonespec-850412-****.txt`. A masked uri carries a keyed hash of
the real one (`#h=…`): two files whose names mask alike stay two resources.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import replace
from typing import Iterator
from urllib.parse import quote, unquote

from vendorscan.context import ScanContext, ValueHasher
from vendorscan.model import NAME_SECTION, Chunk, Hit, Location, Resource, Skipped

log = logging.getLogger("vendorscan")
NAME_PART = "(name)"  # Finding.part of what a resource's own name holds (parentheses: unlike a column's name)
NAME_FIELDS = ("member", "sheet")  # Location fields that hold names a supplier chose
_UNDECODED = re.compile("[\udc80-\udcff]")
_AS_NAME = Location(section=NAME_SECTION)  # checks read a name as one (its parts joined by '-' and '_')
_SAFE = "/:@*+,;=~!$&'()"  # what quote() leaves as it is in the uris connectors build, and masks' '*'
_LONG_DIGITS = re.compile(r"\d{6}")
_CACHE = 4096


@functools.cache
def _masking_check():
    """The identifier check that masks names, whatever the config selects: every accepted value counts."""
    from vendorscan import plugins
    cls = plugins.load("checks", "identifiers")
    return cls(cls.Options(min_confidence=0.0))


class Names:
    """Masks names for display and finds what the content checks see in them."""

    def __init__(self, contexts: list, hasher: ValueHasher):
        """contexts: (check id, content check, its ScanContext) of the checks that make findings."""
        self.contexts = contexts
        self.hasher = hasher
        self._ctx = ScanContext("names", "production", hasher)
        self._masker = _with_custom(_masking_check(), contexts)
        # Configured checks whose every hit the masking check finds too (its kind and options, any confidence):
        # masking a text does not run them a second time.
        self._covered = frozenset(cid for cid, check, _ in contexts if type(check) is type(self._masker)
                                  and replace(check.options, min_confidence=0.0) == self._masker.options)
        self._failed: set[str] = set()  # checks that raised on a name: said once
        self._uris: dict[str, tuple[str, str]] = {}  # real -> shown; the files of one folder share their parent's

    # -- masking --------------------------------------------------------------------------------
    def mask(self, text: str, hits: list[tuple[str, Hit]] | None = None, masked: list[Hit] | None = None) -> str:
        """The text with every identifier in it replaced by its masked evidence (hits: the checks', if known;
        masked: the masking check's own, if known)."""
        if not text or not self._masker.hint.search(text):
            return text
        if hits is None:
            hits = self.hits(text, skip=self._covered)
        found = [*(self._masking_hits(text) if masked is None else masked), *(h for _, h in hits)]
        spans = sorted((h.start, h.end, h.evidence) for h in found if h.category != "special_category")
        if not spans:
            return text
        out, at = [], 0
        for s, e, evidence in spans:
            if s < at:
                continue  # overlaps a span already masked
            out.append(text[at:s])
            out.append(evidence)
            at = e
        out.append(text[at:])
        return "".join(out)

    def uri(self, uri: str | None) -> str | None:
        """The uri as it is shown and recorded: identifiers masked, and then a keyed hash of the real uri."""
        if uri is None:
            return None
        known = self._uris.get(uri)
        if known is None:
            plain = self._mask_part(uri)
            known = (plain, self._suffixed(uri, plain))
            if len(self._uris) >= _CACHE:
                self._uris.clear()
            self._uris[uri] = known
        return known[1]

    def _masking_hits(self, text: str) -> list[Hit]:
        return list(self._scan(self._masker, self._ctx, text)) if self._masker.hint.search(text) else []

    def _mask_part(self, part: str, hits: list[tuple[str, Hit]] | None = None,
                   found: list[Hit] | None = None) -> str:
        """A piece of a uri masked, percent-encoded again where the connector encoded it (bad bytes stay %FF)."""
        encoded = "%" in part
        text = unquote(part, errors="surrogateescape") if encoded else part
        masked = self.mask(text, hits, found)
        if masked == text:
            return part
        return quote(masked.encode("utf-8", "surrogateescape"), safe=_SAFE) if encoded else masked

    def _suffixed(self, real: str, plain: str) -> str:
        return real if plain == real else f"{plain}#h={self.hasher('name', real)[:12]}"

    def skipped(self, s: Skipped) -> Skipped:
        """A connector's skip record with its uri masked (the engine masks every skip's detail as it records it)."""
        return replace(s, uri=self.uri(s.uri))

    def disguise(self, r: Resource) -> list[tuple[str, Hit]]:
        """Mask the resource's uri and parent in place (its locator keeps the real one); hits in its own name."""
        real, parent = r.uri, r.parent
        # The parent's part is masked once for all its files; only the resource's own name is scanned here.
        cut = len(parent) if parent and real.startswith(parent) else real.rfind("/") + 1
        head, own = real[:cut], real[cut:]
        text = unquote(own, errors="surrogateescape") if "%" in own else own
        # The masking check finds every hit of the checks it covers (at any confidence): a name it finds nothing
        # in, most names, is not searched by them a second time.
        found = self._masking_hits(text)
        hits = self.hits(text, r, skip=frozenset() if found else self._covered)
        self.uri(head)
        shown = self._suffixed(real, self._uris[head][0] + self._mask_part(own, hits, found))
        if shown != real:
            r.locator, r.uri = real, shown
        if parent:
            r.parent = self.uri(parent)
        return hits

    # -- findings -------------------------------------------------------------------------------
    def location(self, loc: Location, seen: dict, resource: Resource | None = None
                 ) -> tuple[dict, list[tuple[str, Hit, dict]]]:
        """A container location's fields with names masked, and the hits in names not seen before.

        seen: the caller's per-resource memo (a Location object -> its masked fields)."""
        done = seen.get(loc)
        if done is not None:
            return done, []
        fields = loc.to_dict()
        found = []
        for f in NAME_FIELDS:
            name = fields.get(f)
            if name:
                masked = self.mask(name)
                if (f, name) not in seen:
                    seen[(f, name)] = True
                    found += [(cid, hit, {f: masked, "section": f"{f} name"}) for cid, hit in self.hits(name, resource)]
                fields[f] = masked
        seen[loc] = fields
        return fields, found

    def row_key(self, key: str, position: int) -> str:
        """A row key as shown: masked; a key of six digits or more (an id the checks may not know) by position."""
        if not key or _LONG_DIGITS.search(key):
            return f"#{position}"
        return self.mask(key)

    def hits(self, name: str, resource: Resource | None = None, skip: frozenset[str] = frozenset()
             ) -> list[tuple[str, Hit]]:
        """(check id, hit) for what the content checks find in a name (of the resource, or in it), but checks `skip`."""
        if not name:
            return []
        found = []
        for cid, check, ctx in self.contexts:
            if cid in skip or (check.hint is not None and not check.hint.search(name)):
                continue
            try:
                found += [(cid, hit) for hit in self._scan(check, ctx, name, resource)]
            except Exception as exc:  # noqa: BLE001 - a check that cannot read names must not stop the walk
                if cid not in self._failed:
                    self._failed.add(cid)
                    log.warning("check %s failed on a name (%s); names are masked all the same, "
                                "but it finds nothing in them", cid, type(exc).__name__)
        return found

    @staticmethod
    def _scan(check, ctx, name: str, resource: Resource | None = None) -> Iterator[Hit]:
        if not name.isascii():  # a name's bytes that are not UTF-8 (surrogate-escaped): checks see U+FFFD, one for one
            name = _UNDECODED.sub("\ufffd", name)
        # Hits only: what a check could not scan in a name (a custom pattern that timed out) has no resource to list on.
        return (h for h in check.scan(Chunk(name, 0, 0, len(name), 1, 1, _AS_NAME), resource, ctx) if isinstance(h, Hit))


def _with_custom(masker, contexts: list):
    """The masking check, with the custom detectors of the configured identifier check: their values are masked too."""
    custom = next((check.options.custom for _, check, _ in contexts if type(check) is type(masker)), None)
    return type(masker)(replace(masker.options, custom=custom)) if custom else masker
