"""The labelled corpus of bench/accuracy.py, small: precision and recall must not fall below the floor,
and the findings must not depend on how many workers read the files."""
import json
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))
from bench import accuracy  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("accuracy")
    return root, accuracy.generate(root / "corpus", files=40, lines=200, seed=7)


def _report(root: Path, out: Path, state: Path, executor: dict) -> dict:
    from vendorscan.agent import config as cfg
    from vendorscan.agent.engine import Scan
    from vendorscan.reports.json import JsonReport
    config = cfg.parse({"scan": {"report_occurrences": 10**9}, "executor": executor, "targets": [{"name": "c", "type": "local", "paths": [str(root / "corpus")]}]})
    result = Scan(config, state=state, full=True).run()
    JsonReport().render(result, out)
    result.store.close()
    return json.loads((out / "report.json").read_text())


def test_precision_and_recall_on_a_labelled_corpus(corpus, tmp_path: Path):
    root, truth = corpus
    rows, verdicts = accuracy.score(_report(root, tmp_path / "out", tmp_path / "state", {}), truth)
    table = {r.split("|")[1].strip(): [float(x) for x in r.split("|")[6:9]] for r in rows[2:]}
    for kind, (precision, recall, _) in table.items():
        floor = 0.95 if kind in accuracy.NATIONAL else 0.99 if kind.startswith("national ids") else 0.98
        assert precision >= floor and recall >= floor, (kind, precision, recall, "\n".join(rows))
    for row in verdicts[2:]:
        assert row.split("|")[4].strip() == "0" or row.startswith("| near"), row  # test/masked never exposures
    near = next(r for r in verdicts if r.startswith("| near"))
    planted, exposed = int(near.split("|")[2]), int(near.split("|")[4])
    assert exposed <= 0.02 * planted, near


def test_findings_are_the_same_whatever_the_worker_count(corpus, tmp_path: Path):
    root, _ = corpus
    state = tmp_path / "state"  # one state dir: one hash key, so the value hashes compare too

    def findings(executor: dict, name: str) -> list:
        report = _report(root, tmp_path / name, state, executor)
        return sorted(json.dumps({k: v for k, v in f.items() if k not in ("first_seen", "last_seen", "id", "lifecycle")},
                                 sort_keys=True) for f in report["findings"])

    inline = findings({"workers": 1}, "inline")
    assert len(inline) > 100
    assert findings({"workers": 2}, "pool") == inline
    assert findings({"workers": 2, "unit_files": 7, "threads": 3}, "pool-threads") == inline
