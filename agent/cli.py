"""The `vendorscan` command line."""
from __future__ import annotations

import os
import signal
import sys

INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


def _launched() -> bool:
    """True in the installed console script (a launcher without .py suffix, its own dir first on sys.path)."""
    script = sys.argv[0] if sys.argv else ""
    return bool(script and not os.path.splitext(script)[1] and sys.path
                and os.path.abspath(sys.path[0] or os.curdir) == os.path.dirname(os.path.abspath(script)))


def _interrupted_early(_signum, _frame) -> None:
    # Ctrl-C while the command is still importing: nothing is written yet, so leave at once, without a traceback.
    os.write(2, b"vendorscan: interrupted\n")
    os._exit(INTERRUPTED)


_LAUNCHED = _launched()
if _LAUNCHED:
    # impacket installs smbclient.py, net.py, split.py … into bin/; a console script's sys.path[0] is bin/, so
    # `import smbclient` would load impacket's script. Pool workers inherit this path: it is cleaned here, first.
    del sys.path[0]
    signal.signal(signal.SIGINT, _interrupted_early)

import argparse  # noqa: E402 - after the path is clean and Ctrl-C is handled
import logging  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from vendorscan import __version__, plugins  # noqa: E402
from vendorscan.errors import ConfigError, ExecutorError  # noqa: E402
from vendorscan.model import ENVIRONMENTS  # noqa: E402
from vendorscan.agent.state import StateError  # noqa: E402
from vendorscan.report import LANGUAGES, ReportError  # noqa: E402

log = logging.getLogger("vendorscan")


