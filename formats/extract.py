"""Text out of a binary file: type it by content, hand it to its handler, follow nested files within bounds.

Everything a handler yields comes out as a Segment or TextStream (with the member path filled in) or a
Problem; an exception inside a handler becomes a Problem for that part, so one bad file or member never
ends the scan and never hides the rest of the resource.
"""
from __future__ import annotations

import dataclasses
import lzma
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from typing import IO, Iterator

from vendorscan.format import BombError, Budget, FormatError, Nested, Prepended, Problem, Segment, TextStream
from vendorscan.formats.sniff import HEAD_SIZE, also_text, sniff
from vendorscan.model import Location

IMAGES = frozenset({"png", "jpeg", "gif", "tiff", "bmp"})
DOCUMENTS = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp", "pdf", "eml", "msg"})
ARCHIVES = frozenset({"zip", "tar", "gzip", "bzip2", "xz"})
# Kinds whose library needs to seek: read from a real file (the resource itself, or a private temp copy).
_SEEKING = frozenset({"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "pdf", "msg", "ole2"})
# What a file name promises, to report a file that is not what it says.
CLAIMS = {".docx": "docx", ".xlsx": "xlsx", ".pptx": "pptx", ".odt": "odt", ".ods": "ods", ".pdf": "pdf",
          ".zip": "zip", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".tif": "tiff",
          ".tiff": "tiff", ".bmp": "bmp", ".msg": "msg", ".gz": "gzip", ".tgz": "gzip", ".xz": "xz",
          ".bz2": "bzip2", ".tar": "tar"}
_OOXML = (("word/document.xml", "docx"), ("xl/workbook.xml", "xlsx"), ("ppt/presentation.xml", "pptx"))
_ODF = {"application/vnd.oasis.opendocument.text": "odt",
        "application/vnd.oasis.opendocument.spreadsheet": "ods",
        "application/vnd.oasis.opendocument.presentation": "odp"}
_PACKAGES = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp"})  # zips a library unpacks by itself
_UNPARSED = frozenset({"malformed", "too-large"})
_MAIL_HEADERS = (b"received:", b"return-path:", b"mime-version:", b"delivered-to:", b"message-id:",
                 b"from:", b"date:", b"subject:", b"to:", b"x-")


def kind_of(head: bytes, name: str) -> tuple[str, str]:
    """(kind, detail) from content: ('text', encoding), ('eml', encoding), a format name, or ('unknown', what)."""
    family, detail = sniff(head)
    if family == "text":
        if _looks_like_mail(head, name):
            return "eml", detail
        return "text", detail
    return detail, ""


def claimed(name: str) -> str | None:
    """The format a file's name promises (.docx → docx), if any."""
    dot = name.rfind(".")
    return CLAIMS.get(name[dot:].lower()) if dot >= 0 else None


def _looks_like_mail(head: bytes, name: str) -> bool:
    if name.lower().endswith((".eml", ".mht", ".mhtml")):
        return True
    block = head[:4096].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0].lower()
    lines = [ln for ln in block.splitlines() if ln and not ln[:1].isspace()]
    # A header block: every line a header, and the ones mail always has.
    return (len(lines) >= 3 and all(ln.split(b":", 1)[0].replace(b"-", b"").isalnum() and b":" in ln for ln in lines)
            and any(ln.startswith((b"received:", b"return-path:", b"mime-version:", b"message-id:")) for ln in lines)
            and any(ln.startswith((b"from:", b"subject:")) for ln in lines))


class Extractor:
    """Runs the handlers of one resource with the [formats] settings and one unpacking budget."""

    def __init__(self, settings, budget: Budget):
        self.settings, self.budget = settings, budget

    def extract(self, stream: IO[bytes], head: bytes, name: str, member: str = "",
                depth: int = 0) -> Iterator[Segment | TextStream | Problem]:
        """Every piece of text in the file (and the files inside it), or why a part could not be read."""
        kind, detail = kind_of(head, name)
        claim = claimed(name)
        if kind == "text":
            yield from _as_text(stream, detail, head, claim, member)
            return
        # Magic bytes are a claim too ("BMI;personnummer" starts like a bitmap, "MZ-lista" like a program):
        # content that reads as text is read as text unless it parses as what its first bytes say.
        encoding = also_text(head, kind)
        gate = self._gate(kind, detail)
        if gate is not None:
            yield from _as_text(stream, encoding, head, claim, member) if encoding else \
                (self._claimed(gate, claim, kind, member),)
            return
        with self._seekable(stream, head, kind, rewind=encoding is not None) as f:
            items = self._binary(f, kind, name, claim, member, depth, "" if encoding else "; not text either")
            if encoding is None:
                yield from items
                return
            # That the file itself did not parse (or claims an absurd size) is held until it proves to be its
            # format; anything else (text, a member, "encrypted") shows that it is.
            held: list[Problem] | None = []
            for item in items:
                if held is not None and isinstance(item, Problem) and item.member == member \
                        and item.reason in _UNPARSED:
                    held.append(item)
                    continue
                yield from held or ()
                held = None
                yield item
            if held is not None:  # nothing read as what its magic bytes said: it is text after all
                f.seek(len(head))
                yield from _as_text(f, encoding, head, claim, member)

    def _binary(self, f: IO[bytes], kind: str, name: str, claim: str | None, member: str, depth: int,
                neither: str) -> Iterator[Segment | TextStream | Problem]:
        """What the format's handler reads in a seekable file, or why not (neither: that it is not text either)."""
        try:
            if kind == "zip":
                kind = _zip_kind(f)
            elif kind == "ole2":
                from vendorscan.formats.ole import ole_kind
                kind = ole_kind(f)
                gate = self._gate(kind if kind != "ole2" else "other", "OLE2 compound file")
                if gate is not None:
                    yield self._claimed(gate, claim, kind, member)
                    return
        except Exception as exc:  # noqa: BLE001 - a broken container is reported, never fatal
            yield Problem("malformed", f"{claim or kind}: the container could not be opened "
                                       f"({type(exc).__name__}){neither}", member)
            return
        if claim is not None and not _fits(claim, kind):
            yield Problem("malformed", f"named as {claim} but the content is {kind}; read as {kind}", member)
        if kind in _PACKAGES:
            from vendorscan.formats.archives import package_bomb
            bomb = package_bomb(f, self.settings, self.budget)
            if bomb is not None:
                yield _within(bomb, member)
                return
        try:
            for item in self._handler(kind)(f, name=name, settings=self.settings, budget=self.budget):
                if isinstance(item, Nested):
                    yield from self._nested(item, member, depth)
                else:
                    yield _within(item, member)
        except Exception as exc:  # noqa: BLE001 - a library choking on hostile input skips the part
            problem = failure(exc, kind, member)
            yield dataclasses.replace(problem, detail=problem.detail + neither)

    @staticmethod
    def _claimed(gate: Problem, claim: str | None, kind: str, member: str) -> Problem:
        """A skip that also says when the file is not what its name claims."""
        if claim is not None and not _fits(claim, kind) and gate.reason == "unsupported-format":
            return Problem("malformed", f"named as {claim} but the content is {gate.detail}", member)
        return dataclasses.replace(gate, member=member)

    def _gate(self, kind: str, detail: str) -> Problem | None:
        s = self.settings
        if kind in IMAGES and not s.ocr:
            return Problem("ocr-disabled", f"{kind} image; OCR is turned off ([formats] ocr = false)")
        if kind in DOCUMENTS and not s.documents:
            return Problem("format-disabled", f"{kind} document; documents are turned off ([formats] documents)")
        if kind in ARCHIVES and not s.archives:
            return Problem("format-disabled", f"{kind} archive; archives are turned off ([formats] archives)")
        if kind in ("doc", "xls", "ppt"):
            return Problem("unsupported-format", f"legacy binary Office file (.{kind}): no maintained pure-Python "
                                                 "reader; convert it to the Open XML format to have it scanned")
        if kind == "encrypted":
            return Problem("encrypted", "password-protected Office document: encrypted, not scanned")
        if kind not in IMAGES | DOCUMENTS | ARCHIVES | {"ole2"}:
            what = detail or kind
            return Problem("unsupported-format", f"binary content ({what}), not text; no format handler")
        return None

    def _handler(self, kind: str):
        if kind in IMAGES:
            from vendorscan.formats.images import read_image
            return read_image
        if kind in ("docx", "pptx", "xlsx", "odt", "ods", "odp"):
            from vendorscan.formats import office
            return getattr(office, f"read_{kind}")
        if kind == "pdf":
            from vendorscan.formats.pdf import read_pdf
            return read_pdf
        if kind in ("eml", "msg"):
            from vendorscan.formats import mail
            return getattr(mail, f"read_{kind}")
        from vendorscan.formats import archives
        return getattr(archives, f"read_{kind}")

    def _nested(self, item: Nested, member: str, depth: int) -> Iterator[Segment | TextStream | Problem]:
        path = f"{member}/{item.name}" if member else item.name
        if depth >= self.settings.max_depth:
            yield Problem("nesting-too-deep", f"more than {self.settings.max_depth} levels of archives or "
                                              "attachments; not opened ([formats] max_depth)", path)
            return
        try:
            with item.open() as raw:
                f = self.budget.reader(raw, path, item.packed)
                head = f.read(HEAD_SIZE)
                yield from self.extract(f, head, item.name, path, depth + 1)
        except Exception as exc:  # noqa: BLE001 - a member that cannot be opened or copied skips that member only
            yield failure(exc, "archive member", path)

    def _seekable(self, stream: IO[bytes], head: bytes, kind: str, rewind: bool = False):
        if kind not in _SEEKING and not rewind:
            return Prepended(stream, head)
        try:
            if stream.seekable():
                stream.seek(0)
                return _Keep(stream)
        except (AttributeError, OSError):
            pass
        # A network stream or an archive member: a private temp copy (0600, deleted on close) to seek in.
        tmp = tempfile.TemporaryFile(prefix="vendorscan-")
        tmp.write(head)
        shutil.copyfileobj(stream, tmp, 2**20)
        tmp.seek(0)
        return tmp


def failure(exc: Exception, kind: str, member: str) -> Problem:
    """The skip for a part whose reading raised: our own exceptions' words, of any other only its type."""
    if isinstance(exc, BombError):
        return Problem("archive-bomb", f"{exc}; not unpacked further", member)
    if isinstance(exc, FormatError):
        return Problem("malformed", f"{kind}: {exc}", member)
    # A library's message can quote the content (zipfile names the member a local header hides): never shown.
    what = "is broken or cut short" if isinstance(exc, (zipfile.BadZipFile, EOFError)) else "could not be read"
    return Problem("malformed", f"the {kind} {what} ({type(exc).__name__})", member)


def _as_text(stream: IO[bytes], encoding: str, head: bytes, claim: str | None,
             member: str) -> Iterator[TextStream | Problem]:
    """A text file (or member) as one stream of text, saying so when its name promised a format."""
    if claim is not None:
        yield Problem("malformed", f"named as {claim} but the content is text; scanned as text", member)
    # A member is decompressed while it is read, after this generator has handed it over: its
    # decompression errors must still come out as "malformed", never as a crash of the reader.
    yield TextStream(_Guarded(stream) if member else stream, encoding, head, _loc(member))


def _fits(claim: str, kind: str) -> bool:
    if claim == kind or (claim in IMAGES and kind in IMAGES):
        return True
    return claim == "zip" and kind in ("docx", "xlsx", "pptx", "odt", "ods", "odp")


def _zip_kind(f: IO[bytes]) -> str:
    with zipfile.ZipFile(f) as z:
        names = set(z.namelist())
        for part, kind in _OOXML:
            if part in names:
                return kind
        if "mimetype" in names:
            mime = z.read("mimetype")[:100].decode("ascii", "replace").strip()
            if mime in _ODF:
                return _ODF[mime]
    f.seek(0)
    return "zip"


def _loc(member: str) -> Location:
    return Location(member=member or None)


def _within(item, member: str):
    """A handler's item with the member path of the file it came from put in front."""
    if not member:
        return item
    if isinstance(item, Problem):
        return dataclasses.replace(item, member=f"{member}/{item.member}" if item.member else member)
    loc = item.location
    return dataclasses.replace(item, location=dataclasses.replace(
        loc, member=f"{member}/{loc.member}" if loc.member else member))


class _Guarded:
    """A member's stream whose decompression failures surface as FormatError (bombs stay BombError)."""

    def __init__(self, f):
        self._f = f

    def read(self, n: int = -1) -> bytes:
        try:
            return self._f.read(n)
        except BombError:
            raise
        except (EOFError, OSError, zlib.error, lzma.LZMAError, tarfile.TarError, zipfile.BadZipFile) as exc:
            raise FormatError(f"the member could not be read to its end ({type(exc).__name__})") from None


class _Keep:
    """The stream itself as a context manager that does not close it (its owner does)."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        return False
