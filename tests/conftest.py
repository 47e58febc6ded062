"""Shared fixtures: planted identifiers and a helper to run the vendorscan command."""
import json
from urllib.parse import quote
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Real-looking, checksum-valid values (not official test numbers), each with its separator forms.
PLANTED = {
    "se.personnummer": ["850412-1230", "8504121230", "198504121230", "19850412-1230"],
    "dk.cpr": ["120485-1006", "1204851006"],
    "no.fodselsnummer": ["01058510072", "010585 10072"],
    "fi.hetu": ["131052-308T"],
    "is.kennitala": ["120174-2079", "1201742079"],
    "email": ["anna.lindqvist@kommun-exempel.se"],
    "iban": ["SE45 5000 0000 0583 9825 7466", "SE4550000000058398257466"],
    "card": ["4532 0151 1283 0366", "4532015112830366", "4532-0151-1283-0366"],
}


@pytest.fixture
def open_dir():
    """A directory every local account can reach (pytest's own tmp dirs are 0700), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="vendorscan-test-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def planted_tree(open_dir):
    """A small estate: an HR export with every planted kind in a world-readable folder."""
    root = open_dir / "estate"
    hr = root / "hr"
    hr.mkdir(parents=True)
    (hr / "staff.csv").write_text(
        "namn;personnummer;e-post;konto\n"
        "Anna Lindqvist;850412-1230;anna.lindqvist@kommun-exempel.se;SE45 5000 0000 0583 9825 7466\n"
        "Anna Lindqvist;19850412-1230;;\n", encoding="utf-8")
    (hr / "nordic.txt").write_text(
        "CPR-nr: 120485-1006\nfødselsnummer: 01058510072\nhenkilötunnus 131052-308T\n"
        "kennitala: 120174-2079\nkort: 4532 0151 1283 0366\nsjukskrivning, diagnos F32\n", encoding="utf-8")
    (hr / "utf16.txt").write_text("personnummer 8504121230\n", encoding="utf-16")
    (hr / "latin.txt").write_bytes("Malmö personnummer: 198504121230\n".encode("cp1252"))
    for p in [root, hr]:
        os.chmod(p, 0o755)
    for f in hr.iterdir():
        os.chmod(f, 0o644)
    return root


# The installed console script, run from a directory outside the repo, as users run it: `python -m vendorscan.agent` from
# the repo hides what only the installed command meets (its bin/ first on sys.path, no repo on the path).
VENDORSCAN = str(Path(sys.executable).with_name("vendorscan"))
OUTSIDE = Path(tempfile.mkdtemp(prefix="vendorscan-cwd-"))


@pytest.fixture
def tree(tmp_path):
    """An empty folder to build a supplier's tree in."""
    d = tmp_path / "tree"
    d.mkdir()
    return d


def cli(*args) -> list[str]:
    """The command line that runs the installed `vendorscan ARGS` (paths must be absolute; cwd=OUTSIDE)."""
    return [VENDORSCAN, *map(str, args)]


def popen_cli(*args, env=None, **kw) -> subprocess.Popen:
    """Start the installed `vendorscan ARGS` from outside the repo, its output piped as text."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(cli(*args), cwd=OUTSIDE, env={**os.environ, **(env or {})}, text=True, **kw)


def run_cli(*args, env=None, timeout=300):
    """Run the installed `vendorscan ARGS` from outside the repo and return the CompletedProcess."""
    return subprocess.run(cli(*args), capture_output=True, text=True, cwd=OUTSIDE,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def every_form(value: str) -> set[str]:
    """The value with and without its separators, as it could leak (also percent-encoded, as in a uri)."""
    bare = "".join(ch for ch in value if ch.isalnum())
    forms = {value, bare, value.replace(" ", ""), value.replace("-", "")}
    return forms | {quote(form) for form in forms}


def assert_no_planted(blobs: dict) -> None:
    """No planted value, in any separator form, UTF-8 or UTF-16, in any of the named blobs."""
    for kind, values in PLANTED.items():
        for value in values:
            for form in every_form(value):
                for name, blob in blobs.items():
                    for enc in ("utf-8", "utf-16-le"):
                        assert form.encode(enc) not in blob, f"{kind} value {form!r} leaked into {name}"


def files_under(*dirs: Path):
    """Every regular file below the given directories."""
    for d in dirs:
        for p in Path(d).rglob("*"):
            if p.is_file():
                yield p


def load_json(path: Path):
    """Parse a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def wait_for_cached(state: Path, n: int, timeout: float = 60) -> None:
    """Wait until a running scan has put n resources in the incremental cache (its finished work)."""
    import sqlite3
    import time
    db, deadline = state / "state.db", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if db.exists() and sqlite3.connect(db).execute("SELECT COUNT(*) FROM cache").fetchone()[0] >= n:
                return
        except sqlite3.OperationalError:  # created but not yet migrated, or busy
            pass
        time.sleep(0.05)
    raise AssertionError(f"the scan did not cache {n} resources within {timeout}s")


