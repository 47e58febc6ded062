"""Plugins are found through entry points; a broken one is reported by name, not a traceback."""
from importlib.metadata import EntryPoint

import pytest

from vendorscan import plugins
from conftest import run_cli


def test_builtin_plugins_register_through_entry_points():
    assert {"local"} <= set(plugins.available("connectors"))
    assert {"identifiers", "special_categories", "access", "exposure", "posture"} <= set(plugins.available("checks"))
    assert {"json", "html"} <= set(plugins.available("reports"))
    for group in ("connectors", "checks", "reports"):
        for name in plugins.available(group):
            assert plugins.load(group, name).id == name


def _fake(monkeypatch, value):
    ep = EntryPoint("broken", value, "vendorscan.checks")
    monkeypatch.setattr(plugins, "available", lambda group: {"broken": ep})


def test_missing_dependency_names_plugin_and_install_hint(monkeypatch):
    _fake(monkeypatch, "no_such_package_xyz.mod:Cls")
    with pytest.raises(plugins.PluginError) as err:
        plugins.load("checks", "broken")
    assert "'broken'" in str(err.value) and "pip install no_such_package_xyz" in str(err.value)


def test_id_must_equal_entry_point_name(monkeypatch):
    _fake(monkeypatch, "vendorscan.checks.identifiers:IdentifierCheck")
    with pytest.raises(plugins.PluginError, match="must equal its entry-point name"):
        plugins.load("checks", "broken")


def test_unknown_plugin_lists_installed():
    with pytest.raises(plugins.PluginError, match="installed: .*local"):
        plugins.load("connectors", "gopher")


def test_checks_list_command():
    proc = run_cli("checks", "list")
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == sorted(["access", "exposure", "identifiers", "posture", "special_categories"])
    assert all(len(line.split(None, 1)) == 2 for line in proc.stdout.splitlines())  # each has its docstring line
