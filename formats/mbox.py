"""mbox mail archives: message by message as the file streams, each read as saved mail (.eml) with its attachments."""
from __future__ import annotations

import re
import tempfile
from typing import Iterator

from vendorscan.format import FormatHandler, Item, Nested

_QUOTED_FROM = re.compile(rb">+From ")
_FROM_LINE = re.compile(rb"From \S+ +\w{3} \w{3} +\d{1,2} \d{1,2}:\d{2}(:\d{2})? ")


class Mbox(FormatHandler):
    """Unix mbox archives (Thunderbird, mutt, Google Takeout): every message, one at a time."""

    id, kinds, textual, switch = "mbox", ("mbox",), True, "documents"

    @classmethod
    def sniff(cls, head, name):
        return "mbox" if _FROM_LINE.match(head) or (name.lower().endswith(".mbox") and head.startswith(b"From ")) \
            else None

    def read(self, f, kind, **_):
        return _messages(f)


def _messages(f) -> Iterator[Item]:
    """Each message as a nested .eml, spooled to a private temp file (0600, deleted) so none is held in memory."""
    number, spool, tail, previous_blank = 0, None, b"", True
    while True:
        block = f.read(2**20)
        data = tail + block
        lines = data.split(b"\n")
        tail = lines.pop() if block else b""
        if len(tail) > 2**24 and spool is not None:  # a line without end: written on, never held whole
            spool.write(tail)
            tail, previous_blank = b"", False
        for line in lines:
            if previous_blank and line.startswith(b"From "):
                if spool is not None:
                    yield _nested(number, spool)
                number, spool = number + 1, tempfile.TemporaryFile(prefix="vendorscan-")
            elif spool is not None:
                # mboxrd/mboxo quoting: ">From " in a body was "From ".
                spool.write((line[1:] if _QUOTED_FROM.match(line) else line) + b"\n")
            previous_blank = not line.strip(b"\r")
        if not block:
            break
    if spool is not None:
        yield _nested(number, spool)


def _nested(number: int, spool) -> Nested:
    size = spool.tell()
    spool.seek(0)
    return Nested(f"message {number}.eml", lambda: spool, size, None)
