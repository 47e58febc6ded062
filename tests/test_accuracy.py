"""The labelled corpus of bench/accuracy.py, small: precision and recall must not fall below the floor."""
import json
import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT))
from bench import accuracy  # noqa: E402


def test_precision_and_recall_on_a_labelled_corpus(tmp_path: Path):
    from agent import config as cfg
    from agent.engine import Scan
    from reports.json import JsonReport
    truth = accuracy.generate(tmp_path / "corpus", files=40, lines=200, seed=7)
    config = cfg.parse({"targets": [{"name": "c", "type": "local", "paths": [str(tmp_path / "corpus")]}]})
    result = Scan(config, state=tmp_path / "state", full=True).run()
    JsonReport().render(result, tmp_path / "out")
    result.store.close()
    rows, verdicts = accuracy.score(json.loads((tmp_path / "out" / "report.json").read_text()), truth)
    table = {r.split("|")[1].strip(): [float(x) for x in r.split("|")[6:9]] for r in rows[2:]}
    for kind, (precision, recall, _) in table.items():
        floor = 0.95 if kind in accuracy.NATIONAL else 0.98
        assert precision >= floor and recall >= floor, (kind, precision, recall, "\n".join(rows))
    for row in verdicts[2:]:
        assert row.split("|")[4].strip() == "0" or row.startswith("| near"), row  # test/masked never exposures
    near = next(r for r in verdicts if r.startswith("| near"))
    planted, exposed = int(near.split("|")[2]), int(near.split("|")[4])
    assert exposed <= 0.02 * planted, near
