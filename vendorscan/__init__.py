"""vendorscan: audit scanner for personal data and over-broad access at IT suppliers.

The public API for plugin authors: `from vendorscan import Resource, Finding, ContentCheck, Connector, …`.
Its names are loaded on first use, so `import vendorscan` (the first thing the command does) stays cheap.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> kernel module that defines it
_API = {
    **dict.fromkeys(("AccessPolicy", "Chunk", "Coverage", "Finding", "Grant", "Hit", "Location", "Resource", "Scope",
                     "Severity", "Skipped", "Verdict"), "model"),
    **dict.fromkeys(("ScanContext", "ValueHasher"), "context"),
    **dict.fromkeys(("Check", "ContentCheck", "Correlation", "NoOptions", "ResourceCheck", "message",
                     "require_known"), "check"),
    **dict.fromkeys(("Connector", "TableSample"), "connector"),
    "IdentifierKind": "identifier",
    "Report": "report",
    **dict.fromkeys(("FormatError", "FormatHandler", "Nested", "Problem", "Segment", "TextStream"), "format"),
    **dict.fromkeys(("ConfigError", "ConnectorError", "ExecutorError", "ReportError", "ResourceError"), "errors"),
}
__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'vendorscan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"vendorscan.{module}"), name)
    globals()[name] = value
    return value
