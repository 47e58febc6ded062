"""Content typing from a file's first bytes: which text encoding, or which binary format."""
from __future__ import annotations

import codecs
import functools

from charset_normalizer import from_bytes

from vendorscan.formats.registry import installed

HEAD_SIZE = 64 * 1024

# Binary formats no handler reads, known by their signatures to name them in a skip record. OLE2 is a container:
# the handlers that declare container = "ole2" tell its files apart (Outlook mail, legacy Office).
_KNOWN: tuple[tuple[bytes, str], ...] = (
    (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!\x1a\x07", "rar"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"\x7fELF", "elf"), (b"MZ", "exe"),
    (b"\x00\x00\x00\x18ftyp", "mp4"), (b"\x00\x00\x00\x20ftyp", "mp4"), (b"ID3", "mp3"), (b"OggS", "ogg"),
)
DESCRIBED = {"ole2": "OLE2 compound file"}  # how a skip names a kind, where its name alone says little
_TEXTUAL_CHARSETS = {"utf_8", "cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman", "iso8859_1",
                     "cp1257", "iso8859_4", "iso8859_10", "ascii"}


@functools.cache
def _signatures() -> tuple[tuple[tuple[bytes, str], ...], frozenset[str], tuple[bytes, ...]]:
    """Every handler's signatures and the known ones, longest first (a longer one decides where one is a prefix
    of another), the kinds whose signature is itself plain text ("BM", "MZ", "%PDF-"), and the signatures alone
    (one startswith() tells most files none fits)."""
    table = tuple(sorted((*installed().magic, *_KNOWN), key=lambda entry: -len(entry[0])))
    return (table, frozenset(kind for magic, kind in table if all(32 <= b < 127 for b in magic)),
            tuple(magic for magic, _ in table))


def sniff(head: bytes, name: str = "") -> tuple[str, str]:
    """('text', encoding) or ('binary', format name) for the first bytes of a file."""
    if not head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        table, _, magics = _signatures()
        if head.startswith(magics):
            for magic, kind in table:
                if head.startswith(magic):
                    return "binary", kind
        # Before text: a tar of text files is mostly text.
        for handler in installed().sniffers:
            kind = handler.sniff(head, name)
            if kind is not None:
                return "binary", kind
    encoding = text_encoding(head)
    return ("text", encoding) if encoding else ("binary", "unknown")


def also_text(head: bytes, kind: str) -> str | None:
    """The encoding a head reads as text in when its format's signature is text-like (a CSV "BMI;…"), else None."""
    return text_encoding(head, strict=True) if kind in _signatures()[1] else None


def text_encoding(head: bytes, strict: bool = False) -> str | None:
    """The encoding the first bytes read as text in, or None when they are not text.

    strict: plain text only (no charset guessing), for content whose magic bytes claim a binary format.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if not head:
        return "utf-8"
    if b"\x00" in head:
        guess = _bomless_utf16(head)
        if guess:
            return guess
        # A stray NUL (a leading one, a padded record) does not make text binary; binary formats have more.
        stripped = head.replace(b"\x00", b"")
        if len(stripped) < len(head) * 9 // 10:
            return None
        head, strict = stripped, True
    if strict:
        if not _plain(head):
            return None
        return "utf-8" if _is_utf8(head) else "cp1252"
    if _is_utf8(head):
        return "utf-8"
    match = from_bytes(head[:16384]).best()
    if match is not None and match.encoding in _TEXTUAL_CHARSETS:
        return "cp1252" if match.encoding in ("latin_1", "iso8859_1", "ascii") else match.encoding
    if _mostly_printable(head):
        return "cp1252"
    return None


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # A multibyte sequence cut at the end of the head is not evidence against UTF-8.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"


def _bomless_utf16(head: bytes) -> str | None:
    sample = head[: len(head) // 2 * 2][:4096]
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2 or 1
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _mostly_printable(head: bytes) -> bool:
    sample = head[:4096]
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control <= len(sample) * 0.01


def _plain(head: bytes) -> bool:
    """Mostly printable and mostly ASCII, as text in UTF-8 or a Latin code page is (compressed data is not)."""
    sample = head[:4096]
    high = sum(1 for b in sample if b >= 128)
    return _mostly_printable(sample) and high <= len(sample) * 0.3
