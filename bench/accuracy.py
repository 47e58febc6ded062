"""Precision and recall of the identifier check on a labelled corpus, matched by file, line and column.

    python bench/accuracy.py [--files 120] [--lines 400] [--seed 1] [--keep DIR]
    python bench/accuracy.py --seeds 1,2,3,4,5      # one markdown table over five corpora, for bench/RESULTS.md

The corpus: CSV exports, application logs, JSON records and prose, each file of one country (half of
its planted values are that country's ids, a tenth its neighbours'), with Faker's Nordic names,
addresses and phone numbers around planted values whose truth is known: real-looking ids (with and
without separators, with and without a context word), official test numbers, masked values, near
misses (a broken checksum, a date that does not exist), e-mail addresses, IBANs and card numbers.
Three in ten planted values are issue 18's classes (CLASSES): ids whose truth depends on the word next
to them (kennitala without a check digit, kerfiskennitala, the 2032 Norwegian rule, FH-numbers,
hand-typed spaces, immigration and healthcare case numbers), values that read as two countries' ids,
ids in file paths, and near misses that a validator would pass (timestamps, bank account numbers,
company kennitala). Beside them: CSV exports whose id column is named only in the header, and
file listings. The whole `vendorscan scan` runs over it; report.json is scored against the labels:
per kind, national ids as a class, per value class (each a row), per verdict.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vendorscan.checks import synth  # noqa: E402
from vendorscan.checks.idspecs import SPECS  # noqa: E402
from vendorscan.checks.testnumbers import swedish  # noqa: E402

NATIONAL = ("se.personnummer", "dk.cpr", "no.fodselsnummer", "fi.hetu", "is.kennitala")
CASE_KINDS = ("dk.udlaendingenummer", "no.duf", "se.lma", "se.reservnummer")  # issue 18: only next to their labels
OTHER = ("email", "iban", "card")
KINDS = NATIONAL + CASE_KINDS + OTHER
NATIONAL_KINDS = frozenset(s.kind for s in SPECS if s.category == "national_id")  # se.samordningsnummer… too
TESTABLE = ("se.personnummer", "fi.hetu", "no.fodselsnummer", "card")
LOCALES = {"se.personnummer": "sv_SE", "dk.cpr": "da_DK", "no.fodselsnummer": "no_NO", "fi.hetu": "fi_FI",
           "is.kennitala": "is_IS"}
CONTEXT = {"se.personnummer": ["personnummer", "pnr", "personnr"], "dk.cpr": ["CPR-nr", "cpr", "CPR nummer"],
           "no.fodselsnummer": ["fødselsnummer", "fnr", "personnummer"], "fi.hetu": ["henkilötunnus", "hetu"],
           "is.kennitala": ["kennitala", "kt."], "email": ["e-post", "email"], "iban": ["IBAN", "konto"],
           "card": ["kortnummer", "kort", "card"]}
_TEST_CARDS = ["4111 1111 1111 1111", "5555 5555 5555 4444", "4012 8888 8888 1881"]


def planted(kind: str, rng: random.Random) -> tuple[str, str]:
    """(value, label) with label real, test, masked or near (must not be reported)."""
    roll = rng.random()
    if kind == "email":
        user = rng.choice(["anna", "lars.berg", "m.nielsen", "kari_o", "p.virtanen"]) + str(rng.randrange(100))
        return f"{user}@{rng.choice(['kommun-exempel.se', 'example.dk', 'firma.no', 'yritys.fi'])}", "real"
    if kind == "iban":
        value = synth.iban(rng, rng.choice(["SE", "DK", "NO", "FI", "DE"]))
        return (value, "real") if roll < 0.75 else (_break_last(value), "near")
    if kind == "card":
        if roll < 0.6:
            return synth.card(rng), "real"
        if roll < 0.8:
            return rng.choice(_TEST_CARDS), "test"
        return _break_last(synth.card(rng)), "near"
    if roll < 0.6:
        while True:  # a real-looking value, not one that happens to be on an official test list
            value = synth.real(kind, rng, separator=rng.random() < 0.7)
            if not _on_test_list(value):
                return value, "real"
    if roll < 0.72 and kind in TESTABLE:
        return synth.test(kind, rng), "test"
    if roll < 0.84:
        return synth.masked(kind, rng), "masked"
    while True:
        value = synth.real(kind, rng)
        if rng.random() < 0.5 and kind != "dk.cpr":  # the Danish check digit is optional since 2007
            value = _break_last(value)
        else:
            value = value[:2] + "13" + value[4:]  # month 13
        # A broken value that another country's rules accept is that country's valid id, not a near miss.
        if not _valid_anywhere(value):
            return value, "near"


def _on_test_list(value: str) -> bool:
    """On Skatteverket's list (a 10-digit form in any century)."""
    return value.replace("-", "").replace("+", "") in swedish()  # the list holds the 10-digit forms too


