"""What a server's workers had cached, kept across restarts, so a start warms it.

A fresh worker warms its caches with the generation's commonest words (hot_terms.py),
but what people ask is not what studies say most: at 560,000 studies the first pass
of the benchmark's mix after a start met cold posting and position lists for its
phrases ("type 2 diabetes" 590 ms, p95 172 ms in-process against 62 ms warm), and
warming the commonest words did not change that. So a worker leaving (recycled,
stopped) writes the words its caches hold, most recent first, and the next worker
to open that index warms them first. The file lives in the cache folder, named by
the index folder: a read-only index (a replica) still gets one.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ..atomic import read_json_object, write_json_atomic
from ..settings import cache_root

log = logging.getLogger(__name__)

# the most (field, word) keys kept per cache: more than warming's half of a cache holds
MAX_KEYS = 2000

Cached = tuple[list[tuple[str, str]], list[tuple[str, str]]]  # postings, positions


def memory_path(index_root: Path) -> Path:
    """The file for one index folder (however the folder was spelled)."""
    digest = hashlib.blake2b(str(index_root.resolve()).encode(), digest_size=8).hexdigest()
    return cache_root() / "warm" / f"index-{digest}.json"


def remember(path: Path, cached: Cached) -> None:
    """Write what the caches hold (most recently used first); never raises: this is an
    optimisation, and a worker on its way out has nobody to tell."""
    postings, positions = cached
    data = {
        "postings": [list(key) for key in postings[:MAX_KEYS]],
        "positions": [list(key) for key in positions[:MAX_KEYS]],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, data)
    except OSError as exc:
        log.warning("could not keep the cached words for the next start: %s", exc)


def recall(path: Path) -> Cached | None:
    """What was remembered, or None (never written, unreadable, not ours)."""
    data = read_json_object(path)
    if not data:
        return None

    def keys(name: str) -> list[tuple[str, str]]:
        items = data.get(name)
        if not isinstance(items, list):
            return []
        return [
            (item[0], item[1])
            for item in items[:MAX_KEYS]
            if isinstance(item, list)
            and len(item) == 2
            and all(isinstance(part, str) for part in item)
        ]

    return keys("postings"), keys("positions")
