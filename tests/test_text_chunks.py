"""Streaming text: encodings survive, chunks overlap, every offset maps to the right line/column."""
import codecs
import io

import pytest

from vendorscan.formats.sniff import sniff
from vendorscan.formats.text import LineLocator, iter_chunks


@pytest.mark.parametrize("data, kind, enc", [
    ("Åsa Ødegård, Jyväskylä\n".encode("utf-8"), "text", "utf-8"),
    (codecs.BOM_UTF8 + "Ærø".encode("utf-8"), "text", "utf-8-sig"),
    (codecs.BOM_UTF16_LE + "Åsa Ødegård".encode("utf-16-le"), "text", "utf-16"),
    ("Åsa Ødegård, Jyväskylä, Malmö och Göteborg\n".encode("cp1252"), "text", "cp1252"),
    ("plain ascii log line\n".encode(), "text", "utf-8"),
    (b"%PDF-1.7\n", "binary", "pdf"),
    (b"PK\x03\x04rest", "binary", "zip"),
    (b"\x00\x01\x02\x03\xff\xfe\x00\x00binary", "binary", "unknown"),
    (b"\x00namn;personnummer\nAnna;850412-1230\n", "text", "utf-8"),  # one stray NUL does not make it binary
    (b"x" * 257 + b"ustar\x0000" + b"\x00" * 100 + b"text member\n" * 40, "binary", "tar"),  # a tar of text
])
def test_sniff(data, kind, enc):
    assert sniff(data) == (kind, enc)


def test_utf8_cut_mid_character_is_still_utf8():
    data = ("a" * 10 + "å").encode()[:-1]
    assert sniff(data) == ("text", "utf-8")


def test_nordic_letters_survive_each_encoding():
    text = "Namn;Ort\nÅsa Ødegård;Jyväskylä\n"
    for enc in ("utf-8", "cp1252"):
        raw = text.encode(enc)
        kind, found = sniff(raw)
        chunks = list(iter_chunks(io.BytesIO(raw), found))
        assert "".join(c.text for c in chunks) == text


def _own_texts(chunks, full):
    return "".join(full[c.own_start:c.own_end] for c in chunks)


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 12345, 50_000])
def test_own_parts_tile_the_text_exactly_once(size):
    full = "".join(chr(97 + i % 26) + ("\n" if i % 37 == 0 else "") for i in range(size))
    chunks = list(iter_chunks(io.BytesIO(full.encode()), "utf-8", chunk_chars=4096, overlap=256))
    assert _own_texts(chunks, full) == full
    for c in chunks:
        assert full[c.start:c.start + len(c.text)] == c.text
        # a value starting in the own part is wholly inside the chunk text (overlap on the right)
        assert c.own_end + 256 <= c.start + len(c.text) or c.start + len(c.text) == len(full)


def test_line_and_column_of_offsets_across_chunks():
    lines = [f"line {i} " + "x" * (i % 50) for i in range(2000)]
    full = "\n".join(lines)
    chunks = list(iter_chunks(io.BytesIO(full.encode("utf-16")), "utf-16", chunk_chars=4096))
    assert len(chunks) > 5
    for c in chunks:
        loc = LineLocator(c)
        for off in range(c.own_start, min(c.own_end, len(full)), 997):
            line, col = loc.locate(off)
            before = full[:off]
            assert line == before.count("\n") + 1
            assert col == off - (before.rfind("\n") + 1) + 1
