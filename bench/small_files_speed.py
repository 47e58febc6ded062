"""Per-file cost of many small text files in the worker: content typing alone and the whole read, beside `file`.

    python bench/small_files_speed.py [--files 3000] [--repeat 3]

The files (1-8 KB): log lines (which pass a mail header test line by line), CSV rows, JSON and prose cut from
bench/corpus.py text, some with ids; a few saved mails among them. Typing is `kind_of` on each file's head;
the worker is `Worker.run` on units of 20 files in this one process (reading, typing, every default content
check, the spool), as a scan's worker process runs them. `file --mime-type` (libmagic) types the same files.
Times are CPU seconds of the process (the child's for `file`): on a shared machine they wait less on others.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import generate_text  # noqa: E402
from vendorscan.agent import config as cfg  # noqa: E402
from vendorscan.agent.worker import Worker, WorkUnit  # noqa: E402
from vendorscan.context import ScanContext, ValueHasher  # noqa: E402
from vendorscan.formats.extract import kind_of  # noqa: E402
from vendorscan.formats.sniff import HEAD_SIZE  # noqa: E402
from vendorscan import plugins  # noqa: E402

UNIT = 20


def cpu() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build(tree: Path, files: int) -> list[Path]:
    """Write the files; returns their paths."""
    rng = random.Random(3)
    text = generate_text(8 * 2**20, seed=21).encode("utf-8")
    log = b"".join(b"2024-05-01T12:%02d:%02dZ INFO req=%d kommun took %dms\n" % (i % 60, i % 59, i, i % 999)
                   for i in range(20_000))
    mail = (b"Received: from mx.kommun.se\nFrom: a@kommun.se\nTo: b@example.com\nSubject: Sjukskrivning\n"
            b"Message-ID: <1@kommun.se>\n\n")
    paths = []
    for i in range(files):
        size = rng.randrange(1000, 8000)
        source = log if i % 3 == 0 else text
        start = source.index(b"\n", rng.randrange(len(source) - 10_000)) + 1
        body = source[start:start + size]
        if i % 50 == 7:
            body = mail + body
        path = tree / f"d{i % 30}" / f"f{i}.{('log', 'csv', 'json', 'txt')[i % 4]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is shown")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vendorscan-small-"))
    try:
        paths = build(work / "tree", args.files)
        rows = []
        listing = work / "list"
        listing.write_text("".join(f"{p}\n" for p in paths))
        if shutil.which("file"):
            runs = []
            for _ in range(args.repeat):
                t0 = cpu()
                subprocess.run(["file", "-b", "--mime-type", "-f", str(listing)], capture_output=True, check=True)
                runs.append(cpu() - t0)
            rows.append(("file -b --mime-type -f LIST (libmagic), one process", sorted(runs)[len(runs) // 2]))
        heads = [(p.read_bytes()[:HEAD_SIZE], p.name) for p in paths]
        kind_of(b"warm-up", "x")  # loads the format handlers
        runs = []
        for _ in range(args.repeat):
            t0 = cpu()
            kinds = [kind_of(head, name)[0] for head, name in heads]
            runs.append(cpu() - t0)
        rows.append((f"kind_of (content typing) on each head: {kinds.count('eml')} eml, {kinds.count('text')} text",
                     sorted(runs)[len(runs) // 2]))
        config = cfg.parse({"targets": [{"name": "t", "type": "local", "paths": [str(work / "tree")]}]})
        worker = Worker(config, b"k" * 32)
        target = config.targets[0]
        ctx = ScanContext(target.name, target.environment, ValueHasher(b"k" * 32), target.options, config.limits)
        resources = sorted((r for r in plugins.load("connectors", "local")(target.options, ctx).walk()
                            if getattr(r, "kind", "") == "file"), key=lambda r: r.uri)
        units = [WorkUnit(n, "t", resources[i:i + UNIT], str(work / f"spool-{n}"))
                 for n, i in enumerate(range(0, len(resources), UNIT))]
        worker.run(units[0])  # warm-up: the checks' first compilation
        runs = []
        for _ in range(args.repeat):
            t0 = cpu()
            outcomes = [o for unit in units for o in worker.run(unit)]
            runs.append(cpu() - t0)
        worker.close()
        assert len(outcomes) == len(paths) and not any(o.skipped for o in outcomes)
        rows.append(("Worker.run (read, type, every default content check, spool), one process",
                     sorted(runs)[len(runs) // 2]))
        print(f"{len(paths)} small text files (1-8 KB), median of {args.repeat} runs\n")
        print("| what | CPU seconds | µs per file |")
        print("|---|---|---|")
        for what, seconds in rows:
            print(f"| {what} | {seconds:.3f} | {seconds / len(paths) * 1e6:.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
