"""Nordic mixed text for benchmarks: prose, CSV rows and log lines, ~2% of lines holding an id.

    python bench/corpus.py OUT.txt --size-mb 200
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vendorscan.checks import synth  # noqa: E402

WORDS = ("och att det som en på är av för med till den har de inte om ett han men var jag sig från vi så "
         "kan man när år säger hon under också efter eller nu sin där vid mot ska skulle kommer ut får "
         "leverantör avtal kommun förvaltning ärende beslut rapport projekt faktura system drift test "
         "miljø kunde bruger sag sagsbehandler henkilö asiakas sopimus järjestelmä palvelin ympäristö "
         "Malmö Göteborg Århus Tromsø Jyväskylä Reykjavík 2024-03-01 12:45 order 4711 v2.3.1").split()
KINDS = ("se.personnummer", "dk.cpr", "no.fodselsnummer", "fi.hetu", "is.kennitala", "card")
CONTEXT = {"se.personnummer": "personnummer", "dk.cpr": "CPR-nr", "no.fodselsnummer": "fødselsnummer",
           "fi.hetu": "henkilötunnus", "is.kennitala": "kennitala", "card": "kortnummer"}


def _line(rng: random.Random, id_share: float = 0.02, email_share: float = 0.01) -> str:
    shape = rng.random()
    if shape < id_share:  # a line with an identifier
        kind = rng.choice(KINDS)
        return f"{rng.choice(WORDS)} {CONTEXT[kind]}: {synth.real(kind, rng)} {rng.choice(WORDS)}"
    if shape < id_share + email_share:
        return f"kontakt {rng.choice(WORDS)}.{rng.choice(WORDS)}@exempel.se"
    if shape < 0.3:
        return (f"{rng.randrange(10**5)};{rng.choice(WORDS)};{rng.choice(WORDS)};{rng.randrange(10**4)},"
                f"{rng.randrange(100):02d};2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}")
    if shape < 0.5:
        return (f"2024-05-0{rng.randrange(1, 10)}T12:{rng.randrange(60):02d}:00Z INFO req={rng.randrange(10**6)} "
                f"{rng.choice(WORDS)} took {rng.randrange(1000)}ms")
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 18))).capitalize() + "."


def generate_text(size: int, seed: int = 1, id_share: float = 0.02, email_share: float = 0.01) -> str:
    """About `size` characters of corpus text; id_share and email_share of its lines hold an id or an address."""
    rng = random.Random(seed)
    lines, total = [], 0
    while total < size:
        line = _line(rng, id_share, email_share)
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description="write a benchmark corpus")
    ap.add_argument("out")
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    block = generate_text(4 * 2**20, args.seed).encode("utf-8")
    with open(args.out, "wb") as f:
        for _ in range(max(1, args.size_mb // 4)):
            f.write(block)


if __name__ == "__main__":
    main()
