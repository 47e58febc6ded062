"""report.json's schema constrains what a report claims: generated from the definitions it names, it accepts the
demo's report and rejects each of fifteen ways a report could be wrong."""
import copy
import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from conftest import load_json, run_cli

ROOT = Path(__file__).resolve().parent.parent


def _validator():
    schema = json.loads((files("reports") / "schema" / "report.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A real scan's report.json: ids, test numbers, masked values, access findings and a skip in one tree."""
    base = tmp_path_factory.mktemp("schema")
    tree = base / "tree"
    (tree / "hr").mkdir(parents=True)
    (tree / "hr/staff.csv").write_text("namn;personnummer\nAnna;850412-1230\nBo;850412-****\n")
    (tree / "hr/mail.txt").write_text("e-post anna.lindqvist@kommun-exempel.se, CPR 120485-1006\n")
    (tree / "hr/broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    proc = run_cli("scan", tree, "--out", base / "out", "--state-dir", base / "state", "--quiet")
    assert "Traceback" not in proc.stderr, proc.stderr
    return load_json(base / "out" / "report.json")


def test_the_shipped_schema_is_the_generated_one():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "report_schema.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_real_report_is_valid(report):
    _validator().validate(report)
    assert {f["verdict"] for f in report["findings"]} >= {"real", "masked"}
    assert all("value_hash" not in f or f["value_hash"] for f in report["findings"])  # filled or gone


def _first(report, pred):
    return next(f for f in report["findings"] if pred(f))


def _national(r):
    return _first(r, lambda f: f["category"] == "national_id" and f["verdict"] == "real")


MUTATIONS = {
    "unknown top-level field": lambda r: r.update(extra=1),
    "unknown scan field": lambda r: r["scan"].update(colour="red"),
    "severity not in the rule": lambda r: _national(r).update(severity="urgent"),
    "verdict not a verdict": lambda r: _national(r).update(verdict="probably"),
    "kind nobody defines": lambda r: _national(r).update(kind="Swedish id"),
    "plaintext evidence": lambda r: _national(r).update(evidence=["850412-1230"]),
    "plaintext occurrence evidence": lambda r: _national(r)["occurrences"][0].update(evidence="850412-1230"),
    "finding-level value_hash null": lambda r: _national(r).update(value_hash=None),
    "value hash not a hash": lambda r: _national(r)["occurrences"][0].update(value_hash="850412-1230"),
    "skip reason nobody declares": lambda r: r["skipped"].append(
        {"uri": "file:///x", "target": "t", "reason": "felt like it", "detail": ""}),
    "skip count under an unknown reason": lambda r: r["targets"][0]["skipped"].update(whatever=1),
    "unknown location field": lambda r: _national(r)["locations"][0].update(colour="red"),
    "unknown details field": lambda r: _national(r)["details"].update(secret="x"),
    "negative count": lambda r: _national(r).update(count=-1),
    "summary missing a severity": lambda r: r["summary"]["findings_by_severity"].pop("info"),
}


def test_fifteen_mutations_are_each_rejected(report):
    assert len(MUTATIONS) == 15
    validator = _validator()
    for name, mutate in MUTATIONS.items():
        doc = copy.deepcopy(report)
        mutate(doc)
        assert not validator.is_valid(doc), f"the schema accepted a report with: {name}"
