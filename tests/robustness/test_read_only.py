"""Read-only: a scan of the demo estate (local files and the SQLite database through ODBC) changes nothing.

Each network connector proves the same against its own server in its test file (test_sftp.py, test_smb.py,
test_s3.py, test_odbc_servers.py): checksums, modification times and row counts before and after.
"""
import hashlib
import os
import tempfile
from pathlib import Path

from conftest import run_cli


def _snapshot(root: Path) -> dict:
    state = {}
    for p in sorted(root.rglob("*")):
        st = os.lstat(p)
        entry = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_atime_ns)
        if p.is_file() and not p.is_symlink():
            fd = os.open(p, os.O_RDONLY | os.O_NOATIME)  # the test's own reads leave atimes alone
            with os.fdopen(fd, "rb") as f:
                entry += (hashlib.sha256(f.read()).hexdigest(),)
        state[str(p.relative_to(root))] = entry
    return state


def test_scanning_the_demo_estate_changes_no_file_time_or_row(tmp_path):
    base = Path(tempfile.mkdtemp(prefix="vendorscan-ro-", dir="/tmp"))
    os.chmod(base, 0o755)
    try:
        assert run_cli("demo", "--estate", base / "estate", "--out", base / "r1", "--quiet").returncode == 1
        before = _snapshot(base / "estate")
        config = base / "demo.toml"  # written by the demo next to the estate
        proc = run_cli("scan", "--config", config, "--out", base / "r2", "--state-dir", base / "state", "--quiet",
                       "--full")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        after = _snapshot(base / "estate")
        assert after == before
    finally:
        import shutil
        shutil.rmtree(base, ignore_errors=True)
