"""A target's work units in flight: at most `max_pending` at a time, each collected once; the resources of a
unit whose worker died are read again one at a time, alone, once the rest of the target is done."""
from __future__ import annotations

from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Callable

from vendorscan.agent.worker import WorkUnit
from vendorscan.model import Resource


class UnitQueue:
    """Hands units to an executor and their results to `collect(future, unit, alone)`."""

    def __init__(self, executor, max_pending: int, spool_dir: Path, target: str, stopped: Callable[[], bool],
                 collect: Callable[[Future, WorkUnit, bool], None], not_read: Callable[[list[Resource]], None]):
        """stopped: whether the scan was asked to stop; not_read: resources a stop left unread."""
        self.executor, self.max_pending, self.spool_dir, self.target = executor, max_pending, spool_dir, target
        self.stopped, self.collect, self.not_read = stopped, collect, not_read
        self.pending: deque[tuple[Future, WorkUnit]] = deque()
        self.alone: list[Resource] = []  # resources of units whose worker died, to read again one by one
        self.seq = 0

    def submit(self, resources: list[Resource], span=None) -> None:
        """One unit of these resources (or of one byte range of one), once a place is free (collecting finished
        ones meanwhile)."""
        while len(self.pending) >= self.max_pending:
            if not self._wait_any():
                self._abandon(resources)
                return
            self._collect_done()
        unit = self._unit(resources, span)
        self.pending.append((self.executor.submit(unit), unit))

    def read_alone_later(self, resources: list[Resource]) -> None:
        """Resources whose unit's worker died: each is read on its own at the end."""
        self.alone.extend(resources)

    def finish(self) -> None:
        """Collect every unit in flight, then read the crashed units' resources alone (unless the scan stopped)."""
        while self.pending and self._wait_any():
            self._collect_done()
        self._abandon()
        for r in self.alone:  # with nothing else running: a resource that kills its worker is the one skipped
            unit = self._unit([r])
            self.collect(self.executor.submit(unit), unit, True)
        self.alone = []

    def _wait_any(self) -> bool:
        # Short waits: a stop request (a signal handler's flag) is answered within a fraction of a second.
        while not self.stopped():
            done, _ = wait([f for f, _ in self.pending], timeout=0.2, return_when=FIRST_COMPLETED)
            if done:
                return True
        return False

    def _collect_done(self) -> None:
        for item in [p for p in self.pending if p[0].done()]:
            self.pending.remove(item)
            self.collect(*item, False)

    def _abandon(self, resources: list[Resource] = ()) -> None:
        """The scan was stopped: units not finished (and resources not submitted) are listed as not read."""
        self._collect_done()  # what finished is kept (and cached: the next scan does not read it again)
        for fut, unit in self.pending:
            fut.cancel()
            resources = [*resources, *unit.resources]
        self.pending.clear()
        if self.stopped():
            resources = [*resources, *self.alone]
            self.alone = []
        if resources:
            self.not_read(list(resources))

    def _unit(self, resources: list[Resource], span=None) -> WorkUnit:
        self.seq += 1
        return WorkUnit(self.seq, self.target, resources, str(self.spool_dir / f"{self.target}-{self.seq}.values"), span)
