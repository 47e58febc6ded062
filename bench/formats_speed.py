"""Documents, OCR, tables in files and mail archives through the whole scan: pages/s, images/s, rows/s, messages/s.

    python bench/formats_speed.py [--files 40] [--pages 10] [--images 20] [--workers 0] [--kinds docx,xls,...]

A page is what the format calls one: a PDF page; for Word and RTF ~3,000 characters of text (about one printed
page); for Excel (.xlsx, .xls) 50 rows of 6 columns. SQLite, Parquet, ORC and Avro files and SQL dumps count
rows (read whole: full_scan), mbox archives messages; .doc, .ppt, Access and Outlook files (real samples from
tests/data, read through catdoc, catppt, mdbtools and readpst) count files. Each kind is scanned as its own tree by
`Scan` (all default checks, process pool), so the figures include typing, extraction, detection and the run store.
With --workers 1 (the scan in this process) its CPU seconds too: on a shared machine they wait less on others
(a pool's workers are the forkserver's children, their CPU time is not counted here).
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from vendorscan.agent import config as cfg  # noqa: E402
from vendorscan.demo import documents as demo_documents  # noqa: E402
from vendorscan.agent.engine import Scan  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from vendorscan.checks import synth  # noqa: E402

ROWS_PER_PAGE = 50


def cpu() -> float:
    """CPU seconds used so far by this process and its finished children (programs such as catdoc)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build(tree: Path, files: int, pages: int, images: int) -> dict[str, tuple[int, str]]:
    """Write one tree per kind; returns (units, unit name) per kind."""
    import documents
    rng = random.Random(5)
    text = generate_text(8 * 2**20, seed=9)
    lines = text.splitlines()
    for kind in ("docx", "xlsx", "pdf", "png"):
        (tree / kind).mkdir(parents=True)
    for i in range(files):
        start = rng.randrange(len(lines) - pages * 40)
        body = lines[start:start + pages * 40]  # ~40 lines of ~75 characters: one page
        demo_documents.word(tree / "docx" / f"d{i}.docx", f"Dokument {i}", body)
        demo_documents.excel(tree / "xlsx" / f"x{i}.xlsx", {"Blad1": [
            [f"Namn {r}", synth.real("se.personnummer", rng), rng.randrange(10**6), "avdelning", "2024-05-01",
             rng.random()] for r in range(pages * ROWS_PER_PAGE)]})
        documents.pdf(tree / "pdf" / f"p{i}.pdf", ["\n".join(body[p * 40:(p + 1) * 40]) for p in range(pages)])
    for i in range(images):
        documents.case_screenshot(tree / "png" / f"s{i}.png", [synth.real("dk.cpr", rng) for _ in range(5)],
                                  [synth.real("se.personnummer", rng) for _ in range(5)])
    units = {"docx": (files * pages, "pages"), "xlsx": (files * pages, "pages"), "pdf": (files * pages, "pages"),
             "png": (images, "images")}
    return (units | _suppliers_files(tree, files, pages, lines, rng) | _datalake_files(tree, files, pages, rng)
            | _sample_files(tree, files))


# Real files nothing here can write (tests/data, with their sources): each copied `files` times; a file is the unit.
SAMPLES = {"doc": "raw_text.doc", "ppt": "Single_Coloured_Page_With_Fonts_and_Alignments.ppt",
           "mdb": "fixedTextTestV2000.mdb", "accdb": "fixedTextTestV2007.accdb", "pst": "attachAndInline.pst"}


def _sample_files(tree: Path, files: int) -> dict[str, tuple[int, str]]:
    """Word .doc, PowerPoint .ppt, Access .mdb/.accdb and Outlook .pst trees, read through their programs."""
    data = ROOT / "tests" / "data"
    for kind, name in SAMPLES.items():
        (tree / kind).mkdir(parents=True)
        for i in range(files):
            shutil.copyfile(data / name, tree / kind / f"{i}-{name}")
    return {kind: (files, "files") for kind in SAMPLES}


