"""Official test numbers that follow no rule and so are a list: Skatteverket's, shipped as data."""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

SHIPPED = ("se-test-personnummer.txt", "se-test-samordningsnummer.txt")
# Well-known card numbers from the schemes' and processors' test documentation.
TEST_CARDS = frozenset({
    "4111111111111111", "4012888888881881", "4222222222222", "4242424242424242", "4000056655665556",
    "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222",
    "378282246310005", "371449635398431", "378734493671000", "6011111111111117", "6011000990139424",
    "3530111333300000", "3566002020360505", "30569309025904", "38520000023237",
})


@lru_cache(maxsize=8)
def swedish(extra: tuple[str, ...] = ()) -> frozenset[str]:
    """12-digit Swedish test numbers: the shipped lists plus newer copies named in the config."""
    numbers: set[str] = set()
    data = files(__package__) / "data"
    for name in SHIPPED:
        numbers.update(_lines((data / name).read_text(encoding="ascii")))
    for path in extra:
        numbers.update(_lines(Path(path).read_text(encoding="ascii")))
    # The 10-digit forms too: a test number written without its century is still a test number.
    return frozenset(numbers | {n[2:] for n in numbers})


def _lines(text: str):
    for line in text.split():
        line = line.strip().replace("-", "")
        if len(line) == 12 and line.isdigit():
            yield line
