"""Fuzzing: mutated documents, archives, mail and images through every format handler, random text through the
identifier engine. Each input gives text or a reason, never an exception, a hang or unbounded memory.

The mutation run has a time budget: VENDORSCAN_FUZZ_SECONDS (60 in CI; run longer by hand, e.g.
VENDORSCAN_FUZZ_SECONDS=3600 scripts/test.sh tests/robustness/test_fuzz.py). A failing input is written
to the pytest temp dir and its seed printed, so it can be replayed.
"""
import gzip
import io
import os
import random
import resource
import signal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import documents as docs
from vendorscan.agent.config import FormatSettings
from vendorscan.context import ValueHasher
from vendorscan.format import BombError, Budget, FormatError, Problem, Segment, TextStream
from vendorscan.formats.extract import Extractor
from vendorscan.checks.identifiers import detect

SECONDS = float(os.environ.get("VENDORSCAN_FUZZ_SECONDS", "60"))
PER_INPUT = 20  # seconds one input may take before it counts as a hang
SETTINGS = FormatSettings(ocr_timeout=5, max_expanded_size=64 * 2**20)


def _seeds(tmp):
    """One real file per handler: the starting points of the mutations."""
    made = {
        "a.docx": docs.docx(tmp / "a.docx").read_bytes(),
        "b.xlsx": docs.xlsx(tmp / "b.xlsx").read_bytes(),
        "c.pptx": docs.pptx(tmp / "c.pptx").read_bytes(),
        "d.pdf": docs.pdf(tmp / "d.pdf", ["personnummer 850412-1230", "CPR 120485-1006"]).read_bytes(),
        "e.eml": docs.eml(tmp / "e.eml", ("x.txt", b"personnummer 850412-1230\n")).read_bytes(),
        "f.msg": docs.msg(tmp / "f.msg", ("x.txt", b"personnummer 850412-1230\n")).read_bytes(),
        "g.zip": docs.zip_of(tmp / "g.zip", {"in/a.txt": b"personnummer 850412-1230\n"}).read_bytes(),
        "h.tar.gz": docs.tar_gz_of(tmp / "h.tar.gz", {"a.txt": b"CPR 120485-1006\n"}).read_bytes(),
    }
    docs.case_screenshot(tmp / "i.png", ["120485-1006"], ["850412-1230"])
    made["i.png"] = (tmp / "i.png").read_bytes()
    made["h.tar"] = gzip.decompress(made["h.tar.gz"])  # a tar as itself, not only inside a gzip
    made.update(_suppliers_files(tmp))
    made.update(_sample_files())
    made.update(_datalake_files(tmp))
    return made


def _suppliers_files(tmp):
    """Seeds of the legacy, table and mail-archive readers: .xls, RTF, SQLite, SQL dumps, mbox."""
    import sqlite3
    import xlwt
    book = xlwt.Workbook()
    sheet = book.add_sheet("Personal")
    sheet.write(0, 0, "personnummer"), sheet.write(1, 0, "19850412-1230")
    book.save(str(tmp / "j.xls"))
    conn = sqlite3.connect(tmp / "k.sqlite")
    conn.execute("create table emp(name text, cpr text)")
    conn.executemany("insert into emp values(?, ?)", [("Bo", "120485-1006")] * 50)
    conn.commit()
    conn.close()
    return {
        "j.xls": (tmp / "j.xls").read_bytes(),
        "k.sqlite": (tmp / "k.sqlite").read_bytes(),
        "l.rtf": rb"{\rtf1\ansi{\fonttbl\f0 Arial;}\f0 Hej\par personnummer 850412-1230\par}",
        "m.sql": (b"-- PostgreSQL database dump\n\nCOPY public.emp (id, name, pnr) FROM stdin;\n"
                  b"1\tAnna\t850412-1230\n\\.\n"),
        "n.sql": (b"-- MySQL dump 10.13\nCREATE TABLE `emp` (\n  `id` int,\n  `cpr` varchar(20)\n);\n"
                  b"INSERT INTO `emp` VALUES (1,'x'),(2,'120485-1006');\n"),
        "o.mbox": (b"From a@b.se Mon Jan  1 10:00:00 2024\nFrom: a@b.se\nSubject: hi\n\npersonnummer 850412-1230\n\n"
                   b"From c@d.se Mon Jan  1 11:00:00 2024\nFrom: c@d.se\n\nCPR 120485-1006\n"),
    }


def _sample_files():
    """Seeds of the readers run as programs: real Access, Outlook, Word and PowerPoint files (tests/data)."""
    data = Path(__file__).parent.parent / "data"
    names = ("fixedTextTestV2000.mdb", "fixedTextTestV2007.accdb", "attachAndInline.pst", "raw_text.doc",
             "Single_Coloured_Page_With_Fonts_and_Alignments.ppt")
    return {f"s-{name}": (data / name).read_bytes() for name in names}


def _datalake_files(tmp):
    """Seeds of the data-lake readers: Parquet (two row groups, a struct column), ORC, Avro (a nested record)."""
    import fastavro
    import pyarrow as pa
    import pyarrow.orc as orc
    import pyarrow.parquet as pq
    table = pa.Table.from_pylist([{"n": i, "cpr": "120485-1006", "p": {"pnr": "850412-1230", "tags": ["a", "b"]}}
                                  for i in range(20)])
    pq.write_table(table, tmp / "p.parquet", row_group_size=10)
    orc.write_table(table, tmp / "q.orc")
    schema = {"type": "record", "name": "Emp", "fields": [
        {"name": "cpr", "type": "string"},
        {"name": "p", "type": {"type": "record", "name": "P", "fields": [{"name": "pnr", "type": "string"}]}}]}
    with open(tmp / "r.avro", "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), [{"cpr": "120485-1006", "p": {"pnr": "850412-1230"}}] * 20,
                        codec="deflate", sync_interval=64)
    return {name: (tmp / name).read_bytes() for name in ("p.parquet", "q.orc", "r.avro")}


