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

from vendorscan.format import (SWITCHES, BombError, Budget, FormatError, Nested, Prepended, Problem, Segment,
                               TextStream)
from vendorscan.formats.registry import installed
from vendorscan.formats.sniff import DESCRIBED, HEAD_SIZE, also_text, sniff
from vendorscan.model import Location

_UNPARSED = frozenset({"malformed", "too-large"})


def kind_of(head: bytes, name: str) -> tuple[str, str]:
    """(kind, detail) from content: ('text', encoding), (a textual format such as 'eml', encoding), a format name."""
    family, detail = sniff(head, name)
    if family == "text":
        for handler in installed().textual:  # formats that are text themselves: saved mail
            kind = handler.sniff(head, name)
            if kind is not None:
                return kind, detail
        return "text", detail
    return detail, ""


def claimed(name: str) -> str | None:
    """The format a file's name promises (.docx → docx), if any."""
    dot = name.rfind(".")
    return installed().claims.get(name[dot:].lower()) if dot >= 0 else None


class Extractor:
    """Runs the handlers of one resource with the [formats] settings and one unpacking budget."""

    def __init__(self, settings, budget: Budget):
        self.settings, self.budget, self.formats = settings, budget, installed()

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
        gate = None if self.formats.is_container(kind) else self._gate(kind)  # a container is gated once probed
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
        if self.formats.is_container(kind):
            try:
                kind = self.formats.refine(f, kind)
            except Exception as exc:  # noqa: BLE001 - a broken container is reported, never fatal
                yield Problem("malformed", f"{claim or kind}: the container could not be opened "
                                           f"({type(exc).__name__}){neither}", member)
                return
            gate = self._gate(kind)
            if gate is not None:
                yield self._claimed(gate, claim, kind, member)
                return
        handler = self.formats.handler(kind)
        if claim is not None and not self.formats.fits(claim, kind):
            yield Problem("malformed", f"named as {claim} but the content is {kind}; read as {kind}", member)
        if handler.container == "zip":  # a zip package its library unpacks itself, past our bounded reader
            from vendorscan.formats.archives import package_bomb
            bomb = package_bomb(f, self.settings, self.budget)
            if bomb is not None:
                yield _within(bomb, member)
                return
        try:
            for item in handler.read(f, kind, name=name, settings=self.settings, budget=self.budget):
                if isinstance(item, Nested):
                    yield from self._nested(item, member, depth)
                else:
                    yield _within(item, member)
        except Exception as exc:  # noqa: BLE001 - a library choking on hostile input skips the part
            problem = failure(exc, kind, member)
            yield dataclasses.replace(problem, detail=problem.detail + neither)

    def _claimed(self, gate: Problem, claim: str | None, kind: str, member: str) -> Problem:
        """A skip that also says when the file is not what its name claims."""
        if claim is not None and not self.formats.fits(claim, kind) and gate.reason == "unsupported-format":
            return Problem("malformed", f"named as {claim} but the content is {gate.detail}", member)
        return dataclasses.replace(gate, member=member)

    def _gate(self, kind: str) -> Problem | None:
        """Why a kind is not read: no handler, one that refuses it, or its [formats] switch is off; else None."""
        handler = self.formats.handler(kind)
        if handler is None:
            return Problem("unsupported-format", f"binary content ({DESCRIBED.get(kind, kind)}), not text; "
                                                 "no format handler")
        if kind in handler.unread:
            return Problem(*handler.unread[kind])
        if handler.switch is not None and not getattr(self.settings, handler.switch):
            reason, off = SWITCHES[handler.switch]
            return Problem(reason, f"{kind} {off}")
        return None

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
        if not self.formats.needs_seek(kind) and not rewind:
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
