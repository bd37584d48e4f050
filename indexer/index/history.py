"""When each study entered this index, and when what it says last changed.

People who keep up with trials ask "what is new or changed since last week". The
mirror's `last_seen_at` (when the mirror last fetched the page) and the study's
`ct_last_update_post_date` (when its sponsor last updated ClinicalTrials.gov) do
not answer that: the first moves on every sync, the second can lag or be
back-dated. So the reindex keeps two facts of its own in the manifest, per study:

- `first_indexed`: the reindex that first added the study to this index;
- `changed_at`: the last reindex that found its content different (a digest of
  the parsed study without `last_seen_at`, so a sync that only touches that
  field changes nothing).

Both are carried by NCT ID from one generation's manifest to the next, by full and
incremental rebuilds alike (a study that moves to another file keeps them). A
manifest written before this existed has neither: its studies start at the
reindex that first reads it. At publish the two become columns like the others
(seconds since 2000, so they fit the 32-bit sort key), for filters and sorting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from .schema import NUMBER_MISSING

HISTORY_FIELDS = ("first_indexed", "changed_at")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def by_study(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's entries by NCT ID."""
    return {entry["nct_id"]: entry for entry in manifest.values() if "nct_id" in entry}


def with_history(entry: dict[str, Any], before: dict[str, Any] | None, now: str) -> dict[str, Any]:
    """A new manifest entry for a page indexed at `now`, given the study's previous
    entry (None: new to this index)."""
    if before is None:
        return {**entry, "first_indexed": now, "changed_at": now}
    same = bool(before.get("content")) and before.get("content") == entry.get("content")
    return {
        **entry,
        "first_indexed": before.get("first_indexed") or now,
        "changed_at": (before.get("changed_at") or now) if same else now,
    }


def dated(entry: dict[str, Any], now: str) -> dict[str, Any]:
    """An unchanged study's entry; one from before history existed starts it `now`."""
    if entry.get("first_indexed") and entry.get("changed_at"):
        return entry
    return {**entry, "first_indexed": entry.get("first_indexed") or now, "changed_at": now}


def to_epoch(text: str | None) -> float | None:
    """An ISO time (Z or an offset; a naive one or a bare date is UTC) as Unix time;
    None for None or what cannot be read."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def to_seconds(text: str | None) -> int | None:
    """The same time as whole seconds since 2000 (what the history columns hold)."""
    epoch = to_epoch(text)
    return None if epoch is None else int(epoch - EPOCH.timestamp())


def to_iso(seconds: int) -> str:
    when = EPOCH + dt.timedelta(seconds=int(seconds))
    return when.isoformat().replace("+00:00", "Z")


def history_arrays(nct_rank: np.ndarray, manifest: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per document, its study's history as seconds (NUMBER_MISSING when unknown).
    Documents are matched to entries by the number of their NCT ID (`nct_rank`)."""
    out = {}
    entries = [
        (int(e["nct_id"][3:]), e)
        for e in manifest.values()
        if str(e.get("nct_id", ""))[3:].isdigit()
    ]
    entries.sort(key=lambda pair: pair[0])
    keys = np.array([key for key, _ in entries], dtype=np.int64)
    at = np.searchsorted(keys, nct_rank) if len(keys) else np.zeros(len(nct_rank), dtype=np.int64)
    found = at < len(keys)
    found[found] = keys[at[found]] == nct_rank[found]
    # most entries share their times (a reindex dates every page it saw with one `now`):
    # each distinct text is read once (2.8 → 0.3 s for 560,000 entries)
    seconds: dict[str | None, int] = {}

    def read(text: str | None) -> int:
        value = seconds.get(text)
        if value is None:
            value = seconds[text] = _or_missing(to_seconds(text))
        return value

    for name in HISTORY_FIELDS:
        values = np.array([read(entry.get(name)) for _, entry in entries], dtype=np.int64)
        column = np.full(len(nct_rank), NUMBER_MISSING, dtype=np.int64)
        column[found] = values[at[found]]
        out[name] = column
    return out


def _or_missing(value: int | None) -> int:
    return NUMBER_MISSING if value is None or not 0 <= value < NUMBER_MISSING else value
