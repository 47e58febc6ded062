"""A large text file read in byte ranges by several workers gives what one whole read gives (issue 24).

Both scans run the installed `vendorscan` command from outside the repo; the file has ids placed exactly across
the range boundaries, multi-byte characters before them (character offsets), and a CSV header whose column
name is the context that makes a bare number an id (so every range must carry the file's first line).
"""
import json
import random

import pytest

from conftest import load_json, run_cli
from vendorscan.checks import synth

SIZE, CHUNK, SPLIT = 120_000, 4096, 8192  # 15 ranges of 8 KiB, each over two chunks
CUTS = [SIZE * k // -(-SIZE // SPLIT) for k in range(1, -(-SIZE // SPLIT))]


def _filler(rng: random.Random, i: int) -> str:
    """A row of mixed Nordic text: 2- to 4-byte characters, and now and then an id (some bare, in its column)."""
    text = rng.choice(["Malmö", "Århus", "Tórshavn", "€ 12,50", "naïve ☕", "😀 ok", "Kiruna"])
    if i % 7 == 0:
        return f"{synth.se_personnummer(rng)};{text};rad {i}\n"
    if i % 11 == 0:
        return f"{synth.se_personnummer(rng, separator=False)};{text};bare\n"  # an id by its column's name
    if i % 13 == 0:
        return f"x;{text} {synth.dk_cpr(rng)} cpr;rad {i}\n"
    return f"x;{text} {rng.randrange(10**6)};rad {i}\n"


def build(path) -> list[str]:
    """SIZE bytes of CSV; at each nominal range boundary an id straddles it, starts on it or ends just before it."""
    rng = random.Random(24)
    out = bytearray("personnummer;ort;anteckning\n".encode())
    boundary_ids, rows = [], 0
    for n, cut in enumerate(CUTS):
        while True:
            row = _filler(rng, rows).encode()
            if len(out) + len(row) + 40 > cut:
                break
            out += row
            rows += 1
        value = synth.se_personnummer(rng)  # 11 bytes
        start = cut - 4 if n % 3 == 0 else cut if n % 3 == 1 else cut - len(value)
        out += b"a" * (start - len(out) - 1) + (b"\n" if n % 3 == 1 else b";")
        out += (value + ";Umeå\n").encode()
        boundary_ids.append(value)
    while len(out) + 120 < SIZE:
        out += _filler(rng, rows).encode()
        rows += 1
    out += b"z" * (SIZE - len(out) - 1) + b"\n"
    path.write_bytes(bytes(out))
    return boundary_ids


def scan(tmp_path, name, big, workers, split):
    config = tmp_path / f"{name}.toml"
    config.write_text(f'[limits]\nchunk_size = "{CHUNK}"\nsplit_size = "{split}"\nmax_locations = 100000\n\n'
                      f'[scan]\nformats = ["json", "occurrences"]\nhash_key_env = "SPLIT_TEST_KEY"\n')
    out = tmp_path / name
    proc = run_cli("--log-level", "debug", "--log-file", tmp_path / f"{name}.log", "scan", big, "--config", config,
                   "--out", out, "--state-dir", tmp_path / f"{name}-state", "--quiet", "--workers", workers, env={"SPLIT_TEST_KEY": "k" * 64})  # one key: the same value hashes
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return load_json(out / "report.json"), out


def _essence(report):
    """What must not change: every finding's identity, counts, evidence and occurrences; persons; coverage."""
    findings = sorted((f["fingerprint"], f["kind"], f["verdict"], f["count"], f.get("distinct"), f["severity"],
                       json.dumps(f.get("evidence"), sort_keys=True),
                       json.dumps(f.get("occurrences"), sort_keys=True)) for f in report["findings"])
    target = report["targets"][0]
    return findings, report["summary"]["exposed_persons"], target["complete"], target.get("bytes_read")


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("split")
    big = tmp / "big.csv"
    boundary = build(big)
    whole, _ = scan(tmp, "whole", big, 2, 0)
    split, out = scan(tmp, "split", big, 2, SPLIT)
    return big, boundary, whole, split, out


def test_split_scan_equals_whole_scan(scans):
    big, boundary, whole, split, _ = scans
    assert len(CUTS) >= 10 and big.stat().st_size == SIZE
    log = (big.parent / "split.log").read_text(encoding="utf-8")
    assert f"read in {len(CUTS) + 1} byte ranges" in log
    assert "byte ranges" not in (big.parent / "whole.log").read_text(encoding="utf-8")
    assert _essence(split) == _essence(whole)
    occurrences = [o for f in whole["findings"] for o in f.get("occurrences", ())]
    assert len(occurrences) > 500  # the comparison compares something
    assert whole["summary"]["exposed_persons"] > 300


def test_locations_are_the_files_own(scans):
    big, boundary, whole, split, _ = scans
    text = big.read_text(encoding="utf-8")
    lines = text.split("\n")
    se = [o for f in split["findings"] if f["kind"] == "se.personnummer" and f["verdict"] == "real"
          for o in f["occurrences"]]
    assert len(se) > 300
    for o in se:
        loc = o["location"]
        line = lines[loc["line"] - 1]
        digits = line[loc["column"] - 1:loc["end_column"] - 1]
        assert text[loc["offset"]:loc["offset"] + len(digits)] == digits  # characters, not bytes
        assert sum(ch.isdigit() for ch in digits) >= 10, (loc, digits)
    # every id placed on a boundary is found once, on its own line
    on_boundary = [n for n, line in enumerate(lines, 1) if any(v in line for v in boundary)]
    assert len(on_boundary) == len(boundary)
    found = [[o["location"]["line"] for f in report["findings"] if f["kind"].startswith("se.")
              for o in f.get("occurrences", ())] for report in (whole, split)]
    for n in on_boundary:  # not missed, not twice (the overlap is context only)
        assert found[1].count(n) == found[0].count(n) <= 1, n
    assert sum(n in found[1] for n in on_boundary) >= len(on_boundary) - 2  # a few are no valid date


def test_bare_numbers_are_found_by_the_header_in_every_range(scans):
    big, _, whole, split, _ = scans
    text = big.read_text(encoding="utf-8").split("\n")
    bare = {n for n, line in enumerate(text, 1) if line.endswith(";bare")}
    late = {n for n in bare if n > len(text) // 2}  # rows far from the first line: a later range's
    assert late
    for report in (whole, split):
        found = {o["location"]["line"] for f in report["findings"] if f["kind"] == "se.personnummer"
                 for o in f["occurrences"]}
        assert late <= found


def test_streamed_occurrences_are_the_same(scans, tmp_path_factory):
    import gzip
    _, _, _, _, out = scans
    whole = out.parent / "whole"

    def rows(d):
        with gzip.open(d / "occurrences.jsonl.gz", "rt", encoding="utf-8") as f:
            return sorted(json.dumps({k: v for k, v in json.loads(line).items() if k != "scan_id"}, sort_keys=True)
                          for line in f)
    assert rows(out) == rows(whole)


def _ranges_read_one_by_one(tmp_path, before_range):
    """Plan a file's ranges and read them with a real Worker in this process, calling before_range(index, path)
    first; (merged Outcome, stored occurrence rows)."""
    from concurrent.futures import Future

    from vendorscan.agent.config import parse
    from vendorscan.agent.ranges import Splits, plan
    from vendorscan.agent.worker import Worker, WorkUnit
    big = tmp_path / "big.csv"
    build(big)
    cfg = parse({"limits": {"chunk_size": CHUNK, "split_size": SPLIT},
                 "targets": [{"name": "t", "type": "local", "paths": [str(big)]}]})
    worker = Worker(cfg, b"k" * 32)
    connector = worker._connector("t")
    resource = next(r for r in connector.walk() if r.kind == "file")
    spans = list(plan(connector, resource, cfg.limits.split_size))
    assert len(spans) == len(CUTS) + 1
    from functools import partial

    from vendorscan.agent.engine import store_value_sets
    from vendorscan.agent.store import RunStore
    store, merged = RunStore(tmp_path / "run.db"), None
    splits = Splits(store, partial(store_value_sets, store, "t"), cfg.limits.max_locations)
    for span in spans:
        before_range(span.index, big)
        unit = WorkUnit(span.index, "t", [resource], str(tmp_path / f"unit{span.index}.values"), span)
        fut = Future()
        fut.set_result(worker.run(unit))
        merged = splits.collect(fut, unit) or merged
    worker.close()
    assert not list(tmp_path.glob("unit*.values"))  # every range's spool is taken, or dropped
    return merged, store.db.execute("SELECT * FROM value_sets").fetchall()


def test_a_file_changed_between_ranges_keeps_nothing_and_says_so_once(tmp_path):
    import os

    def touch_before_last(index, path):
        if index == len(CUTS):  # the other ranges were read from the version the walk saw
            os.utime(path, ns=(0, 10**18))
    merged, stored = _ranges_read_one_by_one(tmp_path, touch_before_last)
    assert merged.skipped.reason == "changed-during-read"
    assert merged.aggregates == [] and stored == [] and not merged.partial


def test_a_range_that_cannot_be_read_is_the_files_one_skip_and_the_rest_is_kept(tmp_path):
    def remove_midway(index, path):
        if index == 5:
            path.unlink()
    merged, stored = _ranges_read_one_by_one(tmp_path, remove_midway)
    assert merged.skipped.reason == "vanished" and merged.partial
    assert stored and merged.aggregates  # what the ranges before it found
    assert merged.problems == []


def test_split_size_is_validated():
    from vendorscan.agent.config import parse
    from vendorscan.errors import ConfigError
    assert parse({}).limits.split_size == 64 * 2**20
    assert parse({"limits": {"split_size": 0}}).limits.split_size == 0
    with pytest.raises(ConfigError, match="limits.split_size"):
        parse({"limits": {"split_size": "1KiB"}})


def test_an_s3_object_read_in_ranges_equals_its_whole_read(tmp_path):
    import servers
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
             "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
             "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "SPLIT_TEST_KEY": "k" * 64}
    server, endpoint, s3 = servers.start_moto()  # moto keeps buckets per process: a bucket name of its own
    try:
        s3.create_bucket(Bucket="split-exports", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        build(tmp_path / "big.csv")
        s3.put_object(Bucket="split-exports", Key="hr/big.csv", Body=(tmp_path / "big.csv").read_bytes())
        reports = []
        for name, split in (("whole", 0), ("split", SPLIT)):
            config = tmp_path / f"{name}.toml"
            config.write_text(f'[limits]\nchunk_size = "{CHUNK}"\nsplit_size = "{split}"\nmax_locations = 100000\n'
                              f'[scan]\nformats = ["json"]\nhash_key_env = "SPLIT_TEST_KEY"\n'
                              f'[[targets]]\nname = "s3"\ntype = "s3"\nendpoint_url = "{endpoint}"\n'
                              f'region = "eu-north-1"\nbuckets = ["split-exports"]\n')
            proc = run_cli("--log-level", "debug", "--log-file", tmp_path / f"{name}.log", "scan", "--config", config,
                           "--out", tmp_path / name, "--state-dir", tmp_path / f"{name}-state", "--quiet",
                           "--workers", 2, env=creds)
            assert proc.returncode == 1, proc.stdout + proc.stderr
            reports.append(load_json(tmp_path / name / "report.json"))
        assert "byte ranges" in (tmp_path / "split.log").read_text(encoding="utf-8")
        content = [[f for f in r["findings"] if f["check_id"] == "identifiers"] for r in reports]
        assert content[0] and _essence({**reports[1], "findings": content[1]}) == \
            _essence({**reports[0], "findings": content[0]})
    finally:
        server.stop()
