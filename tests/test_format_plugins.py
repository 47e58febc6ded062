"""File formats are plugins: the built-in handlers come from entry points, a new format is one module plus one
entry-point line, and a handler whose declarations do not add up is refused by name."""
import base64

import pytest

from conftest import install_plugin, load_json, run_cli

from vendorscan import FormatHandler, Segment, plugins
from vendorscan.formats.registry import Formats, installed

SE = "850412-1230"

# A made-up format: a signature, then the text in base64 (so that reading it as text finds nothing).
_DEMO_HANDLER = '''
import base64

from vendorscan import FormatHandler, Location, Segment


class DemoFormat(FormatHandler):
    """VSDEMO1 files: base64 text behind a signature."""

    id = "vsdemo"
    kinds = ("vsdemo",)
    magic = ((b"VSDEMO1\\n", "vsdemo"),)
    extensions = {".vsd1": "vsdemo"}
    switch = "documents"

    def read(self, f, kind, **_):
        f.read(8)  # the signature
        yield Segment(base64.b64decode(f.read()).decode("utf-8"), Location(section="demo body"))
'''


def _demo_file(path):
    text = f"Ärende 17\nPersonnummer {SE}\n".encode()
    path.write_bytes(b"VSDEMO1\n" + base64.encodebytes(text))
    return path


def _scan(tmp_path, tree, label, env=None, config=""):
    out, state = tmp_path / f"out-{label}-{bool(env)}", tmp_path / f"state-{label}"
    args = ["scan", tree, "--out", out, "--state-dir", state, "--quiet"]
    if config:
        cfg = tmp_path / f"{label}.toml"
        cfg.write_text(config + f'\n[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
        args = ["scan", "--config", cfg, "--out", out, "--state-dir", state, "--quiet"]
    proc = run_cli(*args, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, load_json(out / "report.json")


def _real(report, name):
    return [f for f in report["findings"] if f["resource"].endswith(name) and f["verdict"] == "real"]


def test_builtin_handlers_are_the_entry_points_and_build_the_tables():
    names = set(plugins.available("formats"))
    assert {"zip", "tar", "compressed", "office", "pdf", "eml", "msg", "image", "legacy_office"} <= names
    formats = installed()
    assert set(formats.handlers) == names
    assert formats.handler("docx").id == "office" and formats.handler("gzip").id == "compressed"
    assert formats.claims[".docx"] == "docx" and formats.is_container("zip") and formats.is_container("ole2")
    assert (b"%PDF-", "pdf") in formats.magic and formats.needs_seek("pdf") and not formats.needs_seek("tar")


def test_a_new_format_is_one_module_and_one_entry_point(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    _demo_file(tree / "case.vsd1")
    _demo_file(tree / "unnamed.bin")  # typed by content, not by name
    # Without the plugin the same file is plain text (its base64 hides the id): read, nothing found, not skipped.
    _, report = _scan(tmp_path, tree, "without")
    assert not _real(report, "case.vsd1") and not any(s["uri"].endswith("case.vsd1") for s in report["skipped"])
    env = install_plugin(tmp_path, "formats", "vsdemo", _DEMO_HANDLER, "DemoFormat")
    # Installed, its handler reads them: also in an incremental scan of unchanged files (the handlers are part
    # of what keys cached results).
    proc, report = _scan(tmp_path, tree, "without", env=env)
    for name in ("case.vsd1", "unnamed.bin"):
        found = _real(report, name)
        assert [f["kind"] for f in found] == ["se.personnummer"], report["findings"]
        assert found[0]["occurrences"][0]["location"]["section"] == "demo body"
    assert SE not in proc.stdout + proc.stderr
    # Its [formats] switch turns it off like a built-in document.
    _, report = _scan(tmp_path, tree, "off", env=env, config="[formats]\ndocuments = false\n")
    skip = next(s for s in report["skipped"] if s["uri"].endswith("case.vsd1"))
    assert skip["reason"] == "format-disabled" and "vsdemo document" in skip["detail"]


def test_a_broken_format_plugin_stops_the_scan_before_it_starts(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text(f"personnummer {SE}\n")
    env = install_plugin(tmp_path, "formats", "vsdemo", _DEMO_HANDLER.replace('switch = "documents"',
                                                                             'switch = "spreadsheets"'), "DemoFormat")
    proc = run_cli("scan", tree, "--out", tmp_path / "out", "--state-dir", tmp_path / "state", "--quiet", env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not (tmp_path / "out").exists()
    assert "'vsdemo'" in proc.stderr and "spreadsheets" in proc.stderr


def _handler(**attrs):
    def read(self, f, kind, **_):
        yield Segment("", None)
    return type("H", (FormatHandler,), {"id": "h", "kinds": ("h",), "read": read, **attrs})


@pytest.mark.parametrize("attrs, words", [
    ({"kinds": ()}, "declares no kinds"),
    ({"kinds": ("text",)}, "reserved"),
    ({"magic": ((b"HH", "other"),)}, "does not declare"),
    ({"extensions": {"h": "h"}}, "'.suffix'"),
    ({"switch": "spreadsheets"}, "names switch 'spreadsheets'"),
    ({"container": "zip"}, "no probe()"),
])
def test_inconsistent_declarations_are_refused_by_name(attrs, words):
    with pytest.raises(plugins.PluginError, match=words) as err:
        Formats([_handler(**attrs)])
    assert "'h'" in str(err.value)


def test_two_handlers_cannot_claim_one_kind_or_signature():
    with pytest.raises(plugins.PluginError, match="kind 'pdf' is claimed twice"):
        Formats([*(type(h) for h in installed().handlers.values()), _handler(id="h2", kinds=("pdf",))])
    with pytest.raises(plugins.PluginError, match="signature .* claimed twice"):
        Formats([*(type(h) for h in installed().handlers.values()), _handler(magic=((b"%PDF-", "h"),))])


def test_an_install_without_format_entry_points_is_an_error_not_a_scan_of_nothing(monkeypatch):
    monkeypatch.setattr(plugins, "available", lambda group: {})
    with pytest.raises(plugins.PluginError, match="no format handlers are installed"):
        installed.__wrapped__()


def test_a_reader_program_cannot_take_more_than_its_memory_bound():
    """A crafted file may make an external reader (readpst, mdb-export, catdoc) allocate without end: it is killed."""
    import sys
    from vendorscan.format import FormatError
    from vendorscan.formats import programs
    hog = [sys.executable, "-c", f"x = bytearray({2 * programs.MAX_MEMORY}); print('done')"]
    with pytest.raises(FormatError, match="could not read it"):
        list(programs.output(hog, limit=2**20))
    assert b"".join(programs.output([sys.executable, "-c", "print('small')"], limit=2**20)) == b"small\n"
