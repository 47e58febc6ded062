"""findings.csv: one row per finding, masked, for Excel (UTF-8 with BOM, ';' and a decimal comma as Nordic Excel
expects), each row with its scan's id and date so rows of several scans can be put together."""
from __future__ import annotations

import csv
from pathlib import Path

from vendorscan.report import Report, atomic_text

# A cell that starts with one of these is a formula to Excel and LibreOffice (OWASP, "CSV Injection"): file,
# member, sheet and table names come from the supplier, and `=HYPERLINK(…)` there would be a live link.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = ("severity", "title", "check_id", "kind", "verdict", "target", "resource", "part", "count", "distinct",
           "confidence", "evidence", "locations", "remediation", "references", "fingerprint", "scan_id", "scan_date")


class CsvReport(Report):
    """findings.csv for spreadsheets: masked evidence, one row per finding, worst first."""

    id = "csv"
    version = "1"
    delimiter = ";"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Write findings.csv from the run store."""
        path = out_dir / "findings.csv"
        with atomic_text(path) as f:
            f.write("\ufeff")  # BOM: Excel then reads UTF-8 and keeps å, ä, ö, æ, ø
            writer = csv.writer(f, delimiter=self.delimiter, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            scan_date = (result.ended or result.started or "")[:10]  # ISO date: a date to every spreadsheet
            for fd in result.store.findings():
                writer.writerow(map(_cell, [
                    fd.severity.value, fd.title, fd.check_id, fd.kind, fd.verdict, fd.target, fd.resource, fd.part,
                    fd.count, fd.distinct, f"{fd.confidence:.2f}".replace(".", ","), " | ".join(fd.evidence),
                    " | ".join(loc.label() for loc in fd.locations), fd.remediation, ", ".join(fd.references),
                    fd.fingerprint, result.scan_id, scan_date]))
        return [path]


def _cell(value) -> str:
    """The value as text, with a leading single quote when a spreadsheet would read it as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
