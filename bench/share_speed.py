"""Files/s and MB/s of `vendorscan scan` over SFTP and SMB on loopback (real sshd and smbd; run as root).

    python bench/share_speed.py [--files 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import servers  # noqa: E402
from bench.corpus import generate_text  # noqa: E402
from bench.child import OUTSIDE, VENDORSCAN  # noqa: E402


def fill(root: Path, files: int) -> int:
    """Write `files` text files in folders of 100; returns the bytes written."""
    text = generate_text(8 * 2**20, seed=9)
    rng, total = random.Random(2), 0
    for i in range(files):
        d = root / f"dir{i // 100:03d}"
        d.mkdir(exist_ok=True)
        os.chmod(d, 0o755)
        start = rng.randrange(len(text) - 40_000)
        body = text[start:start + rng.randrange(4_000, 32_000)]
        (d / f"f{i:05d}.txt").write_text(body)
        os.chmod(d / f"f{i:05d}.txt", 0o644)
        total += len(body.encode())
    return total


def run(config: Path, work: Path, env: dict) -> tuple[float, dict]:
    """(seconds, coverage) of one scan."""
    t0 = time.perf_counter()
    subprocess.run([VENDORSCAN, "scan", "--config", str(config), "--quiet", "--out",
                    str(work / config.stem), "--state-dir", str(work / "state")], cwd=OUTSIDE, capture_output=True,
                   env={**os.environ, **env})
    dt = time.perf_counter() - t0
    return dt, json.loads((work / config.stem / "report.json").read_text())["targets"][0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-share-bench-"))
    sshd, smbd = servers.start_sshd(), servers.start_smbd()
    try:
        tree = Path(tempfile.mkdtemp(prefix="vendorscan-share-tree-", dir="/tmp"))
        os.chmod(tree, 0o755)
        total = fill(tree, args.files)
        shutil.copytree(tree, smbd.share_path / "tree")
        (work / "sftp.toml").write_text(
            f'[[targets]]\nname = "sftp"\ntype = "sftp"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
            f'username = "{sshd.user}"\nkey_file = "{sshd.client_key}"\npaths = ["{tree}"]\n'
            f'host_key_fingerprint = "{sshd.host_key_fingerprint}"\n')
        (work / "smb.toml").write_text(
            f'[[targets]]\nname = "smb"\ntype = "smb"\nserver = "127.0.0.1"\nport = {smbd.port}\n'
            f'share = "{smbd.share}"\nusername = "{smbd.user}"\npassword_env = "SMB_PW"\npaths = ["tree"]\n')
        print("| protocol | files | MiB | seconds | files/s | MB/s |")
        print("|---|---|---|---|---|---|")
        for name in ("sftp", "smb"):
            dt, cov = run(work / f"{name}.toml", work, {"SMB_PW": smbd.password})
            print(f"| {name} | {cov['resources_read']} | {total / 2**20:.1f} | {dt:.1f} | "
                  f"{cov['resources_read'] / dt:.0f} | {cov['bytes_read'] / 2**20 / dt:.1f} |")
        shutil.rmtree(tree, ignore_errors=True)
    finally:
        servers.stop_sshd(sshd)
        servers.stop_smbd(smbd)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
