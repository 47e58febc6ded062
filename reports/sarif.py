"""report.sarif (SARIF 2.1.0) for code-scanning dashboards: one result per finding, masked."""
from __future__ import annotations

import json
from pathlib import Path

from vendorscan.model import Severity
from vendorscan.report import Report, atomic_text

_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note",
          Severity.INFO: "note"}
_SCORE = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0",
          Severity.INFO: "0.0"}


class SarifReport(Report):
    """SARIF 2.1.0 for code-scanning dashboards; rules are finding kinds, results are findings."""

    id = "sarif"
    version = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Write report.sarif; the rules index is built as results stream by."""
        path = out_dir / "report.sarif"
        rules: dict[str, int] = {}
        rule_list = []
        results = []
        for f in result.store.findings():
            rule_id = f"{f.check_id}/{f.kind}"
            if rule_id not in rules:
                rules[rule_id] = len(rule_list)
                rule_list.append({"id": rule_id, "name": f.kind.replace(".", "_"),
                                  "shortDescription": {"text": f.title.split(" (")[0]},
                                  "help": {"text": f.remediation or f.title},
                                  "properties": {"tags": list(f.references), "security-severity": _SCORE[f.severity]}})
            loc = f.locations[0] if f.locations else None
            physical = {"artifactLocation": {"uri": f.resource}}
            if loc is not None and loc.line is not None:
                physical["region"] = {"startLine": loc.line, "startColumn": loc.column or 1}
            results.append({
                "ruleId": rule_id, "ruleIndex": rules[rule_id], "level": _LEVEL[f.severity],
                "message": {"text": f"{f.title}: {f.count} occurrence(s), {f.distinct} distinct; evidence "
                                    f"{', '.join(f.evidence) or '-'}"},
                "locations": [{"physicalLocation": physical}],
                "partialFingerprints": {"vendorscan/v1": f.fingerprint},
                "properties": {"severity": f.severity.value, "confidence": f.confidence, "verdict": f.verdict,
                               "target": f.target, "part": f.part},
            })
        doc = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "vendorscan", "version": result.agent_version,
                                    "informationUri": "https://vendorscan.example/", "rules": rule_list}},
                "invocations": [{"executionSuccessful": result.complete,
                                 "startTimeUtc": result.started, "endTimeUtc": result.ended}],
                "results": results,
                "properties": {"scan_id": result.scan_id, "config_digest": result.config_digest},
            }],
        }
        with atomic_text(path) as fh:
            json.dump(doc, fh, ensure_ascii=False)
        return [path]
