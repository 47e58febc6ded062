"""External reader programs (catdoc, pg_restore, mdb-export, readpst): run with a time limit and a bounded output."""
from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import tempfile
from typing import IO, Iterator

from vendorscan.format import BombError, FormatError, Problem

TIMEOUT = 120  # seconds one program may take on one file
MAX_MEMORY = 2**30  # bytes of address space one program may take: a crafted file must not eat the machine
MAX_LINE = 64 * 2**20  # one line of a dump or a program's output (mysqldump writes long INSERTs)


def missing(program: str, package: str, kind: str) -> Problem | None:
    """The skip for a kind whose reader program is not installed, else None."""
    if shutil.which(program):
        return None
    return Problem("format-unavailable", f"{kind}: its reader '{program}' is not installed "
                                         f"(apt-get install {package})")


def on_disk(f: IO[bytes], in_process: bool = False):
    """A path to the file's content: its own when it is a local file, else a private temp copy (0600, deleted).

    in_process: the path is opened by this process (sqlite3), so an open descriptor's /proc path will do.
    """
    name = getattr(f, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        return _Named(name, None)
    if in_process and isinstance(name, int) and os.path.isfile(f"/proc/self/fd/{name}"):
        return _Named(f"/proc/self/fd/{name}", None)
    tmp = tempfile.NamedTemporaryFile(prefix="vendorscan-", delete=True)
    f.seek(0)
    shutil.copyfileobj(f, tmp, 2**20)
    tmp.flush()
    return _Named(tmp.name, tmp)


class _Named:
    def __init__(self, path: str, tmp):
        self.path, self._tmp = path, tmp

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, *exc):
        if self._tmp is not None:
            self._tmp.close()
        return False


def bounded(args: list[str]) -> list[str]:
    """The command line that runs a program with at most MAX_MEMORY of address space (util-linux prlimit)."""
    tool = shutil.which("prlimit")
    # prlimit, not preexec_fn: the workers run threads, and a fork that runs Python code before exec can hang
    return [tool, f"--as={MAX_MEMORY}", "--", *args] if tool else list(args)


def output(args: list[str], limit: int, timeout: int = TIMEOUT) -> Iterator[bytes]:
    """The program's standard output in blocks, at most `limit` bytes; killed past `timeout` seconds or MAX_MEMORY."""
    import threading
    proc = subprocess.Popen(bounded(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    timer = threading.Timer(timeout, proc.kill)  # a program stuck without output is killed too
    timer.start()
    total = 0
    try:
        while block := proc.stdout.read1(2**16):
            total += len(block)
            if total > limit:
                raise BombError(f"{args[0]}: its output went over the limit for one resource")
            yield block
        proc.wait()
        if not timer.is_alive():
            raise FormatError(f"{args[0]} took longer than {timeout} s")
        if proc.returncode != 0:
            raise FormatError(f"{args[0]} could not read it (exit status {proc.returncode})")
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


class Blocks:
    """An iterator of byte blocks as a readable stream."""

    def __init__(self, blocks: Iterator[bytes]):
        self._blocks = blocks

    def read(self, n: int = -1) -> bytes:
        return next(self._blocks, b"")


def lines(f: IO[bytes]) -> Iterator[str]:
    """Decoded UTF-8 lines as the stream is read, each bounded: a longer one is a FormatError, never held whole."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    tail = ""
    while block := f.read(2**20):
        text = tail + decoder.decode(block)
        *done, tail = text.split("\n")
        yield from done
        if len(tail) > MAX_LINE:
            raise FormatError(f"a line over {MAX_LINE} characters: not read further")
    tail += decoder.decode(b"", final=True)
    if tail:
        yield tail
