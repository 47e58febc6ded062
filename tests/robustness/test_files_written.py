"""What vendorscan writes, as the README promises it: private modes whatever the umask, a report set replaced
as a whole or not at all, and a damaged state database named with what to do."""
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from documents import SE


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _tree(tmp_path: Path, rows: int = 1) -> Path:
    tree = tmp_path / "t"
    tree.mkdir(exist_ok=True)
    (tree / "a.csv").write_text("".join(f"personnummer {SE} rad {n}\n" for n in range(rows)))
    return tree


def _config(tmp_path: Path, tree: Path, out: Path, formats: list[str]) -> Path:
    config = tmp_path / f"{'-'.join(formats)}.toml"
    config.write_text(f'[scan]\nout_dir = "{out}"\nstate_dir = "{tmp_path / "s"}"\nformats = {formats!r}\n'.replace(
        "'", '"') + f'[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
    return config


def _set(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


def test_log_files_and_report_dirs_are_private_under_umask_022(tmp_path):
    out = tmp_path / "reports" / "2026" / "supplier"  # three levels that do not exist yet
    log = tmp_path / "scan.log"
    old = os.umask(0o022)  # the child inherits it: files would be 0644 and dirs 0755 unless made private
    try:
        a = run_cli("scan", _tree(tmp_path), "--out", out, "--state-dir", tmp_path / "s", "--quiet", "--bundle",
                    "--log-file", log)
        b = run_cli("scan", _tree(tmp_path), "--out", out, "--state-dir", tmp_path / "s2", "--quiet")
    finally:
        os.umask(old)
    assert a.returncode in (0, 1) and b.returncode in (0, 1), a.stderr + b.stderr
    assert _mode(log) == 0o600
    assert _mode(tmp_path / "s2" / "last-scan.log") == 0o600
    for d in (tmp_path / "reports", tmp_path / "reports" / "2026", out, next(out.glob("bundle-*"))):
        assert _mode(d) == 0o700, d
    for f in out.rglob("*"):
        assert f.is_dir() or _mode(f) == 0o600, f


def test_an_unwritable_log_file_is_a_clear_error(tmp_path):
    proc = run_cli("scan", _tree(tmp_path), "--log-file", tmp_path / "no" / "such" / "dir.log", "--quiet")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"vendorscan: cannot write the log file {tmp_path / 'no/such/dir.log'}: " \
                                  "No such file or directory"


def test_a_writer_failing_mid_set_leaves_the_earlier_set_whole(tmp_path):
    """The pdf writer fails (a real failure: Chromium is kept off PATH) after the HTML was written and before the
    JSON: the folder must not end up with the new report.html beside the earlier report.json."""
    out = tmp_path / "out"
    tree = _tree(tmp_path)
    first = run_cli("scan", "-c", _config(tmp_path, tree, out, ["html", "json"]), "--quiet")
    assert first.returncode in (0, 1), first.stderr
    before = _set(out)
    _tree(tmp_path, rows=50)  # the second scan finds more: its reports differ
    second = run_cli("scan", "-c", _config(tmp_path, tree, out, ["html", "pdf", "json"]), "--quiet",
                     env={"PATH": str(Path(sys.executable).parent)})
    assert second.returncode == 2 and "Chromium" in second.stderr, second.stderr
    assert _set(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # and no staging dir left behind


def test_a_rename_that_fails_while_swapping_the_set_in_is_undone(tmp_path):
    """The last file of the set cannot be replaced (immutable, chattr +i): the files already swapped in go back."""
    out = tmp_path / "out"
    tree = _tree(tmp_path)
    config = _config(tmp_path, tree, out, ["html", "json", "csv", "sarif"])
    assert run_cli("scan", "-c", config, "--quiet").returncode in (0, 1)
    before = _set(out)
    locked = subprocess.run(["chattr", "+i", str(out / "report.sarif")], capture_output=True, text=True)
    if locked.returncode != 0:
        pytest.fail(f"this test needs chattr +i on {out} (root, a filesystem with the flag): {locked.stderr}")
    try:
        _tree(tmp_path, rows=50)
        proc = run_cli("scan", "-c", config, "--quiet")
        assert proc.returncode == 2 and "Operation not permitted" in proc.stderr, proc.stderr
        assert "unchanged" in proc.stderr and "internal error" not in proc.stderr
        assert _set(out) == before
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    finally:
        subprocess.run(["chattr", "-i", str(out / "report.sarif")])


def _damage(db: Path, how: str) -> None:
    for side in (db.with_name("state.db-wal"), db.with_name("state.db-shm")):
        side.unlink(missing_ok=True)
    if how == "not-a-database":
        db.write_bytes(b"this is not an SQLite file\n" * 200)
    else:  # a real database whose pages after the header page were overwritten
        size = db.stat().st_size
        with open(db, "r+b") as f:
            f.seek(4096)
            f.write(bytes((i * 7 + 3) % 256 for i in range(size - 4096)))


@pytest.mark.parametrize("how", ["not-a-database", "malformed"])
def test_a_damaged_state_db_is_named_with_what_to_do(tmp_path, how):
    state = tmp_path / "s"
    tree = _tree(tmp_path)
    assert run_cli("scan", tree, "--state-dir", state, "--out", tmp_path / "o", "--quiet").returncode in (0, 1)
    db = state / "state.db"
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _damage(db, how)
    expected = (f"vendorscan: state database {db} is damaged (DatabaseError); move it away to start a new history, "
                "or restore it from a backup")
    scan_id = next((state / "runs").iterdir()).name
    for args in (["history", "--state-dir", state], ["bundle", scan_id, "--state-dir", state, "--out", tmp_path / "b"],
                 ["scan", tree, "--state-dir", state, "--out", tmp_path / "o", "--quiet"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.strip() == expected, (args, proc.stderr)
