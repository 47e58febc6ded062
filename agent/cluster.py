"""The Dask executor: work units run on a Dask cluster the buyer or supplier runs, or on a LocalCluster.

Each Dask worker builds the scanner once, from the config (which names the environment variables
that hold credentials, never the credentials) and the scan's hash key, both handed over once in a
worker plugin; a task carries one work unit (a target's name and resource descriptions) and returns
what a local worker returns: masked, hashed outcomes and the unit's value sets (its spool file), compressed.
"""
from __future__ import annotations

import logging
import os
import tempfile
import uuid
import zlib
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import dask
from distributed import Client, LocalCluster, WorkerPlugin, get_worker

from vendorscan.agent.config import Config
from vendorscan.errors import ExecutorError
from vendorscan.agent.worker import Outcome, Worker, WorkUnit, process_worker


class ScannerPlugin(WorkerPlugin):
    """Builds the scanner in a Dask worker when it joins, closes its connections when the scan ends."""

    def __init__(self, config_raw: dict, source: str, key: bytes):
        self.config_raw, self.source, self.key = config_raw, source, key
        self.scanner: Worker | None = None

    def setup(self, worker) -> None:
        """Parse the config and load the plugins in this worker."""
        self.scanner = process_worker(self.config_raw, self.source, self.key)

    def teardown(self, worker) -> None:
        """Close the connectors this worker opened."""
        if self.scanner is not None:
            self.scanner.close()


def run_unit(unit: WorkUnit, plugin: str) -> tuple[list[Outcome], bytes]:
    """Dask task: one unit through this worker's scanner; its spool of value sets comes back zlib-compressed."""
    worker = get_worker()
    scanner = worker.plugins[plugin].scanner
    fd, spool = tempfile.mkstemp(prefix="vendorscan-", suffix=".values", dir=worker.local_directory)
    os.close(fd)
    try:
        outcomes = scanner.run(replace(unit, spool=spool))
        return outcomes, zlib.compress(Path(spool).read_bytes(), 1)
    finally:
        os.unlink(spool)


class DaskExecutor:
    """Submits units to a Dask cluster; futures resolve once the unit's value sets are in its local spool."""

    def __init__(self, config: Config, key: bytes):
        settings = config.executor
        self._cluster = None
        # A unit whose worker dies is run again elsewhere; after that, the engine reads its resources one by one.
        with dask.config.set({"distributed.scheduler.allowed-failures": settings.retries}):
            try:
                if settings.type == "dask-local":
                    # Loopback only, no dashboard: the cluster lives as long as this scan. Its processes print
                    # to this scan's stderr, so only what is fatal to them (a slow event loop under load is not):
                    # vendorscan says in its own words what matters (a worker that died, a unit read again).
                    self._cluster = LocalCluster(n_workers=settings.workers or os.cpu_count() or 1,
                                                 threads_per_worker=1, processes=True, host="127.0.0.1",
                                                 dashboard_address=None, silence_logs=logging.CRITICAL)
                    self._client = Client(self._cluster)
                else:
                    self._client = Client(settings.scheduler, timeout=settings.connect_timeout)
            except Exception as exc:  # noqa: BLE001 - refused, timed out, or TLS settings missing (TypeError)
                self._close()
                where = "a local Dask cluster" if settings.type == "dask-local" else settings.scheduler
                raise ExecutorError(f"executor: cannot start or reach {where}: {type(exc).__name__}: {exc}") from None
        self._plugin = f"vendorscan-{uuid.uuid4().hex[:12]}"
        self._client.register_plugin(ScannerPlugin(config.raw, config.source, key), name=self._plugin)
        try:
            self._client.wait_for_workers(1, timeout=settings.connect_timeout)
        except TimeoutError:
            self._close()
            raise ExecutorError(f"executor: no worker joined the Dask scheduler at {settings.scheduler} within "
                                f"{settings.connect_timeout}s (connect_timeout)") from None
        self.workers = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        self._retries = settings.retries
        self._running: dict[str, object] = {}  # dask cancels a task whose future is dropped: keep them

    def submit(self, unit: WorkUnit) -> Future:
        """A future of the unit's outcomes, resolved after its value sets are written to unit.spool."""
        done: Future = Future()
        key = f"{self._plugin}-unit-{unit.unit_id}"
        task = self._client.submit(run_unit, unit, self._plugin, key=key, retries=self._retries, pure=False)
        self._running[key] = task

        def finish(task) -> None:  # runs in a thread of the client
            self._running.pop(task.key, None)
            try:
                outcomes, spool = task.result()
                Path(unit.spool).write_bytes(zlib.decompress(spool))
            except BaseException as exc:  # noqa: BLE001 - KilledWorker and the like: the engine reads them again
                done.set_exception(exc)
            else:
                done.set_result(outcomes)

        task.add_done_callback(finish)
        return done

    def shutdown(self) -> None:
        """Cancel what has not run, take the scanner off the workers, let go of the cluster."""
        for task in list(self._running.values()):
            task.cancel()
        try:
            self._client.unregister_worker_plugin(self._plugin)
        except Exception:  # noqa: BLE001 - a cluster that is gone has nothing left to tear down
            pass
        self._close()

    def _close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
