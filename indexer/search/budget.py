"""A time budget per search, so a runaway search is stopped and answered, not killed.

The web views and `trialsearch search` use the same budget (TRIALSEARCH_REQUEST_BUDGET).

Gunicorn kills a worker that overruns its timeout, losing the request with no
answer. A budget well below that raises SearchTimeout inside the search instead,
which becomes a clear 503. Signals only reach the main thread, which is where a
sync worker runs requests; elsewhere (threaded dev servers) the budget is off.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from ..errors import SearchTimeout


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise SearchTimeout inside the block once `seconds` have passed (0: no budget)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):  # noqa: ARG001 - the signal handler signature
        raise SearchTimeout(f"the request took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    try:  # the timer may fire at once: inside the try, so it is always switched off
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
