"""Identifiers in names: file, folder, member, attachment, sheet, table and column names and row keys.

Each is a finding located at the name, and no name is recorded or shown with the identifier in it:
not in reports, the bundle, state.db, the run store, the debug log, the terminal, `history` or `diff`.
"""
import sqlite3

import openpyxl

import documents as docs
from conftest import PLANTED, assert_no_planted, files_under, load_json, run_cli

SE, SE_BARE = PLANTED["se.personnummer"][0], PLANTED["se.personnummer"][1]  # 850412-1230
DK = PLANTED["dk.cpr"][1]  # 1204851006
IS = PLANTED["is.kennitala"][0]
NO = PLANTED["no.fodselsnummer"][0]
EMAIL = PLANTED["email"][0]
CARD = PLANTED["card"][0]


def _luhn_serial(date6: str, serial3: str) -> str:
    """A Swedish personnummer with the given date and serial and its real check digit."""
    digits = date6 + serial3
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(digits))
    return f"{date6}-{serial3}{(10 - total % 10) % 10}"


SE_TWIN = _luhn_serial("850412", "567")  # the same birth date: masks alike, another person


def _estate(root):
    hr = root / "hr"
    (hr / f"sag-{DK}").mkdir(parents=True)
    (hr / f"sag-{DK}" / "notes.txt").write_text("inget här\n")
    (hr / f"lonespec-{SE}.txt").write_text("lönespecifikation\n")
    (hr / f"lonespec-{SE_TWIN}.txt").write_text("lönespecifikation\n")
    (hr / f"{EMAIL}.txt").write_text("kontakt\n")
    docs.zip_of(hr / "export.zip", {f"personal/{SE_BARE}.txt": b"hej\n", "readme.txt": b"hej\n"})
    docs.eml(hr / "mail.eml", (f"kennitala-{IS}.txt", b"bilaga\n"))
    wb = openpyxl.Workbook()
    wb.active.title = f"fnr {NO}"
    wb.active["A1"] = "hej"
    wb.save(hr / "staff.xlsx")
    db = root / "hr.sqlite"
    con = sqlite3.connect(db)
    con.execute(f'CREATE TABLE "emp_{SE_BARE}" (id TEXT PRIMARY KEY, "kennitala {IS}" TEXT, note TEXT)')
    con.executemany(f'INSERT INTO "emp_{SE_BARE}" VALUES (?,?,?)',
                    [(EMAIL, "x", "sjukskrivning"), (CARD, "y", "sjukskrivning"), ("plain-7", "z", DK)])
    con.commit()
    con.close()
    return hr, db


def _scan(tmp_path, root, hr, db, out):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[targets]]\nname = "share"\ntype = "local"\npaths = ["{hr}"]\n\n'
                   f'[[targets]]\nname = "db"\ntype = "odbc"\nenvironment = "test"\n'
                   f'connection_string = "Driver={{SQLite3}};Database={db}"\n')
    return run_cli("--log-level", "debug", "scan", "--config", cfg, "--out", out, "--state-dir",
                   tmp_path / "state", "--bundle", "--log-file", tmp_path / "debug.jsonl", "--workers", "2")


def test_identifiers_in_names_are_findings_and_never_shown(open_dir, tmp_path):
    hr, db = _estate(open_dir)
    first = _scan(tmp_path, open_dir, hr, db, tmp_path / "out1")
    assert first.returncode == 1, first.stdout + first.stderr
    report = load_json(tmp_path / "out1" / "report.json")
    found = {}
    for f in report["findings"]:
        for occ in f["occurrences"]:
            if occ["location"].get("section", "").endswith("name"):
                found.setdefault((f["kind"], occ["location"]["section"]), []).append(f["resource"])
    assert len([r for r in found[("se.personnummer", "name")] if r.startswith("file:")]) == 2  # the payslips
    assert [r for r in found[("se.personnummer", "name")] if r.startswith("odbc:")]  # the table's name
    assert found[("dk.cpr", "name")] == [r for r in found[("dk.cpr", "name")] if "sag-120485-****" in r]
    assert ("email", "name") in found
    assert ("se.personnummer", "member name") in found  # export.zip › personal/8504121230.txt
    assert ("is.kennitala", "member name") in found  # the mail's attachment
    assert ("no.fodselsnummer", "sheet name") in found
    assert ("is.kennitala", "column name") in found
    # names that mask alike stay two resources, each browsable by its masked name
    payslips = sorted(r for r in found[("se.personnummer", "name")] if r.startswith("file:"))
    assert payslips[0] != payslips[1] and all("lonespec-850412-****.txt#h=" in p for p in payslips)
    # the table's name holds an id: its resource and the rows' locations show it masked; so do row keys
    table = [f for f in report["findings"] if f["target"] == "db" and f["check_id"] == "identifiers"]
    keys = {o["location"].get("row_key") for f in table for o in f["occurrences"]}
    assert "plain-7" in keys and not {k for k in keys if k and (EMAIL in k or "0366" in k and "*" not in k)}
    assert all("emp_850412" not in f["resource"] or "****" in f["resource"] for f in table)
    # the second scan reads nothing again, and finds the names' ids again exactly once
    second = _scan(tmp_path, open_dir, hr, db, tmp_path / "out2")
    assert second.returncode == 1, second.stdout + second.stderr
    again = load_json(tmp_path / "out2" / "report.json")
    assert sorted((f["fingerprint"], f["count"]) for f in again["findings"]) == sorted(
        (f["fingerprint"], f["count"]) for f in report["findings"])
    state = tmp_path / "state"
    history = run_cli("history", "--state-dir", state)
    ids = [line.split()[0] for line in history.stdout.splitlines() if line[:1].isdigit()]
    diff = run_cli("diff", ids[0], ids[-1], "--state-dir", state)
    assert history.returncode == 0 and diff.returncode == 0, history.stderr + diff.stderr
    blobs = {p: p.read_bytes() for p in files_under(tmp_path / "out1", tmp_path / "out2", state)}
    blobs[tmp_path / "debug.jsonl"] = (tmp_path / "debug.jsonl").read_bytes()
    for db_file in [state / "state.db", *state.glob("runs/*/run.db")]:
        con = sqlite3.connect(db_file)
        blobs[f"{db_file} (tables)"] = "\n".join(
            str(row) for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for row in con.execute(f'SELECT * FROM "{t}"')).encode()
        con.close()
    for name, proc in (("scan 1", first), ("scan 2", second), ("history", history), ("diff", diff)):
        blobs[f"{name} (terminal)"] = (proc.stdout + proc.stderr).encode()
    assert_no_planted(blobs)
    assert "sag-120485-****" in (tmp_path / "out1" / "report.html").read_text()
