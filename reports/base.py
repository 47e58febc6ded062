"""Base class for report formats and the facts every report shows."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Iterator, TextIO

from agent import severity
from agent.model import Severity


class ReportError(Exception):
    """A report could not be written; the message says what to install or fix."""


class Report:
    """A report format: render(scan_result, out_dir) -> list of written paths."""

    id: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Write the report files into out_dir and return their paths."""
        raise NotImplementedError


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write to a temp file beside `path` (0600) and rename it over: an old report stays whole until then."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # a full disk shows here, before the old report is replaced
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ReportError(f"cannot write {path}: {exc.strerror}; an earlier {path.name} there is unchanged") from None
        raise


def summary(result) -> dict:
    """Counts every report starts with: severities, persons, coverage totals, overall risk."""
    store = result.store
    counts = store.severity_counts()
    worst = next((s for s in Severity if counts[s.value]), None)
    risk = worst.value if worst and worst != Severity.INFO else "none found"
    return {
        "risk": risk,
        "findings_by_severity": counts,
        "findings_total": sum(counts.values()),
        "exposed_persons": store.distinct_persons(),
        "resources_seen": sum(c.resources_seen for c in result.coverage),
        "resources_read": sum(c.resources_read for c in result.coverage),
        "resources_skipped": sum(c.skipped_total for c in result.coverage),
        "bytes_read": sum(c.bytes_read for c in result.coverage),
        "complete": result.complete,
        "severity_rule": severity.RULE.strip(),
    }
