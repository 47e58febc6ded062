"""Credentials: read from the environment only; never in logs, reports, the state, the digest or an error.

(Each connector's own tests prove that a scan changes nothing on its server: tests/test_local_access.py,
test_sftp.py, test_smb.py, test_s3.py and test_odbc_servers.py, by checksums, mtimes, atimes and row counts.)
"""
import sqlite3

import pytest

from conftest import files_under, load_json, run_cli

SECRET = "S3cr3t-Pa55-9f8e"


@pytest.mark.parametrize("line", ['password = "hunter2"', 'secret_access_key = "hunter2"', 'token = "hunter2"',
                                  'connection_string = "Driver={SQLite3};Database=x;PWD=hunter2"'])
def test_a_literal_secret_in_the_config_is_refused_and_not_repeated(tmp_path, line):
    cfg = tmp_path / "c.toml"
    kind = "odbc" if "connection_string" in line else "local"
    cfg.write_text(f'[[targets]]\nname = "t"\ntype = "{kind}"\n' + ('paths = ["/tmp"]\n' if kind == "local" else "")
                   + line + "\n")
    proc = run_cli("scan", "--config", cfg, "--state-dir", tmp_path / "s")
    assert proc.returncode == 2 and "hunter2" not in proc.stdout + proc.stderr
    assert "_env" in proc.stderr or "password_env" in proc.stderr  # says what to use instead


def test_a_secret_from_the_environment_appears_in_no_output(tmp_path):
    db = tmp_path / "hr.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE staff (name TEXT, pnr TEXT)")
    con.execute("INSERT INTO staff VALUES ('Anna', '850412-1230')")
    con.commit()
    con.close()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[targets]]\nname = "db"\ntype = "odbc"\n'
                   f'connection_string = "Driver={{SQLite3}};Database={db};NoCreat=1"\npassword_env = "DB_PW"\n')
    log = tmp_path / "debug.jsonl"
    proc = run_cli("--log-level", "debug", "--log-format", "json", "scan", "--config", cfg, "--log-file", log,
                   "--out", tmp_path / "out", "--state-dir", tmp_path / "state", "--bundle", env={"DB_PW": SECRET})
    assert proc.returncode in (0, 1), proc.stderr
    report = load_json(tmp_path / "out" / "report.json")
    assert report["targets"][0]["resources_read"] == 1
    outputs = {p: p.read_bytes() for p in files_under(tmp_path / "out", tmp_path / "state")}
    outputs[log] = log.read_bytes()
    outputs["terminal"] = (proc.stdout + proc.stderr).encode()
    for name, blob in outputs.items():
        assert SECRET.encode() not in blob, name
