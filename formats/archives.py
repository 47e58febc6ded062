"""Archives: zip, tar (plain or compressed) and single compressed files, member by member, never to disk."""
from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zipfile
from typing import IO, Iterator

from vendorscan.format import Budget, FormatHandler, Item, Nested, Prepended, Problem


def declared(settings, budget: Budget, name: str, size: int, packed: int) -> Problem | None:
    """A member whose declared sizes already break the bounds is reported, never expanded."""
    if size > budget.left:
        return Problem("archive-bomb", f"declares {size} bytes unpacked, more than is left of the "
                                       f"{settings.max_expanded_size}-byte limit for one resource", name)
    if size > 2**20 and size > packed * settings.max_ratio:
        return Problem("archive-bomb", f"declares {size} bytes from {packed} packed "
                                       f"(over {settings.max_ratio}x, [formats] max_ratio)", name)
    return None


def package_bomb(f: IO[bytes], settings, budget: Budget) -> Problem | None:
    """A zip package (docx, xlsx, odt, …) whose parts declare more than the bounds allow, found before a library
    unpacks them around our bounded reader; else their declared total is taken from the budget."""
    f.seek(0)
    total = 0
    with zipfile.ZipFile(f) as z:
        for info in z.infolist():
            # zipfile never gives more than a member's declared size: the declaration is the bound.
            bomb = declared(settings, budget, _safe_name(info.filename), info.file_size, info.compress_size)
            if bomb is not None:
                return bomb
            total += info.file_size
    f.seek(0)
    if total > budget.left:
        return Problem("archive-bomb", f"its parts declare {total} bytes unpacked, more than is left of the "
                                       f"{settings.max_expanded_size}-byte limit for one resource")
    budget.left -= total
    return None


def read_zip(f: IO[bytes], *, settings, budget: Budget, **_) -> Iterator[Item]:
    """Every file member of a zip archive."""
    with zipfile.ZipFile(f) as z:
        infos = [i for i in z.infolist() if not i.is_dir()]
        if len(infos) > settings.max_members:
            yield Problem("too-many-members", f"{len(infos)} members; the first {settings.max_members} are read "
                                              "([formats] max_members)")
            infos = infos[:settings.max_members]
        for info in infos:
            name = _safe_name(info.filename)
            if info.flag_bits & 0x1:
                yield Problem("encrypted", "password-protected archive member: encrypted, not scanned", name)
                continue
            bomb = declared(settings, budget, name, info.file_size, info.compress_size)
            if bomb is not None:
                yield bomb
                continue
            yield Nested(name, lambda info=info: z.open(info), info.file_size, info.compress_size)


def read_tar(f: IO[bytes], *, settings, budget: Budget, **_) -> Iterator[Item]:
    """Every regular file of a tar stream (read forward only; links and devices are listed, not followed)."""
    count = 0
    with tarfile.open(fileobj=f, mode="r|*") as tar:
        for info in tar:
            name = _safe_name(info.name)
            if info.isdir():
                continue
            count += 1
            if count > settings.max_members:
                yield Problem("too-many-members", f"more than {settings.max_members} members; the rest not read "
                                                  "([formats] max_members)")
                return
            if not info.isfile():
                yield Problem("not-a-file", "link or device entry in the archive: not followed", name)
                continue
            # A tar member is stored, not packed: only the unpacking budget can bind.
            bomb = declared(settings, budget, name, info.size, info.size)
            if bomb is not None:
                yield bomb
                return
            member = tar.extractfile(info)
            if member is not None:
                yield Nested(name, lambda m=member: m, info.size, None)


def _single(opener, suffixes: tuple[str, ...]):
    def read(f: IO[bytes], *, name: str = "", settings=None, budget: Budget, **_) -> Iterator[Item]:
        inner = name
        for suffix in suffixes:
            if inner.lower().endswith(suffix):
                inner = inner[: -len(suffix)] + (".tar" if suffix == ".tgz" else "")
                break
        else:
            inner = (inner or "content") + ".unpacked"
        stream = opener(f)
        first = stream.read(1)  # a stream that does not unpack is not this format (it may be text that starts so)
        yield Nested(inner.rsplit("/", 1)[-1], lambda: Prepended(stream, first), None, _size(f))
    return read


def _size(f: IO[bytes]) -> int | None:
    try:
        pos = f.tell()
        end = f.seek(0, 2)
        f.seek(pos)
        return end
    except (AttributeError, OSError):
        return None


read_gzip = _single(lambda f: gzip.GzipFile(fileobj=f, mode="rb"), (".gz", ".tgz", ".gzip"))
read_bzip2 = _single(lambda f: bz2.BZ2File(f, mode="rb"), (".bz2", ".tbz2"))
read_xz = _single(lambda f: lzma.LZMAFile(f, mode="rb"), (".xz", ".txz"))


class ZipArchive(FormatHandler):
    """Zip archives: every member read as a file of its own."""

    id, kinds, seekable, switch = "zip", ("zip",), True, "archives"
    magic = ((b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"))
    extensions = {".zip": "zip"}

    def read(self, f, kind, **kw):
        return read_zip(f, **kw)


class TarArchive(FormatHandler):
    """Tar archives, read forward only: every regular file read as a file of its own."""

    id, kinds, switch = "tar", ("tar",), "archives"
    extensions = {".tar": "tar"}

    @classmethod
    def sniff(cls, head, name):
        return "tar" if len(head) > 262 and head[257:262] == b"ustar" else None

    def read(self, f, kind, **kw):
        return read_tar(f, **kw)


class Compressed(FormatHandler):
    """One compressed file (gzip, bzip2, xz): what it unpacks to, read as a file of its own."""

    id, kinds, switch = "compressed", ("gzip", "bzip2", "xz"), "archives"
    magic = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"))
    extensions = {".gz": "gzip", ".tgz": "gzip", ".bz2": "bzip2", ".xz": "xz"}

    def read(self, f, kind, **kw):
        return {"gzip": read_gzip, "bzip2": read_bzip2, "xz": read_xz}[kind](f, **kw)


def _safe_name(name: str) -> str:
    """A member name as shown in reports: never absolute, no '..' steps (it is a label, never a path we open)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "(unnamed)"