class UsageError(Exception):
    """A mistake on the command line (a path or file that is not there): one line, exit 2."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 clean, 1 findings, 2 error or incomplete, 130 Ctrl-C)."""
    if _LAUNCHED:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _main(argv)
    finally:
        if _LAUNCHED:  # the process ends now: a Ctrl-C in the interpreter's exit must not print a traceback
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_usage(sys.stderr)
        print("vendorscan: give a command (vendorscan --help lists them)", file=sys.stderr)
        return 2
    from vendorscan.agent import logs
    try:
        logs.setup(args.log_level, args.log_format, args.log_file)
    except OSError as exc:
        print(f"vendorscan: cannot write the log file {args.log_file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (UsageError, ConfigError, ExecutorError, plugins.PluginError, ReportError, StateError) as exc:
        print(f"vendorscan: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vendorscan: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `vendorscan checks list | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - exit 1 means "findings"; a crash must say 2
        # The type only: a message could quote scanned content.
        print(f"vendorscan: internal error ({type(exc).__name__}); the scan did not finish", file=sys.stderr)
        if args.log_level == "debug":
            import traceback
            traceback.print_exc()
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vendorscan", description="Audit scanner for unredacted personal identifiers "
                                "and over-broad access at IT suppliers.")
    p.add_argument("--version", action="version", version=f"vendorscan {__version__}")
    _global_options(p, defaults=True)
    sub = p.add_subparsers(dest="command")

    scan = sub.add_parser("scan", help="scan local paths or the targets of a config file")
    _scan_options(scan)
    scan.add_argument("paths", nargs="*", help="local paths to scan (instead of, or besides, the config's targets)")
    scan.add_argument("--environment", choices=ENVIRONMENTS, default="production",
                      help="environment of the PATHs given on the command line")
    scan.set_defaults(func=_cmd_scan)

    agent = sub.add_parser("agent", help="run the targets' schedules until SIGTERM/SIGINT")
    agent.add_argument("--config", "-c", required=True, help="TOML config with schedule = \"…\" on targets")
    agent.add_argument("--runs", type=int, default=0, help="stop after this many scans (default: never)")
    agent.set_defaults(func=_cmd_agent)

    history = sub.add_parser("history", help="list earlier scans with their findings by severity")
    history.add_argument("--state-dir")
    history.set_defaults(func=_cmd_history)

    diff = sub.add_parser("diff", help="findings new, resolved and persisting between two scans")
    diff.add_argument("scan_a")
    diff.add_argument("scan_b")
    diff.add_argument("--state-dir")
    diff.set_defaults(func=_cmd_diff)

    accept = sub.add_parser("accept", help="accept a finding as a known risk (kept out of --fail-on)")
    accept.add_argument("fingerprint")
    accept.add_argument("--reason", required=True, help="why the risk is accepted (shown in reports)")
    accept.add_argument("--by", default="", help="who accepts it (default: $USER)")
    accept.add_argument("--state-dir")
    accept.set_defaults(func=_cmd_accept)

    bundle = sub.add_parser("bundle", help="render the reports of an earlier scan again, as a signed bundle")
    bundle.add_argument("scan_id")
    bundle.add_argument("--state-dir", help="state directory of the scan")
    bundle.add_argument("--out", "-o", default=".", help="where to write the bundle directory")
    bundle.set_defaults(func=_cmd_bundle)

    verify = sub.add_parser("verify", help="check a bundle's hashes and signature against a pinned key "
                            "(exit 0 intact, 1 altered, 2 no trusted key)")
    verify.add_argument("bundle")
    verify.add_argument("--public-key", help="ed25519:BASE64 as printed in the report, or a file holding it")
    verify.add_argument("--trusted-keys", metavar="FILE",
                        help="a file of trusted keys, one ed25519:BASE64 per line (text after it and # lines ignored)")
    verify.add_argument("--state-dir", help="without a key given: trust this state dir's own signing key "
                        "(default $VENDORSCAN_STATE or ~/.local/state/vendorscan)")
    verify.set_defaults(func=_cmd_verify)

    demo = sub.add_parser("demo", help="build the bundled demo supplier estate and scan it")
    _scan_options(demo)
    demo.add_argument("--estate", default="build/demo-estate", help="where to build the demo estate")
    demo.set_defaults(func=_cmd_demo)

    for group in tuple(plugins.GROUPS):
        g = sub.add_parser(group, help=f"list installed {group}")
        g.add_argument("action", choices=["list"])
        g.set_defaults(func=_cmd_list, group=group)
    # The global options are also taken after the command (`vendorscan scan … --log-format json`); there they
    # default to SUPPRESS, so a command that does not repeat them keeps what was given before it.
    for command in sub.choices.values():
        _global_options(command, defaults=False)
    return p


def _global_options(p: argparse.ArgumentParser, defaults: bool) -> None:
    """--log-level, --log-format and --log-file, with their defaults only on the main parser."""
    def default(value):
        return value if defaults else argparse.SUPPRESS
    p.add_argument("--log-level", default=default("warning"), choices=["debug", "info", "warning", "error"])
    p.add_argument("--log-format", default=default("text"), choices=["text", "json"])
    p.add_argument("--log-file", default=default(None),
                   help="also write JSON log lines to this file (0600; a scan's default is state/last-scan.log)")


def _scan_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", help="TOML config file (see config.example.toml)")
    p.add_argument("--out", "-o", help="report directory (overrides [scan].out_dir)")
    p.add_argument("--fail-on", choices=["critical", "high", "medium", "low", "info"],
                   help="exit 1 when a finding is at or above this severity (default high)")
    p.add_argument("--state-dir", help="state directory (default $VENDORSCAN_STATE or ~/.local/state/vendorscan)")
    p.add_argument("--workers", type=int, help="worker processes (0 = one per core, 1 = none)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the summary (no progress display)")
    p.add_argument("--bundle", action="store_true", help="also write a signed evidence bundle of the reports")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the HTML report (default en)")
    p.add_argument("--full", action="store_true", help="read every resource again (ignore the incremental cache)")


def _cmd_list(args) -> int:
    if args.group == "identifiers":  # built-in kinds are the identifier check's own rows, not entry points
        for kind, name, origin in plugins.load("checks", "identifiers").kinds():
            print(f"{kind:22} {name} ({origin})")
        return 0
    for name, ep in sorted(plugins.available(args.group).items()):
        try:
            print(f"{name:22} {plugins.describe(plugins.load(args.group, name))}")
        except plugins.PluginError as exc:
            print(f"{name:22} (cannot load: {exc})")
    return 0


def _load_config(args, paths: list[str], environment: str):
    from vendorscan.agent import config as cfg
    base = cfg.load_file(args.config) if args.config else cfg.parse({})
    raw = dict(base.raw)
    scan = dict(raw.get("scan", {}))
    if args.out:
        scan["out_dir"] = args.out
    if args.fail_on:
        scan["fail_on"] = args.fail_on
    if args.state_dir:
        scan["state_dir"] = args.state_dir
    if args.lang:
        scan["lang"] = args.lang
    raw["scan"] = scan
    if args.workers is not None:
        raw["executor"] = {**raw.get("executor", {}), "workers": args.workers}
    if paths:
        import os
        raw["targets"] = list(raw.get("targets", [])) + [
            {"name": "local" if not raw.get("targets") else "command-line", "type": "local",
             "environment": environment, "paths": [os.path.abspath(p) for p in paths]}]
    config = cfg.parse(raw, source=base.source)
    if not config.targets:
        raise ConfigError("targets", "nothing to scan: give PATHs or a config with [[targets]]")
    return config


def _cmd_scan(args) -> int:
    missing = _missing(args.paths)
    for line in missing:  # said here, as ripgrep does; the scan still lists each as skipped (not-found)
        print(f"vendorscan: {line}", file=sys.stderr)
    return _run(_load_config(args, args.paths, args.environment), args)


def _missing(paths: list[str]) -> list[str]:
    """'PATH: reason' for each path given that cannot be looked at (does not exist, permission denied)."""
    import os
    lines = []
    for path in paths:
        try:
            os.lstat(path)
        except OSError as exc:
            lines.append(f"{path}: {exc.strerror}")
    return lines


def _cmd_demo(args) -> int:
    from vendorscan.demo import estate as demo
    estate = Path(args.estate).resolve()
    demo.build(estate)
    if not args.out:
        args.out = str(estate.parent / "demo-report")
    args.bundle = True  # the demo shows the whole evidence trail
    if not args.state_dir:  # keep the demo's key and runs out of the user's own state dir
        args.state_dir = str(estate.parent / "demo-state")
    if not args.config:
        args.config = str(demo.write_config(estate))
    return _run(_load_config(args, [], "production"), args)


class _StopOnInterrupt:
    """While a scan runs, Ctrl-C (SIGINT) asks it to stop: never an exception in the middle of a database write."""

    def __init__(self):
        self.scan = None
        self.count = 0
        self._old = None

    def _handle(self, _signum, _frame) -> None:
        self.count += 1
        if self.scan is not None:
            self.scan.stop_requested = True

    def __enter__(self) -> "_StopOnInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _run(config, args) -> int:
    from vendorscan.agent.engine import Scan, exit_code
    from vendorscan.agent.progress import Progress
    from vendorscan.agent import logs
    out_dir = Path(config.scan.out_dir)
    with _StopOnInterrupt() as interrupt, Progress(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        scan = Scan(config, on_progress=progress.update, full=args.full)
        interrupt.scan = scan
        if interrupt.count:
            raise KeyboardInterrupt  # before the scan started: nothing to keep
        if args.log_file is None:
            logs.setup(args.log_level, args.log_format, str(scan.state / "last-scan.log"))
        result = scan.run()
    if interrupt.count:
        # The scan stopped at the next resource, recorded itself as interrupted and kept what it finished.
        result.store.close()
        print(f"vendorscan: interrupted; scan {result.scan_id} kept what it finished, the next scan resumes from "
              "there", file=sys.stderr)
        return INTERRUPTED
    result.lang = config.scan.lang
    written = _render(result, config.scan.formats, out_dir, scan.state, args.bundle)
    code = exit_code(result)
    _print_summary(result, written, code)
    result.store.close()
    return code


def _render(result, formats, out_dir: Path, state: Path, bundle: bool) -> list[Path]:
    from vendorscan.agent import bundle as bundles
    from vendorscan.report import report_set
    result.public_key = bundles.public_text(bundles.signing_key(state).public_key())
    written = []
    with report_set(out_dir) as staging:  # the whole set, or (on a full disk, a failed writer) none of it
        for fmt in formats:
            written += plugins.load("reports", fmt)().render(result, staging)
        if bundle:
            written.append(bundles.make(written, result, state, staging))
    return [out_dir / p.name for p in written]


def _cmd_agent(args) -> int:
    from vendorscan.agent import config as cfg
    from vendorscan.agent.daemon import Agent
    config = cfg.load_file(args.config)

    def render(result, out_dir, state):
        result.lang = config.scan.lang
        return _render(result, config.scan.formats, out_dir, state, True)

    return Agent(config, render, max_runs=args.runs).run()


def _state(args):
    from vendorscan.agent.keys import state_dir
    from vendorscan.agent.state import State
    return State(state_dir(args.state_dir or ""))


def _cmd_history(args) -> int:
    import json
    rows = _state(args).history()
    print(f"{'scan':34} {'started':26} {'status':11} findings (critical/high/medium/low/info)")
    for scan_id, started, _ended, status, summary in rows:
        sev = json.loads(summary).get("findings_by_severity")
        counts = "/".join(str(sev[k]) for k in ("critical", "high", "medium", "low", "info")) if sev else "-"
        print(f"{scan_id:34} {started or '-':26} {status:11} {counts}")
    return 0


def _cmd_diff(args) -> int:
    try:
        d = _state(args).diff(args.scan_a, args.scan_b)
    except KeyError as exc:
        raise ConfigError("scan_id", f"no scan {exc.args[0]} in the state dir") from None
    print(f"{args.scan_a} -> {args.scan_b}: {len(d['new'])} new, {len(d['resolved'])} resolved, "
          f"{len(d['persisting'])} persisting")
    for status in ("new", "resolved", "persisting"):
        for fp, sev, title in d[status]:
            print(f"  {status:10} {sev:8} {fp}  {title}")
    return 0


def _cmd_accept(args) -> int:
    import os
    who = args.by or os.environ.get("USER", "")
    if not _state(args).accept(args.fingerprint, who, args.reason):
        raise ConfigError("fingerprint", f"no finding {args.fingerprint} in the state dir (see report.json)")
    print(f"accepted {args.fingerprint} as a known risk by {who or 'unknown'}: {args.reason}")
    return 0


def _cmd_bundle(args) -> int:
    from vendorscan.agent.engine import ScanResult
    from vendorscan.agent.keys import state_dir
    state = state_dir(args.state_dir or "")
    run_dir = state / "runs" / args.scan_id
    if not (run_dir / "result.json").exists():
        raise ConfigError("scan_id", f"no finished scan {args.scan_id} in {state / 'runs'}")
    db = _state(args)
    db.check()  # the run store reads carried findings from state.db: damage is named here, not an internal error
    db.close()
    result = ScanResult.load(run_dir)
    out = Path(args.out)
    written = _render(result, list(plugins.available("reports")), out / f"reports-{args.scan_id}", state, True)
    result.store.close()
    print(f"bundle: {written[-1]}")
    return 0


def _cmd_verify(args) -> int:
    from vendorscan.agent import bundle as bundles
    trusted, source = _trusted_keys(args)
    problems, used = bundles.verify(Path(args.bundle), trusted)
    if problems:
        print(f"ALTERED: {args.bundle}")
        for p in problems:
            print(f"  - {p}")
        print(f"  trusted: {source}")
        return 1
    print(f"OK: every file matches the signed manifest; signed by {used} ({source})")
    return 0


def _trusted_keys(args) -> tuple[list[str], str]:
    """The keys a bundle may be signed by, and where they came from; UsageError when there are none."""
    from vendorscan.agent import bundle as bundles
    from vendorscan.agent.keys import state_path
    keys, sources = [], []
    if args.public_key:
        text = args.public_key if args.public_key.startswith("ed25519:") else _read_small(args.public_key,
                                                                                           "public key file")
        keys += _parse_keys(text, "--public-key")
        sources.append("--public-key")
    if args.trusted_keys:
        keys += _parse_keys(_read_small(args.trusted_keys, "trusted-keys file"), args.trusted_keys)
        sources.append(f"--trusted-keys {args.trusted_keys}")
    if not keys:
        state = state_path(args.state_dir or "")
        own = bundles.state_public_key(state)
        if own:  # on the machine that signed: its own key is as trusted as the state dir itself
            return [own], f"the signing key of the state dir {state}"
        raise UsageError("no trusted key to verify against: pass --public-key ed25519:… (as printed in the report, "
                         "from its signer, not from the bundle) or --trusted-keys FILE; the key named in the manifest "
                         "proves nothing, since whoever edits a bundle can re-sign it with a key of their own")
    return keys, " and ".join(sources)


def _parse_keys(text: str, where: str) -> list[str]:
    """The ed25519:… keys of a text, one a line (first word; blank and # lines skipped); UsageError if malformed."""
    from vendorscan.agent import bundle as bundles
    keys = []
    for n, line in enumerate(text.splitlines(), 1):
        word = line.split("#", 1)[0].split(maxsplit=1)
        if not word:
            continue
        try:
            keys.append(bundles.parse_public(word[0]))
        except ValueError as exc:
            raise UsageError(f"{where}, line {n}: {exc}") from None
    if not keys:
        raise UsageError(f"{where}: no key in it (expected ed25519:BASE64 lines)")
    return keys


def _read_small(path: str, what: str) -> str:
    """The stripped text of a small file named on the command line; a UsageError that names it if unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the {what} {path} is not text (expected ed25519:BASE64 lines)") from None


def _print_summary(result, written, code: int) -> None:
    from vendorscan.report import summary
    s = summary(result)
    sev = s["findings_by_severity"]
    lines = [f"vendorscan {result.agent_version} · scan {result.scan_id}"]
    if result.resumed_from:
        lines.append(f"  resumed after the interrupted scan {result.resumed_from}: what it finished was not read again")
    for c in result.coverage:
        state = "complete" if c.complete else "INCOMPLETE"
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(c.skipped.items())) or "none"
        lines.append(f"  target {c.target} ({c.connector}, {c.environment}): {c.resources_seen} seen, "
                     f"{c.resources_read} read, skipped: {skipped} — {state}")
        lines += [f"    error: {e}" for e in c.errors]
        lines += [f"    weakness of this scan: {w}" for w in c.weaknesses]
    lines.append("  findings: " + ", ".join(f"{k} {v}" for k, v in sev.items()))
    lines.append(f"  exposed persons (distinct real-looking national ids): {s['exposed_persons']}"
                 + (f", readable by {s['readable_by_accounts']} enabled accounts" if s.get("readable_by_accounts")
                    else ""))
    if result.lifecycle:
        lines.append("  since the last scans: " + ", ".join(f"{k} {v}" for k, v in result.lifecycle.items()))
    lines.append(f"  overall risk: {s['risk']}")
    lines += [f"  report: {p}" for p in written]
    meaning = {0: "nothing at or above", 1: "findings at or above", 2: "scan incomplete or failed;"}[code]
    lines.append(f"  exit {code}: {meaning} --fail-on {result.fail_on}" if code != 2
                 else f"  exit 2: {meaning} see skipped resources and errors")
    print("\n".join(lines))
