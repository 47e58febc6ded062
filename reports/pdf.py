"""report.pdf: the HTML report printed by headless Chromium, for contract files that want PDF."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from vendorscan.report import Report, ReportError
from vendorscan.reports.html import HtmlReport

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--no-pdf-header-footer"]


class PdfReport(Report):
    """report.pdf: the HTML report printed by headless Chromium (Debian package chromium)."""

    id = "pdf"
    version = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Render the HTML into a temp dir, print it to out_dir/report.pdf."""
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if exe is None:
            raise ReportError("the pdf format needs Chromium: install the Debian package chromium")
        path = out_dir / "report.pdf"
        with tempfile.TemporaryDirectory(prefix="vendorscan-pdf-") as tmp:
            (html,) = HtmlReport().render(result, Path(tmp))
            target = Path(tmp) / "report.pdf"
            proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={target}",
                                   html.as_uri()], capture_output=True, text=True, timeout=120)
            if proc.returncode != 0 or not target.exists():
                raise ReportError(f"Chromium could not print the report (exit {proc.returncode})")
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, path)
            path.chmod(0o600)
        return [path]
