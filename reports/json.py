"""report.json: every finding with its first occurrences (masked, hashed; how many more), coverage and method."""
from __future__ import annotations

import json
from pathlib import Path

from vendorscan.report import RESOURCE_CATEGORIES, Report, atomic_text, summary

SCHEMA_VERSION = "1.0"


class JsonReport(Report):
    """Machine-readable report: findings with their first occurrences (masked evidence and keyed hashes)."""

    id = "json"
    version = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Stream report.json from the run store; findings are never all held in memory."""
        path = out_dir / "report.json"
        store = result.store
        limit = getattr(result, "report_occurrences", 10_000)
        dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
        with atomic_text(path) as f:
            f.write('{"schema_version": %s,\n' % dump(SCHEMA_VERSION))
            f.write('"scan": %s,\n' % dump(result.to_dict()))
            f.write('"summary": %s,\n' % dump(summary(result)))
            f.write('"checks": %s,\n' % dump(result.checks))
            f.write('"targets": %s,\n' % dump([c.to_dict() for c in result.coverage]))
            f.write('"compliance": %s,\n' % dump(result.compliance))
            f.write('"findings": [')
            for i, finding in enumerate(store.findings()):
                body = finding.to_dict()
                if body["value_hash"] is None:
                    del body["value_hash"]  # filled or gone: a finding about several values has none of its own
                lifecycle = result.finding_lifecycle(finding)
                if lifecycle is not None:
                    body["lifecycle"] = lifecycle
                f.write(("," if i else "") + "\n" + dump(body)[:-1] + ', "occurrences": [')
                listed = 0
                if finding.category not in RESOURCE_CATEGORIES:
                    # bounded: report.json grows with findings, not occurrences (occurrences.jsonl.gz has them all)
                    for listed, o in enumerate(store.occurrences(finding, limit), 1):
                        f.write(("," if listed > 1 else "") + dump(o))
                omitted = finding.count - listed if listed == limit and finding.count > listed else 0
                f.write(']%s}' % (', "occurrences_omitted": %d' % omitted if omitted else ""))
            f.write('\n],\n"resolved": [')
            for i, r in enumerate(result.resolved_findings()):
                f.write(("," if i else "") + "\n" + dump(r))
            f.write('\n],\n"skipped": [')
            for i, s in enumerate(store.skipped()):
                f.write(("," if i else "") + "\n" + dump({"uri": s.uri, "target": s.target,
                                                          "reason": s.reason, "detail": s.detail}))
            f.write("\n]}\n")
        return [path]
