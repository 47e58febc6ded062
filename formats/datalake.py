"""Data-lake files found among files (Parquet, ORC, Avro): every column read like a database table's, sampled.

Read as streams, never a whole table: Parquet and ORC in small record batches (row group by row group, stripe
by stripe; ORC in a child process), Avro record by record; each stops at [formats] sample_rows (full_scan: all).
Struct and record columns are flattened to dotted names (address.postcode); lists and maps are read in their
string form. The libraries (pyarrow, fastavro) are the optional extra vendorscan[datalake].
"""
from __future__ import annotations

import json
import sys
import zlib
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Iterator, Sequence

from vendorscan.format import FormatError, FormatHandler, Item, Problem
from vendorscan.formats import programs
from vendorscan.formats.tables import BATCH, row_limit, table_segments

_EXTRA = "install vendorscan[datalake]"


class Parquet(FormatHandler):
    """Apache Parquet files: each column (structs as dotted names), rows sampled by [formats] sample_rows."""

    id, kinds, seekable, switch = "parquet", ("parquet",), True, "documents"
    magic = ((b"PAR1", "parquet"),)  # and PAR1 again at the end, which the reader checks
    extensions = {".parquet": "parquet", ".parq": "parquet"}

    def read(self, f, kind, *, name, settings, **_):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            yield _unavailable("parquet", "Apache Parquet", "pyarrow")
            return
        import pyarrow as pa
        limit = row_limit(settings)
        with programs.on_disk(f, in_process=True) as path:
            try:
                # A buffered stream, not pre-buffered: a column chunk is read in pieces, not held whole.
                pf = pq.ParquetFile(path, buffer_size=2**20, pre_buffer=False)
                batches = pf.iter_batches(batch_size=_batch(limit), use_threads=False)
                yield from _arrow_table(_table(name), pf.schema_arrow, batches, limit)
            except (pa.ArrowException, OSError, ValueError, TypeError, IndexError) as exc:
                raise FormatError(f"not a readable Parquet file ({type(exc).__name__})") from None


class Orc(FormatHandler):
    """Apache ORC files: each column (structs as dotted names), rows sampled by [formats] sample_rows."""

    id, kinds, seekable, switch = "orc", ("orc",), True, "documents"
    magic = ((b"ORC", "orc"),)
    extensions = {".orc": "orc"}

    def read(self, f, kind, *, name, settings, **_):
        try:
            import pyarrow.orc  # noqa: F401 - the ORC reader is a part of pyarrow a build may leave out
        except ImportError:
            yield _unavailable("orc", "Apache ORC", "pyarrow")
            return
        limit = row_limit(settings)
        # The ORC library crashes the process on some broken files (fuzzing found it): read in a child process,
        # whose death is this file's "malformed", not a lost worker.
        with programs.on_disk(f) as path:
            # -P: the scanner's working directory is not put on the child's module path.
            args = [sys.executable, "-P", "-m", "vendorscan.formats.datalake", path,
                    "all" if limit is None else str(limit)]
            try:
                lines = programs.lines(programs.Blocks(programs.output(args, settings.max_expanded_size)))
                head = next(lines, None)
                columns = json.loads(head) if head is not None else None
                if not isinstance(columns, list):
                    raise FormatError("not a readable ORC file")
                if columns:
                    yield from table_segments(_table(name), columns,
                                              (row for ln in lines for row in json.loads(ln)), limit)
            except FormatError as exc:
                raise FormatError(str(exc).replace(sys.executable, "the ORC reader")) from None


class Avro(FormatHandler):
    """Apache Avro object container files: each field (records as dotted names), records sampled by sample_rows."""

    id, kinds, switch = "avro", ("avro",), "documents"
    magic = ((b"Obj\x01", "avro"),)
    extensions = {".avro": "avro"}

    def read(self, f, kind, *, name, settings, **_):
        try:
            import fastavro
        except ImportError:
            yield _unavailable("avro", "Apache Avro", "fastavro")
            return
        limit = row_limit(settings)
        try:
            reader = fastavro.reader(f)  # reads the header only; records are decoded one at a time
            columns = _avro_columns(reader.writer_schema)
            if not columns:
                raise FormatError("its schema is not a record of fields")
            yield from table_segments(_table(name), [c for c, _ in columns],
                                      ([_dig(rec, p) for _, p in columns] for rec in reader), limit)
        except FormatError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, EOFError, OSError, UnicodeDecodeError,
                AttributeError, OverflowError, zlib.error) as exc:
            raise FormatError(f"not a readable Avro file ({type(exc).__name__})") from None
        except Exception as exc:  # noqa: BLE001 - fastavro's own exceptions (schema, read) share no public base
            if type(exc).__module__.startswith("fastavro"):
                raise FormatError(f"not a readable Avro file ({type(exc).__name__})") from None
            raise


