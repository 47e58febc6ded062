"""The HTML report's gettext catalogs: collect every message a report shows, and bring each language's .po up to date.

    .venv/bin/python scripts/i18n.py          # rewrite reports/i18n/messages.pot, add new messages to every .po

Messages come from the template (Babel's Jinja extractor), from the checks' tables and message() calls (every
kind's name and remediation, skip reasons, scopes), and from what the report asks the catalog while it renders
the demo scan (notes, severity rule, principals: text made at run time). Translators edit reports/i18n/<lang>.po with any gettext tool; the report reads them as they are.
"""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "reports" / "i18n"
_FILE_NAME = re.compile(r"\w\.[A-Za-z0-9]{2,8}\b")


class _Recorder:
    """A translations object that answers in English and writes down every message asked."""

    def __init__(self):
        self.seen: dict[str, None] = {}

    def gettext(self, text: str) -> str:
        if text and any(ch.isalpha() for ch in text):
            self.seen[text] = None
        return text

    def ngettext(self, one: str, many: str, n: int) -> str:
        self.gettext(one)
        return one if n == 1 else many


def asked() -> list[str]:
    """Every message the report asks its catalog for while rendering the demo scan's report."""
    from vendorscan.agent import cli
    from vendorscan.reports import html
    recorder = _Recorder()
    html.translations.cache_clear()
    original = html.translations
    html.translations = lambda lang: recorder  # noqa: E731 - the recorder stands in for every catalog
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cli.main(["demo", "--estate", f"{tmp}/estate", "--out", f"{tmp}/report", "--quiet", "--lang", "sv"])
    except SystemExit:
        pass
    finally:
        html.translations = original
    # A section that names a file ("file hr_test.sqlite") is the supplier's data, not a message.
    return [m for m in recorder.seen if not _FILE_NAME.search(m)]


def code_messages() -> list[str]:
    """Messages the checks' tables and message() calls make (every kind's name and remediation, skip reasons…)."""
    from babel.messages.extract import extract_from_dir
    from vendorscan import plugins
    from vendorscan.checks import idspecs, kinds, posture, special_categories
    from vendorscan import model
    from vendorscan.model import Scope, Severity
    from vendorscan.skips import REASONS
    found = [m[2] for m in extract_from_dir(str(ROOT / "checks"), method_map=[("**.py", "python")],
                                            keywords={"message": None})]
    names = [row.name for row in idspecs.BY_KIND.values()] + [idspecs.MASKED_NATIONAL.name]
    names += list(special_categories.NAMES.values())
    found += [name + suffix for name in names for suffix in kinds.VERDICT_SUFFIX.values()]
    found += list(kinds.REMEDIATION.values()) + [kinds.TEST_REMEDIATION, kinds.MASKED_REMEDIATION]
    found += [text for rule in posture.RULES for text in (rule[3], rule[4])]
    found += list(REASONS) + [s.value for s in Scope] + [s.value for s in Severity] + ["none found"]
    found += list(model.ENVIRONMENTS) + ["content", "resource", "correlation"]
    found += ["new", "persisting", "accepted", "resolved", "readable", "writable"]  # lifecycle; access actions
    found += ["list", "read", "write", "admin"]  # rights, as evidence names them
    from vendorscan.reports import compliance, html
    for fw in compliance.load(compliance.bundled()):  # the requirements matrix: names, titles, statuses, reasons
        found += [fw.name] + [r.title for r in fw.requirements]
    found += list(html.STATUS_NAMES.values()) + list(compliance.REASONS)
    from vendorscan import directory
    found += list(directory.DESCRIPTIONS)
    found += skip_details([ROOT / d for d in ("agent", "connectors", "formats")])
    nouns = ["file", "folder", "bucket", "object", "table", "schema", "column"]  # resource kinds, in titles too
    found += nouns + [n.capitalize() for n in nouns] + _chosen_messages(ROOT / "checks")
    found += [form for _, form in model.LABEL_WORDS if form != "{}"] + [model.REGION_WORDS, model.WHOLE_RESOURCE]
    found += [(plugins.load("checks", name).__doc__ or "").strip().splitlines()[0]
              for name in sorted(plugins.available("checks"))]
    return [m if isinstance(m, str) else m[0] for m in found if m]


def _chosen_messages(folder: Path) -> list[str]:
    """Messages a check picks at run time: the strings of `msgid = … if … else …` and of its `_WHO` tables."""
    import ast
    found = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and (t.id == "msgid" or t.id == "_WHO")
                                                    for t in node.targets):
                found += [c.value for c in ast.walk(node.value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str) and " " in c.value]
    return found


# Where a skip's detail is among a call's arguments: Skipped(uri, reason, detail, …), a connector's
# _skip(path, reason, detail), a format's Problem(reason, detail, …).
_DETAIL_ARG = {"Skipped": 2, "_skip": 2, "Problem": 1}


def skip_details(folders: list[Path]) -> list[str]:
    """Skip details written as constants in the code (a detail made at run time is shown marked as English)."""
    import ast
    found = []
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                at = _DETAIL_ARG.get(name)
                if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant) \
                        and isinstance(node.args[at].value, str):
                    found.append(node.args[at].value)
    return found


def template_messages() -> list[str]:
    """The messages the template marks with _() and ngettext()."""
    from babel.messages.extract import extract_from_file
    found = extract_from_file("jinja2", str(ROOT / "reports" / "templates" / "report.html.j2"),
                              options={"extensions": "jinja2.ext.i18n"})
    return [m[1] if isinstance(m[1], str) else m[1][:2] for m in found]  # (singular, plural) for ngettext


def main() -> int:
    """Rewrite messages.pot and merge it into every language's catalog."""
    sys.path.insert(0, str(ROOT))
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po
    plurals = [m for m in template_messages() if isinstance(m, tuple)]
    messages = list(dict.fromkeys(template_messages() + code_messages() + asked()))
    messages = [m for m in messages if m not in {p[0] for p in plurals}]  # ngettext's singular is asked alone too
    template = Catalog(project="vendorscan", fuzzy=False)
    for m in messages:
        template.add(m)
    with open(I18N / "messages.pot", "wb") as f:
        write_po(f, template, width=120, omit_header=False)
    for po in sorted(I18N.glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        catalog.update(template, no_fuzzy_matching=True)
        with po.open("wb") as f:
            write_po(f, catalog, width=120, ignore_obsolete=True)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{po.name}: {len(missing)} of {len(messages)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
