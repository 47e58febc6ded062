"""Files/s and MB/s of `vendorscan scan` over SFTP and SMB on loopback beside OpenSSH `sftp` and `smbclient`.

    python bench/share_speed.py [--files 2000] [--large-mib 128] [--repeat 3] [--vendorscan PATH]

Real sshd and smbd (tests/servers.py; run as root). Two sets: `small` (`--files` text files of 4-32 KB in
folders of 100) and `large` (2 text files of `--large-mib` MiB): plain text with a few ids, so that the transport and
not the detection is measured; `local` is the same tree scanned as a local folder (what the scanner does
without any network: the ceiling). Each client reads each set whole, `--repeat` times; the table
gives medians and our rate as a share of the plain client's.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
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

LINE = "Leverantörsrapport kvartal leverans order faktura status levererad enligt avtal\n"
IDS = ("personnummer 850412-1230\n", "CPR-nr 120485-1006\n", "henkilötunnus 131052-308T\n")


def fill_small(root: Path, files: int) -> int:
    """Write `files` text files of 4-32 KB in folders of 100, an id in every tenth; returns the bytes written."""
    rng, total = random.Random(2), 0
    for i in range(files):
        d = root / f"dir{i // 100:03d}"
        d.mkdir(exist_ok=True)
        size = rng.randrange(4_000, 32_000)
        body = (LINE * (size // len(LINE) + 1))[:size - 40] + (IDS[i // 10 % 3] if i % 10 == 0 else "")
        (d / f"f{i:05d}.txt").write_text(body)
        total += len(body.encode())
    return total


def fill_large(root: Path, mib: int) -> int:
    """Write 2 text files of `mib` MiB, one id every MiB; returns the bytes written."""
    block = (LINE * (2**20 // len(LINE.encode()))).encode()
    for n in range(2):
        with open(root / f"big{n}.txt", "wb") as f:
            for i in range(mib):
                f.write(block[:2**20 - 64] + IDS[i % 3].encode().ljust(64, b" "))
    return 2 * mib * 2**20


def make_readable(root: Path) -> None:
    """Folders 0755, files 0644: the audit accounts of both servers may read everything."""
    os.chmod(root, 0o755)
    for p in root.rglob("*"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)


def sftp_get(sshd, remote: Path, into: Path) -> None:
    """OpenSSH sftp in batch mode: the tree fetched whole (get -r) into a temp dir."""
    batch = into / "batch"
    batch.write_text(f"lcd {into}\nget -r {remote}\n")
    subprocess.run(["sftp", "-q", "-b", str(batch), "-i", str(sshd.client_key), "-P", str(sshd.port),
                    "-o", f"UserKnownHostsFile={sshd.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                    "-o", "BatchMode=yes", f"{sshd.user}@127.0.0.1"], check=True, capture_output=True)


def smb_get(smbd, rel: str, into: Path) -> None:
    """smbclient: the folder fetched whole (recurse, mget) into a temp dir."""
    subprocess.run(["smbclient", f"//127.0.0.1/{smbd.share}", "-p", str(smbd.port), "-U", smbd.user,
                    "-c", f"prompt OFF; recurse ON; lcd {into}; cd {rel}; mget *"],
                   check=True, capture_output=True, env={**os.environ, "PASSWD": smbd.password})


def plain(fetch, work: Path) -> float:
    """Seconds of one plain-client fetch into a fresh temp dir (removed afterwards)."""
    into = Path(tempfile.mkdtemp(prefix="plain-", dir=work))
    t0 = time.perf_counter()
    fetch(into)
    dt = time.perf_counter() - t0
    shutil.rmtree(into)
    return dt


def scan(vendorscan: str, config: Path, work: Path, env: dict) -> tuple[float, dict]:
    """(seconds, coverage) of one full scan through the installed console script."""
    out = work / f"out-{config.stem}"
    t0 = time.perf_counter()
    proc = subprocess.run([vendorscan, "scan", "--config", str(config), "--quiet", "--full", "--out", str(out),
                           "--state-dir", str(work / "state")], cwd=OUTSIDE, capture_output=True, text=True,
                          env={**os.environ, **env})
    dt = time.perf_counter() - t0
    if proc.returncode == 2:
        print(proc.stdout[-800:], proc.stderr[-800:], file=sys.stderr)
    cov = json.loads((out / "report.json").read_text())["targets"][0]
    shutil.rmtree(out)
    return dt, cov


def connector_read(config: Path, env: dict, threads: int) -> tuple[float, int, int]:
    """(seconds, files, bytes) of the config's connector alone: walked, every file read whole in `threads` threads
    (as a worker reads a unit), in this process, without any checks."""
    from concurrent.futures import ThreadPoolExecutor
    from vendorscan import plugins
    from vendorscan.agent.config import load_file
    from vendorscan.context import ScanContext, ValueHasher
    os.environ.update(env)
    target = load_file(config).targets[0]
    t0 = time.perf_counter()
    connector = plugins.load("connectors", target.type)(target.options, ScanContext(
        target.name, target.environment, ValueHasher(b"k" * 32), target.options))
    files = [r for r in connector.walk() if getattr(r, "kind", "") == "file"]

    def read(resource) -> int:
        n = 0
        with connector.open(resource) as f:
            while block := f.read(64 * 1024):
                n += len(block)
        return n

    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(read, files))
    connector.close()
    return time.perf_counter() - t0, len(files), total


def configs(work: Path, sshd, smbd, sftp_root: Path, set_name: str) -> dict[str, Path]:
    """One scan config per protocol for a set."""
    head = '[limits]\nmax_file_size = "4GB"\n\n'
    sftp = work / f"sftp-{set_name}.toml"
    sftp.write_text(head + f'[[targets]]\nname = "sftp"\ntype = "sftp"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
                    f'username = "{sshd.user}"\nkey_file = "{sshd.client_key}"\npaths = ["{sftp_root}"]\n'
                    f'host_key_fingerprint = "{sshd.host_key_fingerprint}"\n')
    smb = work / f"smb-{set_name}.toml"
    smb.write_text(head + f'[[targets]]\nname = "smb"\ntype = "smb"\nserver = "127.0.0.1"\nport = {smbd.port}\n'
                   f'share = "{smbd.share}"\nusername = "{smbd.user}"\npassword_env = "SMB_PW"\n'
                   f'paths = ["{set_name}"]\n')
    local = work / f"local-{set_name}.toml"
    local.write_text(head + f'[[targets]]\nname = "local"\ntype = "local"\npaths = ["{sftp_root}"]\n')
    return {"sftp": sftp, "smb": smb, "local": local}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--large-mib", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sets", nargs="+", default=["small", "large"], choices=["small", "large"])
    ap.add_argument("--protocols", nargs="+", default=["sftp", "smb", "local"], choices=["sftp", "smb", "local"])
    ap.add_argument("--threads", type=int, default=8, help="threads of the connector-only read (as [executor])")
    ap.add_argument("--vendorscan", default=VENDORSCAN, help="the console script to time (default: this venv's)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-share-bench-"))
    os.chmod(work, 0o755)
    sshd, smbd = servers.start_sshd(), servers.start_smbd()
    env = {"SMB_PW": smbd.password}
    try:
        print("| set | protocol | files | MiB | plain client | plain s | plain files/s | plain MB/s | "
              "ours s | files/s | MB/s | ratio |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for set_name in args.sets:
            tree = smbd.share_path / set_name  # one tree on disk: sshd reads it by its path, smbd as a share folder
            tree.mkdir()
            total = fill_small(tree, args.files) if set_name == "small" else fill_large(tree, args.large_mib)
            make_readable(tree)
            cfgs = configs(work, sshd, smbd, tree, set_name)
            clients = {"sftp": ("OpenSSH sftp get -r", lambda into: sftp_get(sshd, tree, into)),
                       "smb": ("smbclient mget", lambda into: smb_get(smbd, set_name, into)),
                       "local": ("-", None)}
            for proto in args.protocols:
                client, fetch = clients[proto]
                plain_s = statistics.median(plain(fetch, work) for _ in range(args.repeat)) if fetch else None

                def row(what: str, files: int, seconds: float, read: int) -> None:
                    theirs = f"{plain_s:.2f} | {files / plain_s:.0f} | {total / 1e6 / plain_s:.1f}" if fetch else \
                        "- | - | -"
                    print(f"| {set_name} | {what} | {files} | {total / 2**20:.1f} | {client} | {theirs} | "
                          f"{seconds:.2f} | {files / seconds:.0f} | {read / 1e6 / seconds:.1f} | "
                          f"{f'{plain_s / seconds:.2f}' if fetch else '-'} |", flush=True)

                if fetch:
                    reads = [connector_read(cfgs[proto], env, args.threads) for _ in range(args.repeat)]
                    row(f"{proto} connector, {args.threads} threads", reads[0][1],
                        statistics.median(r[0] for r in reads), reads[0][2])
                runs = [scan(args.vendorscan, cfgs[proto], work, env) for _ in range(args.repeat)]
                row(f"{proto} vendorscan scan", runs[0][1]["resources_read"], statistics.median(r[0] for r in runs),
                    runs[0][1]["bytes_read"])
            shutil.rmtree(tree, ignore_errors=True)
    finally:
        servers.stop_sshd(sshd)
        servers.stop_smbd(smbd)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
