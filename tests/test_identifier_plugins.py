"""Identifier kinds come from one table: the built-in rows give names, categories and types, and a plugin
package adds a kind with one module and one entry point (group vendorscan.identifiers)."""
import importlib
import sys
from datetime import date

import pytest

from vendorscan import IdentifierKind, plugins
from vendorscan.checks import idspecs
from vendorscan.checks.identifiers import IdentifierCheck, detect
from vendorscan.checks.patterns import PatternPass
from vendorscan.checks.special_categories import NAMES as SPECIAL_NAMES, TERMS, SpecialCategoryCheck
from vendorscan.context import ValueHasher
from vendorscan.model import Verdict
from conftest import files_under, install_plugin, load_json, run_cli

H = ValueHasher(b"k" * 32)
TODAY = date(2026, 11, 24)

# A made-up kind, as a third party would ship it: XM- and six digits and a Luhn check digit; 9xxxxx is
# its test range. The same module is what README's "Adding a plugin" shows.
MEMBERNO = '''
from vendorscan import IdentifierKind


def _luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def validate(candidate):
    digits = candidate[3:]
    if not _luhn_ok(digits):
        return None
    return "XM" + digits, "test" if digits[0] == "9" else "real"


MEMBERNO = IdentifierKind(
    "xx.memberno", "xx", "national_id", "Made-up member number",
    context=("medlemsnummer", "member no", "membership"),
    pattern=r"XM-\\d{7}", validate=validate, mask=lambda value: "XM-" + value[2:4] + "*****",
    test_note="test range (serial 9xxxxx)")
'''
VALID, VALID_2, TEST_NO, BAD_CHECK = "XM-1234566", "XM-5555552", "XM-9000001", "XM-1234567"


def _installed(tmp_path, monkeypatch, source=MEMBERNO, name="xx.memberno", attr="MEMBERNO"):
    """Puts a plugin package on this process's path and forgets the kinds loaded before."""
    monkeypatch.syspath_prepend(install_plugin(tmp_path, "identifiers", name, source, attr)["PYTHONPATH"].split(":")[0])
    importlib.invalidate_caches()
    idspecs.forget()


@pytest.fixture
def memberno(tmp_path, monkeypatch):
    _installed(tmp_path, monkeypatch)
    yield
    sys.modules.pop("vs_xx_memberno", None)
    idspecs.forget()


@pytest.fixture(autouse=True)
def _fresh_kinds():
    idspecs.forget()
    yield
    idspecs.forget()


# -- the one table ------------------------------------------------------------------------------------
OLD_NAMES = {  # kinds.NAMES as it was: the titles reports show must not change
    "se.personnummer": "Swedish personnummer", "se.samordningsnummer": "Swedish samordningsnummer",
    "dk.cpr": "Danish CPR number", "no.fodselsnummer": "Norwegian fødselsnummer", "no.dnummer": "Norwegian D-number",
    "no.hnummer": "Norwegian H-number", "fi.hetu": "Finnish henkilötunnus", "is.kennitala": "Icelandic kennitala",
    "nordic.national_id": "Nordic national identifier", "email": "E-mail address", "iban": "IBAN bank account number",
    "card": "Payment card number",
}


def test_names_categories_and_types_follow_from_the_table():
    assert IdentifierCheck.Options().types == [s.kind for s in idspecs.SPECS + idspecs.LABELLED]
    for kind, name in OLD_NAMES.items():
        row = idspecs.spec(kind)
        title, remediation, refs = IdentifierCheck.describe(kind, "real")
        assert title == name == row.name
        assert refs == IdentifierCheck.describe("card" if row.category == "financial" else kind, "real")[2]
    assert IdentifierCheck.describe("iban", "real")[2] == ("GDPR Art. 32", "PCI DSS 3.4")
    assert IdentifierCheck.describe("email", "real")[2] == ("GDPR Art. 5(1)(c)", "GDPR Art. 32")
    assert IdentifierCheck.describe("fi.hetu", "test")[0] == "Finnish henkilötunnus (official test number)"
    assert idspecs.NATIONAL_COUNTRIES == ("se", "dk", "no", "fi", "is")
    with pytest.raises(ValueError, match="unknown identifier types"):
        IdentifierCheck.Options(types=["xx.memberno"])  # not installed


def test_special_category_names_cover_every_category():
    assert SPECIAL_NAMES.keys() == TERMS.keys()
    assert SpecialCategoryCheck.describe("special.criminal", "real")[0] == "Criminal records terms (GDPR Art. 10)"


def test_the_old_hand_kept_tables_are_gone():
    from vendorscan.checks import kinds
    assert not hasattr(kinds, "NAMES") and not hasattr(kinds, "_CATEGORY")
    assert "validator" not in {f for f in IdentifierKind.__dataclass_fields__}


