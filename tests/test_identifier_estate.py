"""Issue 18's estate, scanned by the installed vendorscan: a CPR export whose ids fail modulus 11 under a `cpr`
header, an immigration case folder with DUF/LMA/udlændingenummer in contents and names, hand-typed ids,
backups named by timestamps — found or left alone as the rules say, and no planted value in any output."""
import json
import random
from datetime import date

from conftest import every_form, run_cli

# Values planted here (checked for leaks beside the conftest ones).
DUF, LMA, UDL = "201912345678", "12-345678", "7654321"
SPACED_SE = "850412 1230"  # a valid personnummer, typed with a space
STAMP = "20170908-1416"  # passes the Swedish rules; a backup's timestamp


def _cprs(n: int) -> list[str]:
    rng, weights, found = random.Random(18), (4, 3, 2, 7, 6, 5, 4, 3, 2, 1), []
    while len(found) < n:
        born = date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        value = born.strftime("%d%m%y") + str(rng.randrange(4)) + f"{rng.randrange(1000):03d}"
        if sum(int(a) * w for a, w in zip(value, weights)) % 11:  # issued since 2007: fails modulus 11
            found.append(value)
    return found


def test_issue_18_estate_through_the_installed_command(tmp_path):
    tree = tmp_path / "supplier"
    (tree / "hr").mkdir(parents=True)
    (tree / f"sager/DUF {DUF}").mkdir(parents=True)
    (tree / "backup").mkdir()
    cprs = _cprs(300)
    (tree / "hr/export.csv").write_text("id;navn;cpr;afdeling\n" + "".join(
        f"{i};Jens Hansen;{v};Løn\n" for i, v in enumerate(cprs)))
    (tree / f"sager/DUF {DUF}/notat.txt").write_text(
        f"Søker med DUF-nummer: {DUF}\nLMA-kort nr {LMA}\nUdl.nr. {UDL}\npersonnummer {SPACED_SE}\n")
    (tree / f"backup/backup_{STAMP}.tar").write_bytes(b"")
    (tree / "backup/listing.txt").write_text(f"-rw-r--r-- 1 root root 0 Sep  8 14:16 backup_{STAMP}.tar\n")
    out = tmp_path / "out"
    proc = run_cli("scan", tree, "--out", out, "--state-dir", tmp_path / "state", "--quiet")
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads((out / "report.json").read_text())
    by_kind: dict[str, list] = {}
    for f in report["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    # every CPR number in the column, though none has a context word beside it and all fail modulus 11
    export = [f for f in by_kind["dk.cpr"] if "export.csv" in f["resource"]]
    assert sum(f["count"] for f in export) == len(cprs)
    # the case numbers, each as its own kind, in the note and in the folder's name
    for kind in ("no.duf", "se.lma", "dk.udlaendingenummer"):
        assert kind in by_kind, kind
    assert any(o["location"].get("section") == "name" for f in by_kind["no.duf"] for o in f["occurrences"])
    assert any("notat.txt" in f["resource"] for f in by_kind.get("se.personnummer", []))
    # the backup's timestamp, in its name and in a listing, is no personnummer
    assert not [f for f in report["findings"] if "backup" in f["resource"] and f["kind"].startswith("se.")]
    blobs = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    blobs |= {p.name: p.read_bytes() for p in (tmp_path / "state").rglob("*") if p.is_file()}
    blobs |= {"stdout": proc.stdout.encode(), "stderr": proc.stderr.encode()}
    for value in (DUF, LMA, UDL, SPACED_SE, *cprs[:50]):
        for form in every_form(value):
            for name, blob in blobs.items():
                assert form.encode() not in blob, f"{form!r} leaked into {name}"
