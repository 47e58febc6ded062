"""Config mistakes are refused before scanning, with the key path, one line, exit code 2."""

import pytest

from vendorscan.agent import config
from vendorscan.errors import ConfigError
from conftest import run_cli


def _target(**extra):
    return {"targets": [{"name": "t", "type": "local", "paths": ["/tmp"], **extra}]}


@pytest.mark.parametrize("raw, path, words", [
    ({"bogus": {}}, "bogus", "unknown section"),
    ({"scan": {"colour": "red"}}, "scan.colour", "unknown option"),
    ({"scan": {"fail_on": "severe"}}, "scan.fail_on", "one of"),
    ({"scan": {"formats": ["pdf-ish"]}}, "scan.formats[0]", "unknown report format"),
    ({"limits": {"max_file_size": "lots"}}, "limits.max_file_size", "size"),
    ({"limits": {"resource_timeout": "ten"}}, "limits.resource_timeout", "integer"),
    ({"executor": {"workers": True}}, "executor.workers", "integer"),
    ({"executor": {"type": "dask"}}, "executor.scheduler", "tcp://host:8786"),
    ({"executor": {"type": "dask", "scheduler": "http://scheduler:8786"}}, "executor.scheduler", "tls://"),
    ({"executor": {"type": "spark"}}, "executor.type", "one of"),
    ({"executor": {"retries": -1}}, "executor", "retries"),
    ({"checks": {"nonexistent": {}}}, "checks.nonexistent", "unknown check"),
    ({"checks": {"identifiers": {"enabled": "yes"}}}, "checks.identifiers.enabled", "true/false"),
    ({"checks": {"identifiers": {"min_confidence": "high"}}}, "checks.identifiers.min_confidence", "number"),
    ({"targets": [{"type": "local", "paths": ["/tmp"]}]}, "targets[0].name", "required"),
    ({"targets": [{"name": "t", "type": "ftp"}]}, "targets[0].type", "unknown target type"),
    ({"targets": [{"name": "t", "type": "local"}]}, "targets[0].paths", "required option is missing"),
    (_target(environment="staging"), "targets[0].environment", "production, test, shared"),
    (_target(paths="/tmp"), "targets[0].paths", "list of string"),
    (_target(password="hunter2"), "targets[0].password", "password_env"),
    ({"targets": [{"name": "t", "type": "local", "paths": ["/a"]},
                  {"name": "t", "type": "local", "paths": ["/b"]}]}, "targets[1].name", "used twice"),
])
def test_mistakes_name_the_key_path(raw, path, words):
    with pytest.raises(ConfigError) as err:
        config.parse(raw)
    assert err.value.path == path
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_example_config_is_valid():
    cfg = config.load_file("config.example.toml")
    assert [t.name for t in cfg.targets] == ["supplier-share", "hr-test-copy", "hr-postgres", "hr-mariadb",
                                            "supplier-exports", "supplier-blobs", "supplier-sftp", "supplier-smb",
                                            "supplier-cloud", "supplier-mail"]
    assert cfg.limits.max_file_size == 100 * 10**6
    assert cfg.limits.chunk_size == 64 * 1024
    assert {c.id for c in cfg.checks} == {"identifiers", "special_categories", "access", "exposure", "posture"}


def test_digest_is_stable_and_changes_with_checks():
    a = config.parse(_target())
    b = config.parse(_target())
    c = config.parse({**_target(), "checks": {"identifiers": {"min_confidence": 0.5}}})
    assert a.digest() == b.digest() and a.checks_digest() == b.checks_digest()
    assert a.checks_digest() != c.checks_digest()


def test_literal_secret_in_file_exits_2_with_one_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[targets]]\nname = "t"\ntype = "local"\npaths = ["/tmp"]\npassword = "hunter2"\n')
    proc = run_cli("scan", "--config", cfg, "--state-dir", tmp_path / "state")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "targets[0].password" in proc.stderr and "hunter2" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_toml_exits_2(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[scan\n")
    proc = run_cli("scan", "--config", cfg)
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr
