"""Azure Blob connector throughput against plain clients on the same data, on Azurite on loopback.

    python bench/azure_speed.py [--blobs 2000] [--big 3] [--big-mib 48] [--threads 8]

Two data sets in one public container (so curl can fetch them anonymously): `small`, many 2-16 KB text blobs,
and `big`, a few large ones. Each row reads every blob of a set once, to nowhere:
- curl: one curl process fetching every blob URL (anonymous GETs, one connection reused), output to /dev/null;
- SDK readall: azure-storage-blob's list_blobs + download_blob().readall() per blob (the whole blob in memory);
- connector: AzureBlobConnector.walk() + open().read(64 KiB) to the end (ranged downloads of 8 MiB);
- vendorscan scan: the installed command, detection and reports included (2 workers), for the whole picture.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.child import OUTSIDE, VENDORSCAN  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from test_azure import ACCOUNT, KEY, Azurite  # noqa: E402

from contract import context  # noqa: E402
from vendorscan.connectors.azure import AzureBlobConnector  # noqa: E402


def plant(server: Azurite, blobs: int, big: int, big_mib: int) -> dict[str, tuple[int, int]]:
    """The two sets in container 'bench' (public): {set: (blobs, bytes)}."""
    svc = server.client(max_single_put_size=4 * 2**20, max_block_size=4 * 2**20)
    cont = svc.create_container("bench", public_access="container")
    text = generate_text(8 * 2**20, seed=5)
    rng = random.Random(1)
    total = 0
    for i in range(blobs):
        start = rng.randrange(len(text) - 20_000)
        body = text[start:start + rng.randrange(2_000, 16_000)].encode()
        total += len(body)
        cont.upload_blob(f"small/{i // 100:03d}/file-{i:05d}.txt", body)
    sets = {"small": (blobs, total)}
    chunk = text.encode()[:2**20]
    big_total = 0
    for i in range(big):
        body = chunk * big_mib
        big_total += len(body)
        cont.upload_blob(f"big/dump-{i}.txt", body, max_concurrency=2)
    sets["big"] = (big, big_total)
    return sets


def names(server: Azurite, prefix: str) -> list[str]:
    return [b.name for b in server.client().get_container_client("bench").list_blobs(name_starts_with=prefix)]


def curl(server: Azurite, prefix: str, work: Path) -> float:
    cfg = work / f"curl-{prefix}.txt"
    cfg.write_text("".join(f'url = "{server.endpoint}/bench/{n}"\noutput = "/dev/null"\n'
                           for n in names(server, prefix)))
    t0 = time.perf_counter()
    subprocess.run(["curl", "-s", "-f", "-K", str(cfg)], check=True)
    return time.perf_counter() - t0


def sdk(server: Azurite, prefix: str, threads: int) -> float:
    cont = server.client().get_container_client("bench")
    t0 = time.perf_counter()
    listed = [b.name for b in cont.list_blobs(name_starts_with=prefix)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda n: len(cont.get_blob_client(n).download_blob().readall()), listed))
    return time.perf_counter() - t0


def connector(server: Azurite, prefix: str, threads: int) -> float:
    os.environ["BENCH_AZ_KEY"] = KEY
    c = AzureBlobConnector(AzureBlobConnector.Options(account=ACCOUNT, endpoint_url=server.endpoint,
                                                      containers=["bench"], prefixes=[prefix],
                                                      account_key_env="BENCH_AZ_KEY"), context("bench"))

    def read(resource) -> int:
        n = 0
        with c.open(resource) as stream:
            while block := stream.read(65536):
                n += len(block)
        return n

    t0 = time.perf_counter()
    blobs = [r for r in c.walk() if getattr(r, "kind", "") == "object"]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(read, blobs))
    dt = time.perf_counter() - t0
    c.close()
    return dt


def scan(server: Azurite, prefix: str, threads: int, work: Path) -> float:
    cfg = work / f"scan-{prefix}.toml"
    cfg.write_text(f'[executor]\nthreads = {threads}\n\n[[targets]]\nname = "bench"\ntype = "azure"\n'
                   f'account = "{ACCOUNT}"\nendpoint_url = "{server.endpoint}"\ncontainers = ["bench"]\n'
                   f'prefixes = ["{prefix}/"]\n')
    t0 = time.perf_counter()
    proc = subprocess.run([VENDORSCAN, "scan", "--config", str(cfg), "--quiet", "--full", "--workers", "2",
                           "--out", str(work / f"o-{prefix}"), "--state-dir", str(work / "state")],
                          cwd=OUTSIDE, capture_output=True, text=True, env={**os.environ, "AZURE_STORAGE_KEY": KEY})
    dt = time.perf_counter() - t0
    if proc.returncode == 2:
        print(proc.stdout[-800:], proc.stderr[-800:], file=sys.stderr)
    cov = json.loads((work / f"o-{prefix}" / "report.json").read_text())["targets"][0]
    assert cov["resources_read"] > 0, cov
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blobs", type=int, default=2000)
    ap.add_argument("--big", type=int, default=3)
    ap.add_argument("--big-mib", type=int, default=48)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    server = Azurite()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-azure-bench-"))
    try:
        sets = plant(server, args.blobs, args.big, args.big_mib)
        print(f"| set | blobs | MiB | client | threads | seconds | blobs/s | MB/s |")
        print("|---|---|---|---|---|---|---|---|")
        for prefix, (count, size) in sets.items():
            rows = [("curl", 1, lambda: curl(server, prefix, work)),
                    ("SDK readall", 1, lambda: sdk(server, prefix, 1)),
                    ("SDK readall", args.threads, lambda: sdk(server, prefix, args.threads)),
                    ("connector", 1, lambda: connector(server, prefix, 1)),
                    ("connector", args.threads, lambda: connector(server, prefix, args.threads)),
                    ("vendorscan scan", args.threads, lambda: scan(server, prefix, args.threads, work))]
            for label, threads, run in rows:
                dt = run()
                print(f"| {prefix} | {count} | {size / 2**20:.1f} | {label} | {threads} | {dt:.2f} | "
                      f"{count / dt:.0f} | {size / 2**20 / dt:.1f} |", flush=True)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
