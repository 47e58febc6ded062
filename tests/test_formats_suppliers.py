"""The files suppliers keep: .xls, RTF, SQLite files, SQL dumps, mbox — planted ids found at their place, end to end."""
import json
import sqlite3

from conftest import assert_no_planted, run_cli


def _tree(d):
    import xlwt
    book = xlwt.Workbook()
    sheet = book.add_sheet("Personal")
    sheet.write(0, 0, "namn"), sheet.write(0, 1, "personnummer"), sheet.write(1, 0, "Anna")
    sheet.write(1, 1, "19850412-1230")
    book.save(str(d / "a.xls"))
    conn = sqlite3.connect(d / "b.sqlite")
    conn.execute("create table emp(name text, cpr text)")
    conn.execute("insert into emp values('Bo', '120485-1006')")
    conn.commit()
    conn.close()
    (d / "c.rtf").write_text(r"{\rtf1\ansi{\fonttbl\f0 Arial;}\f0 Hej\par personnummer 850412-1230\par}")
    (d / "d.sql").write_text("-- PostgreSQL database dump\n\nCOPY public.emp (id, name, pnr) FROM stdin;\n"
                             "1\tAnna\t850412-1230\n\\.\n")
    (d / "e.sql").write_text("-- MySQL dump 10.13\nCREATE TABLE `emp` (\n  `id` int,\n  `cpr` varchar(20),\n"
                             "  PRIMARY KEY (`id`)\n);\nINSERT INTO `emp` VALUES (1,'x'),(2,'120485-1006');\n")
    (d / "f.mbox").write_text("From a@b.se Mon Jan  1 10:00:00 2024\nFrom: a@b.se\nSubject: hi\nMessage-ID: <1@b>\n\n"
                              "personnummer 850412-1230\n\nFrom c@d.se Mon Jan  1 11:00:00 2024\nFrom: c@d.se\n"
                              "Subject: two\n\nCPR 120485-1006\n")


def test_each_kind_found_with_its_location_through_the_installed_command(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    _tree(tree)
    out = tmp_path / "out"
    proc = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "s", "--quiet")
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads((out / "report.json").read_text())
    where = {}
    for f in report["findings"]:
        if f["kind"] in ("se.personnummer", "dk.cpr"):
            where.setdefault(f["resource"].rsplit("/", 1)[-1], []).extend(o["location"] for o in f["occurrences"])
    assert {"sheet": "Personal", "column_name": "personnummer", "cell": "B2"}.items() <= where["a.xls"][0].items()
    assert {"table": "emp", "column_name": "cpr", "row_key": "#1"}.items() <= where["b.sqlite"][0].items()
    assert where["c.rtf"][0]["paragraph"] == 2
    assert {"table": "public.emp", "column_name": "pnr", "row_key": "#1"}.items() <= where["d.sql"][0].items()
    assert {"table": "emp", "column_name": "cpr", "row_key": "#2"}.items() <= where["e.sql"][0].items()
    assert {loc["member"] for loc in where["f.mbox"]} == {"message 1.eml", "message 2.eml"}
    copies = {f["resource"].rsplit("/", 1)[-1]: f for f in report["findings"] if f["kind"] == "exposure.database_copy"}
    assert set(copies) == {"b.sqlite", "d.sql", "e.sql"}  # files read as tables: database copies on a share
    assert copies["b.sqlite"]["details"]["tables"] == ["emp"] and copies["b.sqlite"]["distinct"] == 1
    text = json.dumps(report)
    assert "unsupported-format" not in text
    assert_no_planted({p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} | {"stdout": proc.stdout.encode()})
