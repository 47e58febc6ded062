"""`vendorscan scan` end to end as a subprocess: findings, reports, exit codes, no plaintext anywhere."""
import os
import sqlite3
from html.parser import HTMLParser

import pytest

from conftest import PLANTED, assert_no_planted, files_under, load_json, run_cli


class _Counts(HTMLParser):
    """Reads the severity counts and finding rows out of report.html."""

    def __init__(self):
        super().__init__()
        self.severity, self.rows, self._sev = {}, 0, None
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-severity" in a:
            self._sev = a["data-severity"]
        if tag == "tr" and "finding" in (a.get("class") or ""):
            self.rows += 1

    def handle_data(self, data):
        if self._sev:
            self.severity[self._sev] = int(data)
            self._sev = None
        self.text.append(data)


@pytest.fixture(params=[1, 2], ids=["inline", "pool"])
def scanned(request, planted_tree, tmp_path):
    out, state = tmp_path / "out", tmp_path / "state"
    log = tmp_path / "debug.log"
    proc = run_cli("--log-level", "debug", "scan", planted_tree, "--out", out, "--state-dir", state, "--quiet",
                   "--workers", request.param, "--log-file", log, "--environment", "test")
    return proc, out, state, log


def test_findings_reports_and_exit_code(scanned):
    proc, out, state, log = scanned
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    report = load_json(out / "report.json")
    assert report["schema_version"]
    kinds = {(f["kind"], f["verdict"]) for f in report["findings"]}
    for kind in PLANTED:
        assert (kind, "real") in kinds, kind
    assert ("special.health", "real") in kinds
    se = [f for f in report["findings"] if f["kind"] == "se.personnummer" and f["resource"].endswith("staff.csv")]
    assert se[0]["count"] == 2 and se[0]["distinct"] == 1  # one person, two forms
    assert all(o["location"]["line"] in (2, 3) for o in se[0]["occurrences"])
    latin = [f for f in report["findings"] if f["resource"].endswith("latin.txt")]
    assert latin and latin[0]["occurrences"][0]["location"] == {"line": 1, "column": 21, "end_column": 33, "offset": 20}
    assert any(f["kind"] == "se.personnummer" and f["resource"].endswith("utf16.txt") for f in report["findings"])
    exposure = [f for f in report["findings"] if f["check_id"] == "exposure"]
    assert {f["kind"] for f in exposure} >= {"exposure.everyone", "exposure.test_environment"}
    assert report["summary"]["exposed_persons"] == 5  # SE, DK, NO, FI, IS: one person each
    assert report["targets"][0]["complete"] is True
    # HTML: parses, and shows the same counts
    parser = _Counts()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    assert parser.severity == report["summary"]["findings_by_severity"]
    assert parser.rows == len(report["findings"])
    assert "report.html" in proc.stdout and "exit 1" in proc.stdout


def test_no_plaintext_in_any_output(scanned):
    proc, out, state, log = scanned
    assert log.stat().st_size > 0
    outputs = list(files_under(out, state)) + [log]
    blobs = {p: p.read_bytes() for p in outputs}
    from vendorscan.agent.values import listed_occurrences
    dbs = [(db, ("findings", "value_sets", "skipped", "resources")) for db in state.glob("runs/*/run.db")]
    dbs.append((state / "state.db", ("findings", "cache_findings", "cache_value_sets")))
    for db, tables in dbs:  # the SQLite file may hold text in pages not yet vacuumed: dump every table too
        con = sqlite3.connect(db)
        text = "\n".join(str(r) for t in tables for r in con.execute(f"SELECT * FROM {t}"))
        # The listed occurrences are compressed: a plain grep of the file could not see a value in them.
        for t in tables[1:]:
            if t.endswith("value_sets"):
                text += "\n".join(str(o) for (b,) in con.execute(f"SELECT listed FROM {t}")
                                  for o in listed_occurrences(b))
        blobs[db.with_suffix(".dump")] = text.encode()
    assert b"-****" in blobs[state / "state.dump"]  # the listed evidence was decoded and searched
    blobs["stdout"] = (proc.stdout + proc.stderr).encode()
    assert_no_planted(blobs)


def test_outputs_are_private(scanned):
    _, out, state, _ = scanned
    for p in list(files_under(out)) + list(state.glob("runs/*/run.db")) + [state / "hash.key"]:
        assert p.stat().st_mode & 0o077 == 0, p


def test_clean_tree_exits_0(tmp_path):
    tree = tmp_path / "clean"
    tree.mkdir(mode=0o700)
    (tree / "readme.txt").write_text("Nothing personal here. Order 2003115678 shipped.\n")
    proc = run_cli("scan", tree, "--out", tmp_path / "out", "--state-dir", tmp_path / "s", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_missing_path_makes_scan_incomplete_exit_2(tmp_path):
    proc = run_cli("scan", tmp_path / "does-not-exist", "--out", tmp_path / "out", "--state-dir", tmp_path / "s",
                   "--quiet")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "INCOMPLETE" in proc.stdout
    report = load_json(tmp_path / "out" / "report.json")
    assert report["skipped"][0]["reason"] == "not-found"


def test_fail_on_threshold(planted_tree, tmp_path):
    proc = run_cli("scan", planted_tree, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   "--fail-on", "critical", "--workers", "1")
    report = load_json(tmp_path / "o" / "report.json")
    has_critical = report["summary"]["findings_by_severity"]["critical"] > 0
    assert proc.returncode == (1 if has_critical else 0)


def test_binary_file_is_listed_as_skipped(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "tool.bin").write_bytes(b"\x7fELF" + os.urandom(100))
    (tree / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))  # says PNG, isn't one
    proc = run_cli("scan", tree, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet")
    report = load_json(tmp_path / "o" / "report.json")
    assert sorted((s["uri"].rsplit("/", 1)[1], s["reason"]) for s in report["skipped"]) == [
        ("pic.png", "malformed"), ("tool.bin", "unsupported-format")]
    assert proc.returncode == 0  # a format we do not read is coverage information, not a failure
    assert "unsupported-format 1" in proc.stdout
