"""Outlook data files (.pst, .ost): every message read as saved mail (.eml) with its attachments, through readpst.

readpst (pst-utils, libpst) is GPL: it is run as a program into a private temp directory, never linked or imported.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from typing import Iterator

from vendorscan.format import BombError, FormatError, FormatHandler, Item, Nested, Problem
from vendorscan.formats import programs

POLL = 0.05  # seconds between two looks at what readpst has written
# -e: one MIME file per message, attachments inside it; -D: the Deleted Items folder too (still in the file);
# -8: UTF-8 bodies where the file has them; -q: nothing on the terminal.
_READPST = ["readpst", "-e", "-D", "-8", "-q"]
_MESSAGE = re.compile(r"(\d+)\.eml")


class Pst(FormatHandler):
    """Outlook .pst/.ost files: every message as saved mail with its attachments; contacts and calendar items as text."""

    id, kinds, seekable, switch = "pst", ("pst",), True, "documents"
    magic = ((b"!BDN", "pst"),)
    extensions = {".pst": "pst", ".ost": "pst"}

    def read(self, f, kind, *, settings, budget, **_):
        return read_pst(f, settings, budget)


def read_pst(f, settings, budget) -> Iterator[Item]:
    """Each item readpst writes (message, contact, appointment) as a nested file named by its folder."""
    problem = programs.missing("readpst", "pst-utils", "Outlook data file")
    if problem is not None:
        yield problem
        return
    out = tempfile.mkdtemp(prefix="vendorscan-")  # 0700: only this account reads the messages
    try:
        with programs.on_disk(f) as path:
            # Within what is left of the resource's unpacking bound, and the expansion ratio above 1 MiB.
            limit = min(budget.left, max(os.path.getsize(path) * settings.max_ratio, 2**20))
            _readpst(os.path.abspath(path), out, limit)
        files = sorted(_written(out), key=_order)
        if len(files) > settings.max_members:
            yield Problem("too-many-members", f"{len(files)} items; the first {settings.max_members} are read "
                                              "([formats] max_members)")
            files = files[:settings.max_members]
        for rel in files:
            full = os.path.join(out, rel)
            yield Nested(_member(rel), lambda full=full: open(full, "rb"), os.path.getsize(full), None)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _readpst(path: str, out: str, limit: int) -> None:
    """Run readpst into `out`, killed past the time limit or when what it wrote goes over `limit` bytes."""
    proc = subprocess.Popen([*_READPST, "-o", out, path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + programs.TIMEOUT
    try:
        while proc.poll() is None:
            if _size(out) > limit:
                raise BombError("readpst: the messages went over the unpacking limit for one resource")
            if time.monotonic() > deadline:
                raise FormatError(f"readpst took longer than {programs.TIMEOUT} s")
            time.sleep(POLL)
        if _size(out) > limit:
            raise BombError("readpst: the messages went over the unpacking limit for one resource")
        if proc.returncode != 0:
            raise FormatError(f"readpst could not read it (exit status {proc.returncode})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _size(out: str) -> int:
    total = 0
    for root, _, names in os.walk(out):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # renamed while readpst writes it
                pass
    return total


def _written(out: str) -> Iterator[str]:
    for root, _, names in os.walk(out):
        for name in names:
            full = os.path.join(root, name)
            if os.path.isfile(full) and not os.path.islink(full):
                yield os.path.relpath(full, out)


def _order(rel: str):
    """Folder by folder, items in readpst's numbering (2 before 10)."""
    folder, _, name = rel.rpartition(os.sep)
    stem = name.split(".", 1)[0]
    return folder, int(stem) if stem.isdigit() else 0, name


def _member(rel: str) -> str:
    """A report's name for an item: its folder path, 'message N.eml' for mail (a label, never opened as a path)."""
    text = os.fsencode(rel).decode("utf-8", "replace")
    folder, _, name = text.replace(os.sep, "/").rpartition("/")
    if m := _MESSAGE.fullmatch(name):
        name = f"message {m.group(1)}.eml"
    return f"{folder}/{name}" if folder else name