def _valid_anywhere(value: str) -> bool:
    # By the corpus's own rules (synth.plain_readings), not the detector's: the labels must not move when it does.
    return bool(synth.plain_readings(value))


def _break_last(value: str) -> str:
    i = max(j for j, ch in enumerate(value) if ch.isdigit())
    return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1:]


# Issue 18's value classes: each a label (real, test, near), the kind a detector must report for a real one,
# the country whose files carry it (None: any file), the file formats it fits and how its line is made.
# A near value is one that no country's rules accept without context (synth.plain_readings is empty), or one
# that the rules of issue 18 say must not be reported without its context word (spaced forms, timestamps).
IS_WORDS, NO_WORDS = ["kennitala", "kt.", "kt:"], ["fødselsnummer", "fnr", "fødselsnr"]
FI_WORDS = ["henkilötunnus", "hetu"]
ALL_FMTS, LOG_ONLY = ("csv", "log", "json", "prose"), ("log",)


@dataclass(frozen=True)
class ValueClass:
    """One kind of planted value of issue 18 and its truth."""

    name: str
    label: str  # real, test or near
    kind: str  # what a real one must be reported as; what a near or test one resembles
    home: str | None  # NATIONAL kind of the files it is planted in; None: any
    make: Callable[["Writer", str, str], tuple[str, int, str]]  # (writer, fmt, home) -> (line, column, value)
    fmts: tuple[str, ...] = ALL_FMTS


def _worded(gen: Callable[[random.Random], str], words: list[str] | None, share: float = 1.0):
    """A maker of lines with gen's value next to one of words (share of the time), or next to none."""
    def make(w: "Writer", fmt: str, home: str) -> tuple[str, int, str]:
        value = gen(w.rng)
        word = w.rng.choice(words) if words and w.rng.random() < share else ""
        return (*w.line(fmt, home, value, word=word), value)
    return make


def _filed(gen: Callable[[random.Random], tuple[str, int, str]]):
    """A maker of lines naming a file whose name holds a value: gen gives (path, offset of the value, value)."""
    def make(w: "Writer", fmt: str, home: str) -> tuple[str, int, str]:
        path, offset, value = gen(w.rng)
        return (*w.file_line(fmt, path, offset), value)
    return make


def _backup(rng):
    d, hhmm, _ = synth.timestamp(rng)
    return f"backup_{d:%Y%m%d}-{hhmm}.tar", 7, f"{d:%Y%m%d}-{hhmm}"


def _dump(rng):
    d, hhmm, _ = synth.timestamp(rng)
    return f"db_{d:%Y%m%d}{hhmm}.sql.gz", 3, f"{d:%Y%m%d}{hhmm}"


def _se_path(rng):
    value = synth.se_personnummer(rng, separator=False, twelve=True)
    return f"/kunder/{value}.json", 8, value


def _dk_path(rng):
    value = synth.dk_cpr(rng, separator=False)
    return f"scan/cpr_{value}.png", 9, value


def _log_start(w: "Writer", fmt: str, home: str) -> tuple[str, int, str]:
    _, hhmm, yymmdd = synth.timestamp(w.rng)
    value = f"{yymmdd}-{hhmm}"
    return f"{value} INFO {w.rng.choice(['batch', 'sync', 'export'])} done in {w.rng.randrange(900)}ms", 1, value


def _log_compact(w: "Writer", fmt: str, home: str) -> tuple[str, int, str]:
    d, hhmm, yymmdd = synth.timestamp(w.rng)
    prefix = f"{d:%Y-%m-%d} {hhmm[:2]}:{hhmm[2:]}:{w.rng.randrange(60):02d} INFO job=export run="
    return f"{prefix}{yymmdd}-{hhmm} rows={w.rng.randrange(10**5)}", len(prefix) + 1, f"{yymmdd}-{hhmm}"


