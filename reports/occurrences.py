"""occurrences.jsonl.gz: every occurrence of every finding, one JSON line each, streamed and compressed."""
from __future__ import annotations

from pathlib import Path

from vendorscan.report import RESOURCE_CATEGORIES, Report, atomic_text, dump_json


class OccurrencesReport(Report):
    """Every occurrence (masked evidence, keyed hash, location) as gzip-compressed JSON Lines, finding by finding."""

    id = "occurrences"
    version = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Stream occurrences.jsonl.gz from the run store: neither the findings nor their occurrences held whole."""
        path = out_dir / "occurrences.jsonl.gz"
        store = result.store
        with atomic_text(path, compress=True) as f:
            for finding in store.findings():
                if finding.category in RESOURCE_CATEGORIES:
                    continue  # report.json has them whole
                head = {"fingerprint": finding.fingerprint, "target": finding.target, "resource": finding.resource,
                        "kind": finding.kind, "verdict": finding.verdict}
                for o in store.occurrences(finding):
                    f.write(dump_json({**head, **o}) + "\n")
        return [path]
