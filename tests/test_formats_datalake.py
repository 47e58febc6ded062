"""Data-lake files on a share (Parquet, ORC, Avro): planted ids found by table and column, sampled, end to end."""
import json

import pytest

import documents as docs
from conftest import assert_no_planted, load_json, run_cli

pa = pytest.importorskip("pyarrow")
fastavro = pytest.importorskip("fastavro")
import pyarrow.orc as orc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

CPR, PNR = "120485-1006", "19850412-1230"
GARBAGE = bytes(range(256)) * 16  # binary, not text: a broken file is malformed, never read as text


def _parquet(path, rows, row_group_size=None):
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)


def _orc(path, rows):
    orc.write_table(pa.Table.from_pylist(rows), path)


def _avro(path, rows):
    schema = {"type": "record", "name": "Employee", "fields": [
        {"name": "name", "type": "string"},
        {"name": "personnummer", "type": "string"},
        {"name": "kontakt", "type": ["null", {"type": "record", "name": "Kontakt", "fields": [
            {"name": "cpr", "type": ["null", "string"]}]}]}]}
    with open(path, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), rows)


def _scan(tmp_path, tree, config: str = "", env=None):
    out = tmp_path / "out"
    args = ["scan", tree, "--out", out, "--state-dir", tmp_path / "state", "--quiet", "--workers", "1"]
    if config:
        cfg = tmp_path / "datalake.toml"
        cfg.write_text(config + f'\n[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
        args = ["scan", "--config", cfg] + args[2:]
    proc = run_cli(*args, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, load_json(out / "report.json")


def _where(report):
    """File name -> the locations of its real national ids."""
    where = {}
    for f in report["findings"]:
        if f["category"] == "national_id" and f["verdict"] == "real":
            where.setdefault(f["resource"].rsplit("/", 1)[-1], []).extend(
                dict(o["location"], kind=f["kind"]) for o in f["occurrences"])
    return where


def _skips(report):
    return {s["uri"].rsplit("/", 1)[-1]: s for s in report["skipped"]}


def test_each_kind_found_by_table_and_column_through_the_installed_command(tmp_path, tree):
    _parquet(tree / "staff.parquet", [{"name": "Bo", "cpr": CPR}, {"name": "Anna", "cpr": None}])
    _orc(tree / "people.orc", [{"id": 1, "person": {"name": "Anna", "personnummer": "x"}},
                               {"id": 2, "person": {"name": "Eva", "personnummer": PNR}}])
    _avro(tree / "emp.avro", [{"name": "Bo", "personnummer": PNR, "kontakt": None},
                              {"name": "Eva", "personnummer": "-", "kontakt": {"cpr": CPR}}])
    (tree / "part-0000").write_bytes((tree / "staff.parquet").read_bytes())  # no extension: typed by content
    docs.zip_of(tree / "lake.zip", {"year=2024/emp.avro": (tree / "emp.avro").read_bytes(),
                                    "year=2024/people.orc": (tree / "people.orc").read_bytes()})
    proc, report = _scan(tmp_path, tree)
    where = _where(report)
    assert {"table": "staff", "column_name": "cpr", "row_key": "#1", "kind": "dk.cpr"}.items() \
        <= where["staff.parquet"][0].items()
    assert {"table": "part-0000", "column_name": "cpr", "row_key": "#1"}.items() <= where["part-0000"][0].items()
    assert {"table": "people", "column_name": "person.personnummer", "row_key": "#2",
            "kind": "se.personnummer"}.items() <= where["people.orc"][0].items()
    avro = {(o["column_name"], o["row_key"], o["kind"]) for o in where["emp.avro"]}
    assert avro == {("personnummer", "#1", "se.personnummer"), ("kontakt.cpr", "#2", "dk.cpr")}
    assert all(o["table"] == "emp" for o in where["emp.avro"])
    members = {(o["member"], o["column_name"]) for o in where["lake.zip"]}  # a member is copied out to be read
    assert members == {("year=2024/emp.avro", "personnummer"), ("year=2024/emp.avro", "kontakt.cpr"),
                       ("year=2024/people.orc", "person.personnummer")}
    copies = {f["resource"].rsplit("/", 1)[-1] for f in report["findings"] if f["kind"] == "exposure.database_copy"}
    assert copies == {"staff.parquet", "part-0000", "people.orc", "emp.avro", "lake.zip"}  # files read as tables
    assert not report["skipped"], report["skipped"]
    text = json.dumps(report)
    assert "unsupported-format" not in text
    out = tmp_path / "out"
    assert_no_planted({p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
                      | {"stdout": proc.stdout.encode(), "stderr": proc.stderr.encode()})


def test_rows_are_sampled_and_full_scan_reads_them_all(tmp_path, tree):
    rows = [{"n": i, "cpr": CPR if i == 50 else f"rad {i}"} for i in range(1, 61)]
    _parquet(tree / "late.parquet", rows, row_group_size=7)  # many row groups: the sample stops inside one
    _orc(tree / "late.orc", rows)
    _avro(tree / "late.avro", [{"name": f"n{i}", "personnummer": PNR if i == 50 else "-", "kontakt": None}
                               for i in range(1, 61)])
    _, report = _scan(tmp_path, tree, config="[formats]\nsample_rows = 10\n")
    assert not _where(report) and not report["skipped"]
    (tmp_path / "out").rename(tmp_path / "out-sampled")
    _, report = _scan(tmp_path, tree, config="[formats]\nsample_rows = 10\nfull_scan = true\n")
    where = _where(report)
    assert set(where) == {"late.parquet", "late.orc", "late.avro"}
    assert {o["row_key"] for locs in where.values() for o in locs} == {"#50"}


def test_a_corrupt_file_is_malformed_not_a_crash(tmp_path, tree):
    (tree / "a.parquet").write_bytes(b"PAR1" + GARBAGE + b"PAR1")
    (tree / "b.orc").write_bytes(b"ORC" + GARBAGE)
    (tree / "c.avro").write_bytes(b"Obj\x01" + GARBAGE)
    _parquet(tree / "cut.parquet", [{"cpr": CPR}] * 20)
    (tree / "cut.parquet").write_bytes((tree / "cut.parquet").read_bytes()[:-40])  # the footer cut off
    proc, report = _scan(tmp_path, tree)
    skips = _skips(report)
    assert set(skips) == {"a.parquet", "b.orc", "c.avro", "cut.parquet"}
    assert {s["reason"] for s in skips.values()} == {"malformed"}, skips
    assert_no_planted({"report": json.dumps(report).encode(), "stderr": proc.stderr.encode()})


def test_text_that_starts_like_parquet_or_orc_is_read_as_text(tmp_path, tree):
    (tree / "ORCA-lista.txt").write_text(f"ORCA-lista\nCPR {CPR}\n")  # "ORC": an ORC file?
    (tree / "PAR1.csv").write_text(f"PAR1;personnummer\nx;{PNR}\n")  # "PAR1": a Parquet file?
    _, report = _scan(tmp_path, tree)
    assert set(_where(report)) == {"ORCA-lista.txt", "PAR1.csv"} and not report["skipped"], report["skipped"]


def test_without_the_extra_such_files_are_format_unavailable(tmp_path, tree):
    _parquet(tree / "a.parquet", [{"cpr": CPR}])
    _orc(tree / "b.orc", [{"cpr": CPR}])
    _avro(tree / "c.avro", [{"name": "Bo", "personnummer": PNR, "kontakt": None}])
    hide = tmp_path / "hide"
    for library in ("pyarrow", "fastavro"):  # an install without vendorscan[datalake]
        (hide / library).mkdir(parents=True)
        (hide / library / "__init__.py").write_text(f"raise ImportError('no {library} here')\n")
    _, report = _scan(tmp_path, tree, env={"PYTHONPATH": str(hide)})
    skips = _skips(report)
    assert set(skips) == {"a.parquet", "b.orc", "c.avro"}
    for skip in skips.values():
        assert skip["reason"] == "format-unavailable" and "install vendorscan[datalake]" in skip["detail"], skip
    assert not _where(report)