SE, DK, NO, FI, IS = NATIONAL
_SPACED_NO = lambda rng: synth.spaced(NO, rng, rng.randrange(3))  # noqa: E731
CLASSES: tuple[ValueClass, ...] = (
    ValueClass("is.no-check-digit+context", "real", IS, IS,
               _worded(lambda r: synth.is_unchecked(r, r.random() < 0.7), IS_WORDS)),
    ValueClass("is.no-check-digit", "near", IS, IS,
               _worded(lambda r: synth.is_unchecked(r, r.random() < 0.7, clean=True), None)),
    ValueClass("is.kerfiskennitala+context", "real", IS, IS,
               _worded(lambda r: synth.is_kerfiskennitala(r, r.random() < 0.7), IS_WORDS)),
    ValueClass("is.kerfiskennitala", "near", IS, IS,
               _worded(lambda r: synth.is_kerfiskennitala(r, r.random() < 0.7), None)),
    ValueClass("is.company", "near", IS, IS, _worded(lambda r: synth.is_company(r, r.random() < 0.7), IS_WORDS, 0.5)),
    ValueClass("no.relaxed-k1+context", "real", NO, NO, _worded(synth.no_relaxed, NO_WORDS)),
    ValueClass("no.relaxed-k1", "near", NO, NO, _worded(synth.no_relaxed, None)),
    ValueClass("no.fh+context", "real", NO, NO, _worded(synth.no_fh, NO_WORDS)),
    ValueClass("no.fh", "near", NO, NO, _worded(synth.no_fh, None)),
    ValueClass("no.account+kontonummer", "near", NO, NO,
               _worded(lambda r: synth.no_account(r, like_fnr=r.random() < 0.5), ["kontonummer", "konto", "kontonr."])),
    ValueClass("no.account-dotted", "near", NO, NO,
               _worded(lambda r: synth.no_account(r, like_fnr=r.random() < 0.5, dotted=True),
                       ["kontonummer", "konto"], 0.7)),
    ValueClass("no.tenor", "test", NO, NO, _worded(lambda r: synth.test(NO, r), NO_WORDS, 0.5)),
    ValueClass("no.month+40", "test", "no.hnummer", NO, _worded(synth.no_hnummer, NO_WORDS, 0.5)),
    ValueClass("fi.lowercase-check", "real", FI, FI,
               _worded(lambda r: synth.fi_hetu_signed(r, lower=True), FI_WORDS, 0.5)),
    ValueClass("fi.2023-sign", "real", FI, FI, _worded(synth.fi_hetu_signed, FI_WORDS, 0.5)),
    ValueClass("dk.fi-overlap", "real", DK, DK, _worded(synth.dk_fi_overlap, ["CPR-nr", "cpr"], 0.5)),
    ValueClass("se.spaced+context", "real", SE, SE,
               _worded(lambda r: synth.spaced(SE, r), ["personnummer", "personnr", "pnr"])),
    ValueClass("se.spaced", "near", SE, SE, _worded(lambda r: synth.spaced(SE, r), None)),
    ValueClass("dk.spaced+context", "real", DK, DK,
               _worded(lambda r: synth.spaced(DK, r), ["CPR-nr", "cpr", "CPR nummer"])),
    ValueClass("dk.spaced", "near", DK, DK, _worded(lambda r: synth.spaced(DK, r), None)),
    ValueClass("no.spaced+context", "real", NO, NO, _worded(_SPACED_NO, NO_WORDS)),
    ValueClass("no.spaced", "near", NO, NO, _worded(_SPACED_NO, None)),
    ValueClass("timestamp.backup-file", "near", SE, None, _filed(_backup)),
    ValueClass("timestamp.db-dump", "near", SE, None, _filed(_dump)),
    ValueClass("timestamp.log-start", "near", SE, None, _log_start, LOG_ONLY),
    ValueClass("timestamp.log-compact", "near", SE, None, _log_compact, LOG_ONLY),
    ValueClass("dk.udlaendingenummer+label", "real", "dk.udlaendingenummer", DK,
               _worded(synth.udlaendingenummer, ["Udl.nr.", "udlændingenummer", "Politiets udlændingenummer"])),
    ValueClass("dk.udlaendingenummer", "near", "dk.udlaendingenummer", DK, _worded(synth.udlaendingenummer, None)),
    ValueClass("no.duf+label", "real", "no.duf", NO, _worded(synth.duf, ["DUF", "DUF-nummer", "DUF-nr"])),
    ValueClass("no.duf", "near", "no.duf", NO, _worded(synth.duf, None)),
    ValueClass("se.lma+label", "real", "se.lma", SE, _worded(synth.lma, ["LMA", "LMA-nummer", "dossiernummer"])),
    ValueClass("se.lma", "near", "se.lma", SE, _worded(synth.lma, None)),
    ValueClass("se.reservnummer+label", "real", "se.reservnummer", SE,
               _worded(synth.reservnummer, ["reservnummer", "reservnr"])),
    ValueClass("se.reservnummer", "near", "se.reservnummer", SE, _worded(synth.reservnummer, None)),
    ValueClass("se.path", "real", SE, SE, _filed(_se_path)),
    ValueClass("dk.path", "real", DK, DK, _filed(_dk_path)),
)
# Whole files: CSV exports whose id column is named only in the header, and file listings.
COLUMN_CLASSES = {"dk.cpr-column": (DK, "id;navn;cpr;adresse;postnr"),
                  "se.personnummer-column": (SE, "id;namn;personnummer;adress;postort"),
                  "no.fnr-column": (NO, "id;navn;fnr;adresse;poststed")}
