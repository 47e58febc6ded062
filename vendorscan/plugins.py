"""Plugin discovery through entry points: list names cheaply, load only what is selected."""
from __future__ import annotations

import functools
import sys
from importlib.metadata import EntryPoint, entry_points

GROUPS = {
    "connectors": "vendorscan.connectors",
    "checks": "vendorscan.checks",
    "reports": "vendorscan.reports",
    "formats": "vendorscan.formats",
    "directories": "vendorscan.directories",  # who a principal is and how many accounts it reaches
    "identifiers": "vendorscan.identifiers",  # IdentifierKind objects, not classes: the identifier check's kinds
}


class PluginError(Exception):
    """A plugin is unknown, fails to import, or breaks the plugin rules."""


def available(group: str) -> dict[str, EntryPoint]:
    """Entry points of a group by name, without importing any of them."""
    return dict(_installed(tuple(sys.path))[group])


@functools.lru_cache(maxsize=4)
def _installed(path: tuple[str, ...]) -> dict[str, dict[str, EntryPoint]]:
    # Reading every installed distribution's metadata takes ~12 ms in a full venv, and a scan asks dozens of
    # times: once per import path (a package put on the path is seen; one installed into it, by the next process).
    found = entry_points()
    return {group: {ep.name: ep for ep in found.select(group=full)} for group, full in GROUPS.items()}


def load(group: str, name: str) -> type:
    """The plugin registered as `name` (a class; an IdentifierKind object); checks that its `id` equals that name."""
    eps = available(group)
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise PluginError(f"unknown {group[:-1]} '{name}' (installed: {known})")
    ep = eps[name]
    try:
        cls = ep.load()
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise PluginError(
            f"{group[:-1]} plugin '{name}' ({ep.value}) cannot be imported: missing module "
            f"'{missing}'. Install it (pip install {missing}) or disable the plugin in the config."
        ) from None
    except Exception as exc:  # a broken third-party plugin must not take the scan down with a traceback
        raise PluginError(f"{group[:-1]} plugin '{name}' ({ep.value}) failed to load: "
                          f"{type(exc).__name__}: {exc}") from None
    if getattr(cls, "id", None) != name:
        raise PluginError(f"{group[:-1]} plugin '{name}' declares id '{getattr(cls, 'id', None)}'; "
                          "a plugin's id must equal its entry-point name")
    return cls


def describe(cls: type) -> str:
    """The first docstring line, as users see it in `checks list`."""
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""
