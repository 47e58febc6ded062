"""No plaintext identifier anywhere: terminal progress, JSON debug logs, every report, the state and run stores."""
import os
import sqlite3
import subprocess
import time

import documents as docs
from conftest import OUTSIDE, PLANTED, assert_no_planted, cli, files_under


def _tables(db):
    con = sqlite3.connect(db)
    try:
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(str(row) for n in names for row in con.execute(f'SELECT * FROM "{n}"')).encode()
    finally:
        con.close()


def test_planted_values_in_text_documents_mail_and_screenshots_appear_in_no_output(planted_tree, tmp_path):
    extra = planted_tree / "docs"
    extra.mkdir()
    docs.docx(extra / "a.docx")
    docs.xlsx(extra / "b.xlsx")
    docs.eml(extra / "c.eml", ("d.xlsx", docs.bytes_of(docs.xlsx, "d.xlsx", tmp_path)))
    docs.case_screenshot(extra / "e.png", [PLANTED["dk.cpr"][0]], [PLANTED["se.personnummer"][0]])
    out, state, log = tmp_path / "out", tmp_path / "state", tmp_path / "debug.jsonl"
    # On a pseudo-terminal, so the rich progress display is drawn and can be read back.
    master, slave = os.openpty()
    proc = subprocess.Popen(cli("--log-level", "debug", "--log-format", "json", "scan", planted_tree, "--log-file",
                                log, "--out", out, "--state-dir", state, "--workers", "2", "--environment", "test",
                                "--bundle"),
                            cwd=OUTSIDE, stdin=slave, stdout=slave, stderr=slave, env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    screen = bytearray()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 1, screen.decode("utf-8", "replace")[-2000:]
    assert log.stat().st_size > 0 and b"report.html" in screen and b"\x1b[2K" in screen  # progress was drawn
    blobs = {p: p.read_bytes() for p in files_under(out, state)}
    blobs["terminal"] = bytes(screen)
    for db in list(state.glob("runs/*/run.db")) + [state / "state.db"]:
        blobs[f"{db} (tables)"] = _tables(db)
    assert_no_planted(blobs)