LISTING_CLASSES = ("timestamp.backup-file", "timestamp.db-dump", "se.path", "dk.path")
ALL_CLASSES = {c.name: (c.label, c.kind) for c in CLASSES} | {n: ("real", k) for n, (k, _) in COLUMN_CLASSES.items()}
ISSUE18_SHARE = 0.3  # of the planted values in the mixed files
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_PLAIN_FILES = ["report_final_v2.pdf", "IMG_4711.JPG", "invoice-2024-0312.pdf", "notes.txt", "app.log.1.gz",
                "schema.sql", "README.md", "export.csv", "thumbs.db", "config.yaml"]


def _column_value(kind: str, rng: random.Random) -> str:
    if kind == DK:  # most issued since 2007 and failing modulus 11
        return synth.dk_cpr_recent(rng, mod11=rng.random() < 0.2)
    if kind == SE:
        return synth.se_personnummer(rng, separator=False, twelve=rng.random() < 0.3)
    return synth.no_fodselsnummer(rng)


def column_file(writer: "Writer", cls: str, rows: int) -> tuple[list[str], list[tuple[int, int, str]]]:
    """A CSV export with the id column named only in its header: (lines, [(line, column, value)])."""
    kind, header = COLUMN_CLASSES[cls]
    fake, rng = writer.fakers[kind], writer.rng
    lines, planted_at = [header], []
    for n in range(2, rows + 1):
        prefix = f"{n - 1};{fake.name()};"
        value = _column_value(kind, rng)
        lines.append(f"{prefix}{value};{fake.street_address()};{fake.postcode()}")
        planted_at.append((n, len(prefix) + 1, value))
    return lines, planted_at


def listing_file(writer: "Writer", rows: int) -> tuple[list[str], list[tuple[int, int, str, str]]]:
    """`ls -l` output of an export folder: (lines, [(line, column, class, value)])."""
    rng = writer.rng
    lines, planted_at = [], []
    for n in range(1, rows + 1):
        cls = rng.choice(LISTING_CLASSES) if rng.random() < 0.3 else None
        path, offset, value = ({"timestamp.backup-file": _backup, "timestamp.db-dump": _dump, "se.path": _se_path,
                                "dk.path": _dk_path}[cls](rng) if cls else (rng.choice(_PLAIN_FILES), 0, ""))
        path = path.lstrip("/")
        prefix = (f"-rw-r----- 1 app app {rng.randrange(10**3, 10**9):>10} {rng.choice(_MONTHS)} "
                  f"{rng.randint(1, 28):>2} {rng.randrange(24):02d}:{rng.randrange(60):02d} ")
        lines.append(prefix + path)
        if cls:
            planted_at.append((n, len(prefix) + offset + 1 - (1 if cls == "se.path" else 0), cls, value))
    return lines, planted_at


