"""report.json: every finding with its first occurrences (masked, hashed; how many more), coverage and method."""
from __future__ import annotations

from pathlib import Path

from vendorscan.report import RESOURCE_CATEGORIES, Report, atomic_text, dump_json, summary

SCHEMA_VERSION = "1.0"
_NO_HASH = '"value_hash": null, '


class JsonReport(Report):
    """Machine-readable report: findings with their first occurrences (masked evidence and keyed hashes)."""

    id = "json"
    version = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Stream report.json from the run store; findings are never all held in memory."""
        path = out_dir / "report.json"
        store = result.store
        limit = getattr(result, "report_occurrences", 10_000)
        with atomic_text(path) as f:
            f.write('{"schema_version": %s,\n' % dump_json(SCHEMA_VERSION))
            f.write('"scan": %s,\n' % dump_json(result.to_dict()))
            f.write('"summary": %s,\n' % dump_json(summary(result)))
            f.write('"checks": %s,\n' % dump_json(result.checks))
            f.write('"targets": %s,\n' % dump_json([c.to_dict() for c in result.coverage]))
            f.write('"compliance": %s,\n' % dump_json(result.compliance))
            f.write('"findings": [')
            for i, (body, key, category, count, lifecycle, first) in enumerate(store.finding_texts()):
                # The stored body is the finding's to_dict() as dumped here: copied, not decoded and encoded again.
                # Its first "value_hash": null is its own (strings before it cannot hold a bare quote): a finding
                # about several values has none, and the report leaves the key out.
                body = body.replace(_NO_HASH, "", 1)[:-1]
                if lifecycle is not None:
                    body += ', "lifecycle": ' + dump_json(lifecycle)
                f.write(("," if i else "") + "\n" + body + ', "occurrences": [')
                listed = 0
                if category not in RESOURCE_CATEGORIES:
                    # bounded: report.json grows with findings, not occurrences (occurrences.jsonl.gz has them all)
                    for listed, o in enumerate(store.occurrences_from(first, key, count, limit), 1):
                        f.write(("," if listed > 1 else "") + dump_json(o))
                omitted = count - listed if listed == limit and count > listed else 0
                f.write(']%s}' % (', "occurrences_omitted": %d' % omitted if omitted else ""))
            f.write('\n],\n"resolved": [')
            for i, r in enumerate(result.resolved_findings()):
                f.write(("," if i else "") + "\n" + dump_json(r))
            f.write('\n],\n"skipped": [')
            for i, s in enumerate(store.skipped()):
                f.write(("," if i else "") + "\n" + dump_json({"uri": s.uri, "target": s.target,
                                                          "reason": s.reason, "detail": s.detail}))
            f.write("\n]}\n")
        return [path]
