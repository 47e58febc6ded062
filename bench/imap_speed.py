"""Messages/s and MB/s reading a Dovecot mailbox on loopback: a plain imaplib client, the connector, a full scan.

    python bench/imap_speed.py [--messages 2000] [--folders 10] [--workers 1 2]

The same mailbox (a public folder tree readable by the auditor, 2-16 KB text mails) is read four ways:
- plain imaplib, one `UID FETCH 1:* BODY.PEEK[]` per folder (the least a client can do),
- plain imaplib, one `UID FETCH <uid> BODY.PEEK[]` per message (what reading them one at a time costs),
- the connector's walk + open/read of every message (its partial fetches, no scanning),
- `vendorscan scan` through the installed console script (walk, read, .eml parsing, every check, reports).
"""
from __future__ import annotations

import argparse
import imaplib
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import dovecot  # noqa: E402
from bench.child import OUTSIDE, VENDORSCAN  # noqa: E402
from bench.corpus import generate_text  # noqa: E402

PW_ENV = "VS_BENCH_IMAP_PW"


def plant(server: dovecot.Dovecot, messages: int, folders: int) -> int:
    """`messages` text mails spread over `folders` public folders, appended by the admin; the bytes planted."""
    text = generate_text(8 * 2**20, seed=5)
    rng = random.Random(1)
    names = [f"bench{i:02d}" for i in range(folders)]
    for name in names:
        server.public_folder(name, {"user=auditor": "lra", "user=admin": dovecot.ALL_RIGHTS})
    conn = server.login("admin")
    total = 0
    try:
        for i in range(messages):
            start = rng.randrange(len(text) - 20_000)
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "kunde@example.dk", "support@example.dk", f"Sag {i}"
            msg.set_content(text[start:start + rng.randrange(2_000, 16_000)])
            raw = msg.as_bytes().replace(b"\n", b"\r\n")
            total += len(raw)
            typ, data = conn.append(dovecot.quote(f"Public/{names[i % folders]}"), None, None, raw)
            assert typ == "OK", data
    finally:
        conn.logout()
    return total


def plain(server: dovecot.Dovecot, folders: int, per_message: bool) -> tuple[int, int, float]:
    """(messages, bytes, seconds) of a plain imaplib client reading every message of the bench folders."""
    t0 = time.perf_counter()
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.ssl_port, ssl_context=ssl.create_default_context(
        cafile=str(server.ca)))
    conn.login("auditor", server.users["auditor"])
    n = size = 0
    for i in range(folders):
        conn.select(dovecot.quote(f"Public/bench{i:02d}"), readonly=True)
        if per_message:
            typ, data = conn.uid("SEARCH", None, "ALL")
            uids = data[0].split()
            for uid in uids:
                typ, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                size += sum(len(d[1]) for d in data if isinstance(d, tuple))
                n += 1
        else:
            typ, data = conn.uid("FETCH", "1:*", "(BODY.PEEK[])")
            for d in data:
                if isinstance(d, tuple):
                    size += len(d[1])
                    n += 1
    conn.logout()
    return n, size, time.perf_counter() - t0


def connector(server: dovecot.Dovecot) -> tuple[int, int, float]:
    """(messages, bytes, seconds) of the connector walking and reading every bench message."""
    from contract import context
    from vendorscan.connectors.imap import ImapConnector
    os.environ[PW_ENV] = server.users["auditor"]
    t0 = time.perf_counter()
    c = ImapConnector(ImapConnector.Options(host="127.0.0.1", port=server.ssl_port, username="auditor",
                                            password_env=PW_ENV, ca_file=str(server.ca),
                                            folders=["Public/bench*"]), context())
    n = size = 0
    try:
        for r in c.walk():
            if getattr(r, "kind", "") == "file":
                with c.open(r) as f:
                    while block := f.read(65536):
                        size += len(block)
                n += 1
    finally:
        c.close()
    return n, size, time.perf_counter() - t0


def scan(server: dovecot.Dovecot, work: Path, workers: int) -> tuple[int, int, float]:
    """(messages read, bytes, seconds) of `vendorscan scan` of the bench folders."""
    cfg = work / f"w{workers}.toml"
    cfg.write_text(f'[[targets]]\nname = "bench"\ntype = "imap"\nhost = "127.0.0.1"\nport = {server.ssl_port}\n'
                   f'username = "auditor"\npassword_env = "{PW_ENV}"\nca_file = "{server.ca}"\n'
                   f'folders = ["Public/bench*"]\n')
    t0 = time.perf_counter()
    proc = subprocess.run([VENDORSCAN, "scan", "--config", str(cfg), "--quiet", "--full", "--workers", str(workers),
                           "--out", str(work / f"o{workers}"), "--state-dir", str(work / f"state{workers}")],
                          cwd=OUTSIDE, capture_output=True, text=True,
                          env={**os.environ, PW_ENV: server.users["auditor"]})
    dt = time.perf_counter() - t0
    if proc.returncode == 2:
        print(proc.stdout[-800:], proc.stderr[-800:], file=sys.stderr)
    cov = json.loads((work / f"o{workers}" / "report.json").read_text())["targets"][0]
    return cov["resources_read"], cov["bytes_read"], dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--folders", type=int, default=10)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    server = dovecot.start_dovecot()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-imap-bench-"))
    try:
        total = plant(server, args.messages, args.folders)
        rows = [("plain imaplib, one FETCH 1:* per folder", *plain(server, args.folders, per_message=False)),
                ("plain imaplib, one FETCH per message", *plain(server, args.folders, per_message=True)),
                ("connector walk + read (no checks)", *connector(server))]
        rows += [(f"vendorscan scan, {w} worker{'s' if w > 1 else ''}", *scan(server, work, w))
                 for w in args.workers]
        print(f"{args.messages} messages, {total / 2**20:.1f} MiB in {args.folders} folders, Dovecot "
              "on loopback (IMAPS)\n")
        print("| reader | messages | MiB | seconds | messages/s | MB/s |")
        print("|---|---|---|---|---|---|")
        for name, n, size, dt in rows:
            print(f"| {name} | {n} | {size / 2**20:.1f} | {dt:.2f} | {n / dt:.0f} | {size / 2**20 / dt:.1f} |")
    finally:
        dovecot.stop_dovecot(server)
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
