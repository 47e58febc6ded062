"""report.html: one self-contained page, summary first, for a contract file and for print."""
from __future__ import annotations

import functools
import io
import re
import itertools
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from markupsafe import Markup
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vendorscan.model import Severity
from vendorscan.report import LANGUAGES, Report, atomic_text, summary

MAX_SKIPPED_ROWS = 500
# Resources shown with their findings, worst first, per target: a page stays readable and quick to write for an
# estate with tens of thousands of findings (report.json and findings.csv hold every one).
MAX_RESOURCE_GROUPS = 1000
TOP_ACTIONS = 5
MAX_LINKED = 5  # findings linked per requirement in the HTML (report.json lists more)
# How the matrix names each status (report.json has the ids).
STATUS_NAMES = {"met": "met", "not_met": "not met", "not_assessed": "not assessed", "manual": "manual (for the assessor)"}
# Babel's locale for each report language (bokmål is nb; the others are their own).
_PARENTHESISED = re.compile(r"\(([^()]+)\)")
LOCALES = {"en": "en_GB", "da": "da_DK", "sv": "sv_SE", "nb": "nb_NO", "fi": "fi_FI", "is": "is_IS"}


@functools.cache  # once per process and language
def translations(lang: str) -> NullTranslations:
    """The gettext catalog of a report language (reports/i18n/<lang>.po, plural forms included); English: none."""
    if lang not in LANGUAGES:
        raise ValueError(f"no report language '{lang}' (available: {', '.join(LANGUAGES)})")
    if lang == "en":
        return NullTranslations()
    with (files(__package__) / "i18n" / f"{lang}.po").open("rb") as f:
        catalog = read_po(f, locale=LOCALES[lang])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def _environment(lang: str) -> Environment:
    env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    locale = Locale.parse(LOCALES[lang])
    catalog = translations(lang)
    # Untranslated text stays English: a missing entry never breaks a report.
    translate = catalog.gettext
    env.install_gettext_callables(catalog.gettext, catalog.ngettext, newstyle=True)
    env.filters["bytes"] = lambda n: _human_bytes(n, locale)
    # Thousands of findings share a few timestamps and counts: format each once (Babel's formatting is slow).
    env.filters["num"] = functools.lru_cache(4096)(lambda n, fmt=None: format_decimal(n, format=fmt, locale=locale))
    env.filters["when"] = functools.lru_cache(1024)(lambda iso: _when(iso, locale))
    env.globals["lang"] = lang
    env.globals["where"] = lambda loc: loc.label(translate)

    def localised(finding, field: str) -> str:
        msg = finding.details.get(f"{field}_msg")
        if not msg:
            return translate(getattr(finding, field))
        return filled(msg)

    def filled(msg: list) -> str:
        msgid, args = msg
        return translate(msgid).format(**{k: _filled_arg(v) for k, v in args.items()})

    def _filled_arg(value):
        if isinstance(value, list):  # a set of words (rights)
            return "+".join(translate(v) for v in value)
        return phrases(translate(value)) if isinstance(value, str) else format_decimal(value, locale=locale)

    def evidence(finding) -> list[str]:
        """A finding's evidence as the reader's language has it (masked values pass through unchanged)."""
        msgs = finding.details.get("evidence_msg")
        return [filled(m) for m in msgs] if msgs else [phrases(e) for e in finding.evidence]

    def detail(text: str):
        """A skip's detail translated; one the catalog lacks (made at run time) is marked as English."""
        shown = translate(text)
        return shown if shown != text or lang == "en" else Markup('<span lang="en">') + text + Markup("</span>")

    def phrases(text: str) -> str:
        """A technical text with its parenthesised words translated: 'other (every local account)'."""
        return _PARENTHESISED.sub(lambda m: "(" + translate(m.group(1)) + ")", text)

    env.filters["phrases"] = phrases
    env.globals["evidence"] = evidence
    env.globals["filled"] = filled
    env.globals["reason"] = lambda row: translate(row["reason"]).format(**{
        k: " / ".join(translate(x) for x in v) if isinstance(v, list) else v for k, v in row["reason_args"].items()})
    env.globals["detail"] = detail
    env.globals["title"] = lambda finding: localised(finding, "title")
    env.globals["remediation"] = lambda finding: localised(finding, "remediation")
    env.globals["tr"] = translate  # a value that is a message of its own (a severity, a kind's name, a scope)
    env.filters["tr"] = translate
    return env


def _when(iso: str, locale: Locale) -> str:
    """A time in the reader's locale, local time beside UTC: '2 dec. 2026 17:15:58 (16:15:58 UTC)'."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    local = format_datetime(moment, "medium", tzinfo=datetime.now().astimezone().tzinfo, locale=locale)
    return f"{local} ({format_datetime(moment, 'HH:mm:ss', tzinfo=timezone.utc, locale=locale)} UTC)"


def _human_bytes(n: int, locale: Locale) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{format_decimal(round(n, 1), '0.0', locale=locale)} {unit}"
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
        targets = [{"coverage": c, "groups": self._groups(store, c.target),
                    "more": max(0, store.resources_with_findings(c.target) - MAX_RESOURCE_GROUPS)}
                   for c in result.coverage]
        skipped = list(itertools.islice(store.skipped(), MAX_SKIPPED_ROWS))
        compliance = result.compliance or {"frameworks": [], "contract": []}
        linked = _linked(store, compliance)
        template = _environment(result.lang).get_template("report.html.j2")
        path = out_dir / "report.html"
        with atomic_text(path) as f:
            resolved = list(itertools.islice(result.resolved_findings(), MAX_SKIPPED_ROWS))
            for piece in template.generate(scan=result.to_dict(), summary=facts, chart=chart,
                                           lifecycle=result.finding_lifecycle, resolved=resolved,
                                           target_chart=target_chart, actions=actions,
                                           accepted=result.accepted,
                                           targets=targets, skipped=skipped, checks=result.checks,
                                           compliance=compliance, linked=linked, max_linked=MAX_LINKED,
                                           status_names=STATUS_NAMES,
                                           skipped_total=facts["resources_skipped"],
                                           max_skipped=MAX_SKIPPED_ROWS):
                f.write(piece)
        return [path]

    @staticmethod
    def _groups(store, target: str):
        for resource, _rank in itertools.islice(store.resources_by_severity(target), MAX_RESOURCE_GROUPS):
            yield {"resource": resource, "findings": store.findings_of(resource)}


def _linked(store, compliance: dict) -> dict:
    """The findings the requirements matrix links to (a few per requirement), by fingerprint."""
    wanted = {fp for rows in [compliance.get("contract", [])] + [f["requirements"] for f in compliance["frameworks"]]
              for r in rows for fp in r["findings"][:MAX_LINKED]}
    return store.findings_by_fingerprint(wanted) if wanted else {}
