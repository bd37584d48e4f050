"""Named pause points, so crash-safety tests can SIGKILL a reindex at an exact moment.

Inert unless TRIALSEARCH_FAILPOINT names the point: the process then touches
TRIALSEARCH_FAILPOINT_FILE with "NAME PID" (to tell the test it arrived, and whom to
kill) and sleeps until killed,
or, with TRIALSEARCH_FAILPOINT_ERROR=ENOSPC (any errno name), fails as the disk would.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path


def reached(name: str) -> None:
    if os.environ.get("TRIALSEARCH_FAILPOINT") != name:
        return
    error = os.environ.get("TRIALSEARCH_FAILPOINT_ERROR")
    if error:
        code = getattr(errno, error)
        raise OSError(code, os.strerror(code))
    marker = os.environ.get("TRIALSEARCH_FAILPOINT_FILE")
    if marker:
        Path(marker).write_text(f"{name} {os.getpid()}")
    time.sleep(float(os.environ.get("TRIALSEARCH_FAILPOINT_SECONDS", "60")))
