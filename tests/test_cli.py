"""The command line as users type it: the README's own lines, global options in either place, clear errors."""
import json
import re
import shlex
from pathlib import Path

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _readme_command(prefix: str) -> list[str]:
    """The arguments of the README line that starts with `prefix` (after the vendorscan executable)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(m.group(1) for m in re.finditer(r"(\S*vendorscan(?: [^`\n]*)?)", text) if m.group(1).startswith(prefix))
    return shlex.split(line)[1:]


def _config(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("personnummer 850412-1230\n")
    config = tmp_path / "vendorscan.toml"
    config.write_text(f'[scan]\nout_dir = "{tmp_path / "out"}"\nstate_dir = "{tmp_path / "state"}"\n'
                      f'[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
    return config


def test_the_readme_cron_line_runs(tmp_path):
    args = _readme_command("/opt/vendorscan/.venv/bin/vendorscan scan")
    assert "--log-format" in args[args.index("scan"):]  # the option comes after the command there
    args = [str(_config(tmp_path)) if a == "/etc/vendorscan.toml" else a for a in args]
    proc = run_cli(*args)
    assert proc.returncode in (0, 1), proc.stderr
    assert "usage:" not in proc.stderr
    assert next((tmp_path / "out").glob("bundle-*")).is_dir()


def test_global_options_work_before_and_after_the_command(tmp_path):
    config = _config(tmp_path)
    for args in (["--log-level", "info", "--log-format", "json", "scan", "-c", config, "-q"],
                 ["scan", "-c", config, "-q", "--log-level", "info", "--log-format", "json"],
                 ["--log-format", "json", "scan", "--log-level", "info", "-c", config, "-q"]):
        proc = run_cli(*args)
        assert proc.returncode in (0, 1), proc.stderr
        lines = [json.loads(line) for line in proc.stderr.splitlines()]
        assert any(d["level"] == "info" for d in lines), args


def test_an_option_after_the_command_does_not_reset_one_before_it(tmp_path):
    # `--log-format json` before, nothing after: the subcommand's parser must not put back the default
    proc = run_cli("--log-format", "json", "--log-level", "info", "scan", "-c", _config(tmp_path), "-q")
    assert proc.stderr and all(line.startswith("{") for line in proc.stderr.splitlines()), proc.stderr


def test_no_arguments_prints_usage_to_stderr_and_exits_2():
    proc = run_cli()
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("usage: vendorscan")


def test_a_path_that_does_not_exist_is_an_error_line(tmp_path):
    missing = tmp_path / "x" / "y"
    proc = run_cli("scan", missing, "--out", tmp_path / "out", "--state-dir", tmp_path / "s", "--quiet")
    assert proc.returncode == 2
    assert f"vendorscan: {missing}: No such file or directory" in proc.stderr.splitlines()


def test_a_missing_public_key_file_is_a_clear_error(tmp_path):
    (tmp_path / "bundle").mkdir()
    proc = run_cli("verify", tmp_path / "bundle", "--public-key", tmp_path / "nope.pub")
    assert proc.returncode == 2
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"vendorscan: cannot read the public key file {tmp_path / 'nope.pub'}: " \
                                  "No such file or directory"
