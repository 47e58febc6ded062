"""Documents and OCR through the whole scan: pages/s for docx, xlsx and PDF, images/s for screenshots.

    python bench/formats_speed.py [--files 40] [--pages 10] [--images 20] [--workers 0]

A page is what the format calls one: a PDF page; for Word ~3,000 characters of text (about one printed
page); for Excel 50 rows of 6 columns. Each kind is scanned as its own tree by `Scan` (all default checks,
process pool), so the figures include typing, extraction, detection and the run store.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from vendorscan.agent import config as cfg  # noqa: E402
from vendorscan.demo import documents as demo_documents  # noqa: E402
from vendorscan.agent.engine import Scan  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from vendorscan.checks import synth  # noqa: E402

ROWS_PER_PAGE = 50


def build(tree: Path, files: int, pages: int, images: int) -> dict[str, int]:
    """Write the four trees; returns pages (or images) per kind."""
    import documents
    rng = random.Random(5)
    text = generate_text(8 * 2**20, seed=9)
    lines = text.splitlines()
    for kind in ("docx", "xlsx", "pdf", "png"):
        (tree / kind).mkdir(parents=True)
    for i in range(files):
        start = rng.randrange(len(lines) - pages * 40)
        body = lines[start:start + pages * 40]  # ~40 lines of ~75 characters: one page
        demo_documents.word(tree / "docx" / f"d{i}.docx", f"Dokument {i}", body)
        demo_documents.excel(tree / "xlsx" / f"x{i}.xlsx", {"Blad1": [
            [f"Namn {r}", synth.real("se.personnummer", rng), rng.randrange(10**6), "avdelning", "2024-05-01",
             rng.random()] for r in range(pages * ROWS_PER_PAGE)]})
        documents.pdf(tree / "pdf" / f"p{i}.pdf", ["\n".join(body[p * 40:(p + 1) * 40]) for p in range(pages)])
    for i in range(images):
        documents.case_screenshot(tree / "png" / f"s{i}.png", [synth.real("dk.cpr", rng) for _ in range(5)],
                                  [synth.real("se.personnummer", rng) for _ in range(5)])
    return {"docx": files * pages, "xlsx": files * pages, "pdf": files * pages, "png": images}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--workers", type=int, default=0, help="0 = one per core")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-formats-"))
    try:
        units = build(work / "tree", args.files, args.pages, args.images)
        print("| kind | files | pages or images | findings | seconds | per second |")
        print("|---|---|---|---|---|---|")
        for kind, n in units.items():
            config = cfg.parse({"executor": {"workers": args.workers, "unit_files": 4},
                                "targets": [{"name": kind, "type": "local", "paths": [str(work / "tree" / kind)]}]})
            t0 = time.perf_counter()
            result = Scan(config, state=work / f"state-{kind}", full=True).run()
            seconds = time.perf_counter() - t0
            cov = result.coverage[0]
            findings = sum(1 for f in result.store.findings() if f.category == "national_id")
            result.store.close()
            assert cov.complete and not cov.skipped, (kind, cov.skipped)
            unit = "images" if kind == "png" else "pages"
            print(f"| {kind} | {cov.resources_read} | {n} {unit} | {findings} | {seconds:.1f} | "
                  f"{n / seconds:.1f} {unit}/s |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