def _mutate(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return os.urandom(rng.randrange(1, 64))
    choice = rng.random()
    b = bytearray(data)
    if choice < 0.3:  # flip bytes
        for _ in range(rng.randrange(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif choice < 0.5:  # truncate
        b = b[:rng.randrange(len(b))]
    elif choice < 0.7:  # splice a block of noise in
        at = rng.randrange(len(b))
        b[at:at] = os.urandom(rng.randrange(1, 512))
    elif choice < 0.85:  # repeat a slice (lengths and offsets stop matching)
        s = rng.randrange(len(b))
        e = min(len(b), s + rng.randrange(1, 4096))
        b[e:e] = b[s:e] * rng.randrange(1, 4)
    else:  # zero a range
        s = rng.randrange(len(b))
        b[s:s + rng.randrange(1, 256)] = bytes(min(len(b) - s, 256))[:len(b[s:s + 256])]
    return bytes(b)


def _drain(data: bytes, name: str) -> int:
    items = 0
    for item in Extractor(SETTINGS, Budget(SETTINGS.max_expanded_size, SETTINGS.max_ratio)).extract(
            io.BytesIO(data), data[:65536], name):
        assert isinstance(item, (Segment, TextStream, Problem)), type(item)
        if isinstance(item, TextStream):
            try:  # as the worker reads it: a member breaking off mid-read is a reason, not a crash
                while item.stream.read(65536):
                    pass
            except (BombError, FormatError):
                pass
        items += 1
    return items


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def test_mutated_files_never_crash_hang_or_grow_memory(tmp_path):
    seeds = _seeds(tmp_path)
    seed = int(os.environ.get("VENDORSCAN_FUZZ_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    start, runs = time.monotonic(), 0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        while time.monotonic() - start < SECONDS:
            name = rng.choice(sorted(seeds))
            data = seeds[name]
            for _ in range(rng.randrange(1, 4)):
                data = _mutate(data, rng)
            signal.alarm(PER_INPUT)
            try:
                _drain(data, name)
            except _Hang:
                (tmp_path / f"hang-{name}").write_bytes(data)
                pytest.fail(f"{name}: no answer within {PER_INPUT}s (seed {seed}, run {runs}; input kept)")
            except Exception as exc:  # noqa: BLE001
                (tmp_path / f"crash-{name}").write_bytes(data)
                pytest.fail(f"{name}: {type(exc).__name__}: {exc} escaped (seed {seed}, run {runs}; input kept)")
            finally:
                signal.alarm(0)
            runs += 1
    finally:
        signal.signal(signal.SIGALRM, old)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"fuzz: {runs} mutated inputs in {SECONDS:.0f}s, seed {seed}, peak RSS grew {grown:.0f} MiB")
    assert runs > 50 and grown < 512


MAGICS = [b"PK\x03\x04", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
          b"\x1f\x8b\x08", b"BZh9", b"\xfd7zXZ\x00", b"GIF89a", b"II*\x00", b"\xff\xd8\xff",
          b"Received: x\nFrom: a\nMIME-Version: 1.0\n\n", b"{\\rtf1", b"SQLite format 3\x00",
          b"PGDMP", b"-- PostgreSQL database dump\n\nCOPY t (a) FROM stdin;\n",
          b"-- MySQL dump 10.13\nINSERT INTO `t` VALUES (", b"From a@b Mon Jan  1 00:00:00 2024\n",
          b"PAR1", b"ORC", b"Obj\x01", b"!BDN", b"\x00\x01\x00\x00Standard Jet DB\x00",
          b"\x00\x01\x00\x00Standard ACE DB\x00", b""]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MAGICS), st.binary(max_size=4096))
def test_random_bytes_behind_every_magic_number(magic, tail):
    _drain(magic + tail, "x.bin")


def test_every_installed_handler_has_a_seed_or_a_signature_to_fuzz(tmp_path):
    """A new handler is fuzzed too: one of its files is a seed, or one of its signatures starts the random bytes."""
    from vendorscan.formats.extract import kind_of
    from vendorscan.formats.registry import installed
    formats = installed()
    reached = set()
    for name, data in _seeds(tmp_path).items():
        kind, _ = kind_of(data[:65536], name)
        if formats.is_container(kind):
            kind = formats.refine(io.BytesIO(data), kind)
        reached.add(getattr(formats.handler(kind), "id", None))
    for magic in MAGICS:
        reached |= {h.id for h in formats.handlers.values() if any(magic.startswith(m) for m, _ in h.magic)}
    assert set(formats.handlers) - reached == set()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789-+ \nAaXx*•#?@.:;åäöøæ_/SEDKNOFIIS"), max_size=400))
def test_identifier_engine_gives_the_same_hits_compiled_and_in_python(text):
    key = ValueHasher(b"k" * 32)
    a = [(h.kind, h.start, h.end, h.verdict) for h in detect(text, key)]
    b = [(h.kind, h.start, h.end, h.verdict) for h in detect(text, key, compiled=False)]
    assert a == b
