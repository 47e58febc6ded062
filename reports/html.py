"""report.html: one self-contained page, summary first, for a contract file and for print."""
from __future__ import annotations

import itertools
import json
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vendorscan.model import Severity
from vendorscan.report import Report, atomic_text, summary

MAX_SKIPPED_ROWS = 500
TOP_ACTIONS = 5


LANGUAGES = ("en", "sv")


def catalog(lang: str) -> dict[str, str]:
    """English text -> translation for a report language ('en' needs none)."""
    if lang == "en":
        return {}
    if lang not in LANGUAGES:
        raise ValueError(f"no report language '{lang}' (available: {', '.join(LANGUAGES)})")
    return json.loads((files(__package__) / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def _environment(lang: str) -> Environment:
    env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["bytes"] = _human_bytes
    messages = catalog(lang)
    # Untranslated text stays English: a missing entry never breaks a report.
    translate = lambda text: messages.get(text, text)  # noqa: E731
    env.globals["_"] = translate
    env.globals["lang"] = lang

    def localised(finding, field: str) -> str:
        msg = finding.details.get(f"{field}_msg")
        if not msg:
            return translate(getattr(finding, field))
        msgid, args = msg
        return translate(msgid).format(**{k: translate(v) if isinstance(v, str) else v for k, v in args.items()})

    env.globals["title"] = lambda finding: localised(finding, "title")
    env.globals["remediation"] = lambda finding: localised(finding, "remediation")
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
        per_target = store.findings_per_target()
        top = max(per_target.values(), default=0) or 1
        target_chart = [{"name": c.target, "count": per_target.get(c.target, 0),
                         "width": round(300 * per_target.get(c.target, 0) / top)} for c in result.coverage]
        actions = [f for f in itertools.islice(store.findings(), TOP_ACTIONS * 4)
                   if f.severity.rank <= Severity.HIGH.rank and f.verdict == "real"][:TOP_ACTIONS]
        targets = [{"coverage": c, "groups": self._groups(store, c.target)} for c in result.coverage]
        skipped = list(itertools.islice(store.skipped(), MAX_SKIPPED_ROWS))
        template = _environment(result.lang).get_template("report.html.j2")
        path = out_dir / "report.html"
        with atomic_text(path) as f:
            for piece in template.generate(scan=result.to_dict(), summary=facts, chart=chart,
                                           target_chart=target_chart, actions=actions,
                                           accepted=result.accepted,
                                           targets=targets, skipped=skipped, checks=result.checks,
                                           skipped_total=facts["resources_skipped"],
                                           max_skipped=MAX_SKIPPED_ROWS):
                f.write(piece)
        return [path]

    @staticmethod
    def _groups(store, target: str):
        for resource, _rank in store.resources_by_severity(target):
            yield {"resource": resource, "findings": store.findings_of(resource)}
