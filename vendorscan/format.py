"""Format handlers: the base they declare themselves on, and what they yield (text with its place in the
document, nested files, parts they could not read)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Callable, ClassVar, Iterator, Mapping, Union

from vendorscan.model import Location

# place(line, column, length) -> extra location fields (cell, paragraph, region) for a hit in a segment.
Place = Callable[[int, int, int], dict]


@dataclass(slots=True)
class Segment:
    """A piece of extracted text and where in the document it came from (column_name: a header, as context)."""

    text: str
    location: Location
    place: Place | None = None


@dataclass(slots=True)
class TextStream:
    """A text member too big to hold: decoded and chunked as it streams."""

    stream: IO[bytes]
    encoding: str
    head: bytes
    location: Location


@dataclass(slots=True)
class Nested:
    """A file inside the file (archive member, attachment, embedded image), read in turn by its own handler."""

    name: str
    open: Callable[[], IO[bytes]]
    size: int | None = None
    packed: int | None = None  # compressed size, for the expansion-ratio bound


@dataclass(slots=True)
class Problem:
    """A part that was not read, with why: it becomes a skip record of `resource!/member`."""

    reason: str  # encrypted, archive-bomb, malformed, nesting-too-deep, too-many-members, ocr-failed, …
    detail: str
    member: str = ""


Item = Union[Segment, TextStream, Nested, Problem]

# The [formats] switches a handler can be turned off by, and the skip it then gives: reason, and what is off.
SWITCHES: Mapping[str, tuple[str, str]] = {
    "documents": ("format-disabled", "document; documents are turned off ([formats] documents)"),
    "archives": ("format-disabled", "archive; archives are turned off ([formats] archives)"),
    "ocr": ("ocr-disabled", "image; OCR is turned off ([formats] ocr = false)"),
}


class FormatHandler:
    """Reads one family of file formats; declares on the class what it reads, and how such files are recognised.

    Files are typed by content: `magic` (signatures at offset 0) and `sniff` say which kind a file is;
    `extensions` only say what a name promises (a file whose content is another kind is reported as such).
    """

    id: ClassVar[str] = ""  # permanent; equals the entry-point name in vendorscan.formats
    version: ClassVar[str] = "1"  # raised when what the handler extracts changes
    kinds: ClassVar[tuple[str, ...]] = ()  # the kinds read() takes
    magic: ClassVar[tuple[tuple[bytes, str], ...]] = ()  # (signature at offset 0, kind)
    extensions: ClassVar[Mapping[str, str]] = {}  # ".docx" -> "docx": what a file name claims
    seekable: ClassVar[bool] = False  # read() needs to seek: a network stream or member is copied to a temp file
    switch: ClassVar[str | None] = None  # the [formats] switch (a key of SWITCHES) that turns the handler off
    textual: ClassVar[bool] = False  # its files are text (saved mail): sniff() sees heads that read as text
    container: ClassVar[str | None] = None  # its files are files of this kind (docx: zip), told apart by probe()
    any_name: ClassVar[bool] = False  # a name claiming one of its kinds fits each (a .jpg that is a PNG)
    unread: ClassVar[Mapping[str, tuple[str, str]]] = {}  # kinds it recognises but never reads: (reason, detail)

    @classmethod
    def sniff(cls, head: bytes, name: str) -> str | None:
        """The kind a file's first bytes show beyond `magic` (a tar header at 257, a mail header), else None."""
        return None

    @classmethod
    def probe(cls, f: IO[bytes]) -> str | None:
        """Which of its kinds a seekable file of kind `container` is (a zip holding word/document.xml), else None."""
        return None

    def read(self, f: IO[bytes], kind: str, *, name: str, settings, budget: "Budget") -> Iterator[Item]:
        """Text, nested files and problems of one file of `kind` (settings: [formats]; budget: unpacking bound)."""
        raise NotImplementedError


class FormatError(Exception):
    """The content is not what its type promised (truncated, broken structure)."""


class Budget:
    """Bytes unpacked from one resource, across every member and level, against the configured bounds."""

    __slots__ = ("left", "max_ratio")

    def __init__(self, total: int, max_ratio: int):
        self.left, self.max_ratio = total, max_ratio

    def reader(self, f: IO[bytes], name: str, packed: int | None) -> "BoundedReader":
        """Wrap a decompressing stream so that it stops at the budget or the expansion ratio."""
        return BoundedReader(f, self, name, packed)


class BombError(Exception):
    """A member unpacked to more than the bounds allow."""


class BoundedReader:
    """Counts what a decompressing stream gives and raises BombError past the budget or the ratio."""

    __slots__ = ("_f", "_budget", "_name", "_limit", "count")

    def __init__(self, f: IO[bytes], budget: Budget, name: str, packed: int | None):
        self._f, self._budget, self._name, self.count = f, budget, name, 0
        # Small members may expand a lot legitimately (a 1 KB zip of zeros); the ratio binds above 1 MiB.
        self._limit = max(packed * budget.max_ratio, 2**20) if packed else None

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return read_all(self)
        data = self._f.read(n)
        self.count += len(data)
        self._budget.left -= len(data)
        if self._budget.left < 0:
            raise BombError(f"{self._name}: unpacked size went over the limit for one resource")
        if self._limit is not None and self.count > self._limit:
            raise BombError(f"{self._name}: expands more than {self._budget.max_ratio}x its packed size")
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "BoundedReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_all(f: IO[bytes]) -> bytes:
    """The whole of a (bounded) stream, for handlers whose library needs bytes."""
    parts = []
    while True:
        block = f.read(2**20)
        if not block:
            return b"".join(parts)
        parts.append(block)


class Prepended:
    """A forward-only stream with its already-read head put back in front."""

    def __init__(self, f, head: bytes):
        self._f, self._head = f, head

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                data, self._head = self._head + self._f.read(), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            return data + self._f.read(n - len(data)) if len(data) < n else data
        return self._f.read(n)

    def readable(self) -> bool:
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
