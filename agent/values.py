"""The values behind one aggregate, kept compact: distinct keyed hashes and the first occurrences, in two blobs.

A value set holds every distinct value hash of an aggregate as a sorted array of 64-bit prefixes (8 bytes a
person, enough to count millions without a collision in practice) and its first `listed` occurrences as
zlib-compressed JSON lines. Workers build them; the stores keep them as they come; nothing here is
per-occurrence work in the coordinating process. Memory stays bounded: a large set spills to temp files by
the top bits of its hashes and is counted one bucket at a time.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import zlib
from array import array
from bisect import bisect_left
from typing import Any, Callable, Iterable, Iterator

SPILL_AT = 1 << 18  # hashes held in memory per value set before it spills to bucket files (~16 MB as a set)
PIECE = 8 << 20  # bytes of hashes (a million) or of listed occurrences in one stored row: a large set is several
BUCKET_BITS = 4  # 16 buckets by the top bits: a spilled or large union is counted a sixteenth at a time
UNION_IN_MEMORY = 1 << 20  # hashes a union counts in one set (~60 MB); above this, bucket by bucket
LEVEL = 1  # zlib level of the listed occurrences: level 6 took 2.5x the time for 7% less space (10,000 listed)
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps' keyword handling, once


class ValueCollector:
    """Distinct hashes and the first occurrences of one aggregate, as a worker meets them."""

    __slots__ = ("hashes", "listed", "limit", "_z", "_buf", "_spill", "_lines")

    def __init__(self, limit: int):
        """limit: occurrences listed (< 0: every one)."""
        self.hashes: set[int] = set()
        self.listed, self.limit = 0, limit
        self._z = self._buf = self._spill = None
        self._lines: list[str] = []  # listed lines not yet compressed (compressed a batch at a time)

    def add(self, value_hash: str | None, confidence: float, evidence: str, location: Any) -> None:
        """Count one occurrence: its hash always, the occurrence itself (confidence to 3 places) while fewer than
        `limit` are listed."""
        if value_hash is not None:
            hashes = self.hashes
            hashes.add(int(value_hash[:16], 16))
            if len(hashes) >= SPILL_AT:
                self._spill_hashes()
        if self.listed != self.limit:
            lines = self._lines
            lines.append(_encode([value_hash, round(confidence, 3), evidence, location]))
            self.listed += 1
            if len(lines) >= 256:
                self._compress()

    def _compress(self) -> None:
        if self._z is None:
            self._z = zlib.compressobj(LEVEL)
            self._buf = tempfile.SpooledTemporaryFile(max_size=1 << 20)
        self._buf.write(self._z.compress(("\n".join(self._lines) + "\n").encode()))
        self._lines = []

    def _spill_hashes(self) -> None:
        if self._spill is None:
            self._spill = [tempfile.TemporaryFile() for _ in range(1 << BUCKET_BITS)]
        shift = 64 - BUCKET_BITS
        parts: list[array] = [array("Q") for _ in self._spill]
        for h in self.hashes:
            parts[h >> shift].append(h)
        for f, part in zip(self._spill, parts):
            part.tofile(f)
        self.hashes = set()

    def finish(self) -> tuple[int, Iterator[bytes], Iterator[bytes]]:
        """(distinct count, the sorted hashes in byte pieces, the listed occurrences' blob in pieces), each read
        once by the caller; frees the collector."""
        listed: Iterator[bytes] = iter(())
        if self._lines:
            self._compress()
        if self._z is not None:
            self._buf.write(self._z.flush())
            listed = _pieces(self._buf)
            self._z = self._buf = None
        if self._spill is None:
            data = array("Q", sorted(self.hashes))
            self.hashes = set()
            return len(data), iter((data.tobytes(),)), listed
        self._spill_hashes()
        # Bucket by bucket, each counted and sorted once: they are ranges of the top bits, so their sorted parts
        # follow each other in order.
        out, n = tempfile.TemporaryFile(), 0
        for f in self._spill:
            part = array("Q", sorted(set(_read_all(f))))
            f.close()
            n += len(part)
            part.tofile(out)
        self._spill = None
        return n, _pieces(out), listed

    def discard(self) -> None:
        """Drop what was collected (a read that is not kept)."""
        if self._buf is not None:
            self._buf.close()
        for f in self._spill or ():
            f.close()
        self.hashes, self._z, self._buf, self._spill, self._lines = set(), None, None, None, []


def _pieces(f, size: int = 1 << 20) -> Iterator[bytes]:
    """A temp file's bytes from its start, a piece at a time; the file is closed after the last."""
    try:
        f.seek(0)
        while piece := f.read(size):
            yield piece
    finally:
        f.close()


def _read_all(f) -> array:
    f.seek(0, os.SEEK_END)
    n = f.tell() // 8
    f.seek(0)
    data = array("Q")
    data.fromfile(f, n)
    return data


class BlobSpool:
    """A unit's binary spool: each value set's blobs appended whole, their places returned (thread-safe)."""

    def __init__(self, path: str):
        self.f = open(path, "wb")
        self._lock = threading.Lock()

    def put(self, hashes: Iterable[bytes], listed: Iterable[bytes]) -> tuple[int, int, int]:
        """Append the hashes and the listed blob, each in pieces; returns (offset, hash bytes, listed bytes)."""
        with self._lock:
            at = self.f.tell()
            return at, self._write(hashes), self._write(listed)

    def _write(self, pieces: Iterable[bytes]) -> int:
        n = 0
        for piece in pieces:
            self.f.write(piece)
            n += len(piece)
        return n

    def close(self) -> None:
        """Close the file."""
        self.f.close()


def listed_occurrences(blobs: Iterable[bytes] | bytes | None, limit: int = -1) -> Iterator[dict[str, Any]]:
    """The listed occurrences of a value set (one blob, or its pieces in order), as found: every one, or the first
    `limit`."""
    if not blobs or limit == 0:
        return
    z, rest, n = zlib.decompressobj(), b"", 0
    for blob in ([blobs] if isinstance(blobs, bytes) else blobs):
        for start in range(0, len(blob), 1 << 16):
            rest += z.decompress(blob[start:start + (1 << 16)])
            while z.eof:  # one stream ended and another begins (the rows of separate reads, such as byte ranges)
                tail, z = z.unused_data, zlib.decompressobj()
                rest += z.decompress(tail)
                if not tail:
                    break
            *lines, rest = rest.split(b"\n")
            for line in lines:
                h, conf, ev, loc = json.loads(line)
                yield {"value_hash": h, "confidence": conf, "evidence": ev, "location": loc}
                n += 1
                if n == limit:
                    return


def count_union(blobs: Callable[[], Iterable[bytes]], total: int) -> int:
    """Distinct hashes over value sets' hash blobs, from `blobs()` (called once a bucket when total is large)."""
    if total <= UNION_IN_MEMORY:
        seen: set[int] = set()
        for b in blobs():
            seen.update(array("Q", b))
        return len(seen)
    shift, n = 64 - BUCKET_BITS, 0
    for bucket in range(1 << BUCKET_BITS):
        lo, hi = bucket << shift, (bucket + 1) << shift
        seen = set()
        for b in blobs():
            arr = array("Q", b)
            seen.update(arr[bisect_left(arr, lo):bisect_left(arr, hi)])
        n += len(seen)
    return n
