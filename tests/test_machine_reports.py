"""SARIF and OCSF outputs of real scans through the installed command: schemas, lifecycle, rule severity, no plaintext."""
import hashlib
import json
import os
from pathlib import Path

import jsonschema
import pytest

from conftest import assert_no_planted, load_json, run_cli
from ocsf_schema import problems, resolve

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SARIF_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"  # OASIS file, tests/schemas/README.md
OCSF_SPEC = SCHEMAS / "ocsf-1.8.0-data_security_finding.required.json"


def _scan(tree: Path, tmp: Path, name: str, environment: str = "production"):
    config = tmp / "machine.toml"
    config.write_text('[scan]\nformats = ["json", "sarif", "ocsf"]\n')
    out = tmp / name
    proc = run_cli("scan", tree, "--config", config, "--out", out, "--state-dir", tmp / "state", "--quiet",
                   "--workers", "1", "--environment", environment)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return out, load_json(out / "report.json")


def _events(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "findings.ocsf.jsonl").read_text(encoding="utf-8").splitlines()]


def _blobs(out: Path) -> dict:
    return {name: (out / name).read_bytes() for name in ("report.sarif", "findings.ocsf.jsonl")}


def test_sarif_of_a_real_scan_is_valid_and_relative_to_its_target(planted_tree, tmp_path):
    out, report = _scan(planted_tree, tmp_path, "r1")
    raw = (SCHEMAS / "sarif-schema-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SARIF_SHA256, "tests/schemas holds another file than the OASIS one"
    doc = load_json(out / "report.sarif")
    jsonschema.Draft4Validator(json.loads(raw)).validate(doc)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"] == {"LOCAL": {"uri": planted_tree.as_uri() + "/",
                                                   "description": {"text": "target local"}}}
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules) == len({(f["check_id"], f["kind"]) for f in report["findings"]})
    for r in rules:
        assert "security" in r["properties"]["tags"] and r["shortDescription"]["text"] and r["help"]["text"]
        assert r["fullDescription"]["text"] and float(r["properties"]["security-severity"]) >= 0
    pnr = next(r for r in rules if r["id"] == "identifiers/se.personnummer")
    assert pnr["shortDescription"]["text"] == "Swedish personnummer" and "GDPR Art. 32" in pnr["help"]["text"]
    by_fp = {f["fingerprint"]: f for f in report["findings"]}
    assert len(run["results"]) == len(by_fp)
    for res in run["results"]:
        f = by_fp[res["partialFingerprints"]["primaryLocationLineHash"]]
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] == f"{f['check_id']}/{f['kind']}"
        art = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art["uriBaseId"] == "LOCAL" and not art["uri"].startswith(("file:", "/"))
        assert (planted_tree.as_uri() + "/" + art["uri"]).rstrip("/.") == f["resource"]
        assert res["baselineState"] == "new" and res["properties"]["first_seen"]
        loc = f["locations"][0] if f["locations"] else {}
        if "line" in loc:
            region = res["locations"][0]["physicalLocation"]["region"]
            assert region == {"startLine": loc["line"], "startColumn": loc["column"], "endLine": loc["line"],
                              "endColumn": loc["end_column"]}
            if f["category"] == "national_id":  # the region covers just the value, as written (evidence may add a
                ev = f["evidence"][0]  # separator the text lacks: '01058512345' shows as '010585 *****')
                width = region["endColumn"] - region["startColumn"]
                assert width in {len(ev), len(ev.replace(" ", "").replace("-", ""))}
    assert any("region" in r["locations"][0]["physicalLocation"] for r in run["results"])
    assert_no_planted(_blobs(out))


