"""Value sets: an aggregate's values kept as distinct hashes and its first occurrences, so that the state dir grows
with persons, not with occurrences, and persons are counted exactly with bounded memory."""
import random
import sqlite3
from array import array

import pytest

from conftest import load_json, run_cli
from vendorscan.agent import values
from vendorscan.agent.values import ValueCollector, count_union, listed_occurrences
from vendorscan.checks import synth


def _hashes(n, seed=1):
    rng = random.Random(seed)
    return [f"{rng.getrandbits(128):032x}" for _ in range(n)]


def _collect(hashes, limit):
    c = ValueCollector(limit)
    for i, h in enumerate(hashes):
        c.add(h, 0.9, f"ev-{i}", {"line": i + 1})
    distinct, pieces, listed = c.finish()
    return distinct, b"".join(pieces), b"".join(listed)


def test_a_value_set_counts_distinct_values_and_lists_the_first_ones_in_order():
    hs = _hashes(500)
    distinct, hashes, listed = _collect(hs + hs[:100] + [None] * 3, limit=20)
    assert distinct == 500
    arr = array("Q", hashes)
    assert list(arr) == sorted({int(h[:16], 16) for h in hs})
    occ = list(listed_occurrences(listed))
    assert [o["location"]["line"] for o in occ] == list(range(1, 21))
    assert occ[0] == {"value_hash": hs[0], "confidence": 0.9, "evidence": "ev-0", "location": {"line": 1}}
    assert [o["evidence"] for o in listed_occurrences(listed, 5)] == [f"ev-{i}" for i in range(5)]


def test_every_occurrence_is_listed_when_asked_for():
    hs = _hashes(3000)
    distinct, _, listed = _collect(hs, limit=-1)
    assert distinct == 3000 and len(list(listed_occurrences(listed))) == 3000


def test_a_large_set_spills_to_disk_and_gives_the_same_hashes(monkeypatch):
    hs = _hashes(5000, seed=2)
    whole = _collect(hs + hs[:1000], limit=0)
    monkeypatch.setattr(values, "SPILL_AT", 300)  # spills many times, duplicates across spills
    spilled = _collect(hs + hs[:1000], limit=0)
    assert spilled[:2] == whole[:2] and whole[0] == 5000


def test_a_union_counted_bucket_by_bucket_equals_the_one_counted_whole(monkeypatch):
    hs = _hashes(4000, seed=3)
    sets = [_collect(hs[i:i + 1500], 0)[1] for i in range(0, 4000, 1000)]  # overlapping sets
    assert count_union(lambda: sets, 6000) == 4000
    monkeypatch.setattr(values, "UNION_IN_MEMORY", 0)
    assert count_union(lambda: sets, 6000) == 4000


