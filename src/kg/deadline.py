"""A wall-clock limit on a block of code: a parse, or a whole HTTP request (whose client's own
timeouts apply to each read, so a server sending a byte at a time never meets them)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Expired(Exception):
    """The time limit of a `deadline` block ran out."""


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise Expired in this block after `seconds` (SIGALRM: in the main thread; elsewhere,
    and without seconds, no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0.05)  # again, should this one land in a __del__
        raise Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
