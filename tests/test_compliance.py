"""The requirements matrix and the contract's clauses: frameworks as data, decided from what a scan saw.

Met needs the deciding checks to have run over every target the requirement speaks of, in full, with no finding
breaking it; anything less is "not assessed", never "met".
"""
import json
import os
import shutil
import tempfile
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from conftest import load_json, run_cli
from vendorscan.errors import ConfigError
from vendorscan.reports import compliance

FRAMEWORK_SCHEMA = json.loads((files("reports") / "schema" / "framework.schema.json").read_text())
EXPECTED_FRAMEWORKS = {"gdpr", "iso27001-2022", "dk-state-iso27001", "nis2", "se-msbfs-klassa"}


@pytest.fixture(scope="module")
def demo():
    """The demo scan, with the demo config's contract."""
    base = Path(tempfile.mkdtemp(prefix="vendorscan-compliance-", dir="/tmp"))
    os.chmod(base, 0o755)  # others may traverse it, so the demo's exposures show as they do for a user
    proc = run_cli("demo", "--estate", base / "estate", "--out", base / "report", "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    yield base / "report"
    shutil.rmtree(base, ignore_errors=True)


def _decided(report: dict) -> dict[str, dict]:
    """Every decided row by 'framework:id' (and 'contract:id')."""
    block = report["compliance"]
    rows = {f"{f['id']}:{r['id']}": r for f in block["frameworks"] for r in f["requirements"]}
    rows.update({f"contract:{r['id']}": r for r in block["contract"]})
    return rows


# -- frameworks are data files, validated by a schema --

@pytest.mark.parametrize("path", compliance.bundled(), ids=lambda p: p.name)
def test_every_bundled_framework_file_matches_the_framework_schema(path):
    jsonschema.Draft202012Validator(FRAMEWORK_SCHEMA).validate(json.loads(path.read_text(encoding="utf-8")))


def test_the_bundled_frameworks_are_the_ones_the_issue_names_and_their_references_resolve():
    frameworks = compliance.load(compliance.bundled())
    assert {f.id for f in frameworks} == EXPECTED_FRAMEWORKS
    compliance.check_references(frameworks, [], {"identifiers", "special_categories", "access", "exposure", "posture"})
    iso = next(f for f in frameworks if f.id == "iso27001-2022")
    assert {r.id for r in iso.requirements} == {"A.5.12", "A.5.15", "A.8.3", "A.8.11", "A.8.31", "A.8.33"}
    gdpr = next(f for f in frameworks if f.id == "gdpr")
    assert {"Art. 5(1)(c)", "Art. 5(1)(f)", "Art. 25(2)", "Art. 32", "Art. 33/34"} <= {r.id for r in gdpr.requirements}


@pytest.mark.parametrize("requirement, says", [
    ({"id": "X.1", "title": "t", "checks": ["identifiers"]}, "needs checks and fails_on"),
    ({"id": "X.1", "title": "t", "manual": True, "colour": "red"}, "unknown keys ['colour']"),
    ({"title": "t", "manual": True}, ".id"),
    ({"id": "X.1", "title": "t", "manual": "yes"}, "must be true or false"),
    ({"id": "X.1", "title": "t", "checks": "identifiers", "fails_on": ["dk.*"]}, "list of non-empty strings"),
])
def test_the_loader_and_the_schema_refuse_the_same_malformed_requirement(requirement, says):
    doc = {"id": "fw", "name": "A framework", "requirements": [requirement]}
    assert not jsonschema.Draft202012Validator(FRAMEWORK_SCHEMA).is_valid(doc)
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace("[", r"\[")):
        compliance.framework(doc, "fw.json")


# -- the demo: the HR test copy breaks the contract's "no real personal data in test environments" --

def test_demo_report_json_decides_the_matrix_and_the_contract_with_linked_findings(demo):
    report = load_json(demo / "report.json")
    rows = _decided(report)
    assert {f["id"] for f in report["compliance"]["frameworks"]} == EXPECTED_FRAMEWORKS
    by_fp = {f["fingerprint"]: f for f in report["findings"]}
    for ref in ("iso27001-2022:A.8.33", "dk-state-iso27001:A.8.33", "contract:3.4"):
        row = rows[ref]
        assert row["status"] == "not_met", (ref, row)
        linked = [by_fp[fp] for fp in row["findings"]]
        assert linked and row["findings_total"] == len(linked)
        assert {f["kind"] for f in linked} <= {"exposure.test_environment", "exposure.database_copy"}
        assert any(f["target"] == "demo-hr-test-db" for f in linked), "the HR test copy is among the evidence"
    assert rows["contract:3.4"]["findings"] == rows["iso27001-2022:A.8.33"]["findings"]  # it follows A.8.33
    assert report["compliance"]["contract_name"].startswith("Data processing agreement")
    screenshots = [by_fp[fp] for fp in rows["contract:3.6"]["findings"]]
    assert rows["contract:3.6"]["status"] == "not_met" and all("case-screenshots" in f["resource"] for f in screenshots)
    for ref in ("iso27001-2022:A.5.12", "gdpr:Art. 33/34", "se-msbfs-klassa:MSBFS 2020:6 klassning"):
        assert rows[ref]["status"] == "manual" and rows[ref]["reason"] == compliance.MANUAL
    every = {fp for r in rows.values() for fp in r["findings"]}
    assert every <= set(by_fp), "every linked fingerprint is a finding of this report"


