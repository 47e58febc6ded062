"""SMB2 requests in one round trip (compounds) and pipelined reads, for smbprotocol, with the server's credits."""
from __future__ import annotations

import io
import threading
import time
from collections import deque

CHUNK = 1024 * 1024  # bytes per read (or the server's max read size, if smaller)
DEPTH = 4  # reads in flight per file: at most (DEPTH + 1) * CHUNK bytes held, however large the file
WANT_CREDITS = 512  # credits asked for beyond a request's charge until the window holds this many
_SEND = threading.Lock()  # a credit check and the send it allows, for every thread of the process


def _charge(conn, message) -> int:
    return max(1, conn._calculate_credit_charge(message))  # a message of no charge still takes one message id


def send(tree, messages: list, timeout: float, related: bool = True) -> list:
    """Send messages as one compound once the credits they cost are free (waiting up to timeout); their requests."""
    conn = tree.session.connection
    need = sum(_charge(conn, m) for m in messages)
    deadline = time.monotonic() + timeout
    while True:
        with _SEND:
            free = conn.sequence_window["high"] - conn.sequence_window["low"]
            if free >= need:
                more = 64 if free < WANT_CREDITS else 0
                return conn._send(messages, session_id=tree.session.session_id, tree_id=tree.tree_connect_id,
                                  credit_request=max(_charge(conn, m) for m in messages) + more, related=related)
        if time.monotonic() > deadline:
            raise TimeoutError("no SMB credits left")
        time.sleep(0.001)  # other threads' answers give credits back


def settle(pairs: list) -> list:
    """Each request's answer, unpacked, or the exception it raised; every one received (none left outstanding)."""
    out = []
    for request, unpack in pairs:
        try:
            out.append(unpack(request))
        except Exception as exc:  # noqa: BLE001 - handed to the caller, which decides
            out.append(exc)
    return out


def free_credits(tree) -> int:
    """Credits the connection holds now."""
    window = tree.session.connection.sequence_window
    return window["high"] - window["low"]


class SmbReader(io.RawIOBase):
    """A file opened read-only: its first chunk read in the open's round trip (and closed in it, for a file the walk
    saw fit in one chunk); then DEPTH reads in flight, in order. Reads stop at the size the open gave."""

    def __init__(self, tree, name: str, size_hint: int | None, timeout: float):
        super().__init__()
        self._tree, self._name, self._timeout = tree, name, timeout
        self._chunk = min(CHUNK, tree.session.connection.max_read_size)
        self._handle = None
        self._pending: deque = deque()  # (request, offset, length) in file order
        self._data, self._data_off = memoryview(b""), 0
        self._pos = self._next = 0
        self._size = 0
        self._open(0, close=size_hint is not None and size_hint <= self._chunk)

    def _new_open(self):
        from smbprotocol.open import (CreateDisposition, CreateOptions, FileAttributes, FilePipePrinterAccessMask,
                                      ImpersonationLevel, Open, ShareAccess)
        handle = Open(self._tree, self._name)
        access = FilePipePrinterAccessMask.FILE_READ_DATA | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES | \
            FilePipePrinterAccessMask.FILE_READ_EA
        create = handle.create(ImpersonationLevel.Impersonation, access, FileAttributes.FILE_ATTRIBUTE_NORMAL,
                               ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE |
                               ShareAccess.FILE_SHARE_DELETE, CreateDisposition.FILE_OPEN,
                               CreateOptions.FILE_NON_DIRECTORY_FILE, send=False)
        return handle, create

    def _open(self, offset: int, close: bool) -> None:
        """Open (again), reading the chunk at offset in the same round trip; close too when asked."""
        handle, create = self._new_open()
        parts = [create, handle.read(offset, self._chunk, send=False)] + ([handle.close(send=False)] if close else [])
        requests = send(self._tree, [m for m, _ in parts], self._timeout)
        created, data, *_ = settle([(r, unpack) for r, (_, unpack) in zip(requests, parts)])
        if isinstance(created, Exception):
            raise created
        self._handle = None if close else handle
        self._size = handle.end_of_file
        self._take(offset, data)

    def _take(self, offset: int, data) -> None:
        from smbprotocol.exceptions import EndOfFile
        if isinstance(data, EndOfFile):
            data = b""
        if isinstance(data, Exception):
            raise data
        self._data, self._data_off = memoryview(data), offset
        if not data:
            self._size = offset  # shorter than the open said: it ends here
        self._next = max(self._next, offset + len(data))

    def _fill(self) -> None:
        while len(self._pending) < DEPTH and self._next < self._size:
            length = min(self._chunk, self._size - self._next)
            msg, unpack = self._handle.read(self._next, length, send=False)
            if self._pending and free_credits(self._tree) < _charge(self._tree.session.connection, msg) + 8:
                return  # the reads in flight give credits back; not more now
            request = send(self._tree, [msg], self._timeout, related=False)[0]
            self._pending.append((request, unpack, self._next))
            self._next += length

    def _give_up(self) -> None:
        settle([(r, unpack) for r, unpack, _ in self._pending])
        self._pending.clear()

    def _advance(self) -> None:
        """Make self._data hold the bytes at self._pos."""
        if self._pending and self._pending[0][2] != self._pos:
            self._give_up()  # after a seek: what is in flight is somewhere else
        if not self._pending:
            self._next = self._pos
        if self._handle is None:
            self._open(self._pos, close=False)  # closed in the first round trip, but longer than it read
            return
        self._fill()
        request, unpack, offset = self._pending.popleft()
        (data,) = settle([(request, unpack)])
        self._take(offset, data)
        self._fill()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._pos >= self._size:
            return 0
        i = self._pos - self._data_off
        if not 0 <= i < len(self._data):
            self._advance()
            i = self._pos - self._data_off
            if not 0 <= i < len(self._data):
                return 0
        n = min(len(b), len(self._data) - i)
        b[:n] = self._data[i:i + n]
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(22, "negative seek position")
        self._pos = base + offset
        return self._pos

    def close(self) -> None:
        """Receive what is still in flight, then close the handle (errors ignored: the outcome is already known)."""
        if self.closed:
            return
        super().close()
        try:
            self._give_up()
            if self._handle is not None:
                msg, unpack = self._handle.close(send=False)
                settle([(send(self._tree, [msg], self._timeout, related=False)[0], unpack)])
        except Exception:  # noqa: BLE001 - a connection already gone: nothing left to release
            pass
        self._handle = None
