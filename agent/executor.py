"""Executors run work units: in this process, or in a local process pool (the default)."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from agent.config import Config
from agent.worker import WorkUnit, Worker, init_process, run_in_process


class InlineExecutor:
    """Runs each unit at once in the coordinating process (workers = 1, tests, tiny scans)."""

    workers = 1

    def __init__(self, config: Config, key: bytes):
        self._worker = Worker(config, key)

    def submit(self, unit: WorkUnit) -> Future:
        """A finished future with the unit's outcomes (or its exception)."""
        fut: Future = Future()
        try:
            fut.set_result(self._worker.run(unit))
        except Exception as exc:  # noqa: BLE001 - reported per unit by the engine, like a pool failure
            fut.set_exception(exc)
        return fut

    def shutdown(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """A process pool sized to the machine; each process parses the config and loads plugins once."""

    def __init__(self, config: Config, key: bytes, workers: int):
        self.workers = workers
        # forkserver: no inherited threads or open connections from the coordinator.
        ctx = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_process,
                                         initargs=(config.raw, config.source, key))

    def submit(self, unit: WorkUnit) -> Future:
        """The future of the unit's outcomes."""
        return self._pool.submit(run_in_process, unit)

    def shutdown(self) -> None:
        """Stop the pool, cancelling what has not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(config: Config, key: bytes):
    """The executor the config asks for."""
    workers = config.executor.workers or os.cpu_count() or 1
    if workers == 1:
        return InlineExecutor(config, key)
    return ProcessExecutor(config, key, workers)
