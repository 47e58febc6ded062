"""Base class for report formats and the facts every report shows."""
from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Iterator, TextIO

from vendorscan import severity
from vendorscan.errors import ReportError  # noqa: F401 - reports raise it from here
from vendorscan.model import Severity

# Languages a report is written in: English, and a gettext catalog each (reports/i18n/<code>.po) for the others.
LANGUAGES = ("en", "da", "sv", "nb", "fi", "is")


# JSON text as every report (and the run store's finding bodies) writes it, UTF-8 kept: one encoder, not one a call
# as json.dumps(..., ensure_ascii=False) makes.
dump_json = json.JSONEncoder(ensure_ascii=False).encode
# Findings about a resource as a whole (who may read it), not about values in it: they have no occurrences.
RESOURCE_CATEGORIES = frozenset({"access", "exposure"})


class Report:
    """A report format: render(scan_result, out_dir) -> list of written paths."""

    id: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Write the report files into out_dir and return their paths."""
        raise NotImplementedError


def private_dir(path: Path) -> None:
    """Create `path` and any missing parents 0700 whatever the umask (mkdir(parents=True) makes parents 0755)."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for p in reversed(missing):
        p.mkdir(mode=0o700, exist_ok=True)
        os.chmod(p, 0o700)


@contextmanager
def report_set(out_dir: Path) -> Iterator[Path]:
    """A staging dir inside out_dir: what is written there replaces out_dir's files only once all of it is written.

    A full disk or a failing writer leaves out_dir's earlier set whole, never new HTML beside old JSON."""
    try:
        private_dir(out_dir)
        staging = Path(tempfile.mkdtemp(prefix=".vendorscan-new-", dir=out_dir))
    except OSError as exc:
        raise ReportError(f"cannot write the reports in {out_dir}: {_why(exc)}") from None
    try:
        yield staging
        _swap_in(staging, out_dir)
    except OSError as exc:
        raise ReportError(f"cannot write the reports in {out_dir}: {_why(exc)}; the earlier reports there are "
                          "unchanged") from None
    except ReportError as exc:
        if exc.path is None:
            raise
        raise ReportError(f"cannot write {out_dir / exc.path.name}: {exc.reason}; the earlier reports in {out_dir} "
                          "are unchanged") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, out_dir: Path) -> None:
    # Renames only: they need no free space. The earlier files are moved aside into the staging dir (removed with
    # it); should a rename still fail (an immutable file), what was done is undone and the earlier set stays.
    placed, aside = [], []
    try:
        for new in sorted(staging.iterdir()):
            dest = out_dir / new.name
            if os.path.lexists(dest):
                os.rename(dest, staging / f".old-{new.name}")
                aside.append(dest)
            os.rename(new, dest)
            placed.append(dest)
    except OSError:
        for dest in reversed(placed):
            os.rename(dest, staging / dest.name)
        for dest in reversed(aside):
            os.rename(staging / f".old-{dest.name}", dest)
        raise


@contextmanager
def atomic_text(path: Path, compress: bool = False) -> Iterator[TextIO]:
    """Write to a temp file beside `path` (0600; gzip-compressed if asked) and rename it over: an old report stays
    whole until then."""
    try:
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {_why(exc)}", path, _why(exc)) from None
    try:
        with os.fdopen(fd, "wb") as raw:
            sink = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if compress else raw
            f = io.TextIOWrapper(sink, encoding="utf-8", newline="\n")
            yield f
            f.flush()
            f.detach()
            if compress:
                sink.close()  # the gzip trailer; the file itself stays open for the fsync
            raw.flush()
            os.fsync(raw.fileno())  # a full disk shows here, before the old report is replaced
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ReportError(f"cannot write {path}: {_why(exc)}; an earlier {path.name} there is unchanged", path,
                              _why(exc)) from None
        raise


def _why(exc: OSError) -> str:
    """The OS's reason (No space left on device), never a library's message."""
    return exc.strerror or type(exc).__name__


def summary(result) -> dict:
    """Counts every report starts with: severities, persons, coverage totals, overall risk.

    A finished scan's result carries them (made once, when it ended): they are given back, not counted again."""
    known = getattr(result, "summary", None)
    if known:
        return known
    store = result.store
    counts = store.severity_counts()
    worst = next((s for s in Severity if counts[s.value]), None)
    risk = worst.value if worst and worst != Severity.INFO else "none found"
    return {
        "risk": risk,
        "findings_by_severity": counts,
        "findings_total": sum(counts.values()),
        "exposed_persons": store.distinct_persons(),
        # The most enabled accounts (measured by a directory) that can read an exposed folder: 0 when unmeasured.
        "readable_by_accounts": max((f.details.get("accounts") or 0 for f in store.findings(check_id="exposure")),
                                    default=0),
        "resources_seen": sum(c.resources_seen for c in result.coverage),
        "resources_read": sum(c.resources_read for c in result.coverage),
        "resources_skipped": sum(c.skipped_total for c in result.coverage),
        "bytes_read": sum(c.bytes_read for c in result.coverage),
        "complete": result.complete,
        "severity_rule": severity.RULE.strip(),
    }