def test_ocsf_events_have_every_field_the_class_requires(planted_tree, tmp_path):
    spec = load_json(OCSF_SPEC)
    if os.environ.get("VENDORSCAN_OCSF_SCHEMA"):  # a checkout of ocsf-schema at the tag: derive the spec again
        assert resolve(Path(os.environ["VENDORSCAN_OCSF_SCHEMA"])) == spec
    out, report = _scan(planted_tree, tmp_path, "r1")
    events = _events(out)
    assert len(events) == len(report["findings"])
    for e in events:
        assert problems(e, spec) == [], e["finding_info"]["uid"]
        assert (e["class_uid"], e["category_uid"]) == (spec["class_uid"], spec["category_uid"]) == (2006, 2)
        assert e["type_uid"] == 2006 * 100 + e["activity_id"] and e["activity_id"] == 1  # first scan: Create
        assert e["metadata"]["version"] == spec["ocsf_version"] and e["metadata"]["product"]["name"] == "vendorscan"
        assert e["finding_info"]["first_seen_time"] == e["finding_info"]["last_seen_time"] == e["time"]
    assert {e["finding_info"]["uid"] for e in events} == {f["fingerprint"] for f in report["findings"]}
    assert {e["resources"][0]["uid"] for e in events} == {f["resource"] for f in report["findings"]}
    pnr = next(e for e in events if e["finding_info"]["types"] == ["identifiers/se.personnummer"])
    assert pnr["data_security"]["category_id"] == 1 and pnr["severity_id"] in (3, 4, 5)
    assert_no_planted(_blobs(out))


def test_rescan_after_deleting_a_planted_file_closes_its_findings(planted_tree, tmp_path):
    out1, r1 = _scan(planted_tree, tmp_path, "r1")
    gone = {f["fingerprint"] for f in r1["findings"] if f["resource"].endswith("/nordic.txt")}
    assert gone
    (planted_tree / "hr" / "nordic.txt").unlink()
    out2, r2 = _scan(planted_tree, tmp_path, "r2")
    events = _events(out2)
    closed = {e["finding_info"]["uid"]: e for e in events if e["activity_id"] == 3}
    assert gone <= set(closed) and r2["scan"]["lifecycle"]["resolved"] == len(closed)
    spec = load_json(OCSF_SPEC)
    for e in events:
        assert problems(e, spec) == []
    for fp in gone:
        e = closed[fp]
        assert e["status_id"] == 4 and e["is_alert"] is False and e["resources"][0]["uid"].endswith("/nordic.txt")
        # a scan's times have whole seconds: two scans within one second share them
        assert e["finding_info"]["first_seen_time"] <= e["finding_info"]["last_seen_time"] <= e["time"]
    kept = [e for e in events if e["activity_id"] != 3]
    assert kept and all(e["activity_id"] == 2 and e["status_id"] == 1 for e in kept)  # persisting: Update
    sarif = load_json(out2 / "report.sarif")["runs"][0]["results"]
    assert {r["baselineState"] for r in sarif} == {"unchanged"}

    # Reports rebuilt from the finished scan's result.json and run store say the same
    from vendorscan.agent.engine import ScanResult
    from vendorscan.reports.ocsf import OcsfReport
    run_dir = tmp_path / "state" / "runs" / r2["scan"]["scan_id"]
    again = ScanResult.load(run_dir)
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    OcsfReport().render(again, rebuilt)
    again.store.close()
    assert {e["finding_info"]["uid"] for e in _events(rebuilt) if e["activity_id"] == 3} == set(closed)
    assert_no_planted({**_blobs(out1), **_blobs(out2), "rebuilt": (rebuilt / "findings.ocsf.jsonl").read_bytes()})


def test_sarif_rule_severity_comes_from_its_worst_real_result(open_dir, tmp_path):
    tree = open_dir / "mixed"
    tree.mkdir()
    os.chmod(tree, 0o700)  # private: only the identifier findings
    (tree / "real.csv").write_text("personnummer 850412-1230\n")
    (tree / "test.csv").write_text("personnummer 20001228-2380\n")  # one of Skatteverket's official test numbers
    out, report = _scan(tree, tmp_path, "r1", environment="test")
    run = load_json(out / "report.sarif")["runs"][0]
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "identifiers/se.personnummer")
    results = [r for r in run["results"] if r["ruleId"] == rule["id"]]
    verdicts = {r["properties"]["verdict"]: r for r in results}
    assert set(verdicts) == {"real", "test"} and len(results) == 2
    real, test = verdicts["real"], verdicts["test"]
    assert test["level"] == "note" and test["properties"]["severity"] == "info"
    assert rule["properties"]["security-severity"] == real["properties"]["security-severity"]
    assert rule["properties"]["severity"] == real["properties"]["severity"] != "info"
    assert rule["defaultConfiguration"]["level"] == real["level"] != "note"
    assert_no_planted(_blobs(out))
