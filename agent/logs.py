"""Logging set-up: text or JSON lines, to stderr and optionally a file. Never scanned values."""
from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from datetime import datetime, timezone

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "message": record.getMessage()}
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        return json.dumps(doc, ensure_ascii=False, default=str)


class PrivateFileHandler(logging.FileHandler):
    """A FileHandler whose file, when it creates it, is 0600 whatever the umask (log lines name what was scanned)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def quiet_libraries() -> None:
    """Keep third-party log records and document libraries' warnings out of stderr and the log file."""
    # Libraries (paramiko, botocore, pypdf, …) log tracebacks, request headers and bits of what they read:
    # none of theirs reaches stderr or a log file; what matters is said again in vendorscan's own words.
    root = logging.getLogger()
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())
    warnings.filterwarnings("ignore", module=r"(PIL|pypdf|openpyxl|docx|pptx|extract_msg|olefile|msoffcrypto)(\..*)?$")


def setup(level: str = "warning", fmt: str = "text", file: str | None = None) -> None:
    """Configure the vendorscan logger; OSError when the log file cannot be opened."""
    quiet_libraries()
    logger = logging.getLogger("vendorscan")
    logger.handlers.clear()
    logger.setLevel(level.upper())
    logger.propagate = False
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter("vendorscan: %(levelname)s: %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    if file:
        fh = PrivateFileHandler(file, encoding="utf-8")
        fh.setFormatter(JsonFormatter())
        logger.addHandler(fh)
