"""Scan history, finding lifecycle, accepted risks and incremental rescans, through the command line."""
import os
import sqlite3

from conftest import load_json, run_cli


def _scan(tree, tmp_path, name, *extra):
    out = tmp_path / name
    proc = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "state", "--quiet", "--workers", "1",
                   "--environment", "test", *extra)
    return proc, load_json(out / "report.json")


def _by_file(report):
    return {(f["resource"].rsplit("/", 1)[1], f["kind"]): f for f in report["findings"] if f["check_id"] == "identifiers"}


def test_lifecycle_over_three_scans_and_incremental_reads(open_dir, tmp_path):
    tree = open_dir / "tree"
    tree.mkdir()
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    (tree / "b.csv").write_text("CPR-nr 120485-1006\n")
    proc1, r1 = _scan(tree, tmp_path, "s1")
    assert r1["scan"]["lifecycle"]["new"] == len(r1["findings"])
    assert r1["targets"][0]["resources_read"] == 2

    # scan 2: nothing changed -> nothing read again, everything persisting, same findings
    proc2, r2 = _scan(tree, tmp_path, "s2")
    assert r2["targets"][0]["resources_read"] == 0 and r2["targets"][0]["resources_unchanged"] == 2
    assert r2["scan"]["lifecycle"]["new"] == 0 and r2["scan"]["lifecycle"]["persisting"] == len(r2["findings"])
    assert {f["fingerprint"] for f in r2["findings"]} == {f["fingerprint"] for f in r1["findings"]}
    carried = _by_file(r2)[("a.csv", "se.personnummer")]
    assert carried["details"]["carried_over"] and carried["occurrences"]  # every location still in the JSON

    # scan 3: a.csv fixed, c.csv added, b.csv untouched
    (tree / "a.csv").write_text("personnummer 850412-XXXX\n")
    os.utime(tree / "a.csv", (1, 1_700_000_000))
    (tree / "c.csv").write_text("henkilötunnus 131052-308T\n")
    proc3, r3 = _scan(tree, tmp_path, "s3")
    assert r3["targets"][0]["resources_read"] == 2 and r3["targets"][0]["resources_unchanged"] == 1
    found = _by_file(r3)
    assert ("a.csv", "se.personnummer") not in found and ("c.csv", "fi.hetu") in found
    assert r3["scan"]["lifecycle"]["resolved"] >= 1 and r3["scan"]["lifecycle"]["new"] >= 1

    ids = [r["scan"]["scan_id"] for r in (r1, r2, r3)]
    diff = run_cli("diff", ids[0], ids[2], "--state-dir", tmp_path / "state")
    assert diff.returncode == 0
    assert "new" in diff.stdout and "resolved" in diff.stdout and "henkilötunnus" in diff.stdout
    history = run_cli("history", "--state-dir", tmp_path / "state")
    assert all(i in history.stdout for i in ids)

    # --full reads everything again
    _, r4 = _scan(tree, tmp_path, "s4", "--full")
    assert r4["targets"][0]["resources_read"] == 3

    db = sqlite3.connect(tmp_path / "state" / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    dump = "\n".join(str(r) for t in ("scans", "findings", "scan_findings", "cache") for r in db.execute(f"SELECT * FROM {t}"))
    for value in ("850412-1230", "8504121230", "120485-1006", "1204851006", "131052-308T"):
        assert value not in dump


def test_changed_checks_invalidate_the_cache(open_dir, tmp_path):
    tree = open_dir / "t2"
    tree.mkdir()
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    _scan(tree, tmp_path, "x1")
    cfg = tmp_path / "c.toml"
    cfg.write_text("[checks.identifiers]\nmin_confidence = 0.5\n")
    _, r = _scan(tree, tmp_path, "x2", "--config", cfg)
    assert r["targets"][0]["resources_read"] == 1 and r["targets"][0]["resources_unchanged"] == 0


def test_accepted_risk_is_reported_but_does_not_fail(open_dir, tmp_path):
    tree = open_dir / "t3"
    tree.mkdir(mode=0o700)
    os.chmod(tree, 0o700)
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    proc, r = _scan(tree, tmp_path, "y1")
    assert proc.returncode == 1
    for f in r["findings"]:
        if f["severity"] in ("critical", "high"):
            ok = run_cli("accept", f["fingerprint"], "--reason", "test copy approved by the DPO until 2027-01",
                         "--by", "auditor", "--state-dir", tmp_path / "state")
            assert ok.returncode == 0, ok.stdout + ok.stderr
    proc, r = _scan(tree, tmp_path, "y2")
    assert proc.returncode == 0, proc.stdout
    assert r["scan"]["lifecycle"]["accepted"] >= 1
    html = (tmp_path / "y2" / "report.html").read_text(encoding="utf-8")
    assert "Accepted risk" in html and "approved by the DPO" in html
    bad = run_cli("accept", "0" * 32, "--reason", "x", "--state-dir", tmp_path / "state")
    assert bad.returncode == 2 and "no finding" in bad.stderr


def test_a_second_scan_on_the_same_state_dir_is_refused_while_the_first_runs(open_dir, tmp_path):
    from vendorscan.agent.state import ScanLock
    tree = open_dir / "t"
    tree.mkdir()
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    state = tmp_path / "state"
    state.mkdir()
    with ScanLock(state):  # as a running scan holds it
        proc = run_cli("scan", tree, "--state-dir", state, "--out", tmp_path / "o", "--quiet")
    assert proc.returncode == 2
    assert "another scan" in proc.stderr and "--state-dir" in proc.stderr and "Traceback" not in proc.stderr
    assert not (state / "runs").exists() or not any((state / "runs").iterdir())  # nothing started, nothing marked
    assert run_cli("scan", tree, "--state-dir", state, "--out", tmp_path / "o", "--quiet").returncode == 1


def _kept_two(open_dir, tmp_path, name):
    """A folder with one id and a config that keeps two run stores."""
    tree = open_dir / name
    tree.mkdir()
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[scan]\nkeep_runs = 2\n[[targets]]\nname = "{name}"\ntype = "local"\npaths = ["{tree}"]\n')
    return tree, cfg


def test_run_stores_beyond_keep_runs_are_removed(open_dir, tmp_path):
    _, cfg = _kept_two(open_dir, tmp_path, "k")
    for i in range(4):
        assert run_cli("scan", "--config", cfg, "--state-dir", tmp_path / "s", "--out", tmp_path / f"o{i}",
                       "--quiet").returncode == 1
    runs = sorted(p.name for p in (tmp_path / "s" / "runs").iterdir())
    assert len(runs) == 2
    history = sqlite3.connect(tmp_path / "s" / "state.db").execute("SELECT COUNT(*) FROM scans").fetchone()[0]
    assert history == 4  # the history keeps every scan; only the bulky run stores go


def test_carried_occurrences_are_referenced_and_freed_only_when_no_kept_run_needs_them(open_dir, tmp_path):
    from vendorscan.agent.engine import ScanResult
    from vendorscan.reports.json import JsonReport
    tree, cfg = _kept_two(open_dir, tmp_path, "ref")
    state = tmp_path / "s"

    def scan(i):
        assert run_cli("scan", "--config", cfg, "--state-dir", state, "--out", tmp_path / f"o{i}",
                       "--quiet").returncode in (0, 1)
        return sorted(p.name for p in (state / "runs").iterdir())[-1]

    first, second = scan(1), scan(2)
    run_db = sqlite3.connect(state / "runs" / second / "run.db")
    assert run_db.execute("SELECT COUNT(*) FROM value_sets").fetchone()[0] == 0  # referenced, not copied
    assert run_db.execute("SELECT entry FROM carried").fetchall() == [(first,)]
    (tree / "a.csv").write_text("personnummer 720915-4561\n")
    os.utime(tree / "a.csv", (2_000_000_000, 2_000_000_000))
    third = scan(3)  # a.csv read again; the first scan's run store is pruned, the second's still refers to it
    again = ScanResult.load(state / "runs" / second)
    JsonReport().render(again, tmp_path / "again")
    again.store.close()
    occ = [o for f in load_json(tmp_path / "again" / "report.json")["findings"] for o in f["occurrences"]
           if f["kind"] == "se.personnummer"]
    assert [o["evidence"] for o in occ] == ["850412-****"]  # the second scan's evidence, still whole
    entries = lambda: {e for (e,) in sqlite3.connect(state / "state.db").execute(  # noqa: E731
        "SELECT DISTINCT entry FROM cache_value_sets")}
    assert entries() == {first, third}
    scan(4)  # now no kept run refers to the first reading
    assert entries() == {third}


def test_a_deleted_file_leaves_the_cache_after_a_complete_scan(open_dir, tmp_path):
    tree = open_dir / "del"
    tree.mkdir()
    for name in ("a.csv", "b.csv"):
        (tree / name).write_text("personnummer 850412-1230\n")
    state = tmp_path / "s"
    cached = lambda: sorted(u.rsplit("/", 1)[1] for (u,) in sqlite3.connect(state / "state.db").execute(  # noqa: E731
        "SELECT uri FROM cache"))
    run_cli("scan", tree, "--state-dir", state, "--out", tmp_path / "o1", "--quiet")
    assert cached() == ["a.csv", "b.csv"]
    (tree / "b.csv").unlink()
    run_cli("scan", tree, "--state-dir", state, "--out", tmp_path / "o2", "--quiet")
    assert cached() == ["a.csv"]


def test_a_scan_result_saved_and_loaded_keeps_every_field(tmp_path):
    """`vendorscan bundle SCAN_ID` renders from a loaded result: lifecycle, accepted risks, resumption, language
    and every coverage figure must come back as the scan had them."""
    import dataclasses
    from vendorscan.agent.engine import ScanResult
    from vendorscan.model import Coverage
    cov = Coverage("t", "local", "test", resources_seen=9, resources_read=5, resources_unchanged=3, bytes_read=70,
                   rows_sampled=2, skipped={"timeout": 1}, errors=["e"], complete=False, weaknesses=["w"])
    run_dir = tmp_path / "runs" / "S1"
    run_dir.mkdir(parents=True)
    result = ScanResult("S1", "cd", "kd", "0.1.0", "start", ended="end", coverage=[cov], errors=["err"],
                        run_dir=run_dir, checks=[{"id": "identifiers", "version": "1", "description": "d",
                                                  "kind": "content"}], host="host", operator="op", fail_on="medium",
                        public_key="ed25519:k", lifecycle={"new": 2}, accepted={"fp": ["who", "why", "when"]},
                        resumed_from="S0", lang="sv", stopped=True, report_occurrences=7,
                        summary={"risk": "high", "findings_total": 3})
    unset = [f.name for f in dataclasses.fields(ScanResult) if f.name != "store" and getattr(result, f.name) == f.default]
    assert unset == [], f"give every field a value that is not its default: {unset}"
    result.save()
    loaded = ScanResult.load(run_dir)
    loaded.store.close()
    for f in dataclasses.fields(ScanResult):
        if f.name not in ("store", "run_dir"):
            assert getattr(loaded, f.name) == getattr(result, f.name), f.name


def test_the_stores_tables_are_the_declared_records(open_dir, tmp_path):
    """Value set and finding rows are declared once (agent/records.py); every table that holds them follows."""
    from vendorscan.agent.records import FindingRow, ValueSet
    (open_dir / "a.csv").write_text("personnummer 850412-1230\n")
    state = tmp_path / "s"
    assert run_cli("scan", open_dir, "--state-dir", state, "--out", tmp_path / "o", "--quiet").returncode in (0, 1)
    run_db = next(state.glob("runs/*/run.db"))

    def cols(db, table):
        return tuple(row[1] for row in sqlite3.connect(db).execute(f"PRAGMA table_info({table})"))

    assert cols(run_db, "value_sets") == ValueSet._fields
    assert cols(run_db, "findings") == FindingRow._fields
    assert cols(state / "state.db", "cache_value_sets") == ("entry", "superseded_by", *ValueSet._fields)
    assert cols(state / "state.db", "cache_findings") == FindingRow._fields


def test_the_declared_records_give_the_column_types_queries_rely_on():
    from vendorscan.agent.records import FindingRow, ValueSet, columns
    assert "severity INTEGER" in columns(FindingRow) and "distinct_count INTEGER" in columns(FindingRow)
    assert "hashes BLOB" in columns(ValueSet) and "distinct_count INTEGER" in columns(ValueSet) and "fingerprint TEXT PRIMARY KEY" in columns(FindingRow, "fingerprint")


def test_a_state_db_of_schema_2_is_migrated_and_its_old_runs_are_refused_by_name(tmp_path):
    """Version 3 keeps values as value sets: the old cache is emptied (read again once), an old run is not re-rendered."""
    from vendorscan.agent.state import SCHEMA_VERSION, State, _MIGRATIONS
    state = tmp_path / "s"
    state.mkdir()
    db = sqlite3.connect(state / "state.db")
    for version in (1, 2):
        db.executescript(_MIGRATIONS[version])
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO cache VALUES ('t', 'file:///a', 'm', 'd', 'S0')")
    db.execute("INSERT INTO cache_occurrences (entry, target, resource) VALUES ('S0', 't', 'file:///a')")
    db.commit()
    db.close()
    State(state).close()
    db = sqlite3.connect(state / "state.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("SELECT COUNT(*) FROM cache").fetchone()[0] == 0
    tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "cache_value_sets" in tables and "cache_occurrences" not in tables
    old = state / "runs" / "S0"
    old.mkdir(parents=True)
    (old / "result.json").write_text("{}")
    sqlite3.connect(old / "run.db").executescript("CREATE TABLE occurrences (target TEXT); CREATE TABLE findings (x)")
    proc = run_cli("bundle", "S0", "--state-dir", state, "--out", tmp_path / "o")
    assert proc.returncode == 2 and "made by an earlier vendorscan" in proc.stderr and "Traceback" not in proc.stderr
