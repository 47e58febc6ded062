"""report.json grows with findings, not occurrences: a bounded list per finding, every occurrence still counted and
hashed for persons, and the whole list, when asked for, streamed and compressed beside it."""
import gzip
import json
import random

from conftest import load_json, run_cli
from vendorscan.checks import synth

ROWS = 600


def _dense(tmp_path):
    rng = random.Random(24)
    tree = tmp_path / "dense"
    tree.mkdir()
    ids = [synth.real("se.personnummer", rng) for _ in range(ROWS)]
    (tree / "hr_full.csv").write_text("namn;personnummer\n" + "".join(f"Anställd {i};{v}\n" for i, v in enumerate(ids)),
                                      encoding="utf-8")
    return tree, ids


def _scan(tmp_path, tree, config):
    cfg = tmp_path / "c.toml"
    cfg.write_text(config, encoding="utf-8")
    proc = run_cli("scan", tree, "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "state",
                   "--quiet")
    return proc, load_json(tmp_path / "out" / "report.json")


def test_a_finding_lists_a_bounded_number_of_occurrences_and_counts_them_all(tmp_path):
    tree, ids = _dense(tmp_path)
    proc, report = _scan(tmp_path, tree, '[scan]\nreport_occurrences = 50\nformats = ["json", "occurrences"]\n')
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [se] = [f for f in report["findings"] if f["kind"] == "se.personnummer"]
    assert (se["count"], se["distinct"], len(se["occurrences"]), se["occurrences_omitted"]) == (ROWS, ROWS, 50, ROWS - 50)
    assert report["summary"]["exposed_persons"] == ROWS  # every one hashed for persons, listed or not
    assert [o["location"]["line"] for o in se["occurrences"]] == list(range(2, 52))  # the first ones, in order
    with gzip.open(tmp_path / "out" / "occurrences.jsonl.gz", "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    mine = [o for o in lines if o["fingerprint"] == se["fingerprint"]]
    assert len(mine) == ROWS and len({o["value_hash"] for o in mine}) == ROWS
    assert mine[:50] == [{"fingerprint": se["fingerprint"], "target": se["target"], "resource": se["resource"],
                          "kind": se["kind"], "verdict": se["verdict"], **o} for o in se["occurrences"]]
    raw = gzip.decompress((tmp_path / "out" / "occurrences.jsonl.gz").read_bytes())
    for value in ids:
        assert value.encode() not in raw and value.replace("-", "").encode() not in raw


def test_the_default_lists_up_to_ten_thousand_and_writes_no_occurrence_file(tmp_path):
    tree, _ = _dense(tmp_path)
    _, report = _scan(tmp_path, tree, "")
    [se] = [f for f in report["findings"] if f["kind"] == "se.personnummer"]
    assert len(se["occurrences"]) == ROWS and "occurrences_omitted" not in se
    assert not (tmp_path / "out" / "occurrences.jsonl.gz").exists()  # only when asked for


def test_a_negative_bound_is_a_config_error(tmp_path):
    tree, _ = _dense(tmp_path)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[scan]\nreport_occurrences = -1\n", encoding="utf-8")
    proc = run_cli("scan", tree, "--config", cfg, "--state-dir", tmp_path / "state")
    assert proc.returncode == 2 and "scan.report_occurrences" in proc.stderr
