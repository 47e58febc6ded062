"""Precision and recall of the identifier check on a labelled corpus, matched by file, line and column.

    python bench/accuracy.py [--files 120] [--lines 400] [--seed 1] [--keep DIR]

The corpus: CSV exports, application logs, JSON records and prose, each file of one country (half of
its planted values are that country's ids, a tenth its neighbours'), with Faker's Nordic names,
addresses and phone numbers around planted values whose truth is known: real-looking ids (with and
without separators, with and without a context word), official test numbers, masked values, near
misses (a broken checksum, a date that does not exist), e-mail addresses, IBANs and card numbers.
The whole `vendorscan scan` runs over it; report.json is scored against the labels.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vendorscan.checks import synth  # noqa: E402
from vendorscan.checks.idspecs import SPECS  # noqa: E402

NATIONAL = ("se.personnummer", "dk.cpr", "no.fodselsnummer", "fi.hetu", "is.kennitala")
KINDS = NATIONAL + ("email", "iban", "card")
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
    from vendorscan.checks.identifiers import detect
    return any(h.verdict.value == "test" for h in detect(f"ref {value}", _HASHER))


def _valid_anywhere(value: str) -> bool:
    from vendorscan.checks.identifiers import detect
    return any(h.verdict.value != "masked" for word in ("ref", "CPR-nr", "personnummer", "fødselsnummer",
                                                        "henkilötunnus", "kennitala")
               for h in detect(f"{word} {value}", _HASHER))


_HASHER = None


def _break_last(value: str) -> str:
    i = max(j for j, ch in enumerate(value) if ch.isdigit())
    return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1:]


class Writer:
    """Lines of one file format with values planted at known columns."""

    def __init__(self, rng: random.Random):
        from faker import Faker
        self.rng = rng
        self.fakers = {k: Faker(loc) for k, loc in LOCALES.items()}
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(rng.randrange(10**6) + i)

    def line(self, fmt: str, kind: str, value: str) -> tuple[str, int]:
        """(line, 1-based column of the value)."""
        rng, fake = self.rng, self.fakers.get(kind, self.fakers["se.personnummer"])
        word = rng.choice(CONTEXT[kind]) if rng.random() < 0.7 else ""
        name, city = fake.name(), fake.city()
        if fmt == "csv":
            prefix = f"{rng.randrange(10**5)};{name};{city};"
            return f"{prefix}{value};{fake.phone_number()};{rng.randrange(100, 9999)},{rng.randrange(100):02d}", \
                len(prefix) + 1
        if fmt == "log":
            prefix = (f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T1{rng.randrange(10)}:{rng.randrange(60):02d}"
                      f":00Z INFO req={rng.randrange(10**6)} user=\"{name}\" {word or 'value'}=")
            return f"{prefix}{value} took {rng.randrange(900)}ms", len(prefix) + 1
        if fmt == "json":
            key = word or "ref"
            prefix = f'{{"name": "{name}", "city": "{city}", "{key}": "'
            return f'{prefix}{value}", "phone": "{fake.phone_number()}"}}', len(prefix) + 1
        prefix = f"{name} från {city} uppgav {word + ' ' if word else ''}"
        return f"{prefix}{value} vid besöket den {rng.randrange(1, 29)} maj.", len(prefix) + 1

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


def generate(out: Path, files: int, lines: int, seed: int) -> list[tuple[str, int, int, str, str]]:
    """Write the corpus; returns the labels (file, line, column, kind, label)."""
    global _HASHER
    from vendorscan.context import ValueHasher
    _HASHER = ValueHasher(b"accuracy-corpus-only")
    rng = random.Random(seed)
    writer = Writer(rng)
    truth = []
    out.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        fmt = ("csv", "log", "json", "prose")[i % 4]
        home = NATIONAL[(i // 4) % len(NATIONAL)]  # a file belongs to one country, as an export does
        name = f"doc{i:04d}.{ {'prose': 'txt'}.get(fmt, fmt) }".replace(" ", "")
        rows = []
        for n in range(1, lines + 1):
            if rng.random() < 0.25:
                roll = rng.random()
                # Mostly the home country's ids; some from the neighbours; contact and payment data.
                kind = home if roll < 0.5 else rng.choice(NATIONAL) if roll < 0.6 else rng.choice(KINDS[5:])
                value, label = planted(kind, rng)
                line, col = writer.line(fmt, kind, value)
                truth.append((name, n, col, kind, label))
                rows.append(line)
            else:
                rows.append(writer.noise(fmt, home))
        (out / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return truth


def score(report: dict, truth: list[tuple[str, int, int, str, str]]) -> tuple[list[str], list[str]]:
    """Per-type and per-verdict tables (markdown lines)."""
    reported: dict[tuple[str, int, int], tuple[str, str]] = {}
    for f in report["findings"]:
        if f["check_id"] != "identifiers":
            continue
        name = f["resource"].rsplit("/", 1)[1]
        for o in f["occurrences"]:
            loc = o["location"]
            reported[(name, loc["line"], loc["column"])] = (f["kind"], f["verdict"])
    tp, fp, fn = Counter(), Counter(), Counter()
    verdicts = defaultdict(Counter)
    labelled = {(n, line, col): (kind, label) for n, line, col, kind, label in truth}
    for key, (kind, label) in labelled.items():
        got = reported.get(key)
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
    for key, (kind, verdict) in reported.items():
        if key not in labelled and verdict == "real":
            fp[kind] += 1  # in the noise
    rows = ["| type | real planted | found | false positives | missed | precision | recall | F1 |",
            "|---|---|---|---|---|---|---|---|"]
    for kind in KINDS:
        p = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 1.0
        r = tp[kind] / (tp[kind] + fn[kind]) if tp[kind] + fn[kind] else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append(f"| {kind} | {tp[kind] + fn[kind]} | {tp[kind]} | {fp[kind]} | {fn[kind]} | {p:.3f} | {r:.3f} | "
                    f"{f1:.3f} |")
    # National ids as one class: a value that two countries' rules accept, with no word naming either,
    # can only be told apart by where it stands; reported as the other country's id, it is still an
    # exposed national id. The rows above count it as one miss and one false positive.
    ctp = cfn = cfp = 0
    for key, (kind, label) in labelled.items():
        got = reported.get(key)
        is_national = got is not None and got[1] == "real" and got[0] in NATIONAL_KINDS
        if kind in NATIONAL and label == "real":
            ctp, cfn = ctp + is_national, cfn + (not is_national)
        elif is_national:
            cfp += 1
    cfp += sum(1 for key, (kind, verdict) in reported.items()
               if key not in labelled and verdict == "real" and kind in NATIONAL_KINDS)
    p = ctp / (ctp + cfp) if ctp + cfp else 1.0
    r = ctp / (ctp + cfn) if ctp + cfn else 1.0
    rows.append(f"| national ids, any country | {ctp + cfn} | {ctp} | {cfp} | {cfn} | {p:.3f} | {r:.3f} | "
                f"{2 * p * r / (p + r) if p + r else 0.0:.3f} |")
    vrows = ["| planted as | count | reported as such | reported as real (an exposure) | not reported |",
             "|---|---|---|---|---|"]
    for label in ("test", "masked", "near miss"):
        c = verdicts[label]
        such = "—" if label == "near miss" else c["as such"]
        vrows.append(f"| {label} | {c['planted']} | {such} | {c['as real (an exposure)']} | {c['not reported']} |")
    return rows, vrows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=120)
    ap.add_argument("--lines", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="write the corpus and labels here and keep them")
    args = ap.parse_args()
    from vendorscan.agent import config as cfg
    from vendorscan.agent.engine import Scan
    from vendorscan.reports.json import JsonReport
    work = args.keep or Path(tempfile.mkdtemp(prefix="vendorscan-accuracy-"))
    try:
        truth = generate(work / "corpus", args.files, args.lines, args.seed)
        (work / "labels.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in truth))
        config = cfg.parse({"targets": [{"name": "corpus", "type": "local", "paths": [str(work / "corpus")]}]})
        result = Scan(config, state=work / "state", full=True).run()
        JsonReport().render(result, work / "report")
        result.store.close()
        report = json.loads((work / "report" / "report.json").read_text(encoding="utf-8"))
        rows, vrows = score(report, truth)
        print(f"{args.files} files x {args.lines} lines (csv, log, json, prose), {len(truth)} planted values, "
              f"seed {args.seed}\n")
        print("\n".join(rows))
        print()
        print("\n".join(vrows))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
