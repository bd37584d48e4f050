"""What the reindexes did, kept beside the index for whoever watches it.

The reindex runs from cron or after a sync, often on the machine that serves, and
its log goes wherever cron sends it. So each run also records its outcome in
`reindex-status.json` in the index folder — the last run, the last success, and
a count of runs by outcome — which `/metrics` reads (webapp/metrics.py) and
`trialsearch stats` shows. Written atomically; a status file that cannot be
written never fails the reindex itself.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from ..atomic import read_json_object, write_json_atomic
from ..errors import IndexUnavailable
from .store import IndexStore

STATUS_FILE = "reindex-status.json"
log = logging.getLogger(__name__)


def read_status(index_dir: Path | str) -> dict[str, Any]:
    """The recorded status; empty when no reindex has recorded one (or it is unreadable)."""
    return read_json_object(Path(index_dir) / STATUS_FILE)


def index_status(index_dir: Path | str) -> dict[str, Any]:
    """What a monitor asks without opening the index: the live generation (None when
    there is none or its pointer cannot be read) and the reindex status."""
    try:
        info = IndexStore(index_dir).current()
    except IndexUnavailable:
        info = None
    return {"live": info.to_dict() if info else None, "reindex": read_status(index_dir)}


def record_run(index_dir: Path | str, outcome: str, summary: dict[str, Any]) -> None:
    """Add one run: `outcome` is "ok" or the error's code (removal_guard, …). A run
    that never reached an index folder (none exists yet) records nothing: it must
    not create one."""
    if not Path(index_dir).is_dir():
        return
    status = read_status(index_dir)
    now = time.time()
    runs = status.get("runs") if isinstance(status.get("runs"), dict) else {}
    runs[outcome] = int(runs.get(outcome, 0)) + 1
    status["runs"] = runs
    status["last"] = {"outcome": outcome, "finished_at": now, **summary}
    if outcome == "ok":
        status["last_success"] = status["last"]
    try:
        write_json_atomic(Path(index_dir) / STATUS_FILE, status)
    except OSError as exc:
        log.warning("could not record the reindex outcome in %s: %s", STATUS_FILE, exc)
