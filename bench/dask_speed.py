"""Objects/s of `vendorscan scan` on 20,000 small objects in moto's S3 server: the local executor beside Dask.

    python bench/dask_speed.py [--objects 20000] [--dask-workers 2 4]

Every run reads the same bucket (moto's server on loopback, in this process) with the same state dir
(--full, so nothing comes from the cache); Dask runs on a LocalCluster of worker processes
(`type = "dask-local"`), each worker one thread for Python and `threads` resources read at once.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.s3_speed import moto_bucket, timed_scan  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=20_000)
    ap.add_argument("--dask-workers", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--unit-files", type=int, default=64)
    args = ap.parse_args()
    server, endpoint, total = moto_bucket(args.objects)
    work = Path(tempfile.mkdtemp(prefix="vendorscan-dask-bench-"))
    runs = [("local", f"local process pool, {os.cpu_count()} workers", 'type = "local"')]
    runs += [(f"dask{n}", f"Dask LocalCluster, {n} workers", f'type = "dask-local"\nworkers = {n}')
             for n in args.dask_workers]
    try:
        print(f"{args.objects} objects, {total / 2**20:.1f} MiB, moto's S3 server on loopback; "
              f"unit_files = {args.unit_files}\n")
        print("| executor | objects read | seconds | objects/s | MB/s | complete |")
        print("|---|---|---|---|---|---|")
        for name, label, executor in runs:
            cov, dt = timed_scan(work, name, f"{executor}\nunit_files = {args.unit_files}", endpoint)
            print(f"| {label} | {cov['resources_read']} | {dt:.1f} | {cov['resources_read'] / dt:.0f} | "
                  f"{cov['bytes_read'] / 2**20 / dt:.2f} | {cov['complete']} |", flush=True)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
