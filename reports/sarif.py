"""report.sarif (SARIF 2.1.0) for code-scanning dashboards: one result per finding, masked."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from vendorscan.model import Finding, Location, Severity
from vendorscan.report import Report, atomic_text, dump_json
from vendorscan.reports.rules import Rule, rule, severity_of

_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note",
          Severity.INFO: "note"}
# GitHub code scanning reads a rule's security-severity: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, else low.
_SCORE = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0",
          Severity.INFO: "0.0"}
# The partialFingerprints key GitHub code scanning matches results on across runs.
FINGERPRINT_KEY = "primaryLocationLineHash"
_CONTAINERS = ("folder", "bucket")
_BASELINE = {"new": "new", "persisting": "unchanged", "accepted": "unchanged"}


class SarifReport(Report):
    """SARIF 2.1.0 for code-scanning dashboards; rules are finding kinds, results are findings."""

    id = "sarif"
    version = "2"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Write report.sarif: rules from one grouped query, then results streamed from the run store."""
        path = out_dir / "report.sarif"
        store = result.store
        checks = {c["id"]: c.get("description", "") for c in result.checks}
        rules: list[Rule] = []
        for check_id, kind, worst_real, worst in store.kinds():
            sev = severity_of(worst_real if worst_real is not None else worst)
            rules.append(rule(check_id, kind, sev, store.example(check_id, kind), checks))
        index = {r.id: i for i, r in enumerate(rules)}
        bases = _bases(store.roots())
        head = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "vendorscan", "version": result.agent_version, "semanticVersion":
                                    result.agent_version, "informationUri": "https://vendorscan.example/",
                                    "rules": [_rule(r) for r in rules]}},
                "invocations": [{"executionSuccessful": result.complete,
                                 "startTimeUtc": result.started, "endTimeUtc": result.ended}],
                "originalUriBaseIds": {b: {"uri": root, "description": {"text": f"target {target}"}}
                                       for target, b, root in bases},
                "columnKind": "unicodeCodePoints",
                "properties": {"scan_id": result.scan_id, "config_digest": result.config_digest},
                "results": [],
            }],
        }
        text = dump_json(head)
        before, after = text.rsplit('"results": []', 1)  # results last: streamed in between
        with atomic_text(path) as fh:
            fh.write(before + '"results": [')
            for i, (f, life) in enumerate(store.findings_with_lifecycle()):
                rid = f"{f.check_id}/{f.kind}"
                doc = _result(f, index[rid], rid, bases, life)
                fh.write(("," if i else "") + "\n" + dump_json(doc))
            fh.write("]" + after)
        return [path]


def _rule(r: Rule) -> dict:
    refs = "".join(f"\n- {ref}" for ref in r.references)
    help_text = (r.remediation or r.title) + (f"\nReferences: {', '.join(r.references)}" if r.references else "")
    return {
        "id": r.id, "name": re.sub(r"[^A-Za-z0-9]+", "_", r.id),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.description},
        "help": {"text": help_text, "markdown": (r.remediation or r.title) + (f"\n\n**References**{refs}" if refs else "")},
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {"tags": ["security", "privacy", r.check_id, *r.references], "security-severity": _SCORE[r.severity],
                       "severity": r.severity.value, "precision": "high"},
    }


def _bases(roots: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str]]:
    """(target, base id, root uri ending in '/') per walk root: a folder or bucket itself, a file's folder."""
    found, seen = [], set()
    for target, tops in roots.items():
        for uri, kind in tops:
            root = uri.rstrip("/") + "/" if kind in _CONTAINERS else uri.rsplit("/", 1)[0] + "/"
            if root in seen:
                continue
            seen.add(root)
            name = re.sub(r"[^A-Za-z0-9_-]+", "-", target).strip("-").upper() or "TARGET"
            base = name if not any(b == name for _, b, _ in found) else f"{name}-{len(found)}"
            found.append((target, base, root))
    found.sort(key=lambda t: len(t[2]), reverse=True)  # the longest root that holds a uri is its base
    return found


def _artifact(uri: str, bases) -> dict:
    for _, base, root in bases:
        if uri.startswith(root) or uri + "/" == root:
            rel = uri[len(root):] or "."
            return {"uri": quote(rel, safe="/%:@!$&'()*+,;=~-._"), "uriBaseId": base}
    return {"uri": uri}


def _region(loc: Location) -> dict | None:
    if loc.line is None:
        return None
    region = {"startLine": loc.line}
    if loc.column is not None:
        region["startColumn"] = loc.column
    if loc.column is not None and loc.end_column is not None:  # values never span lines: the end is on the start's
        region["endLine"] = loc.line
        region["endColumn"] = loc.end_column
    return region


def _location(uri: str, loc: Location | None, bases) -> dict:
    physical: dict = {"artifactLocation": _artifact(uri, bases)}
    region = _region(loc) if loc is not None else None
    if region:
        physical["region"] = region
    out: dict = {"physicalLocation": physical}
    if loc is not None and region is None and loc.to_dict():
        out["logicalLocations"] = [{"name": loc.label(), "kind": "element"}]
    return out


def _result(f: Finding, rule_index: int, rule_id: str, bases, life: dict | None) -> dict:
    first = f.locations[0] if f.locations else None
    doc = {
        "ruleId": rule_id, "ruleIndex": rule_index, "level": _LEVEL[f.severity],
        "message": {"text": f"{f.title}: {f.count} occurrence(s), {f.distinct} distinct; evidence "
                            f"{', '.join(f.evidence) or '-'}"},
        "locations": [_location(f.resource, first, bases)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint, "vendorscan/v1": f.fingerprint},
        "properties": {"severity": f.severity.value, "security-severity": _SCORE[f.severity],
                       "confidence": f.confidence, "verdict": f.verdict, "target": f.target, "part": f.part,
                       "count": f.count, "distinct": f.distinct},
    }
    if len(f.locations) > 1:
        doc["relatedLocations"] = [{"id": i, **_location(f.resource, loc, bases)}
                                   for i, loc in enumerate(f.locations[1:], 1)]
    if life is not None:
        doc["baselineState"] = _BASELINE.get(life["status"], "new")
        doc["properties"].update(lifecycle=life["status"], first_seen=life["first_seen"], last_seen=life["last_seen"])
        if life["status"] == "accepted":
            doc["suppressions"] = [{"kind": "external", "status": "accepted"}]
    return doc
