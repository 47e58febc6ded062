"""`vendorscan agent`: scheduled scans per target, dated report directories, clean stop on SIGTERM."""
from __future__ import annotations

import logging
import random
import shutil
import signal
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter

from vendorscan.agent import config as cfg
from vendorscan.agent.engine import Scan, exit_code
from vendorscan.agent.state import StateBusy

log = logging.getLogger("vendorscan")


class Agent:
    """Runs each scheduled target when due, one scan at a time, until stopped."""

    def __init__(self, config: cfg.Config, render, max_runs: int = 0):
        self.config = config
        self.render = render  # (result, out_dir, state) -> written paths, as the CLI renders them
        self.max_runs = max_runs  # for tests and --runs: stop after this many scans (0 = forever)
        self.tz = ZoneInfo(config.agent.timezone)
        self.stopping = False
        self.scan: Scan | None = None
        self.runs = 0
        self.pending_delivery: list[Path] = []

    def stop(self, signum=None, _frame=None) -> None:
        """Finish the current resource, record the scan, then exit (signal handler)."""
        log.info("stop requested (signal %s): finishing the current resource", signum, extra={"signal": signum})
        self.stopping = True
        if self.scan is not None:
            self.scan.stop_requested = True

    def run(self) -> int:
        """Loop until stopped; returns 0 after a clean stop, 2 when no target has a schedule."""
        targets = [t for t in self.config.targets if t.schedule]
        if not targets:
            log.error("no target has a schedule: add schedule = \"0 2 * * *\" to a [[targets]] entry")
            return 2
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        now = datetime.now(self.tz)
        due = {t.name: self._next(t.schedule, now) for t in targets}
        log.info("agent started: %s", ", ".join(f"{n} next at {d.isoformat()}" for n, d in due.items()))
        while not self.stopping:
            name = min(due, key=due.get)
            wait = (due[name] - datetime.now(self.tz)).total_seconds()
            if wait > 0:
                time.sleep(min(wait, 0.5))  # short naps: a signal is answered within half a second
                continue
            self._run_target(name)
            due[name] = self._next(next(t.schedule for t in targets if t.name == name), datetime.now(self.tz))
            if self.max_runs and self.runs >= self.max_runs:
                break
        log.info("agent stopped after %d scans", self.runs, extra={"runs": self.runs})
        return 0

    def _next(self, schedule: str, after: datetime) -> datetime:
        at = croniter(schedule, after).get_next(datetime)
        if self.config.agent.jitter:
            from datetime import timedelta
            at += timedelta(seconds=random.uniform(0, self.config.agent.jitter))
        return at

    def _run_target(self, name: str) -> None:
        sub = cfg.subset(self.config, name)
        self.scan = Scan(sub)
        if self.stopping:
            self.scan.stop_requested = True
        started = datetime.now(self.tz).strftime("%Y%m%dT%H%M%S")
        out = Path(self.config.agent.reports_dir) / name / started
        log.info("scan of %s started", name, extra={"target": name})
        try:
            result = self.scan.run()
        except StateBusy as exc:  # a manual scan holds the state dir: this run waits for the next schedule
            log.error("scan of %s not started: %s", name, exc, extra={"target": name})
            self.scan = None
            return
        written = self.render(result, out, self.scan.state)
        code = exit_code(result)
        result.store.close()
        self.scan = None
        self.runs += 1
        log.info("scan of %s finished: exit %d, reports in %s", name, code, out,
                 extra={"target": name, "scan_id": result.scan_id, "exit": code, "complete": result.complete})
        self._prune(out.parent)
        bundles = [p for p in written if p.is_dir() and p.name.startswith("bundle-")]
        self._deliver(bundles)

    def _prune(self, target_dir: Path) -> None:
        runs = sorted(p for p in target_dir.iterdir() if p.is_dir())
        for old in runs[:-self.config.agent.keep]:
            shutil.rmtree(old, ignore_errors=True)

    def _deliver(self, bundles: list[Path]) -> None:
        """Copy bundles to the drop box; what fails stays pending and is tried again after the next run."""
        dest = self.config.agent.deliver_to
        if not dest:
            return
        from botocore.exceptions import BotoCoreError, ClientError
        todo, self.pending_delivery = self.pending_delivery + bundles, []
        for bundle in todo:
            try:
                if dest.startswith("s3://"):
                    _upload(bundle, dest)
                else:
                    target = Path(dest) / bundle.name
                    if not target.exists():
                        shutil.copytree(bundle, target)
                log.info("delivered %s to %s", bundle.name, dest)
            except (OSError, BotoCoreError, ClientError) as exc:
                log.warning("delivery of %s to %s failed (%s); will retry after the next run", bundle.name, dest,
                            getattr(exc, "strerror", None) or type(exc).__name__)
                self.pending_delivery.append(bundle)


def _upload(bundle: Path, dest: str) -> None:
    """Put every file of a bundle under s3://bucket/prefix/<bundle>/ (standard AWS credentials and endpoint)."""
    import boto3
    bucket, _, prefix = dest[5:].partition("/")
    s3 = boto3.client("s3")
    for path in sorted(bundle.iterdir()):
        key = "/".join(p for p in (prefix.strip("/"), bundle.name, path.name) if p)
        s3.upload_file(str(path), bucket, key)