# -- a plugin kind ------------------------------------------------------------------------------------
@pytest.mark.parametrize("compiled", [True, False])
def test_a_plugin_kind_is_found_masked_and_hashed(memberno, compiled):
    text = f"medlemsnummer: {VALID}\n{' filler' * 8}\nother {VALID_2} and {TEST_NO}\n"
    found = [h for h in detect(text, H, today=TODAY, compiled=compiled) if h.kind == "xx.memberno"]
    assert [(text[h.start:h.end], h.verdict) for h in found] == [
        (VALID, Verdict.REAL), (VALID_2, Verdict.REAL), (TEST_NO, Verdict.TEST)]
    first, second, test = found
    assert first.evidence == "XM-12*****" and first.category == "national_id"
    assert first.value_hash == H("xx.memberno", "XM1234566")
    assert first.confidence > second.confidence  # the context word
    assert test.note == "test range (serial 9xxxxx)" and not first.note
    assert all(v[3:] not in h.evidence for h, v in zip(found, (VALID, VALID_2, TEST_NO)))


@pytest.mark.parametrize("text", [f"medlemsnummer {BAD_CHECK}", f"A{VALID}", f"{VALID}9", f"{VALID}B", "XM-123456"])
def test_a_plugin_kind_keeps_only_valid_whole_values(memberno, text):
    assert [h for h in detect(text, H, today=TODAY) if h.kind == "xx.memberno"] == []


def test_a_plugin_kind_is_a_type_like_the_built_in_ones(memberno):
    assert "xx.memberno" in IdentifierCheck.Options().types
    only_cpr = IdentifierCheck.Options(types=["dk.cpr"])
    assert [h.kind for h in detect(f"cpr 120485-1006 {VALID}", H, only_cpr, today=TODAY)] == ["dk.cpr"]
    only_member = IdentifierCheck.Options(types=["xx.memberno"])
    assert [h.kind for h in detect(f"cpr 120485-1006 {VALID}", H, only_member, today=TODAY)] == ["xx.memberno"]
    title, remediation, refs = IdentifierCheck.describe("xx.memberno", "real")
    assert title == "Made-up member number" and refs == IdentifierCheck.describe("dk.cpr", "real")[2]
    assert IdentifierCheck.describe("xx.memberno", "test")[0] == "Made-up member number (official test number)"


def test_a_value_in_the_overlap_is_the_next_chunks(memberno):
    from vendorscan.model import Chunk
    from vendorscan.context import ScanContext
    text = f"aaaa {VALID} bbbb {VALID_2}"
    cut = text.index(VALID_2)
    check = IdentifierCheck(today=TODAY)
    ctx = ScanContext("t", "production", H)
    own = [h.start for h in check.scan(Chunk(text, 100, 100, 100 + cut, 1, 1), None, ctx)]
    rest = [h.start for h in check.scan(Chunk(text, 100, 100 + cut, 100 + len(text), 1, 1), None, ctx)]
    assert own == [105] and rest == [100 + cut]


def test_a_masker_that_shows_the_value_is_overruled():
    row = IdentifierKind("xx.leaky", "xx", "contact", "Leaky", pattern=r"LK\d{6}",
                         validate=lambda c: (c, "real"), mask=lambda v: f"<{v}>")
    hits = list(PatternPass([row], 40).scan("see LK123456 here", 0, 17, 0, H))
    assert [h.evidence for h in hits] == ["LK******"]


def test_a_value_without_four_digits_is_not_reported():
    """Names are masked only where four digits or an '@' stand: such a value would show in a resource's name."""
    row = IdentifierKind("xx.letters", "xx", "contact", "Letters", pattern=r"QQ-[A-Z]{3}\d{3,4}",
                         validate=lambda c: (c, "real"))
    assert [h.evidence for h in PatternPass([row], 40).scan("QQ-ABC123 QQ-ABC1234", 0, 20, 0, H)] == ["QQ-*******"]


@pytest.mark.parametrize("source, attr, why", [
    ("X = object()\n", "X", "must equal its entry-point name"),
    ("class X:\n    id = 'xx.memberno'\n", "X", "not an IdentifierKind"),
    (MEMBERNO.replace('"xx.memberno", "xx"', '"dk.cpr", "dk"'), "MEMBERNO", "must equal its entry-point name"),
    (MEMBERNO.replace('"national_id"', '"gossip"'), "MEMBERNO", "category must be one of"),
    (MEMBERNO.replace(r"XM-\d{7}", r"XM-(\d{7}"), "MEMBERNO", "not a valid regular expression"),
])
def test_a_broken_plugin_kind_is_named(tmp_path, monkeypatch, source, attr, why):
    _installed(tmp_path, monkeypatch, source, attr=attr)
    sys.modules.pop("vs_xx_memberno", None)
    with pytest.raises(plugins.PluginError, match=why) as err:
        IdentifierCheck.Options()
    assert "xx.memberno" in str(err.value)
    sys.modules.pop("vs_xx_memberno", None)