def _unavailable(kind: str, what: str, library: str) -> Problem:
    return Problem("format-unavailable", f"{kind}: {what} files need the optional reader {library}: {_EXTRA}")


def _table(name: str) -> str:
    """A data-lake file is one table: its name is the file's (part-0000 of a dataset's folder)."""
    return PurePosixPath(name.replace("\\", "/")).name.split(".", 1)[0] or name


def _batch(limit: int | None) -> int:
    return max(1, min(BATCH, limit)) if limit is not None else BATCH


def _arrow_table(table: str, schema, batches, limit: int | None) -> Iterator[Item]:
    """The rows of Arrow record batches as column segments, struct fields flattened to dotted names."""
    columns = _arrow_columns(schema)
    if not columns:
        return
    yield from table_segments(table, columns, _arrow_rows(batches), limit)


def _arrow_columns(schema) -> list[str]:
    import pyarrow as pa
    out: list[str] = []

    def walk(field, prefix: str) -> None:
        label = f"{prefix}{field.name}"
        if pa.types.is_struct(field.type):
            for i in range(field.type.num_fields):
                walk(field.type.field(i), label + ".")
        else:
            out.append(label)
    for field in schema:
        walk(field, "")
    return out


def _arrow_rows(batches) -> Iterator[tuple]:
    import pyarrow as pa
    for batch in batches:
        values: list[list] = []

        def flat(array) -> None:
            if pa.types.is_struct(array.type):
                for child in array.flatten():  # a null struct makes its fields null
                    flat(child)
            else:
                values.append(array.to_pylist())
        for column in batch.columns:
            flat(column)
        yield from zip(*values)


def _avro_columns(schema) -> list[tuple[str, tuple[str, ...]]]:
    """(dotted name, path of keys) per leaf field of a record schema; nested records flattened."""
    out: list[tuple[str, tuple[str, ...]]] = []

    def record(t):
        if isinstance(t, dict) and t.get("type") == "record":
            return t
        if isinstance(t, list):  # a union: ["null", {record}] is an optional record
            records = [x for x in t if isinstance(x, dict) and x.get("type") == "record"]
            if len(records) == 1 and all(x == "null" or x is records[0] for x in t):
                return records[0]
        return None

    def walk(rec, path: tuple[str, ...], depth: int) -> None:
        for field in rec.get("fields", ()):
            key = field.get("name")
            if not isinstance(key, str):
                continue
            sub = record(field.get("type"))
            if sub is not None and depth < 32:
                walk(sub, (*path, key), depth + 1)
            else:
                out.append((".".join((*path, key)), (*path, key)))
    top = record(schema)
    if top is not None:
        walk(top, (), 0)
    return out


def _dig(rec, path: Sequence[str]):
    for key in path:
        if not isinstance(rec, dict):
            return None
        rec = rec.get(key)
    return rec


def _orc_child(path: str, limit: int | None) -> int:
    """In the child: an ORC file's column names, then its rows a batch a line (JSON); 1 when it is not readable."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    try:
        # The stripes are read in small batches (the ORC row reader's), without read-ahead.
        data = ds.dataset(path, format="orc")
        columns = _arrow_columns(data.schema)
        out = sys.stdout
        out.write(json.dumps(columns) + "\n")
        if not columns:
            return 0
        seen = 0
        for batch in data.to_batches(batch_size=_batch(limit), use_threads=False, batch_readahead=0,
                                     fragment_readahead=0):
            rows = list(_arrow_rows([batch]))
            if limit is not None:
                rows = rows[:limit - seen]
            out.write(json.dumps(rows, default=_json) + "\n")  # ASCII: the same bytes in any locale
            seen += len(rows)
            if limit is not None and seen >= limit:
                break
        out.flush()
        return 0
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError):
        return 1


def _json(value):
    """A cell JSON cannot hold as itself: whole Decimals as numbers (ids stored as DECIMAL), bytes empty, else text."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return None
    return str(value)


if __name__ == "__main__":
    sys.exit(_orc_child(sys.argv[1], None if sys.argv[2] == "all" else int(sys.argv[2])))
