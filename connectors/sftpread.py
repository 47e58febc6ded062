"""Pipelined SFTP reads: several read requests in flight per file, a bounded number, in file order."""
from __future__ import annotations

import io
from collections import deque

BLOCK = 128 * 1024  # bytes per read request: below OpenSSH's cap (255 KiB), far above paramiko's 32 KiB
DEPTH = 16  # read requests in flight per file: at most (DEPTH + 1) * BLOCK bytes held, however large the file
MIN_BLOCK = 4096  # a server that answers shorter reads than asked is asked for that much from then on (not less)


def open_pipelined(sftp, path: bytes, size_hint: int | None) -> io.BufferedReader:
    """The remote file opened read-only, read ahead in BLOCK-sized requests; size_hint: the size the walk saw."""
    from paramiko.sftp import CMD_HANDLE, CMD_OPEN, SFTP_FLAG_READ, SFTPError
    from paramiko.sftp_attr import SFTPAttributes
    t, msg = sftp._request(CMD_OPEN, path, SFTP_FLAG_READ, SFTPAttributes())
    if t != CMD_HANDLE:
        raise SFTPError("Expected handle")
    return io.BufferedReader(PipelinedRaw(sftp, msg.get_binary(), size_hint or 0), BLOCK)


class PipelinedRaw(io.RawIOBase):
    """An open remote file read ahead: requests up to the expected size go out at once (DEPTH at a time), one more
    past it finds the end (a file that grew is read on); answers are taken in order, short ones asked again."""

    def __init__(self, sftp, handle: bytes, size_hint: int):
        super().__init__()
        self._sftp, self._handle = sftp, handle
        self._hint = size_hint  # requests are cut to end here, so that the one after it finds the end at once
        self._block = BLOCK
        self._pos = 0  # the next byte readinto gives
        self._next = 0  # offset of the next request to send
        self._pending: deque[tuple[int, int, int]] = deque()  # (request number, offset, length), in file order
        self._answers: dict[int, bytes | Exception] = {}
        self._data = memoryview(b"")  # what is left of the answer being read, at self._pos
        self._eof = False

    # paramiko hands each answer to the object its request was sent with
    def _async_response(self, t, msg, num) -> None:
        from paramiko.sftp import CMD_DATA
        if self.closed or not any(p[0] == num for p in self._pending):
            return  # an answer to a request given up (after a seek, the end, or close)
        if t == CMD_DATA:
            self._answers[num] = msg.get_string()
            return
        try:
            self._sftp._convert_status(msg)
            self._answers[num] = OSError("unexpected answer to a read")
        except EOFError:
            self._answers[num] = b""
        except OSError as exc:
            self._answers[num] = exc

    def _send(self, offset: int, length: int) -> tuple[int, int, int]:
        from paramiko.sftp import CMD_READ, int64
        return self._sftp._async_request(self, CMD_READ, self._handle, int64(offset), int(length)), offset, length

    def _fill(self) -> None:
        while len(self._pending) < DEPTH and not self._eof:
            if self._next >= self._hint and self._pending and self._pending[-1][1] >= self._hint:
                return  # one request past the expected end is out: wait for it before asking for more
            end = self._hint if self._next < self._hint else self._next + self._block
            length = min(self._block, end - self._next)
            self._pending.append(self._send(self._next, length))
            self._next += length

    def _take(self) -> bytes:
        """The next bytes of the file in order (b"" at its end)."""
        self._fill()
        if not self._pending:
            return b""
        num, offset, length = self._pending[0]
        while num not in self._answers:
            self._sftp._read_response()
        self._pending.popleft()
        data = self._answers.pop(num)
        if isinstance(data, Exception):
            raise data
        if not data:
            self._eof = True
            self._give_up()
            return b""
        if len(data) < length:  # the server's cap, or a file that shrank: ask for the rest before the next
            if len(data) >= MIN_BLOCK:
                self._block = min(self._block, len(data))
            self._pending.appendleft(self._send(offset + len(data), length - len(data)))
        elif offset >= self._hint:
            self._hint = self._next + DEPTH * self._block  # longer than the walk saw: read ahead again
        return data

    def _give_up(self) -> None:
        self._pending.clear()
        self._answers.clear()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if not self._data:
            if self._eof:
                return 0
            self._data = memoryview(self._take())
        n = min(len(b), len(self._data))
        b[:n] = self._data[:n]
        self._data = self._data[n:]
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._size()
        if offset < 0:
            raise OSError(22, "negative seek position")
        if offset != self._pos:
            self._give_up()
            self._pos = self._next = offset
            self._data = memoryview(b"")
            self._eof = False
            self._hint = max(self._hint, offset)
        return self._pos

    def _size(self) -> int:
        from paramiko.sftp import CMD_ATTRS, CMD_FSTAT, SFTPError
        from paramiko.sftp_attr import SFTPAttributes
        t, msg = self._sftp._request(CMD_FSTAT, self._handle)
        if t != CMD_ATTRS:
            raise SFTPError("Expected attributes")
        return SFTPAttributes._from_msg(msg).st_size

    def close(self) -> None:
        """Close the remote handle without waiting for the answer (the next request of this session reads it)."""
        if not self.closed:
            from paramiko import SSHException
            from paramiko.sftp import CMD_CLOSE
            self._give_up()
            super().close()
            try:
                self._sftp._async_request(type(None), CMD_CLOSE, self._handle)
            except (SSHException, EOFError, OSError):
                pass  # the connection is gone, and the handle with it
