"""Executors run work units: in this process, in a local process pool (the default), or on a Dask cluster."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from agent.config import Config
from agent.worker import WorkUnit, Worker, init_process, run_in_process


class ExecutorError(Exception):
    """The executor cannot run: its cluster is unreachable, has no workers, or its package is missing."""


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
        """Close the connectors the units opened."""
        self._worker.close()


class ProcessExecutor:
    """A process pool sized to the machine; each process parses the config and loads plugins once."""

    def __init__(self, config: Config, key: bytes, workers: int):
        self.workers = workers
        self._args = (config.raw, config.source, key)
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # forkserver: no inherited threads or open connections from the coordinator.
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("forkserver"),
                                   initializer=init_process, initargs=self._args)

    def submit(self, unit: WorkUnit) -> Future:
        """The future of the unit's outcomes."""
        try:
            return self._pool.submit(run_in_process, unit)
        except BrokenProcessPool:
            # A worker process died (its units fail with this error and are read again): a new pool goes on.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            return self._pool.submit(run_in_process, unit)

    def shutdown(self) -> None:
        """Stop the pool, cancelling what has not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(config: Config, key: bytes):
    """The executor the config asks for."""
    if config.executor.type in ("dask", "dask-local"):
        try:
            from agent.cluster import DaskExecutor
        except ImportError as exc:
            raise ExecutorError(f"executor type {config.executor.type} needs Dask's distributed package "
                                f"({exc.name} is missing): pip install 'vendorscan[dask]'") from None
        return DaskExecutor(config, key)
    workers = config.executor.workers or os.cpu_count() or 1
    if workers == 1:
        return InlineExecutor(config, key)
    return ProcessExecutor(config, key, workers)
