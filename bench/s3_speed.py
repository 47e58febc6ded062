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

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

import servers  # noqa: E402
from bench.corpus import generate_text  # noqa: E402

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
         "AWS_EC2_METADATA_DISABLED": "true"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    port = servers.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="vendorscan-s3-bench-"))
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-north-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        s3.create_bucket(Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        text = generate_text(8 * 2**20, seed=5)
        rng = random.Random(1)
        total = 0
        for i in range(args.objects):
            start = rng.randrange(len(text) - 20_000)
            body = text[start:start + rng.randrange(2_000, 16_000)].encode()
            total += len(body)
            s3.put_object(Bucket="bench", Key=f"exports/{i // 100:03d}/file-{i:05d}.txt", Body=body)
        print("| objects | MiB | workers | threads each | seconds | objects/s | MB/s |")
        print("|---|---|---|---|---|---|---|")
        for threads in args.threads:
            cfg = work / f"s3-{threads}.toml"
            cfg.write_text(f'[executor]\nthreads = {threads}\n\n[[targets]]\nname = "bench"\ntype = "s3"\n'
                           f'endpoint_url = "{endpoint}"\nregion = "eu-north-1"\nbuckets = ["bench"]\n')
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "agent", "scan", "--config", str(cfg), "--quiet",
                                   "--workers", str(args.workers), "--out", str(work / f"o{threads}"), "--state-dir",
                                   str(work / "state")], cwd=ROOT, capture_output=True, text=True,
                                  env={**os.environ, **CREDS})
            dt = time.perf_counter() - t0
            cov = json.loads((work / f"o{threads}" / "report.json").read_text())["targets"][0]
            print(f"| {cov['resources_read']} | {total / 2**20:.1f} | {args.workers} | {threads} | {dt:.1f} | "
                  f"{cov['resources_read'] / dt:.0f} | {cov['bytes_read'] / 2**20 / dt:.1f} |")
            if proc.returncode == 2:
                print(proc.stdout[-500:])
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
