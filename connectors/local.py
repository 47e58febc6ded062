"""Local paths (disks, NFS and mounted shares): walk with POSIX access, open read-only."""
from __future__ import annotations

import fnmatch
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator
from urllib.parse import quote, unquote_to_bytes, urlsplit

from vendorscan.model import Resource, Skipped
from vendorscan.connectors import posix
from vendorscan.connector import Connector, ResourceError

_NOATIME = getattr(os, "O_NOATIME", 0)


def uri_of(path: str) -> str:
    """file:// URI of an absolute path; bytes of a name that is not UTF-8 are percent-encoded (%FF)."""
    return "file://" + quote(os.fsencode(path))


def path_of(uri: str) -> str:
    """Absolute path of a file:// URI (a percent-encoded bad byte comes back as that byte)."""
    return os.fsdecode(unquote_to_bytes(urlsplit(uri).path))


class LocalConnector(Connector):
    """Local folders and mounted shares: POSIX modes and ACLs, read-only."""

    id = "local"
    version = "1"
    scheme = "file"
    thread_safe = False  # reads wait on a disk, not a network: threads would only lose the hard resource_timeout
    ranges = True

    @dataclass(frozen=True)
    class Options:
        paths: list[str]
        follow_symlinks: bool = False
        one_filesystem: bool = True
        exclude: list[str] = field(default_factory=list)
        broad_groups: list[str] = field(default_factory=lambda: list(posix.DEFAULT_BROAD_GROUPS))

        def __post_init__(self):
            if not self.paths:
                raise ValueError("paths must name at least one folder or file")

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        self._broad = frozenset(g.lower() for g in options.broad_groups)

    def walk(self) -> Iterator[Resource | Skipped]:
        """Folders before their contents, names sorted; every entry not read is a Skipped."""
        for root in self.options.paths:
            yield from self._walk_root(os.path.abspath(root))

    def _skip(self, path: str, reason: str, detail: str = "") -> Skipped:
        return Skipped(uri_of(path), reason, detail, self.ctx.target)

    def _walk_root(self, root: str) -> Iterator[Resource | Skipped]:
        try:
            st = os.stat(root) if self.options.follow_symlinks else os.lstat(root)
        except FileNotFoundError:
            yield self._skip(root, "not-found", "the configured path does not exist")
            return
        except PermissionError:
            yield self._skip(root, "permission-denied", "cannot stat the configured path")
            return
        parent = os.path.dirname(root)
        chain = posix.ancestors(parent)
        if stat.S_ISLNK(st.st_mode):
            yield self._skip(root, "symlink", "not followed (follow_symlinks = false)")
            return
        if stat.S_ISREG(st.st_mode):
            yield self._resource(root, st, chain, uri_of(parent))
            return
        if not stat.S_ISDIR(st.st_mode):
            yield self._skip(root, "special-file", _kind_name(st.st_mode))
            return
        visited: set[tuple[int, int]] = set()
        stack = [(root, st, chain, uri_of(parent))]
        while stack:
            path, dst, dchain, parent_uri = stack.pop()
            key = (dst.st_dev, dst.st_ino)
            if key in visited:
                yield self._skip(path, "symlink-loop", "folder already visited")
                continue
            visited.add(key)
            yield self._resource(path, dst, dchain, parent_uri)
            own_chain = dchain + (posix.dir_perm(path, dst),)
            try:
                entries = self._list(path)
            except PermissionError:
                yield self._skip(path, "permission-denied", "cannot list folder")
                continue
            except FileNotFoundError:
                yield self._skip(path, "vanished", "folder removed during the scan")
                continue
            except OSError as exc:  # swapped for a link or a file since it was seen
                yield self._skip(path, "read-error", exc.strerror or "cannot list folder")
                continue
            subdirs = []
            my_uri = uri_of(path)
            for name, cst in entries:
                child = os.path.join(path, name)
                if self._excluded(root, child):
                    yield self._skip(child, "excluded", "matches an exclude pattern")
                    continue
                try:
                    if isinstance(cst, OSError):
                        raise cst
                    if stat.S_ISLNK(cst.st_mode):
                        if not self.options.follow_symlinks:
                            yield self._skip(child, "symlink", "not followed (follow_symlinks = false)")
                            continue
                        cst = os.stat(child)
                except FileNotFoundError:
                    yield self._skip(child, "vanished", "removed during the scan (or a dangling link)")
                    continue
                except PermissionError:
                    yield self._skip(child, "permission-denied", "cannot stat")
                    continue
                except OSError as exc:
                    yield self._skip(child, "read-error", exc.strerror or "stat failed")
                    continue
                if stat.S_ISDIR(cst.st_mode):
                    if self.options.one_filesystem and cst.st_dev != st.st_dev:
                        yield self._skip(child, "other-filesystem", "one_filesystem = true")
                    else:
                        subdirs.append((child, cst, own_chain, my_uri))
                elif stat.S_ISREG(cst.st_mode):
                    yield self._resource(child, cst, own_chain, my_uri)
                else:
                    yield self._skip(child, "special-file", _kind_name(cst.st_mode))
            stack.extend(reversed(subdirs))

    def _list(self, path: str) -> list[tuple[str, os.stat_result | OSError]]:
        """A folder's entries as (name, lstat or the error it gave), by name; its access time left as found
        where allowed."""
        flags = os.O_RDONLY | os.O_DIRECTORY | (0 if self.options.follow_symlinks else os.O_NOFOLLOW)
        try:
            fd = os.open(path, flags | _NOATIME)
        except PermissionError:  # O_NOATIME needs ownership (or root); list plainly, the atime then moves
            fd = os.open(path, flags)
        entries = []
        try:
            with os.scandir(fd) as it:
                for entry in it:  # stat now: an fd-based entry stats through the fd, closed below
                    try:
                        entries.append((entry.name, entry.stat(follow_symlinks=False)))
                    except OSError as exc:
                        entries.append((entry.name, exc))
        finally:
            os.close(fd)
        return sorted(entries, key=lambda e: e[0])

    def _excluded(self, root: str, path: str) -> bool:
        if not self.options.exclude:
            return False
        rel = os.path.relpath(path, root)
        return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch("/" + rel, p) for p in self.options.exclude)

    def _resource(self, path: str, st: os.stat_result, chain, parent_uri: str) -> Resource:
        is_dir = stat.S_ISDIR(st.st_mode)
        return Resource(uri=uri_of(path), kind="folder" if is_dir else "file", target=self.ctx.target,
                        size=None if is_dir else st.st_size, modified=st.st_mtime,
                        etag=_etag(st), access=posix.policy(path, st, chain, self._broad),
                        parent=parent_uri)

    def open(self, resource: Resource):
        """The file opened read-only (without touching its access time where allowed)."""
        return self._open(resource, 0, None)

    def open_from(self, resource: Resource, offset: int):
        """The file opened read-only at byte `offset`, if it is still the version the walk saw."""
        return self._open(resource, offset, resource.etag)

    @contextmanager
    def _open(self, resource: Resource, offset: int, etag: str | None) -> Iterator[BinaryIO]:
        path = path_of(resource.address)
        # O_NONBLOCK: a file swapped for a FIFO since the walk must not hang the scan
        flags = os.O_RDONLY | os.O_NONBLOCK | (0 if self.options.follow_symlinks else os.O_NOFOLLOW)
        try:
            try:
                fd = os.open(path, flags | _NOATIME)
            except PermissionError:  # O_NOATIME needs ownership; retry plainly
                fd = os.open(path, flags)
        except FileNotFoundError:
            raise ResourceError("vanished", "removed during the scan") from None
        except PermissionError:
            raise ResourceError("permission-denied", "cannot open for reading") from None
        except OSError as exc:
            raise ResourceError("read-error", exc.strerror or "open failed") from None
        f = os.fdopen(fd, "rb", buffering=0)
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise ResourceError("special-file", "no longer a regular file")
            if etag is not None and _etag(before) != etag:
                raise ResourceError("changed-during-read", "the file changed since it was listed")
            if offset:
                os.lseek(fd, offset, os.SEEK_SET)
            yield f
            if _version(os.fstat(fd)) != _version(before):
                # Truncated or rewritten while it was read: what was read may be half old, half new.
                raise ResourceError("changed-during-read", "the file changed while it was read")
        finally:
            f.close()


def _etag(st: os.stat_result) -> str:
    """The change marker the walk records (size and mtime)."""
    return f"{st.st_size}-{st.st_mtime_ns}"


def _version(st: os.stat_result) -> tuple[int, int, int]:
    """What changes when a file's content does: size, mtime and ctime (ctime cannot be set back by a writer)."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _kind_name(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return f"{name}, never opened"
    return "not a regular file"
