"""The WebDAV connector's throughput vs curl, downloading the same files from the same WsgiDAV server on loopback.

    python bench/webdav_speed.py [--files 400] [--size 131072] [--threads 4]

Rows: curl (one process, one connection, every file in turn; then --parallel with as many transfers as the
connector has threads), the connector itself (its walk with PROPFIND Depth 1 timed apart, then every file
through open(), one thread and several), and a whole `vendorscan scan` of the same folder (walk, read, detect,
reports). curl is given the list of files; it walks nothing.
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

import servers  # noqa: E402
from bench.child import OUTSIDE, VENDORSCAN  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from vendorscan.connectors.webdav import WebdavConnector  # noqa: E402
from vendorscan.context import ScanContext, ValueHasher  # noqa: E402

PW_ENV = "VS_BENCH_DAV_PASSWORD"


def plant(root: Path, files: int, size: int) -> tuple[list[str], int]:
    """`files` text files of about `size` bytes in folders of 50: (their paths below the root, bytes)."""
    text = generate_text(8 * 2**20, seed=7).encode()
    rng = random.Random(3)
    names, total = [], 0
    for i in range(files):
        rel = f"bench/d{i // 50:02d}/file-{i:05d}.txt"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        start = rng.randrange(len(text) - size * 2)
        body = text[start:start + rng.randrange(size // 2, size * 3 // 2)]
        path.write_bytes(body)
        names.append(rel)
        total += len(body)
    for p in [root, *root.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return names, total


def curl(server, names: list[str], work: Path, parallel: int) -> float:
    """Seconds for one curl to download every file (to /dev/null), `parallel` transfers at once (1: in turn)."""
    cfg = work / f"curl-{parallel}.cfg"
    lines = [f'user = "{server.user}:{server.password}"', "fail"]
    for rel in names:
        lines += [f'url = "{server.url}{rel}"', 'output = "/dev/null"']
    cfg.write_text("\n".join(lines) + "\n")
    os.chmod(cfg, 0o600)
    args = ["curl", "-s", "-K", str(cfg)] + (["--parallel", "--parallel-max", str(parallel)] if parallel > 1 else [])
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)  # curl --parallel draws a meter even with -s
    return time.perf_counter() - t0


def connector_read(server, threads: int) -> tuple[int, int, float, float]:
    """(files, bytes, walk seconds, read seconds) of the connector walking the bench folder and reading every file."""
    ctx = ScanContext("bench", "production", ValueHasher(b"b" * 32))
    c = WebdavConnector(WebdavConnector.Options(url=server.url, username=server.user, password_env=PW_ENV,
                                                paths=["/bench"]), ctx)
    t0 = time.perf_counter()
    files = [r for r in c.walk() if getattr(r, "kind", "") == "file"]
    walked = time.perf_counter() - t0

    def read(r) -> int:
        n = 0
        with c.open(r) as f:
            while block := f.read(65536):
                n += len(block)
        return n

    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            total = sum(pool.map(read, files))
    else:
        total = sum(map(read, files))
    dt = time.perf_counter() - t0 - walked
    c.close()
    return len(files), total, walked, dt


def scan(server, work: Path, threads: int) -> tuple[dict, float]:
    cfg = work / "scan.toml"
    cfg.write_text(f'[executor]\nthreads = {threads}\n\n[[targets]]\nname = "bench"\ntype = "webdav"\n'
                   f'url = "{server.url}"\nusername = "{server.user}"\npassword_env = "{PW_ENV}"\n'
                   f'paths = ["/bench"]\nshares_api = "none"\n')
    t0 = time.perf_counter()
    proc = subprocess.run([VENDORSCAN, "scan", "--config", str(cfg), "--quiet", "--full", "--out", str(work / "o"),
                           "--state-dir", str(work / "state")], cwd=OUTSIDE, capture_output=True, text=True,
                          env={**os.environ, PW_ENV: server.password})
    dt = time.perf_counter() - t0
    if proc.returncode == 2:
        print(proc.stdout[-800:], proc.stderr[-800:], file=sys.stderr)
    return json.loads((work / "o" / "report.json").read_text())["targets"][0], dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=400)
    ap.add_argument("--size", type=int, default=128 * 1024)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    server = servers.start_webdav()
    os.environ[PW_ENV] = server.password
    work = Path(tempfile.mkdtemp(prefix="vendorscan-dav-bench-"))
    try:
        names, total = plant(server.root, args.files, args.size)
        mib = total / 2**20
        rows = []
        for parallel in (1, args.threads):
            dt = curl(server, names, work, parallel)
            rows.append((f"curl{' --parallel' if parallel > 1 else ''}", parallel, len(names), total, dt))
        for threads in (1, args.threads):
            n, got, walked, dt = connector_read(server, threads)
            assert got == total, (got, total)
            if threads == 1:
                rows.append(("connector walk only (PROPFIND Depth 1)", 1, n, 0, walked))
            rows.append(("connector open() + read", threads, n, got, dt))
        cov, dt = scan(server, work, args.threads)
        rows.append(("vendorscan scan (detect, reports)", args.threads, cov["resources_read"], cov["bytes_read"], dt))
        print(f"{len(names)} files, {mib:.1f} MiB, WsgiDAV {server.url.split('/remote.php')[0]} on loopback\n")
        print("| client | parallel | files | MiB | seconds | files/s | MB/s |")
        print("|---|---|---|---|---|---|---|")
        for name, par, n, size, dt in rows:
            print(f"| {name} | {par} | {n} | {size / 2**20:.1f} | {dt:.2f} | {n / dt:.0f} | {size / 1e6 / dt:.1f} |")
    finally:
        servers.stop_webdav(server)
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