class Writer:
    """Lines of one file format with values planted at known columns."""

    def __init__(self, rng: random.Random):
        from faker import Faker
        self.rng = rng
        self.fakers = {k: Faker(loc) for k, loc in LOCALES.items()}
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(rng.randrange(10**6) + i)

    def line(self, fmt: str, kind: str, value: str, word: str | None = None) -> tuple[str, int]:
        """(line, 1-based column of the value); word None: a context word seven times in ten, "" none."""
        rng, fake = self.rng, self.fakers.get(kind, self.fakers["se.personnummer"])
        forced = word is not None
        if not forced:
            word = rng.choice(CONTEXT[kind]) if rng.random() < 0.7 else ""
        name, city = fake.name(), fake.city()
        if fmt == "csv":
            prefix = f"{rng.randrange(10**5)};{name};{city};" + (f"{word} " if forced and word else "")
            return f"{prefix}{value};{fake.phone_number()};{rng.randrange(100, 9999)},{rng.randrange(100):02d}", \
                len(prefix) + 1
        if fmt == "log":
            key = f"{word} " if word and (word[-1] in ".:" or " " in word) else f"{word or 'value'}="
            prefix = (f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T1{rng.randrange(10)}:{rng.randrange(60):02d}"
                      f":00Z INFO req={rng.randrange(10**6)} user=\"{name}\" {key}")
            return f"{prefix}{value} took {rng.randrange(900)}ms", len(prefix) + 1
        if fmt == "json":
            key = word or "ref"
            prefix = f'{{"name": "{name}", "city": "{city}", "{key}": "'
            return f'{prefix}{value}", "phone": "{fake.phone_number()}"}}', len(prefix) + 1
        prefix = f"{name} från {city} uppgav {word + ' ' if word else ''}"
        return f"{prefix}{value} vid besöket den {rng.randrange(1, 29)} maj.", len(prefix) + 1

    def file_line(self, fmt: str, path: str, offset: int) -> tuple[str, int]:
        """A line naming a file (an export, a backup, an upload) in a file format; the value is at path[offset:]."""
        rng = self.rng
        where = rng.choice(["/srv/export", "/data/app", "/home/deploy/tmp", "/var/backups"])
        full = f"{where}/{path.lstrip('/')}"
        offset += len(full) - len(path)
        if fmt == "csv":
            prefix = f"{rng.randrange(10**5)};"
            return f"{prefix}{full};{rng.randrange(10**3, 10**8)};2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}", \
                len(prefix) + offset + 1
        if fmt == "log":
            prefix = (f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T0{rng.randrange(10)}:"
                      f"{rng.randrange(60):02d}:00Z INFO {rng.choice(['stored', 'uploaded', 'GET', 'archived'])} path=")
            return f"{prefix}{full} bytes={rng.randrange(10**3, 10**8)}", len(prefix) + offset + 1
        if fmt == "json":
            prefix = '{"file": "'
            return f'{prefix}{full}", "bytes": {rng.randrange(10**3, 10**8)}}}', len(prefix) + offset + 1
        prefix = "Filen "
        return f"{prefix}{full} låg kvar i exportmappen efter flytten.", len(prefix) + offset + 1

    def noise(self, fmt: str, home: str) -> str:
        """A line with the file's country's names, addresses, phone numbers and amounts, and nothing to report."""
        fake = self.fakers[home]
        if fmt == "csv":
            return f"{self.rng.randrange(10**5)};{fake.name()};{fake.street_address()};{fake.phone_number()}"
        if fmt == "log":
            return f"2024-05-01T12:00:00Z INFO order=ORD-{self.rng.randrange(10**9, 10**10)} total={self.rng.random() * 1000:.2f}"
        if fmt == "json":
            return json.dumps({"name": fake.name(), "address": fake.address().replace("\n", ", ")}, ensure_ascii=False)
        return f"{fake.name()} bor på {fake.street_address()} i {fake.city()}."