def test_a_broken_plugin_kind_that_is_not_selected_is_not_imported(tmp_path, monkeypatch):
    _installed(tmp_path, monkeypatch, "import no_such_module_xyz\n")
    with pytest.raises(plugins.PluginError, match="pip install no_such_module_xyz"):
        IdentifierCheck.Options()
    assert [h.kind for h in detect("cpr 120485-1006", H, IdentifierCheck.Options(types=["dk.cpr"]), today=TODAY)] \
        == ["dk.cpr"]


def test_a_plugin_cannot_replace_a_built_in_kind(tmp_path, monkeypatch):
    _installed(tmp_path, monkeypatch, MEMBERNO.replace('"xx.memberno", "xx"', '"dk.cpr", "dk"'), name="dk.cpr")
    with pytest.raises(plugins.PluginError, match="'dk.cpr': a built-in kind cannot be replaced"):
        IdentifierCheck.Options()
    sys.modules.pop("vs_dk_cpr", None)


def test_scan_through_the_installed_command_reports_a_plugin_kind_masked(tmp_path, open_dir):
    """The plugin installed as pip installs one; the scan's worker processes load it from PYTHONPATH."""
    env = install_plugin(tmp_path, "identifiers", "xx.memberno", MEMBERNO, "MEMBERNO")
    tree = open_dir / "members"
    tree.mkdir()
    (tree / "register.txt").write_text(f"namn;medlemsnummer\nAnna;{VALID}\nBo;{VALID_2}\nTest;{TEST_NO}\n"
                                       f"Cecilia;{BAD_CHECK}\ncpr 120485-1006\n")
    (tree / f"kort-{VALID_2}.txt").write_text("nothing here\n")
    out, state = tmp_path / "o", tmp_path / "s"
    proc = run_cli("scan", tree, "--out", out, "--state-dir", state, "--quiet", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = load_json(out / "report.json")
    mine = {(f["resource"].rsplit("/", 1)[1].split("#")[0], f["verdict"]): f for f in report["findings"]
            if f["kind"] == "xx.memberno"}
    assert set(mine) == {("register.txt", "real"), ("register.txt", "test"), ("kort-XM-55*****.txt", "real")}
    real = mine[("register.txt", "real")]
    assert real["title"] == "Made-up member number" and real["category"] == "national_id"
    assert real["count"] == 2 and real["distinct"] == 2 and set(real["evidence"]) == {"XM-12*****", "XM-55*****"}
    assert mine[("register.txt", "test")]["severity"] == "info"
    assert {f["kind"] for f in report["findings"] if f["check_id"] == "identifiers"} >= {"dk.cpr", "xx.memberno"}
    blobs = {str(p): p.read_bytes() for p in files_under(out, state)}
    blobs.update(stdout=proc.stdout.encode(), stderr=proc.stderr.encode())
    for value in (VALID, VALID_2, TEST_NO):
        for form in (value, value[3:], "XM" + value[3:]):
            for name, blob in blobs.items():
                for enc in ("utf-8", "utf-16-le"):
                    assert form.encode(enc) not in blob, f"{form} leaked into {name}"


def test_a_plugin_kinds_version_keys_cached_results(tmp_path, monkeypatch):
    """A changed validator (a new version) must make an incremental scan read unchanged files again."""
    from vendorscan.agent.config import parse
    digests = []
    for version in ("1", "1", "2"):
        sys.modules.pop("vs_xx_memberno", None)
        folder = tmp_path / f"v{len(digests)}"
        folder.mkdir()
        _installed(folder, monkeypatch, MEMBERNO.replace('test_note="test range (serial 9xxxxx)")',
                                                          f'test_note="test range (serial 9xxxxx)", version="{version}")'))
        digests.append(parse({}).checks_digest())
    sys.modules.pop("vs_xx_memberno", None)
    assert digests[0] == digests[1] != digests[2]


def test_identifiers_list_shows_the_built_in_kinds_and_an_installed_one(tmp_path):
    env = install_plugin(tmp_path, "identifiers", "xx.memberno", MEMBERNO, "MEMBERNO")
    proc = run_cli("identifiers", "list", env=env)
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert proc.returncode == 0 and rows["se.personnummer"].endswith("(built in)"), proc.stdout + proc.stderr
    assert rows["xx.memberno"].endswith("Made-up member number (plugin)")
