"""Executors run work units: in this process, in a local process pool (the default), or on a Dask cluster."""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.forkserver
import os
import select
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from vendorscan.agent.config import Config
from vendorscan.errors import ExecutorError
from vendorscan.agent.worker import WorkUnit, Worker, init_process, run_in_process


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


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (Linux), so a coordinator killed with -9 leaves none."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _die_with_coordinator(pid: int) -> None:
    """Exit as soon as the coordinating process is gone, in a watcher thread."""
    # Our parent is the forkserver, and it outlives the coordinator as long as any worker lives (each worker holds
    # its "alive" pipe): without this, workers of a coordinator killed with -9 would wait for work forever.
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfds (not Linux, or an old kernel): poll
        fd = None

    def watch() -> None:
        if fd is not None:
            select.select([fd], [], [])  # readable once the process has exited
        else:
            while _alive(pid):
                time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="vendorscan-coordinator-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def init_pool_process(coordinator: int, *args) -> None:
    """Pool initializer: Ctrl-C is the coordinator's to handle, the process dies with its parents, then its Worker."""
    # A terminal sends SIGINT to the whole process group: workers ignore it and the coordinator stops them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _die_with_coordinator(coordinator)
    init_process(*args)


def _start_forkserver() -> None:
    """Start the forkserver with SIGINT ignored: it and every worker forked from it ignore it from birth."""
    # Otherwise the forkserver hands each new worker Python's KeyboardInterrupt handler, and a Ctrl-C before the
    # pool initializer ran kills the worker (BrokenProcessPool). Blocked meanwhile: a Ctrl-C now is kept, not lost.
    if threading.current_thread() is not threading.main_thread():
        return  # dispositions are set in the main thread only; the initializer still ignores SIGINT
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class ProcessExecutor:
    """A process pool sized to the machine; each process parses the config and loads plugins once."""

    def __init__(self, config: Config, key: bytes, workers: int):
        self.workers = workers
        self._args = (os.getpid(), config.raw, config.source, key)
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # forkserver: no inherited threads or open connections from the coordinator.
        _start_forkserver()
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("forkserver"),
                                   initializer=init_pool_process, initargs=self._args)

    def submit(self, unit: WorkUnit) -> Future:
        """The future of the unit's outcomes."""
        try:
            return self._pool.submit(run_in_process, unit)
        except BrokenProcessPool:
            # A worker process died (its units fail with this error and are read again): a new pool goes on.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            return self._pool.submit(run_in_process, unit)

    def abort(self) -> None:
        """Kill the workers mid-unit (the scan was stopped): they hold no state, only spool files of this run."""
        # Python 3.11's pool sets BrokenProcessPool on every pending future when a worker dies, cancelled ones too,
        # and that raises InvalidStateError in its management thread (a traceback on the terminal): drop them first.
        pending = getattr(self._pool, "_pending_work_items", {})
        for key, item in list(pending.items()):
            if item.future.cancelled():
                pending.pop(key, None)
        for proc in list(getattr(self._pool, "_processes", {}).values()):  # no public call for it before 3.14
            proc.kill()

    def shutdown(self) -> None:
        """Stop the pool, cancelling what has not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(config: Config, key: bytes):
    """The executor the config asks for."""
    if config.executor.type in ("dask", "dask-local"):
        try:
            from vendorscan.agent.cluster import DaskExecutor
        except ImportError as exc:
            raise ExecutorError(f"executor type {config.executor.type} needs Dask's distributed package "
                                f"({exc.name} is missing): pip install 'vendorscan[dask]'") from None
        return DaskExecutor(config, key)
    workers = config.executor.workers or os.cpu_count() or 1
    if workers == 1:
        return InlineExecutor(config, key)
    return ProcessExecutor(config, key, workers)
