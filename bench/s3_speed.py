"""Objects/s and MB/s of `vendorscan scan` on 2,000 small objects in moto's S3 server on loopback.

    python bench/s3_speed.py [--objects 2000] [--workers 1 4 16]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


import servers  # noqa: E402
from bench.child import OUTSIDE, VENDORSCAN  # noqa: E402
from bench.corpus import generate_text  # noqa: E402

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
         "AWS_EC2_METADATA_DISABLED": "true"}


def moto_bucket(objects: int):
    """moto's S3 server on a free loopback port with a bucket of `objects` small text objects: (server, endpoint,
    bytes uploaded)."""
    server, endpoint, s3 = servers.start_moto()
    s3.create_bucket(Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    text = generate_text(8 * 2**20, seed=5)
    rng = random.Random(1)
    total = 0
    for i in range(objects):
        start = rng.randrange(len(text) - 20_000)
        body = text[start:start + rng.randrange(2_000, 16_000)].encode()
        total += len(body)
        s3.put_object(Bucket="bench", Key=f"exports/{i // 100:03d}/file-{i:05d}.txt", Body=body)
    return server, endpoint, total


def timed_scan(work: Path, name: str, executor: str, endpoint: str, extra_args: list[str] = ()) -> tuple[dict, float]:
    """(the bucket's coverage from report.json, seconds) of one `vendorscan scan` of the bench bucket."""
    cfg = work / f"{name}.toml"
    cfg.write_text(f'[executor]\n{executor}\n\n[[targets]]\nname = "bench"\ntype = "s3"\n'
                   f'endpoint_url = "{endpoint}"\nregion = "eu-north-1"\nbuckets = ["bench"]\n')
    t0 = time.perf_counter()
    proc = subprocess.run([VENDORSCAN, "scan", "--config", str(cfg), "--quiet", "--full",
                           "--out", str(work / f"o-{name}"), "--state-dir", str(work / "state"), *extra_args],
                          cwd=OUTSIDE, capture_output=True, text=True, env={**os.environ, **CREDS})
    dt = time.perf_counter() - t0
    if proc.returncode == 2:
        print(proc.stderr[-800:], file=sys.stderr)
    return json.loads((work / f"o-{name}" / "report.json").read_text())["targets"][0], dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    server, endpoint, total = moto_bucket(args.objects)
    work = Path(tempfile.mkdtemp(prefix="vendorscan-s3-bench-"))
    try:
        print("| objects | MiB | workers | threads each | seconds | objects/s | MB/s |")
        print("|---|---|---|---|---|---|---|")
        for threads in args.threads:
            cov, dt = timed_scan(work, f"t{threads}", f"threads = {threads}", endpoint, ["--workers", str(args.workers)])
            print(f"| {cov['resources_read']} | {total / 2**20:.1f} | {args.workers} | {threads} | {dt:.1f} | "
                  f"{cov['resources_read'] / dt:.0f} | {cov['bytes_read'] / 2**20 / dt:.1f} |")
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
