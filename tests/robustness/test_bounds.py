"""Bounds that bound: every format reads through the unpacking bounds, and resource_timeout holds inside a library call.

The hostile files are built here, small and in pieces (a long run of one byte deflates to almost nothing).
"""
import time
import zipfile

import pytest

from conftest import PLANTED, install_check, load_json, run_cli

SE = PLANTED["se.personnummer"][0]
_SLEEP_MARKER = "VENDORSCAN-TEST-SLEEP"
_SLEEP_CHECK = f'''"""Test only: one call that does not return for a minute, as a document library stuck on hostile input."""
import time

from checks.base import ContentCheck


class SleepCheck(ContentCheck):
    """Sleeps on the marker."""

    id = "sleeptest"
    version = "1"

    def scan(self, chunk, resource, ctx):
        if "{_SLEEP_MARKER}" in chunk.text:
            time.sleep(60)
        return iter(())
'''


def _scan(tmp_path, tree, config: str = "", env=None, timeout=120):
    """Scan tree with the extra config; returns (process, report, seconds)."""
    cfg = tmp_path / "scan.toml"
    cfg.write_text(config + f'\n[[targets]]\nname = "t"\ntype = "local"\npaths = ["{tree}"]\n')
    t0 = time.monotonic()
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "state", "--quiet",
                   env=env, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, load_json(tmp_path / "out" / "report.json"), time.monotonic() - t0


def _skips(report):
    return {s["uri"].rsplit("/", 1)[1] if "!/" not in s["uri"] else s["uri"].split("!/", 1)[1]: s["reason"]
            for s in report["skipped"]}


def _found(report, name):
    return {f["kind"] for f in report["findings"] if f["resource"].endswith(name) and f["verdict"] == "real"}


@pytest.mark.parametrize("workers", [1, 2])
def test_resource_timeout_holds_inside_one_call_and_the_next_resource_is_read(tmp_path, workers):
    env = install_check(tmp_path, "sleeptest", "SleepCheck", _SLEEP_CHECK)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a-stuck.txt").write_text(_SLEEP_MARKER + "\n")
    (tree / "b-ok.txt").write_text(f"personnummer {SE}\n")
    config = (f"[limits]\nresource_timeout = 1\n\n[executor]\nworkers = {workers}\nunit_files = 2\n\n"
              "[checks.sleeptest]\nenabled = true\n")
    proc, report, seconds = _scan(tmp_path, tree, config, env=env)
    assert seconds < 30, seconds  # not the minute the call takes
    assert _skips(report).get("a-stuck.txt") == "timeout", report["skipped"]
    assert "se.personnummer" in _found(report, "b-ok.txt")  # the same worker read the next resource
    assert proc.returncode == 2  # a timeout leaves the scan incomplete
