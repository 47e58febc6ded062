"""Reports: JSON schema, SARIF schema, CSV for Excel, HTML in a real browser, signed bundles."""
import csv
import io
import json
import os
import re
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from vendorscan.agent import bundle
from conftest import PLANTED, every_form, load_json, run_cli
from vendorscan.report import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo():
    """The demo scan with a bundle: the report every format is checked on."""
    # Under a folder others can traverse (pytest's tmp dirs are 0700), so exposure shows as in the demo.
    base = Path(tempfile.mkdtemp(prefix="vendorscan-demo-", dir="/tmp"))
    os.chmod(base, 0o755)
    proc = run_cli("demo", "--estate", base / "estate", "--out", base / "report", "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    yield base / "report"
    shutil.rmtree(base, ignore_errors=True)


def test_json_report_matches_its_published_schema(demo):
    schema = json.loads((files("reports") / "schema" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        load_json(demo / "report.json"))


def test_sarif_report_matches_the_sarif_2_1_0_schema(demo):
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
    doc = load_json(demo / "report.sarif")
    jsonschema.Draft4Validator(schema).validate(doc)
    report = load_json(demo / "report.json")
    assert len(doc["runs"][0]["results"]) == len(report["findings"])


def test_csv_opens_in_excel_with_nordic_letters(demo):
    raw = (demo / "findings.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["severity", "title", "check_id"]
    assert len(rows) - 1 == len(load_json(demo / "report.json")["findings"])
    assert any("fødselsnummer" in r[1] or "henkilötunnus" in r[1] for r in rows)
    scan = load_json(demo / "report.json")["scan"]
    col = {name: i for i, name in enumerate(rows[0])}
    for r in rows[1:]:  # every row says which scan it is from, and numbers read as numbers in a Nordic locale
        assert r[col["scan_id"]] == scan["scan_id"] and r[col["scan_date"]] == scan["ended"][:10]
        assert r[col["count"]].isdigit() and float(r[col["confidence"]].replace(",", ".")) <= 1
        assert "." not in r[col["confidence"]]


def test_html_in_a_real_browser(demo, tmp_path):
    from browser import Browser
    b = Browser()
    try:
        seen = b.load((demo / "report.html").as_uri())
        b.screenshot(tmp_path / "report.png")
        b.pdf(tmp_path / "report.pdf")
    finally:
        b.close()
    assert [u for u in seen["requests"] if not u.startswith("file://")] == []
    assert seen["console"] == [] and seen["exceptions"] == []
    png = (tmp_path / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    if os.environ.get("VENDORSCAN_REFRESH_DOCS"):  # a test run leaves the work tree as it found it
        shutil.copyfile(tmp_path / "report.png", ROOT / "docs" / "report-screenshot.png")


AXE = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"  # scripts/setup.sh installs it


def _page_sizes(pdf: bytes) -> set[tuple[int, int]]:
    """(width, height) in points of every page's MediaBox."""
    import re
    return {(round(float(w)), round(float(h)))
            for w, h in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)}


def test_html_fits_a_phone_passes_axe_and_prints_on_a4(demo, tmp_path):
    from browser import Browser
    assert AXE.exists(), "axe-core is missing: run scripts/setup.sh"
    b = Browser()
    try:
        b.load((demo / "report.html").as_uri(), width=390)
        widths = b.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
        violations = b.axe(AXE)
        b.load((demo / "report.html").as_uri())
        b.pdf(tmp_path / "report.pdf")
    finally:
        b.close()
    assert max(widths[:2]) <= widths[2] == 390, widths  # nothing runs off a 390 px screen
    assert violations == [], violations
    assert _page_sizes((tmp_path / "report.pdf").read_bytes()) == {(595, 842)}  # A4 in points


def _bundle(demo, tmp_path):
    src = next(demo.glob("bundle-*"))
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


def _demo_key(demo) -> str:
    """The demo's public key, from its state dir (as its signer knows it), never from the bundle."""
    return bundle.state_public_key(demo.parent / "demo-state")


def _verify(b, *args):
    """`vendorscan verify` with a state dir of no key of its own, so that only the given keys are trusted."""
    return run_cli("verify", b, *args, env={"VENDORSCAN_STATE": str(b.parent / "no-such-state")})


def _resign(b, edit) -> None:
    """What an attacker can do without the signing key: edit, rehash, re-sign with a key of their own."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    import base64
    key = Ed25519PrivateKey.generate()
    edit(b)
    manifest = json.loads((b / "manifest.json").read_text())
    manifest["files"] = {p.name: bundle._sha256(p) for p in b.iterdir() if p.name not in ("manifest.json",
                                                                                           "manifest.sig")}
    manifest["public_key"] = bundle.public_text(key.public_key())
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    (b / "manifest.json").write_bytes(body)
    (b / "manifest.sig").write_text(base64.b64encode(key.sign(body)).decode() + "\n")


def test_fresh_bundle_verifies(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    proc = _verify(b, "--public-key", _demo_key(demo))
    assert proc.returncode == 0 and proc.stdout.startswith("OK"), proc.stdout + proc.stderr
    assert {p.name for p in b.iterdir()} == {"report.html", "report.json", "findings.csv", "report.sarif",
                                             "manifest.json", "manifest.sig"}


def test_trusted_keys_file_and_the_state_dirs_own_key(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    other = bundle.public_text(bundle.signing_key(tmp_path).public_key())
    keys = tmp_path / "trusted.keys"
    keys.write_text(f"# suppliers' scanners\n{other} old scanner\n\n{_demo_key(demo)}  demo 2026\n")
    proc = _verify(b, "--trusted-keys", keys)
    assert proc.returncode == 0 and proc.stdout.startswith("OK"), proc.stdout + proc.stderr
    proc = run_cli("verify", b, "--state-dir", demo.parent / "demo-state")  # on the machine that signed it
    assert proc.returncode == 0 and "the signing key of the state dir" in proc.stdout, proc.stdout + proc.stderr


def test_without_a_pinned_key_verify_refuses_to_say_ok(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    proc = _verify(b)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr.startswith("vendorscan: no trusted key to verify against: pass --public-key")
    assert len(proc.stderr.splitlines()) == 1


def test_a_resigned_bundle_fails(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    _resign(b, lambda b: (b / "report.json").write_text("{}"))
    assert _verify(b).returncode == 2  # the old verify said OK here: it trusted the key in the manifest
    proc = _verify(b, "--public-key", _demo_key(demo))
    assert proc.returncode == 1 and "not signed by a trusted key" in proc.stdout, proc.stdout


def test_junk_appended_to_the_signature_fails(demo, tmp_path):
    for junk in (b"junk", b"AAAA", b"!!", b"\n\n", b" ", "ø".encode()):
        b = _bundle(demo, tmp_path / junk.hex())
        with open(b / "manifest.sig", "ab") as f:
            f.write(junk)
        proc = _verify(b, "--public-key", _demo_key(demo))
        assert proc.returncode == 1 and "manifest.sig is not" in proc.stdout, (junk, proc.stdout)


def test_a_bundle_renamed_to_another_scan_fails(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    renamed = b.with_name("bundle-20990101T000000.000000Z-00000000")
    b.rename(renamed)
    proc = _verify(renamed, "--public-key", _demo_key(demo))
    assert proc.returncode == 1 and "the directory is named bundle-2099" in proc.stdout, proc.stdout


def test_a_malformed_public_key_is_a_clear_error(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    key = _demo_key(demo)
    for bad in (key + "AA", key[:-4], "ed25519:" + "!" * 44):
        proc = _verify(b, "--public-key", bad)
        assert proc.returncode == 2 and proc.stderr.startswith("vendorscan: --public-key"), (bad, proc.stderr)


@pytest.mark.parametrize("name", ["report.html", "report.json", "findings.csv", "report.sarif"])
def test_one_changed_byte_is_detected(demo, tmp_path, name):
    b = _bundle(demo, tmp_path)
    data = bytearray((b / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (b / name).write_bytes(bytes(data))
    proc = _verify(b, "--public-key", _demo_key(demo))
    assert proc.returncode == 1 and f"{name}: changed" in proc.stdout


def test_deleted_file_and_added_file_are_detected(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    (b / "findings.csv").unlink()
    (b / "extra.txt").write_text("x")
    problems, _ = bundle.verify(b, [_demo_key(demo)])
    assert "findings.csv: missing" in problems and any("extra.txt" in p for p in problems)


def test_swapped_manifest_is_detected(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    manifest = json.loads((b / "manifest.json").read_text())
    (b / "report.json").write_text("{}")
    manifest["files"]["report.json"] = bundle._sha256(b / "report.json")
    (b / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    problems, _ = bundle.verify(b, [_demo_key(demo)])
    assert any("signature does not match" in p for p in problems)


def test_bundle_signed_by_another_key_is_refused_when_the_key_is_pinned(demo, tmp_path):
    b = _bundle(demo, tmp_path)
    other = bundle.public_text(bundle.signing_key(tmp_path).public_key())
    problems, _ = bundle.verify(b, [other])
    assert problems


def test_no_plaintext_in_csv_sarif_or_bundle(planted_tree, tmp_path):
    proc = run_cli("scan", planted_tree, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   "--bundle")
    assert proc.returncode == 1
    for path in (tmp_path / "o").rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for values in PLANTED.values():
                for value in values:
                    for form in every_form(value):
                        assert form.encode() not in blob, f"{form} in {path.name}"


def test_bundle_command_rebuilds_a_past_scan(planted_tree, tmp_path):
    run_cli("scan", planted_tree, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet")
    scan_id = next((tmp_path / "s" / "runs").iterdir()).name
    proc = run_cli("bundle", scan_id, "--state-dir", tmp_path / "s", "--out", tmp_path / "b")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = Path(proc.stdout.split("bundle: ", 1)[1].strip())
    assert run_cli("verify", built, "--state-dir", tmp_path / "s").returncode == 0


def test_swedish_report_from_the_catalog(planted_tree, tmp_path):
    proc = run_cli("scan", planted_tree, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   "--lang", "sv")
    assert proc.returncode == 1
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in html and "Sammanfattning" in html and "Svenskt personnummer" in html
    # titles and remediation with numbers and principals come from the catalog too
    assert "Mapp läsbar för alla konton som kan logga in" in html
    assert "personers personnummer med känsliga personuppgifter läsbara för alla konton" in html
    assert "Begränsa mappen till de personer" in html
    assert "Folder readable by" not in html
    assert 'id="target-chart"' in html


def _catalog(name: str):
    from babel.messages.pofile import read_po
    with (files("reports") / "i18n" / name).open("rb") as f:
        return read_po(f)


def _placeholders(text: str) -> set[str]:
    import re
    return set(re.findall(r"\{(\w*)\}|%\((\w+)\)s", text))


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated_keeping_its_placeholders(lang):
    template = _catalog("messages.pot")
    catalog = _catalog(f"{lang}.po")
    missing, broken = [], []
    for m in template:
        if not m.id:
            continue
        t = catalog.get(m.id)
        strings = [] if t is None else ([t.string] if isinstance(t.string, str) else list(t.string))
        if not strings or not all(strings):
            missing.append(m.id if isinstance(m.id, str) else m.id[0])
        elif any(_placeholders(x) != _placeholders(m.id if isinstance(m.id, str) else m.id[0]) for x in strings):
            broken.append(m.id)
    assert not missing and not broken, (missing[:10], broken[:10])


def _visible_text(html: Path, width: int = 1280) -> str:
    from browser import Browser
    b = Browser()
    try:
        b.load(html.as_uri(), width=width)
        return b.evaluate("document.documentElement.lang + '\\n' + document.body.innerText")
    finally:
        b.close()


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)}


def _technical_words(report: dict) -> set[str]:
    """Words of what a report shows as it is in every language: ids, URIs, names, evidence, references."""
    scan = report["scan"]
    parts = [scan.get(k, "") for k in ("host", "operator", "scan_id", "config_digest", "checks_digest",
                                       "signing_public_key")] + [c["id"] for c in report["checks"]]
    explained = re.compile(r"\([^()]*\)")  # 'other (every local account)': the report translates what is in brackets
    for f in report["findings"]:
        shown = [v for m in f["details"].get("evidence_msg", []) for k, v in m[1].items()
                 if k in ("principal", "source")]
        parts += [f["resource"], f["target"], f["kind"], f["check_id"], f.get("part", ""),
                  *(explained.sub("", e) for e in (shown if f["details"].get("evidence_msg") else f["evidence"])),
                  *f.get("references", []), *(str(v) for loc in f["locations"] for v in loc.values())]
    parts += [t["target"] + " " + t["connector"] for t in report["targets"]]
    parts += [s["uri"] for s in report["skipped"]]  # a skip's detail is the report's to translate
    compliance = report["compliance"]  # requirement ids as the framework writes them; the contract in its own words
    parts += [r["id"] for f in compliance["frameworks"] for r in f["requirements"]] + [compliance["contract_name"]]
    parts += [c["id"] + " " + c["title"] for c in compliance["contract"]]
    return _words(" ".join(parts)) | {"vendorscan", "gdpr", "art", "nis2", "iso", "iec", "pci", "dss", "hmac",
                                      "sha", "ed25519", "bundle", "verify", "key", "public", "kib", "mib", "gib",
                                      "utc", "info", "json", "report", "csv"}


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_report_in_every_language_leaves_no_english(demo, lang, tmp_path):
    proc = run_cli("demo", "--estate", tmp_path / "estate", "--out", tmp_path / "report", "--quiet", "--lang", lang)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = _visible_text(tmp_path / "report" / "report.html")
    assert text.split("\n", 1)[0] == lang  # <html lang="…">
    english = _words(_visible_text(demo / "report.html")) - _technical_words(load_json(demo / "report.json"))
    ours = {w for m in _catalog(f"{lang}.po") if m.id for s in ([m.string] if isinstance(m.string, str) else m.string)
            for w in _words(s or "")}  # words the language's own catalog uses (Danish "for", Swedish "data")
    from babel.dates import get_month_names
    from vendorscan.reports.html import LOCALES
    ours |= _words(" ".join(get_month_names("abbreviated", locale=LOCALES[lang]).values()))  # "2 dec. 2026"
    technical = _technical_words(load_json(tmp_path / "report" / "report.json"))
    left = (_words(text) & english) - ours - technical
    assert not left, sorted(left)


def test_pdf_format(planted_tree, tmp_path):
    cfg = tmp_path / "pdf.toml"
    cfg.write_text('[scan]\nformats = ["pdf", "json"]\n')
    proc = run_cli("scan", planted_tree, "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s",
                   "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    pdf = (tmp_path / "o" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert _page_sizes(pdf) == {(595, 842)}  # A4 in points


def test_demo_report_shows_ids_in_case_screenshots_and_the_zipped_office_export(demo):
    report = load_json(demo / "report.json")
    found: dict[str, set] = {}
    for f in report["findings"]:
        if f["category"] == "national_id" and f["verdict"] == "real":
            for o in f["occurrences"]:
                found.setdefault(f["resource"].rsplit("/", 1)[1], set()).add(
                    (o["location"].get("member"), "region" in o["location"], "cell" in o["location"],
                     "paragraph" in o["location"]))
    named = next(name for name in found if name.startswith("arende-4713-"))  # saved under an applicant's id
    assert named.startswith("arende-4713-") and "-****.png#h=" in named
    for shot in ("arende-4711.png", "arende-4712.png", named):
        assert (None, True, False, False) in found[shot]  # read through OCR, located by region
    assert ("export/overlamning.docx", False, False, True) in found["hr_export_2024.zip"]
    assert ("export/personal.xlsx", False, True, False) in found["hr_export_2024.zip"]
    exposure = [f for f in report["findings"] if f["check_id"] == "exposure" and "case-screenshots" in f["resource"]]
    assert exposure and exposure[0]["severity"] == "critical"  # ids and ethnicity open to everyone



FORMULAS = ['=HYPERLINK("https:evil.example","open")', "+SUM(1,1)", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


def test_csv_cells_never_start_a_formula(tmp_path):
    """Supplier-chosen names (a file, an archive member) must reach findings.csv as text, not as live formulas."""
    import zipfile
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / (FORMULAS[0] + ".txt")).write_text("personnummer 850412-1230\n")
    for i, name in enumerate(FORMULAS):  # one archive each: each member's name starts a locations cell
        with zipfile.ZipFile(tree / f"export{i}.zip", "w") as z:
            z.writestr(f"{name}.txt", "rad 1\npersonnummer 850412-1230\n")
    proc = run_cli("scan", tree, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet")
    assert proc.returncode in (0, 1), proc.stderr
    raw = (tmp_path / "o" / "findings.csv").read_bytes().decode("utf-8-sig")  # CR kept as written
    rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=";"))
    cells = [c for row in rows[1:] for c in row]
    assert [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))] == []
    locations = {row[rows[0].index("locations")] for row in rows[1:]}
    for name in FORMULAS:
        assert f"'{name}.txt, line 2, col 14" in locations, (name, locations)


def test_each_finding_shows_its_lifecycle_and_a_rescan_lists_what_it_resolved(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "keep.txt").write_text("personnummer 850412-1230\n")
    (tree / "gone.txt").write_text("CPR 120485-1006\n")
    args = ("scan", tree, "--state-dir", tmp_path / "s", "--quiet")
    run_cli(*args, "--out", tmp_path / "o1")
    first = load_json(tmp_path / "o1" / "report.json")
    assert {f["lifecycle"]["status"] for f in first["findings"]} == {"new"} and first["resolved"] == []
    (tree / "gone.txt").unlink()
    run_cli(*args, "--out", tmp_path / "o2", "--lang", "da")
    second = load_json(tmp_path / "o2" / "report.json")
    assert {f["lifecycle"]["status"] for f in second["findings"]} == {"persisting"}
    assert any(r["kind"] == "dk.cpr" and r["resource"].endswith("gone.txt") for r in second["resolved"])
    html = (tmp_path / "o2" / "report.html").read_text(encoding="utf-8")
    assert 'data-status="persisting"' in html and 'class="resolved"' in html and "gone.txt" in html


def test_a_skip_detail_made_at_run_time_is_marked_english_and_a_known_one_translated(tmp_path):
    tree = tmp_path / "share"
    tree.mkdir()
    (tree / "big.txt").write_text("x" * 5000)
    (tree / "notes.tmp").write_text("kladde")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[scan]\nformats = ["html", "json"]\n[limits]\nmax_file_size = "1KB"\n'
                   f'[[targets]]\nname = "share"\ntype = "local"\npaths = ["{tree}"]\nexclude = ["*.tmp"]\n')
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                   "--lang", "da")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "matcher et udelukkelsesmønster" in html and "matches an exclude pattern" not in html
    assert re.search(r'<span lang="en">5000 bytes &gt; limit \d+</span>', html), html[html.find('id="skipped"'):][:800]


def test_html_shows_the_worst_thousand_resources_and_says_how_many_more(tmp_path):
    """An estate with more resources with findings than the page shows: report.json keeps every one."""
    from vendorscan.reports.html import MAX_RESOURCE_GROUPS
    tree = tmp_path / "t"
    tree.mkdir()
    extra = 4
    for i in range(MAX_RESOURCE_GROUPS + extra):
        (tree / f"case{i:04d}.txt").write_text("personnummer 850412-1230\n" if i else "CPR 120485-1006\n")
    proc = run_cli("scan", tree, "--state-dir", tmp_path / "s", "--out", tmp_path / "o", "--quiet", "--lang", "sv")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    report = load_json(tmp_path / "o" / "report.json")
    assert len({f["resource"] for f in report["findings"] if f["check_id"] == "identifiers"}) == MAX_RESOURCE_GROUPS + extra
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert html.count('<div class="resource">') == MAX_RESOURCE_GROUPS
    assert f"{extra} resurser till med fynd visas inte här" in html
