"""SQL dumps: pg_dump plain (COPY … FROM stdin, INSERT) and custom format (through pg_restore), mysqldump INSERTs.

The data is read by table and column, the column names as context, statement by statement as the dump streams.
"""
from __future__ import annotations

import itertools
import re
from typing import Iterator

from vendorscan.format import FormatError, FormatHandler, Item
from vendorscan.formats import programs
from vendorscan.formats.tables import row_limit, table_segments

_MARKS = (b"-- PostgreSQL database dump", b"-- MySQL dump", b"-- MariaDB dump")
_NAME = r'(?:`[^`]+`|"[^"]+"|[\w$]+)'
_QUALIFIED = rf"({_NAME}(?:\.{_NAME})*)"
_CREATE = re.compile(rf"CREATE TABLE (?:IF NOT EXISTS )?{_QUALIFIED}\s*\(", re.I)
_COPY = re.compile(rf"COPY {_QUALIFIED}\s*\(([^)]*)\)\s+FROM stdin;", re.I)
_INSERT = re.compile(rf"INSERT (?:IGNORE )?INTO {_QUALIFIED}\s*(?:\(([^)]*)\))?\s*VALUES\s*", re.I)
_TOKEN = re.compile(r"'((?:[^'\\]|\\.|'')*)'|(\()|(\))|(NULL)\b|([^,()\s']+)", re.S | re.I)
_ESCAPE = re.compile(r"\\(.)", re.S)
_COPY_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f", "v": "\v"}


class SqlDump(FormatHandler):
    """Plain SQL dumps (pg_dump, mysqldump, mariadb-dump): table data by table and column."""

    id, kinds, textual, switch = "sqldump", ("sqldump",), True, "documents"

    @classmethod
    def sniff(cls, head, name):
        first = head[:4096]
        if b"-- " in first and any(mark in first for mark in _MARKS):  # one search for most text: none has "-- "
            return "sqldump"
        if name.lower().endswith(".sql") and re.search(rb"^(INSERT INTO|COPY \S+ .*FROM stdin;)", head, re.M | re.I):
            return "sqldump"
        return None

    def read(self, f, kind, *, settings, **_):
        return read_dump(programs.lines(f), row_limit(settings))


class PgCustomDump(FormatHandler):
    """pg_dump's custom format (-Fc): restored to SQL by pg_restore as a program, then read as a plain dump."""

    id, kinds, seekable, switch = "pgdump", ("pgdump",), True, "documents"
    magic = ((b"PGDMP", "pgdump"),)
    extensions = {".dump": "pgdump", ".backup": "pgdump"}

    def read(self, f, kind, *, settings, **_):
        problem = programs.missing("pg_restore", "postgresql-client", "pg_dump custom-format file")
        if problem is not None:
            yield problem
            return
        with programs.on_disk(f) as path:
            blocks = programs.output(["pg_restore", "--data-only", "-f", "-", path], int(settings.max_expanded_size))
            yield from read_dump(programs.lines(programs.Blocks(blocks)), row_limit(settings))


def _unquote(name: str) -> str:
    return ".".join(part.strip('`"') for part in re.findall(_NAME, name))


def _names(columns: str) -> list[str]:
    return [_unquote(c.strip()) for c in columns.split(",") if c.strip()]


def read_dump(lines: Iterator[str], limit: int | None) -> Iterator[Item]:
    """Every table's rows in the dump, by table and column."""
    declared: dict[str, list[str]] = {}
    for table, columns, rows in _tables(lines, declared):
        yield from table_segments(table, columns, rows, limit)
        for _ in rows:  # rows past the sample: read past, not kept
            pass


def _tables(lines: Iterator[str], declared: dict[str, list[str]]):
    """(table, columns, rows) for each COPY block and each run of INSERTs into one table; rows stream as read."""
    lines = iter(lines)
    state: dict = {"pending": None}
    while True:
        line, state["pending"] = (state["pending"], None) if state["pending"] is not None else (next(lines, None), None)
        if line is None:
            return
        if m := _CREATE.match(line):
            declared[_unquote(m.group(1))] = _create_columns(lines)
        elif m := _COPY.match(line):
            yield _unquote(m.group(1)), _names(m.group(2)), _copy_rows(lines)
        elif m := _INSERT.match(line):
            table = _unquote(m.group(1))
            columns = _names(m.group(2)) if m.group(2) else declared.get(table, [])
            rows = _insert_run(line, table, lines, state)
            if not columns:  # no list and no CREATE TABLE seen: numbered by the first row
                first = next(rows, None)
                if first is None:
                    continue
                columns = [f"column {i + 1}" for i in range(len(first))]
                rows = itertools.chain((first,), rows)
            yield table, columns, rows


def _insert_run(line: str, table: str, lines: Iterator[str], state: dict) -> Iterator[list]:
    """The rows of consecutive INSERTs into one table; the first other line is left in state['pending']."""
    yield from _insert_rows(line)
    for nxt in lines:
        n = _INSERT.match(nxt)
        if not (n and _unquote(n.group(1)) == table):
            state["pending"] = nxt
            return
        yield from _insert_rows(nxt)


def _create_columns(lines: Iterator[str]) -> list[str]:
    columns = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(")"):
            break
        word = re.match(_NAME, stripped)
        if word and word.group(0).upper() not in ("PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX", "FOREIGN",
                                                  "CHECK", "FULLTEXT", "SPATIAL"):
            columns.append(_unquote(word.group(0)))
    return columns


def _copy_rows(lines: Iterator[str]) -> Iterator[list]:
    for line in lines:
        if line == "\\.":
            return
        yield [None if v == "\\N" else _copy_value(v) for v in line.split("\t")]


def _copy_value(v: str) -> str:
    """A value with its backslash escapes (COPY's, and those of quoted INSERT strings) undone."""
    if "\\" not in v:
        return v
    return _ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), v)


def _insert_rows(statement: str) -> Iterator[list]:
    m = _INSERT.match(statement)
    row: list | None = None
    depth = 0
    for t in _TOKEN.finditer(statement, m.end()):
        text, opening, closing, null, bare = t.groups()
        if opening:
            depth += 1
            if depth == 1:
                row = []
        elif closing:
            depth -= 1
            if depth == 0 and row is not None:
                yield row
                row = None
        elif row is not None and depth == 1:
            if text is not None:
                row.append(_copy_value(text.replace("''", "'")))
            elif null:
                row.append(None)
            else:
                row.append(_number(bare))


def _number(bare: str):
    try:
        return int(bare)
    except ValueError:
        return bare