class _Matrix(HTMLParser):
    """Rows of the HTML matrix (requirement id, status, linked anchors) and every element id."""

    def __init__(self):
        super().__init__()
        self.rows, self.ids, self._row, self._in = [], set(), None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "section":
            self._in = a.get("id") == "compliance" or (self._in and a.get("id") is None)
        if self._in and tag == "tr" and "data-requirement" in a:
            self._row = {"id": a["data-requirement"], "status": a["data-status"], "links": []}
            self.rows.append(self._row)
        if self._in and tag == "a" and self._row is not None:
            self._row["links"].append(a["href"])

    def handle_endtag(self, tag):
        if tag == "section":
            self._in = False


def test_demo_report_html_shows_the_matrix_with_links_that_reach_their_findings(demo):
    matrix = _Matrix()
    matrix.feed((demo / "report.html").read_text(encoding="utf-8"))
    report = load_json(demo / "report.json")
    shown = {r["id"]: r for r in matrix.rows}
    assert shown["3.4"]["status"] == "not_met" and shown["A.8.33"]["status"] == "not_met"
    assert len(matrix.rows) == sum(len(f["requirements"]) for f in report["compliance"]["frameworks"]) + 3
    links = [href for r in matrix.rows for href in r["links"]]
    assert links and all(h.startswith("#f-") and h[1:] in matrix.ids for h in links), "every link reaches a finding"
    fps = {r["findings"][0] for r in _decided(report).values() if r["findings"]}
    assert {f"#f-{fp}" for fp in fps} <= set(links)


def test_demo_matrix_in_a_real_browser_is_visible_and_links_scroll_to_the_finding(demo, tmp_path):
    from browser import Browser
    b = Browser()
    try:
        b.load((demo / "report.html").as_uri())
        top = b.evaluate("document.getElementById('compliance').scrollIntoView(), "
                         "document.getElementById('compliance').getBoundingClientRect().top")
        assert abs(top) < 5
        b.screenshot(tmp_path / "compliance.png")
        target = b.evaluate("(() => { const a = document.querySelector('tr[data-requirement=\"3.4\"] a');"
                            " a.click(); return a.getAttribute('href'); })()")
        assert b.evaluate("location.hash") == target
        assert b.evaluate(f"document.querySelector('{target}').getBoundingClientRect().top") < 100
    finally:
        b.close()
    assert (tmp_path / "compliance.png").read_bytes().startswith(b"\x89PNG")
    if os.environ.get("VENDORSCAN_REFRESH_DOCS"):  # a test run leaves the work tree as it found it
        shutil.copyfile(tmp_path / "compliance.png", Path(__file__).resolve().parent.parent / "docs" / "compliance.png")


# -- what a scan did not see is not assessed, never met --

def _scan(tmp_path, tree: Path, config: str, *extra):
    cfg = tmp_path / "c.toml"
    cfg.write_text(config, encoding="utf-8")
    proc = run_cli("scan", tree, "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "state",
                   "--quiet", *extra)
    return proc, (load_json(tmp_path / "out" / "report.json") if (tmp_path / "out" / "report.json").exists() else None)


@pytest.fixture
def clean_tree(tmp_path):
    tree = tmp_path / "clean"
    tree.mkdir()
    (tree / "minutes.txt").write_text("Minutes of the steering group. No personal data here.\n", encoding="utf-8")
    return tree


