"""Content typing from a file's first bytes: which text encoding, or which binary format."""
from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

HEAD_SIZE = 64 * 1024

# Longest signatures first where one is a prefix of another.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"BM", "bmp"),
    (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"SQLite format 3\x00", "sqlite"), (b"\x7fELF", "elf"), (b"MZ", "exe"),
    (b"\x00\x00\x00\x18ftyp", "mp4"), (b"\x00\x00\x00\x20ftyp", "mp4"), (b"ID3", "mp3"), (b"OggS", "ogg"),
)
_TEXTUAL_CHARSETS = {"utf_8", "cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman", "iso8859_1",
                     "cp1257", "iso8859_4", "iso8859_10", "ascii"}


def sniff(head: bytes) -> tuple[str, str]:
    """('text', encoding) or ('binary', format name) for the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        return "text", "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "text", "utf-16"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return "binary", name
    if not head:
        return "text", "utf-8"
    if b"\x00" in head:
        guess = _bomless_utf16(head)
        return ("text", guess) if guess else ("binary", "unknown")
    if _is_utf8(head):
        return "text", "utf-8"
    match = from_bytes(head[:16384]).best()
    if match is not None and match.encoding in _TEXTUAL_CHARSETS:
        return "text", "cp1252" if match.encoding in ("latin_1", "iso8859_1", "ascii") else match.encoding
    if _mostly_printable(head):
        return "text", "cp1252"
    return "binary", "unknown"


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
