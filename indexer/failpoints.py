"""Named pause points, so crash-safety tests can SIGKILL a reindex at an exact moment.

Inert unless TRIALSEARCH_FAILPOINT names the point: the process then touches
TRIALSEARCH_FAILPOINT_FILE (to tell the test it arrived) and sleeps until killed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def reached(name: str) -> None:
    if os.environ.get("TRIALSEARCH_FAILPOINT") != name:
        return
    marker = os.environ.get("TRIALSEARCH_FAILPOINT_FILE")
    if marker:
        Path(marker).write_text(name)
    time.sleep(float(os.environ.get("TRIALSEARCH_FAILPOINT_SECONDS", "60")))