def generate(out: Path, files: int, lines: int, seed: int, share: float = ISSUE18_SHARE) -> list[tuple]:
    """Write the corpus; returns the labels (file, line, column, kind, label, class, length); class "": not issue 18.

    share: of the planted values in the mixed files, issue 18's classes; 0 leaves them and the whole-file ones out."""
    rng = random.Random(seed)
    writer = Writer(rng)
    truth = []
    out.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        fmt = ("csv", "log", "json", "prose")[i % 4]
        home = NATIONAL[(i // 4) % len(NATIONAL)]  # a file belongs to one country, as an export does
        name = f"doc{i:04d}.{ {'prose': 'txt'}.get(fmt, fmt) }".replace(" ", "")
        eligible = [c for c in CLASSES if c.home in (None, home) and fmt in c.fmts]
        rows = []
        for n in range(1, lines + 1):
            if rng.random() < 0.25:
                if rng.random() < share:
                    c = rng.choices(eligible, [1.0 if c.home else 0.25 for c in eligible])[0]
                    line, col, value = c.make(writer, fmt, home)
                    truth.append((name, n, col, c.kind, c.label, c.name, len(value)))
                    rows.append(line)
                    continue
                roll = rng.random()
                # Mostly the home country's ids; some from the neighbours; contact and payment data.
                kind = home if roll < 0.5 else rng.choice(NATIONAL) if roll < 0.6 else rng.choice(OTHER)
                value, label = planted(kind, rng)
                line, col = writer.line(fmt, kind, value)
                truth.append((name, n, col, kind, label, "", len(value)))
                rows.append(line)
            else:
                rows.append(writer.noise(fmt, home))
        (out / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    for cls in COLUMN_CLASSES if share else ():
        name = f"export_{cls.split('-')[0].split('.')[1]}.csv"
        rows, at = column_file(writer, cls, lines)
        truth += [(name, n, col, COLUMN_CLASSES[cls][0], "real", cls, len(v)) for n, col, v in at]
        (out / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    for j in range(2 if share else 0):
        name = f"listing_{j}.txt"
        rows, at = listing_file(writer, lines)
        truth += [(name, n, col, ALL_CLASSES[c][1], ALL_CLASSES[c][0], c, len(v)) for n, col, c, v in at]
        (out / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return truth


def tally(report: dict, truth: list[tuple]) -> dict:
    """Counts behind every table: per kind, national ids as a class, per value class, per verdict."""
    reported: dict[tuple[str, int, int], tuple[str, str]] = {}
    by_line: dict[tuple[str, int], list[int]] = defaultdict(list)
    for f in report["findings"]:
        if f["check_id"] != "identifiers":
            continue
        name = f["resource"].rsplit("/", 1)[1]
        for o in f["occurrences"]:
            loc = o["location"]
            reported[(name, loc["line"], loc["column"])] = (f["kind"], f["verdict"])
            by_line[(name, loc["line"])].append(loc["column"])
    tp, fp, fn = Counter(), Counter(), Counter()
    verdicts = defaultdict(Counter)
    classes = defaultdict(Counter)
    labelled = {(t[0], t[1], t[2]): (t[3], t[4], t[5] if len(t) > 5 else "", t[6] if len(t) > 6 else 1)
                for t in truth}
    claimed = set()
    seen = {}
    for key, (kind, label, cls, length) in labelled.items():
        got = reported.get(key)
        if got is None and label != "real":
            # A test, masked or near value reported from inside itself (a part of a timestamp) is reported all the same.
            inside = [c for c in by_line.get(key[:2], ()) if key[2] < c < key[2] + length]
            if inside:
                claimed.add((*key[:2], inside[0]))
                got = reported[(*key[:2], inside[0])]
        seen[key] = got
        if label == "real":
            if got == (kind, "real"):
                tp[kind] += 1
            else:
                fn[kind] += 1
                if got and got[1] == "real":
                    fp[got[0]] += 1  # found, but as the wrong kind
        else:
            if got and got[1] == "real":
                fp[got[0]] += 1
            if label in ("test", "masked"):
                verdicts[label]["planted"] += 1
                verdicts[label]["as such" if got and got[1] == label else
                              "as real (an exposure)" if got and got[1] == "real" else "not reported"] += 1
            else:
                verdicts["near miss"]["planted"] += 1
                verdicts["near miss"]["as real (an exposure)" if got and got[1] == "real" else "not reported"] += 1
        if cls:
            c = classes[cls]
            c["planted"] += 1
            if label == "real":
                c["right" if got == (kind, "real") else "wrong" if got and got[1] == "real" else "missed"] += 1
            else:
                c["wrong" if got and got[1] == "real" else "right"] += 1
    noise = [(key, kind) for key, (kind, verdict) in reported.items()
             if key not in labelled and key not in claimed and verdict == "real"]
    for _, kind in noise:
        fp[kind] += 1  # in the noise
    # National ids as one class: a value that two countries' rules accept, with no word naming either,
    # can only be told apart by where it stands; reported as the other country's id, it is still an
    # exposed national id. The rows per kind count it as one miss and one false positive.
    ctp = cfn = cfp = 0
    for key, (kind, label, _, _) in labelled.items():
        got = seen[key]
        if kind in CASE_KINDS and label == "real":
            continue  # a case number found as its own kind is neither a national id nor a false one
        is_national = got is not None and got[1] == "real" and got[0] in NATIONAL_KINDS - set(CASE_KINDS)
        if kind in NATIONAL and label == "real":
            ctp, cfn = ctp + is_national, cfn + (not is_national)
        elif is_national:
            cfp += 1
    cfp += sum(1 for _, kind in noise if kind in NATIONAL_KINDS and kind not in CASE_KINDS)
    exposures = verdicts["test"]["as real (an exposure)"] + verdicts["masked"]["as real (an exposure)"]
    return {"tp": tp, "fp": fp, "fn": fn, "national": (ctp, cfp, cfn), "classes": classes, "verdicts": verdicts,
            "exposures": exposures}


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def score(report: dict, truth: list[tuple]) -> tuple[list[str], list[str]]:
    """Per-type and per-verdict tables (markdown lines)."""
    t = tally(report, truth)
    tp, fp, fn = t["tp"], t["fp"], t["fn"]
    rows = ["| type | real planted | found | false positives | missed | precision | recall | F1 |",
            "|---|---|---|---|---|---|---|---|"]
    for kind in KINDS:
        p, r, f1 = _pr(tp[kind], fp[kind], fn[kind])
        rows.append(f"| {kind} | {tp[kind] + fn[kind]} | {tp[kind]} | {fp[kind]} | {fn[kind]} | {p:.3f} | {r:.3f} | "
                    f"{f1:.3f} |")
    ctp, cfp, cfn = t["national"]
    p, r, f1 = _pr(ctp, cfp, cfn)
    rows.append(f"| national ids, any country | {ctp + cfn} | {ctp} | {cfp} | {cfn} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    vrows = ["| planted as | count | reported as such | reported as real (an exposure) | not reported |",
             "|---|---|---|---|---|"]
    for label in ("test", "masked", "near miss"):
        c = t["verdicts"][label]
        such = "—" if label == "near miss" else c["as such"]
        vrows.append(f"| {label} | {c['planted']} | {such} | {c['as real (an exposure)']} | {c['not reported']} |")
    return rows, vrows


def class_rows(t: dict) -> list[str]:
    """The table of issue 18's value classes: a real one found as its kind, a test or near one never as real."""
    rows = ["| value class | planted as | must be | planted | right | wrong | precision | recall |",
            "|---|---|---|---|---|---|---|---|"]
    for name, (label, kind) in ALL_CLASSES.items():
        c = t["classes"][name]
        if label == "real":
            p, r, _ = _pr(c["right"], c["wrong"], c["missed"])
            must, pr = f"real {kind}", f"{p:.3f} | {r:.3f}"
        else:
            must = "test or not reported" if label == "test" else "not reported as real"
            pr = f"— | {c['right'] / c['planted']:.3f}" if c["planted"] else "— | —"
        rows.append(f"| {name} | {label} | {must} | {c['planted']} | {c['right']} | {c['wrong']} | {pr} |")
    return rows


def exposure_line(t: dict) -> str:
    """The one figure that must be 0."""
    return f"test or masked values reported as exposures (real): {t['exposures']} (must be 0)"


def seeds_table(results: dict[int, dict]) -> list[str]:
    """Markdown for bench/RESULTS.md: per kind P/R, national ids, per class recall or wrong/planted, per seed."""
    seeds = list(results)
    rows = ["| row | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---" * (len(seeds) + 1) + "|"]
    for kind in KINDS:
        cells = [_pr(t["tp"][kind], t["fp"][kind], t["fn"][kind]) for t in results.values()]
        rows.append(f"| {kind} P / R | " + " | ".join(f"{p:.3f} / {r:.3f}" for p, r, _ in cells) + " |")
    cells = [_pr(*(t["national"][i] for i in (0, 1, 2))) for t in results.values()]
    rows.append("| national ids, any country P / R | " + " | ".join(f"{p:.3f} / {r:.3f}" for p, r, _ in cells) + " |")
    for name, (label, _) in ALL_CLASSES.items():
        cs = [t["classes"][name] for t in results.values()]
        if label == "real":
            cells = [f"{c['right'] / c['planted']:.3f} ({c['planted']})" if c["planted"] else "—" for c in cs]
            rows.append(f"| {name}: recall | " + " | ".join(cells) + " |")
        else:
            rows.append(f"| {name} ({label}): reported as real | " + " | ".join(f"{c['wrong']}/{c['planted']}"
                                                                           for c in cs) + " |")
    rows.append("| test or masked reported as exposures (must be 0) | "
                + " | ".join(str(t["exposures"]) for t in results.values()) + " |")
    return rows


def run(files: int, lines: int, seed: int, keep: Path | None, share: float = ISSUE18_SHARE
        ) -> tuple[dict, list[tuple], dict, float]:
    """Generate, scan and read back one seed's corpus: (report, truth, tally, seconds of the scan)."""
    from vendorscan.agent import config as cfg
    from vendorscan.agent.engine import Scan
    from vendorscan.reports.json import JsonReport
    work = keep or Path(tempfile.mkdtemp(prefix="vendorscan-accuracy-"))
    try:
        truth = generate(work / "corpus", files, lines, seed, share)
        (work / "labels.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in truth))
        config = cfg.parse({"scan": {"report_occurrences": 10**9},  # scored: every occurrence listed
                            "targets": [{"name": "corpus", "type": "local", "paths": [str(work / "corpus")]}]})
        t0 = time.perf_counter()
        result = Scan(config, state=work / "state", full=True).run()
        JsonReport().render(result, work / "report")
        result.store.close()
        seconds = time.perf_counter() - t0
        report = json.loads((work / "report" / "report.json").read_text(encoding="utf-8"))
        return report, truth, tally(report, truth), seconds
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _corpus_line(args) -> str:
    extra = f" + CSV exports and listings, issue 18's classes {args.issue18_share:.0%} of planted values" \
        if args.issue18_share else ""
    return f"{args.files} files x {args.lines} lines (csv, log, json, prose){extra}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=120)
    ap.add_argument("--lines", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", help="comma-separated seeds, e.g. 1,2,3,4,5: one summary table over all of them")
    ap.add_argument("--keep", type=Path, help="write the corpus and labels here and keep them")
    ap.add_argument("--issue18-share", type=float, default=ISSUE18_SHARE,
                    help="share of planted values from issue 18's classes (0: none, nor the CSV exports and listings)")
    args = ap.parse_args()
    if args.seeds:
        results = {}
        for seed in (int(s) for s in args.seeds.split(",")):
            keep = args.keep / f"seed{seed}" if args.keep else None
            _, truth, t, seconds = run(args.files, args.lines, seed, keep, args.issue18_share)
            print(f"seed {seed}: {len(truth)} planted values, scan {seconds:.0f} s", file=sys.stderr)
            results[seed] = t
        print(f"{_corpus_line(args)}, seeds {args.seeds}\n")
        print("\n".join(seeds_table(results)))
        return
    report, truth, t, seconds = run(args.files, args.lines, args.seed, args.keep, args.issue18_share)
    rows, vrows = score(report, truth)
    print(f"{_corpus_line(args)}, {len(truth)} planted values, seed {args.seed}, scan {seconds:.0f} s\n")
    print("\n".join(rows))
    print()
    print("\n".join(vrows))
    print()
    print("\n".join(class_rows(t)))
    print()
    print(exposure_line(t))


if __name__ == "__main__":
    main()
