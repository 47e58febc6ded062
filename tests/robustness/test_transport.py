"""Transport: what protects the scan's own connections is on by default; turned off, the report says so."""
import pytest

import servers
from conftest import load_json, run_cli
from vendorscan.context import ScanContext, ValueHasher
from vendorscan.connectors.odbc import OdbcConnector
from vendorscan.connectors.s3 import S3Connector
from vendorscan.connectors.smb import SmbConnector

CTX = ScanContext("t", "production", ValueHasher(b"k" * 32))


def test_defaults_have_no_weakness_and_each_switch_names_its_own():
    assert S3Connector(S3Connector.Options(endpoint_url="https://s3.example"), CTX).weaknesses() == []
    assert "not verified" in S3Connector(S3Connector.Options(verify_tls=False), CTX).weaknesses()[0]
    assert "plain HTTP" in S3Connector(S3Connector.Options(endpoint_url="http://10.0.0.1:9000"), CTX).weaknesses()[0]
    smb = dict(server="fs", username="u", password_env="P")
    assert SmbConnector(SmbConnector.Options(**smb), CTX).weaknesses() == []
    assert "signing" in SmbConnector(SmbConnector.Options(**smb, require_signing=False), CTX).weaknesses()[0]
    dsn = "Driver={PostgreSQL Unicode};Server=db;Database=hr;UID=audit"
    assert OdbcConnector(OdbcConnector.Options(dsn), CTX).weaknesses() == []
    assert "TLS" in OdbcConnector(OdbcConnector.Options(dsn + ";SSLmode=disable"), CTX).weaknesses()[0]


@pytest.mark.server
def test_smb_without_signing_is_printed_as_a_weakness_of_the_scan(tmp_path):
    s = servers.start_smbd()
    try:
        (s.share_path / "a.txt").write_text("nothing here\n")
        cfg = tmp_path / "smb.toml"
        cfg.write_text(f'[[targets]]\nname = "nosign"\ntype = "smb"\nserver = "127.0.0.1"\nport = {s.port}\n'
                       f'share = "{s.share}"\nusername = "{s.user}"\npassword_env = "SMB_PW"\n'
                       "require_signing = false\n")
        proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                       "--workers", "1", env={"SMB_PW": s.password})
    finally:
        servers.stop_smbd(s)
    report = load_json(tmp_path / "o" / "report.json")
    assert any("signing" in w for w in report["targets"][0]["weaknesses"])
    assert "weakness of this scan: SMB signing is not required" in proc.stdout
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "Weakness of this scan" in html and "SMB signing is not required" in html
