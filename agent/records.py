"""The rows that cross from workers to the run store and the state db's cache: each declared once here.

The tables' columns, the INSERTs and the cache's copies all follow from these
declarations; tests/test_agent_state.py holds the databases to them.
"""
from __future__ import annotations

from typing import NamedTuple


class ValueSet(NamedTuple):
    """The values behind one aggregate (agent/values.py): how many, the distinct keyed hashes, the first listed."""

    target: str
    resource: str
    part: str
    check_id: str
    kind: str
    verdict: str
    category: str
    count: int
    distinct_count: int
    hashes: bytes  # sorted distinct 64-bit prefixes of the value hashes
    listed: bytes  # the first occurrences (value_hash, confidence, evidence, location) as zlib JSON lines


class FindingRow(NamedTuple):
    """A finding as the findings tables hold it: what queries filter on, and the whole finding as JSON."""

    fingerprint: str
    target: str
    resource: str
    check_id: str
    severity: int  # rank: 0 critical … 4 info
    category: str
    verdict: str
    kind: str
    distinct_count: int
    body: str


def _sql_type(annotation) -> str:
    name = getattr(annotation, "__forward_arg__", annotation)  # NamedTuple keeps postponed annotations as ForwardRefs
    return {"int": "INTEGER", "float": "REAL", "bytes": "BLOB"}.get(name if isinstance(name, str) else name.__name__, "TEXT")


def columns(record: type, primary: str = "") -> str:
    """The record's fields as SQL column definitions (`name TYPE, …`)."""
    return ", ".join(f"{name} {_sql_type(record.__annotations__[name])}" + (" PRIMARY KEY" if name == primary else "")
                     for name in record._fields)


def names(record: type, prefix: str = "") -> str:
    """The record's fields as a column list, each behind `prefix` (e.g. 'o.')."""
    return ", ".join(prefix + name for name in record._fields)


def placeholders(record: type) -> str:
    """One '?' a field, for an INSERT."""
    return ",".join("?" * len(record._fields))