def test_a_disabled_check_or_an_unscanned_environment_leaves_a_requirement_not_assessed(tmp_path, clean_tree):
    proc, report = _scan(tmp_path, clean_tree, "[checks.access]\nenabled = false\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _decided(report)
    a515 = rows["iso27001-2022:A.5.15"]  # decided by access and exposure: access did not run
    assert (a515["status"], a515["reason"], a515["reason_args"]) == ("not_assessed", compliance.NO_CHECK,
                                                                      {"checks": "access"})
    assert rows["dk-state-iso27001:A.5.15"]["status"] == "not_assessed"  # it follows the one above
    a833 = rows["iso27001-2022:A.8.33"]  # speaks of test environments: only a production target was scanned
    assert (a833["status"], a833["reason"]) == ("not_assessed", compliance.NO_ENVIRONMENT)
    assert rows["iso27001-2022:A.8.3"]["status"] == "met"  # exposure ran over the whole (clean) production tree
    assert not report["compliance"]["contract"]


def test_an_incomplete_scan_leaves_what_it_covers_not_assessed():
    rule = compliance.requirement({"id": "R", "title": "t", "checks": ["exposure"], "fails_on": ["exposure.*"]}, "r")
    coverage = [{"target": "share", "connector": "smb", "environment": "production", "complete": False}]
    ev = compliance.Evaluation([], {"exposure"}, coverage)
    row = ev.decide(rule, {})
    assert (row["status"], row["reason"], row["reason_args"]) == ("not_assessed", compliance.INCOMPLETE,
                                                                   {"targets": "share"})
    breach = {"fingerprint": "f" * 32, "check_id": "exposure", "kind": "exposure.everyone", "verdict": "real",
              "target": "share", "environment": "production", "resource": "smb://h/s/a", "special_category": False}
    assert compliance.Evaluation([breach], {"exposure"}, coverage).decide(rule, {})["status"] == "not_met"
    test_number = dict(breach, verdict="test")  # an official test number shows the rule, it does not break it
    assert compliance.Evaluation([test_number], {"exposure"}, coverage).decide(rule, {})["status"] == "not_assessed"


def test_a_target_scanned_in_part_leaves_its_requirements_not_assessed_end_to_end(tmp_path, clean_tree):
    config = ('[[targets]]\nname = "share"\ntype = "local"\n'
              f'paths = ["{clean_tree}", "{tmp_path / "no-such-folder"}"]\n')  # a configured path that is not there
    cfg = tmp_path / "c.toml"
    cfg.write_text(config, encoding="utf-8")
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "state", "--quiet")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # incomplete
    report = load_json(tmp_path / "out" / "report.json")
    assert report["targets"][0]["complete"] is False
    rows = _decided(report)
    assert (rows["iso27001-2022:A.8.3"]["status"], rows["iso27001-2022:A.8.3"]["reason"]) == (
        "not_assessed", compliance.INCOMPLETE)
    assert not any(r["status"] == "met" for r in rows.values())


# -- a buyer's own framework is one file; mistakes are config errors that say what to fix --

def test_a_framework_added_by_one_file_is_decided_and_shown_alone(tmp_path, clean_tree):
    (tmp_path / "city.json").write_text(json.dumps({
        "id": "city-policy", "name": "City of Aarhus: supplier security policy", "version": "2025",
        "requirements": [
            {"id": "P1", "title": "No broad access to personal data", "checks": ["exposure"],
             "fails_on": ["exposure.*"]},
            {"id": "P2", "title": "Test data as ISO says", "follows": ["iso27001-2022:A.8.33"]}]}), encoding="utf-8")
    proc, report = _scan(tmp_path, clean_tree, '[compliance]\nframeworks = ["city-policy"]\n'
                                               'framework_files = ["city.json"]\n')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [fw] = report["compliance"]["frameworks"]
    assert fw["id"] == "city-policy"
    assert [(r["id"], r["status"]) for r in fw["requirements"]] == [("P1", "met"), ("P2", "not_assessed")]
    assert "City of Aarhus" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("config, says", [
    ('[[contract.clauses]]\nid = "3.4"\ntitle = "t"\nfollows = ["iso27001-2022:A.9.99"]\n', "unknown requirements"),
    ('[[contract.clauses]]\nid = "3.4"\ntitle = "t"\nchecks = ["exposure"]\n', "needs checks and fails_on"),
    ('[[contract.clauses]]\nid = "3.4"\ntitle = "t"\nchecks = ["exposre"]\nfails_on = ["exposure.*"]\n',
     "unknown checks ['exposre']"),
    ('[[contract.clauses]]\nid = "3.4"\ntitle = "t"\nenvironments = ["staging"]\nchecks = ["exposure"]\n'
     'fails_on = ["exposure.*"]\n', "unknown environments ['staging']"),
    ('[compliance]\nframeworks = ["iso27002"]\n', "unknown frameworks ['iso27002']"),
    ('[compliance]\nframework_files = ["missing.json"]\n', "cannot read the framework file"),
    ('[contract]\nclause = []\n', "unknown keys ['clause']"),
])
def test_a_compliance_mistake_in_the_config_exits_2_saying_what_to_fix(tmp_path, clean_tree, config, says):
    proc, _ = _scan(tmp_path, clean_tree, config)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr


def test_the_example_config_carries_the_demo_contract_as_its_worked_example():
    import tomllib
    from vendorscan.agent import config
    from vendorscan.demo.estate import CONTRACT
    root = Path(__file__).resolve().parent.parent
    example = config.load_file(str(root / "config.example.toml")).compliance
    demo = config.parse(tomllib.loads(CONTRACT)).compliance
    assert example.contract == demo.contract and example.clauses == demo.clauses
    assert [c.id for c in example.clauses] == ["3.4", "3.6", "3.9"]
