"""Peak memory and speed of `vendorscan scan` on one large text file: memory flat as the file grows, and a file
over [limits] split_size read in byte ranges by every worker.

    python bench/memory_big_file.py --size-mb 2048 [--workers 2] [--split-size 64MiB] [--repeat 3]

Builds the file by repeating a generated corpus block (bench/corpus.py), scans it in a child process (whole,
split_size = 0, then in ranges) and prints seconds, MB/s, the peak RSS and CPU seconds of every process of the
scan (the coordinator first: it has the largest RSS), beside
`cat` of the same file and the identifier check's detection pass alone (one core, as bench/detect_speed.py
measures it) on one block of it, in the same run; with --repeat, the two scans alternate and the median run of
each is shown. Files are removed afterwards.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.child import OUTSIDE, VENDORSCAN  # noqa: E402


def build(path: Path, size_mb: int) -> bytes:
    """Write size_mb MiB of Nordic mixed text with ids on ~2% of lines; returns the repeated block."""
    from bench.corpus import generate_text
    block = generate_text(4 * 2**20, seed=7).encode("utf-8")
    with open(path, "wb") as f:
        written = 0
        while written < size_mb * 2**20:
            f.write(block)
            written += len(block)
    return block


def _tree(pid: int) -> list[int]:
    """The pid and every descendant's."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):  # the process's own peak
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def scan(big: Path, work: Path, workers: int, split: str) -> tuple[int, float, list[tuple[float, float]]]:
    """(exit code, seconds, (peak RSS MiB, CPU seconds) of each process of the scan, largest first)."""
    config = work / "bench.toml"
    config.write_text(f'[limits]\nmax_file_size = "100GB"\nsplit_size = "{split}"\n')
    shutil.rmtree(work / "state", ignore_errors=True)
    peaks: dict[int, float] = {}
    cpu: dict[int, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen([VENDORSCAN, "scan", str(big), "--quiet", "--workers", str(workers), "--config",
                             str(config), "--out", str(work / "out"), "--state-dir", str(work / "state")],
                            cwd=OUTSIDE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def watch() -> None:  # VmHWM is read while the process lives: the forkserver's workers are not our children
        while proc.poll() is None:
            for p in _tree(proc.pid):
                peaks[p] = max(peaks.get(p, 0.0), _rss_mib(p))
                cpu[p] = max(cpu.get(p, 0.0), _cpu_seconds(p))
            time.sleep(0.2)
    watcher = threading.Thread(target=watch)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    watcher.join()
    if proc.returncode == 2:
        print(err.decode(errors="replace")[-2000:])
    return proc.returncode, seconds, sorted(((v, cpu[p]) for p, v in peaks.items() if v > 20), reverse=True)


def detect_rate(block: bytes) -> float:
    """MB/s of the identifier check alone on one core (decode, chunks, scan), as bench/detect_speed.py."""
    from vendorscan.checks.identifiers import IdentifierCheck
    from vendorscan.context import ScanContext, ValueHasher
    from vendorscan.formats.text import iter_chunks
    ctx, check, best = ScanContext("bench", "production", ValueHasher(b"b" * 32)), IdentifierCheck(), float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for chunk in iter_chunks(io.BytesIO(block), "utf-8"):
            for _ in check.scan(chunk, None, ctx):
                pass
        best = min(best, time.perf_counter() - t0)
    return len(block) / 2**20 / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--split-size", default="64MiB")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each scan, alternating; the median is shown")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-bench-"))
    try:
        big = work / "big.txt"
        block = build(big, args.size_mb)
        mib = big.stat().st_size / 2**20
        t0 = time.perf_counter()
        subprocess.run(["cat", str(big)], stdout=subprocess.DEVNULL, check=True)
        cat = time.perf_counter() - t0
        one_core = detect_rate(block)
        cores = os.cpu_count() or 1
        print(f"{mib:.0f} MiB, ids on ~2% of lines; load before: {os.getloadavg()[0]:.2f}; cores: {cores}\n")
        print("| what | workers | exit | seconds | MB/s | share of detection x workers | peak RSS per process | "
              "CPU s per process |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| cat | - | 0 | {cat:.1f} | {mib / cat:.0f} | | | |")
        print(f"| identifier check alone, one core (4 MiB block) | 1 | | | {one_core:.1f} | | | |")
        cases = (("whole (split_size = 0)", "0"), (f"in ranges (split_size = {args.split_size})", args.split_size))
        runs: dict[str, list] = {split: [] for _, split in cases}
        for _ in range(args.repeat):
            for _, split in cases:
                runs[split].append(scan(big, work, args.workers, split))
        for label, split in cases:
            code, dt, peaks = sorted(runs[split], key=lambda r: r[1])[len(runs[split]) // 2]
            rss = ", ".join(f"{p:.0f}" for p, _ in peaks) + " MiB"
            cpu = ", ".join(f"{c:.1f}" for _, c in peaks)
            print(f"| vendorscan scan, {label} | {args.workers} | {code} | {dt:.1f} | {mib / dt:.1f} | "
                  f"{mib / dt / (one_core * args.workers):.2f} | {rss} | {cpu} |")
        print(f"\nseconds of every run: " + "; ".join(f"{split}: " + ", ".join(f"{r[1]:.1f}" for r in runs[split])
                                                     for _, split in cases) + f"; load after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