def write_bulk(folder: Path, files: int = 150) -> None:
    """A world-readable folder of ~440 KB text files, each with one id: enough reading to kill a server mid-scan."""
    folder.mkdir()
    os.chmod(folder, 0o755)
    block = ("lorem ipsum dolor sit amet " * 40 + "\n") * 400 + "personnummer 850412-1230\n"
    for i in range(files):
        (folder / f"f{i:03d}.txt").write_text(block)
        os.chmod(folder / f"f{i:03d}.txt", 0o644)


def marker_check(check_id: str, cls: str, marker: str, module: str, action: str, why: str) -> str:
    """Source of a test-only content check that runs `action` (after `import module`) on a chunk holding `marker`."""
    return f'''"""Test only: {why}."""
import {module}

from vendorscan.check import ContentCheck


class {cls}(ContentCheck):
    """Acts on the marker."""

    id = "{check_id}"
    version = "1"

    def scan(self, chunk, resource, ctx):
        if "{marker}" in chunk.text:
            {action}
        return iter(())
'''


_CRASH_MARKER = "VENDORSCAN-TEST-CRASH"
_CRASH_CHECK = marker_check("crashtest", "CrashCheck", _CRASH_MARKER, "os", "os._exit(70)",
                            "the worker process dies on the marker, as on a crash in a document library")


def crash_estate(tmp_path: Path, files: int, poisoned: int, executor: str) -> tuple[Path, dict]:
    """A tree of `files` text files with a personnummer each but number `poisoned`, which holds the crash marker,
    and a config that scans it with the crash check on: (config path, environment to run with)."""
    env = _install_crash_check(tmp_path)
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(files):
        (tree / f"f{i:02d}.txt").write_text(_CRASH_MARKER + "\n" if i == poisoned else
                                            f"rad {i}; personnummer 850412-1230\n")
    cfg = tmp_path / "scan.toml"
    cfg.write_text(f'[executor]\n{executor}\n\n[checks.crashtest]\nenabled = true\n\n'
                   f'[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
    return cfg, env


def _install_crash_check(tmp_path: Path) -> dict:
    """The crash check, enabled by [checks.crashtest]. Returns the environment to run with."""
    return install_check(tmp_path, "crashtest", _CRASH_CHECK, "CrashCheck")


def install_check(tmp_path: Path, check_id: str, source: str, cls: str) -> dict:
    """A third-party check, enabled by [checks.ID]; see install_plugin. Returns the environment to run with."""
    return install_plugin(tmp_path, "checks", check_id, source, cls)


def install_plugin(tmp_path: Path, group: str, plugin_id: str, source: str, cls: str) -> dict:
    """A third-party plugin of a group (checks, formats, …) installed as pip installs one (a dist-info with an entry
    point, on PYTHONPATH), so that worker processes load it too. Returns the environment to run with."""
    module = "vs_" + plugin_id.replace(".", "_")  # an identifier kind's id has a dot in it
    plugin = tmp_path / f"plugin-{plugin_id}"
    info = plugin / f"{module}-1.0.dist-info"
    info.mkdir(parents=True)
    (plugin / f"{module}.py").write_text(source)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[vendorscan.{group}]\n{plugin_id} = {module}:{cls}\n")
    return {"PYTHONPATH": f"{plugin}:{os.environ.get('PYTHONPATH', '')}"}
