"""What was read from a Whoosh segment, kept beside the generation for the next one.

A segment never changes once written (deleting a document marks it elsewhere), and an
incremental reindex hard-links every file of the live generation into the new one.
So arrays read from a segment — its facet values and their documents, its sites — are
saved as `<kind>-seg-<segment id>.npz` the first time a publish reads them and come
along with the segment's own files; the next publish reads only the segments it
wrote. The readings keep deleted documents (deletions change, the segment does not):
callers drop them with the generation's live mask. Files of segments that merging
removed are deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic

Reading = dict[str, Any]  # array name → numpy array, or a JSON-able list


def file_name(kind: str, sub: Any) -> str:
    return f"{kind}-seg-{sub.segment().segment_id()}.npz"


def read(folder: Path | None, kind: str, sub: Any, compute: Callable[[], Reading]) -> Reading:
    """The segment's reading: from its kept file, else computed (and kept, with a
    folder). Lists are stored as JSON text."""
    path = folder / file_name(kind, sub) if folder is not None else None
    if path is not None:
        try:
            with np.load(path, allow_pickle=False) as data:
                return {
                    name[5:] if name.startswith("json:") else name: (
                        json.loads(str(data[name])) if name.startswith("json:") else data[name]
                    )
                    for name in data.files
                }
        except (OSError, KeyError, ValueError):
            pass
    reading = compute()
    if path is not None:
        arrays = {
            (name if isinstance(value, np.ndarray) else f"json:{name}"): (
                value
                if isinstance(value, np.ndarray)
                else np.array(json.dumps(value, ensure_ascii=False))
            )
            for name, value in reading.items()
        }
        write_atomic(path, lambda h: np.savez(h, **arrays))
    return reading


def remove_stale(folder: Path | None, kind: str, reader: Any) -> None:
    """Delete the kept readings of segments this generation no longer has."""
    if folder is None:
        return
    kept = {file_name(kind, sub) for sub, _ in reader.leaf_readers()}
    for stale in folder.glob(f"{kind}-seg-*.npz"):
        if stale.name not in kept:
            stale.unlink(missing_ok=True)
