"""report.html: one self-contained page, summary first, for a contract file and for print."""
from __future__ import annotations

import itertools
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from agent.model import Severity
from reports.base import Report, atomic_text, summary

MAX_SKIPPED_ROWS = 500
TOP_ACTIONS = 5


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["bytes"] = _human_bytes
    return env


def _human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class HtmlReport(Report):
    """Self-contained HTML report: verdict, what to do first, findings by resource, coverage, method."""

    id = "html"
    version = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Render report.html from the run store."""
        store = result.store
        facts = summary(result)
        counts = facts["findings_by_severity"]
        peak = max(counts.values()) or 1
        chart = [{"name": s.value, "count": counts[s.value], "width": round(300 * counts[s.value] / peak)}
                 for s in Severity]
        actions = [f for f in itertools.islice(store.findings(), TOP_ACTIONS * 4)
                   if f.severity.rank <= Severity.HIGH.rank and f.verdict == "real"][:TOP_ACTIONS]
        targets = [{"coverage": c, "groups": self._groups(store, c.target)} for c in result.coverage]
        skipped = list(itertools.islice(store.skipped(), MAX_SKIPPED_ROWS))
        template = _environment().get_template("report.html.j2")
        path = out_dir / "report.html"
        with atomic_text(path) as f:
            for piece in template.generate(scan=result.to_dict(), summary=facts, chart=chart, actions=actions,
                                           targets=targets, skipped=skipped, checks=result.checks,
                                           skipped_total=facts["resources_skipped"],
                                           max_skipped=MAX_SKIPPED_ROWS):
                f.write(piece)
        return [path]

    @staticmethod
    def _groups(store, target: str):
        for resource, _rank in store.resources_by_severity(target):
            yield {"resource": resource, "findings": store.findings_of(resource)}
