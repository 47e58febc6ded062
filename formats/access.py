"""Microsoft Access databases (.mdb Jet, .accdb ACE): every table by column, through mdbtools as external programs.

mdbtools is GPL: it is run as a program (mdb-tables, mdb-export), never linked or imported.
"""
from __future__ import annotations

import re
from typing import Iterator

from vendorscan.format import FormatError, FormatHandler, Item, Problem
from vendorscan.formats import programs
from vendorscan.formats.tables import row_limit, table_segments

_SIGNATURES = (b"Standard Jet DB", b"Standard ACE DB")  # at bytes 4..19 of page 0
_NULL = "\\N"
# Tab-separated, unquoted, with -e escaping tab, newline, CR and backslash inside values: one row a line, one
# value a field, no quoting to undo; NULL as \N (a value "\N" comes out as "\\N"); binary columns left out.
_EXPORT = ["mdb-export", "-d", "\\t", "-Q", "-e", "-0", _NULL, "-b", "strip",
           "-D", "%Y-%m-%d", "-T", "%Y-%m-%d %H:%M:%S"]
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}
_ESCAPE = re.compile(r"\\(.)", re.S)
_INTEGER = re.compile(r"-?[1-9][0-9]{0,17}")  # canonical only: "0104851234" stays text, its zero kept


class Access(FormatHandler):
    """Microsoft Access databases (Jet .mdb, ACE .accdb): each table's columns, rows sampled by [formats] sample_rows."""

    id, kinds, seekable, switch = "access", ("access",), True, "documents"
    extensions = {".mdb": "access", ".accdb": "access", ".mde": "access", ".accde": "access"}

    @classmethod
    def sniff(cls, head, name):
        return "access" if head[4:19] in _SIGNATURES else None

    def read(self, f, kind, *, settings, **_):
        return read_access(f, settings)


def read_access(f, settings) -> Iterator[Item]:
    """Every user table of the database, by table and column (mdb-tables lists, mdb-export streams each)."""
    for program in ("mdb-tables", "mdb-export"):
        problem = programs.missing(program, "mdbtools", "Access database")
        if problem is not None:
            yield problem
            return
    left = [int(settings.max_expanded_size)]  # every program's output of this file counts against one bound
    with programs.on_disk(f) as path:
        listing = _run(["mdb-tables", "-1", "--", path], left)
        tables = [name for name in programs.lines(programs.Blocks(listing)) if name.strip()]
        for table in tables:
            try:
                yield from _table(path, table, row_limit(settings), left)
            except FormatError as exc:  # one table mdbtools cannot export: the others are still read
                yield Problem("malformed", f"Access database: a table could not be read ({exc})")


def _run(args: list[str], left: list[int]) -> Iterator[bytes]:
    for block in programs.output(args, left[0]):
        left[0] -= len(block)
        yield block


def _table(path: str, table: str, limit: int | None, left: list[int]) -> Iterator[Item]:
    blocks = _run([*_EXPORT, "--", path, table], left)
    try:
        lines = programs.lines(programs.Blocks(blocks))
        header = next(lines, None)
        if header is not None:
            yield from table_segments(table, header.split("\t"), (_row(line) for line in lines), limit)
    finally:
        blocks.close()  # rows past the sample are never read: the program is ended here


def _row(line: str) -> list:
    return [_value(v) for v in line.split("\t")]


def _value(v: str):
    if v == _NULL:
        return None
    if _INTEGER.fullmatch(v):
        return int(v)  # a number column: its lost leading zeros are put back by cell_text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), v) if "\\" in v else v
