"""A hard time limit for reading one resource: it interrupts whatever Python code runs, a library call included."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class Expired(BaseException):
    """The time limit passed. A BaseException, so that a library's `except Exception` cannot swallow it."""


@contextmanager
def hard_limit(seconds: float | None) -> Iterator[bool]:
    """Raise Expired in this block after `seconds`; yields whether the limit is hard (False off the main thread,
    where signals cannot reach: the caller's own checks between chunks are then the only bound)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer") \
            or signal.getitimer(signal.ITIMER_REAL)[0]:  # someone else's timer runs: do not take it over
        yield False
        return

    def expire(signum, frame):
        raise Expired()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        while True:
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except Expired:  # it went off just as the block ended: the block is over either way
                continue
        signal.signal(signal.SIGALRM, previous)
