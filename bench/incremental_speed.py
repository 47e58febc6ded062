"""First scan vs unchanged rescan of a local tree (the incremental cache), scan phase and reports apart.

    python bench/incremental_speed.py [--files 10000] [--size-kb 100] [--with-ids 1.0]
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

from vendorscan.agent import config as cfg  # noqa: E402
from vendorscan.agent.engine import Scan  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from vendorscan.reports.json import JsonReport  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--size-kb", type=int, default=100, help="average file size")
    ap.add_argument("--with-ids", type=float, default=1.0,
                    help="share of files cut from text with ids (~2%% of lines); the rest hold none")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-incr-"))
    try:
        tree = work / "tree"
        text = generate_text(16 * 2**20, seed=4)
        clean = generate_text(16 * 2**20, seed=5, id_share=0, email_share=0)
        rng = random.Random(3)
        size = args.size_kb * 1024
        total = 0
        for i in range(args.files):
            d = tree / f"d{i // 200:03d}"
            d.mkdir(parents=True, exist_ok=True)
            n = rng.randrange(size // 2, size * 3 // 2)
            source = text if rng.random() < args.with_ids else clean
            start = rng.randrange(len(source) - n)
            (d / f"f{i:05d}.txt").write_text(source[start:start + n])
            total += n
        config = cfg.parse({"targets": [{"name": "tree", "type": "local", "paths": [str(tree)]}]})
        print(f"{args.files} files, {total / 2**20:.0f} MiB, {args.with_ids:.0%} of them cut from text with ids")
        print("| run | read | unchanged | scan phase s | report.json s |")
        print("|---|---|---|---|---|")
        phases = []
        for run in ("first", "rescan"):
            scan = Scan(config, state=work / "state")
            t0 = time.perf_counter()
            result = scan.run()
            t1 = time.perf_counter()
            JsonReport().render(result, work / run)
            t2 = time.perf_counter()
            cov = result.coverage[0]
            phases.append(t1 - t0)
            print(f"| {run} | {cov.resources_read} | {cov.resources_unchanged} | {t1 - t0:.1f} | {t2 - t1:.1f} |")
            result.store.close()
        print(f"rescan speed-up of the scan phase: {phases[0] / phases[1]:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
