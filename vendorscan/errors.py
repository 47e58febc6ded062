"""The errors that cross a boundary between the kernel, the plugins and the app: declared once, here."""
from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A config mistake, with the key path and what is allowed."""

    def __init__(self, path: str, message: str):
        super().__init__(f"config error at {path}: {message}")
        self.path = path


class ConnectorError(Exception):
    """A target cannot be scanned at all (bad credentials, host key mismatch, missing root).
    The message says what to fix and never holds a secret or a scanned value."""


class ResourceError(Exception):
    """One resource cannot be read; `reason` is the short skip reason shown in the report."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ReportError(Exception):
    """A report could not be written; the message says what to install or fix."""

    def __init__(self, message: str, path: Path | None = None, reason: str = ""):
        super().__init__(message)
        self.path, self.reason = path, reason  # the file and the OS's reason, when writing one failed


class ExecutorError(Exception):
    """The executor cannot run: its cluster is unreachable, has no workers, or its package is missing."""