def _size(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_an_id_dense_export_leaves_a_state_dir_far_smaller_than_itself(tmp_path):
    """A CSV where every row is a person: state dir <= 0.3 x its bytes; persons exact; no value in plain text."""
    rng = random.Random(7)
    # One person each: '+' (a hundred years old) and '-' with the same digits are one normalised value.
    ids = list({v.replace("+", "-"): None for v in (synth.real("se.personnummer", rng) for _ in range(30_000))})
    tree = tmp_path / "hr"
    tree.mkdir()
    text = "namn;personnummer;avdelning;ort\n" + "".join(f"Anställd {i};{v};Avdelning {i % 40};Stockholm\n"
                                                        for i, v in enumerate(ids))
    (tree / "hr_full.csv").write_text(text, encoding="utf-8")
    state, cfg = tmp_path / "state", tmp_path / "c.toml"
    cfg.write_text("[scan]\nreport_occurrences = 1000\n")  # the listed ones are bounded; the persons are not
    proc = run_cli("scan", tree, "--config", cfg, "--out", tmp_path / "out", "--state-dir", state, "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = load_json(tmp_path / "out" / "report.json")
    [se] = [f for f in report["findings"] if f["kind"] == "se.personnummer" and f["verdict"] == "real"]
    # Counted twice, apart: the worker's distinct count of the finding, the union over the scan's value sets.
    assert report["summary"]["exposed_persons"] == se["distinct"] >= 0.99 * len(ids)
    assert len(se["occurrences"]) == 1000 and se["occurrences_omitted"] == se["count"] - 1000
    assert _size(state) <= 0.3 * len(text.encode())
    raw = b"".join(p.read_bytes() for p in state.rglob("*") if p.is_file())
    for v in ids[::97]:
        assert v.encode() not in raw and v.replace("-", "").encode() not in raw
    # Unchanged rescan: the cache's value sets are referred to, not copied; the same persons.
    proc = run_cli("scan", tree, "--config", cfg, "--out", tmp_path / "out2", "--state-dir", state, "--quiet")
    again = load_json(tmp_path / "out2" / "report.json")
    assert again["summary"]["exposed_persons"] == se["distinct"]
    [se2] = [f for f in again["findings"] if f["kind"] == "se.personnummer" and f["verdict"] == "real"]
    assert se2["occurrences"] == se["occurrences"]
    for run_db in state.glob("runs/*/run.db"):
        assert sqlite3.connect(run_db).execute("SELECT COUNT(*) FROM value_sets").fetchone()[0] == 0


@pytest.mark.parametrize("n", [0, 1])
def test_an_empty_or_single_value_set(n):
    distinct, hashes, listed = _collect(_hashes(n), 10)
    assert distinct == n and len(hashes) == 8 * n and len(list(listed_occurrences(listed))) == n


def test_a_set_larger_than_a_piece_is_stored_in_pieces_and_read_back_whole(tmp_path, monkeypatch):
    """Each stored row holds at most PIECE bytes of hashes and of listed occurrences: no large blob in memory."""
    from vendorscan.agent import store as stores
    from vendorscan.agent.records import ValueSet
    from vendorscan.agent.values import BlobSpool
    from vendorscan.model import Finding, Severity
    monkeypatch.setattr(stores, "PIECE", 4096)
    hs = _hashes(5000, seed=4)
    c = ValueCollector(-1)
    for i, h in enumerate(hs):
        c.add(h, 0.9, f"ev-{i}", {"line": i + 1})
    distinct, pieces, listed = c.finish()
    spool = BlobSpool(str(tmp_path / "spool"))
    spool.f.write(b"x" * 10)  # the set is not at the start of the spool
    at, nh, nl = spool.put(pieces, listed)
    spool.close()
    run = stores.RunStore(tmp_path / "run.db")
    row = ValueSet("t", "file:///a", "", "identifiers", "se.personnummer", "real", "national_id", 5000, distinct, nh, nl)
    with open(tmp_path / "spool", "rb") as f:
        run.add_value_set(row, f, at)
    rows = run.db.execute("SELECT count, distinct_count, length(hashes), length(listed) FROM value_sets").fetchall()
    assert len(rows) == max(-(-nh // 4096), -(-nl // 4096)) > 2
    assert rows[0][:2] == (5000, 5000) and all(r[:2] == (0, 0) for r in rows[1:])
    assert all(r[2] <= 4096 and r[3] <= 4096 for r in rows)
    f = Finding(check_id="identifiers", severity=Severity.HIGH, confidence=0.9, title="t", resource="file:///a",
                target="t", kind="se.personnummer", verdict="real", category="national_id")
    assert [o["location"]["line"] for o in run.occurrences(f)] == list(range(1, 5001))
    assert len(list(run.occurrences(f, 7))) == 7
    assert run.distinct_persons() == 5000
    run.close()


def test_listed_occurrences_of_separate_reads_follow_each_other():
    """Rows of one finding written by separate reads (byte ranges of one file) hold separate streams, read in order."""
    first, second = _collect(_hashes(30, 5), -1)[2], _collect(_hashes(20, 6), -1)[2]
    occ = list(listed_occurrences([first, second[:7], second[7:]]))
    assert len(occ) == 50 and [o["location"]["line"] for o in occ] == list(range(1, 31)) + list(range(1, 21))
    assert len(list(listed_occurrences([first + second]))) == 50