def _suppliers_files(tree: Path, files: int, pages: int, lines: list[str], rng) -> dict[str, tuple[int, str]]:
    """The legacy, table and mail-archive kinds: .xls, RTF, SQLite, pg_dump and mysqldump files, mbox."""
    import sqlite3
    import xlwt
    for kind in ("xls", "rtf", "sqlite", "pgdump", "mysqldump", "mbox"):
        (tree / kind).mkdir(parents=True)
    rows = pages * ROWS_PER_PAGE * 4
    for i in range(files):
        body = lines[rng.randrange(len(lines) - pages * 40):][:pages * 40]
        book = xlwt.Workbook()
        sheet = book.add_sheet("Blad1")
        for r in range(pages * ROWS_PER_PAGE):
            for c, v in enumerate([f"Namn {r}", synth.real("se.personnummer", rng), rng.randrange(10**6),
                                   "avdelning", "2024-05-01", rng.random()]):
                sheet.write(r, c, v)
        book.save(str(tree / "xls" / f"x{i}.xls"))
        (tree / "rtf" / f"r{i}.rtf").write_text("{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 " + "".join(
            line.replace("\\", " ").replace("{", " ").replace("}", " ") + "\\par\n" for line in body) + "}")
        people = [(n, f"Namn {n}", synth.real("se.personnummer", rng), rng.randrange(10**6)) for n in range(rows)]
        conn = sqlite3.connect(tree / "sqlite" / f"s{i}.sqlite")
        conn.execute("create table staff(id integer primary key, name text, personnummer text, salary int)")
        conn.executemany("insert into staff values(?, ?, ?, ?)", people)
        conn.commit()
        conn.close()
        (tree / "pgdump" / f"p{i}.sql").write_text(
            "-- PostgreSQL database dump\n\nCOPY public.staff (id, name, personnummer, salary) FROM stdin;\n" +
            "".join(f"{a}\t{b}\t{c}\t{d}\n" for a, b, c, d in people) + "\\.\n")
        (tree / "mysqldump" / f"m{i}.sql").write_text(
            "-- MySQL dump 10.13\nCREATE TABLE `staff` (\n  `id` int,\n  `name` text,\n  `personnummer` text,\n"
            "  `salary` int\n);\n" + "".join(
                "INSERT INTO `staff` VALUES " + ",".join(f"({a},'{b}','{c}',{d})" for a, b, c, d in people[k:k + 100])
                + ";\n" for k in range(0, rows, 100)))
        (tree / "mbox" / f"b{i}.mbox").write_text("".join(
            f"From a{m}@kommun.se Mon Jan  1 10:00:00 2024\nFrom: a{m}@kommun.se\nSubject: ärende {m}\n\n"
            f"personnummer {synth.real('se.personnummer', rng)}\n" + "\n".join(body[m * 4:m * 4 + 4]) + "\n\n"
            for m in range(pages * 5)))
    return {"xls": (files * pages, "pages"), "rtf": (files * pages, "pages"), "sqlite": (files * rows, "rows"),
            "pgdump": (files * rows, "rows"), "mysqldump": (files * rows, "rows"), "mbox": (files * pages * 5, "messages")}


def _datalake_files(tree: Path, files: int, pages: int, rng) -> dict[str, tuple[int, str]]:
    """The data-lake kinds: Parquet, ORC and Avro files of the same staff table as the SQLite files."""
    import fastavro
    import pyarrow as pa
    import pyarrow.orc as orc
    import pyarrow.parquet as pq
    for kind in ("parquet", "orc", "avro"):
        (tree / kind).mkdir(parents=True)
    rows = pages * ROWS_PER_PAGE * 4
    schema = fastavro.parse_schema({"type": "record", "name": "Staff", "fields": [
        {"name": "id", "type": "long"}, {"name": "name", "type": "string"},
        {"name": "personnummer", "type": "string"}, {"name": "salary", "type": "long"}]})
    for i in range(files):
        people = [{"id": n, "name": f"Namn {n}", "personnummer": synth.real("se.personnummer", rng),
                   "salary": rng.randrange(10**6)} for n in range(rows)]
        table = pa.Table.from_pylist(people)
        pq.write_table(table, tree / "parquet" / f"s{i}.parquet")
        orc.write_table(table, tree / "orc" / f"s{i}.orc")
        with open(tree / "avro" / f"s{i}.avro", "wb") as out:
            fastavro.writer(out, schema, people)
    return {"parquet": (files * rows, "rows"), "orc": (files * rows, "rows"), "avro": (files * rows, "rows")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--workers", type=int, default=0, help="0 = one per core")
    ap.add_argument("--kinds", default="", help="comma-separated kinds to run (default: all)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-formats-"))
    try:
        units = build(work / "tree", args.files, args.pages, args.images)
        in_process = args.workers == 1
        print("| kind | files | pages or images | findings | seconds | per second |"
              + (" CPU seconds | per CPU second |" if in_process else ""))
        print("|---|---|---|---|---|---|" + ("---|---|" if in_process else ""))
        wanted = set(filter(None, args.kinds.split(","))) or set(units)
        for kind, (n, unit) in units.items():
            if kind not in wanted:
                continue
            config = cfg.parse({"executor": {"workers": args.workers, "unit_files": 4}, "formats": {"full_scan": True},
                                "targets": [{"name": kind, "type": "local", "paths": [str(work / "tree" / kind)]}]})
            t0, c0 = time.perf_counter(), cpu()
            result = Scan(config, state=work / f"state-{kind}", full=True).run()
            seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
            cov = result.coverage[0]
            findings = sum(1 for f in result.store.findings() if f.category == "national_id")
            result.store.close()
            assert cov.complete and not cov.skipped, (kind, cov.skipped)
            print(f"| {kind} | {cov.resources_read} | {n} {unit} | {findings} | {seconds:.1f} | "
                  f"{n / seconds:.1f} {unit}/s |"
                  + (f" {cpu_seconds:.2f} | {n / cpu_seconds:.1f} {unit}/s |" if in_process else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
