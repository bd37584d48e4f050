"""Reading every segment's site lines once, and keeping what was read beside it.

At 560,000 studies the `sites` column holds 2.7 million sites: reading them back and
finding the distinct lines (city, state, country, status) took 9 s of every publish,
an incremental one too, though Whoosh segments never change once written. So what a
segment holds is saved beside the generation the first time it is read
(`sites-<segment id>.npz`: each site's document within the segment, its line number,
and the segment's distinct lines), hard-linked into the next generation with the
segment's own files, and read back in milliseconds; only the segments a reindex
wrote are read from the column. Files of segments that merging removed are deleted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic

SITES_FIELD = "sites"
CACHE_PREFIX = "sites-seg-"


def _read_segment(sub: Any) -> tuple[np.ndarray, np.ndarray, list[list[Any]]]:
    """(document of each site within the segment, its line number, the distinct lines)."""
    owners: list[int] = []
    texts: list[bytes] = []
    if sub.has_column(SITES_FIELD):
        column = sub.column_reader(SITES_FIELD)
        for local in range(sub.doc_count_all()):
            value = column[local]
            if value:
                owners.append(local)
                texts.append(value)
    # one JSON text for the segment: a parse per document was most of the time
    lists = json.loads(b"[" + b",".join(texts) + b"]") if texts else []
    docs = np.repeat(np.array(owners, dtype=np.int32), [len(found) for found in lists])
    distinct: dict[tuple, int] = {}
    line_ids = np.fromiter(
        (distinct.setdefault(tuple(row), len(distinct)) for found in lists for row in found),
        dtype=np.int32,
        count=len(docs),
    )
    return docs, line_ids, [list(line) for line in distinct]


def _load(path: Path) -> tuple[np.ndarray, np.ndarray, list[list[Any]]] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["docs"], data["line_ids"], json.loads(str(data["lines"]))
    except (OSError, KeyError, ValueError):
        return None


def _save(path: Path, docs: np.ndarray, line_ids: np.ndarray, lines: list[list[Any]]) -> None:
    text = np.array(json.dumps(lines, ensure_ascii=False))
    write_atomic(path, lambda h: np.savez(h, docs=docs, line_ids=line_ids, lines=text))


def read_site_lines(
    reader: Any, folder: Path | None = None
) -> tuple[np.ndarray, np.ndarray, list[list[Any]]] | None:
    """(document of each site, its line number, the distinct lines [city, state,
    country, status]) over the whole index; None for an index written before sites
    were a column. With `folder`, each segment's reading is kept there and reused."""
    if SITES_FIELD not in reader.schema:
        return None
    lines: list[list[Any]] = []
    number: dict[tuple, int] = {}
    all_docs: list[np.ndarray] = []
    all_ids: list[np.ndarray] = []
    kept: set[str] = set()
    for sub, offset in reader.leaf_readers():
        name = f"{CACHE_PREFIX}{sub.segment().segment_id()}.npz"
        kept.add(name)
        found = _load(folder / name) if folder is not None else None
        if found is None:
            found = _read_segment(sub)
            if folder is not None:
                _save(folder / name, *found)
        docs, line_ids, segment_lines = found
        remap = np.array(
            [number.setdefault(tuple(line), len(number)) for line in segment_lines] or [0],
            dtype=np.int64,
        )
        lines.extend(list(line) for line in list(number)[len(lines) :])
        all_docs.append(docs.astype(np.int64) + offset)
        all_ids.append(remap[line_ids] if len(line_ids) else line_ids.astype(np.int64))
    if folder is not None:  # segments merged away: their readings go with them
        for stale in folder.glob(f"{CACHE_PREFIX}*.npz"):
            if stale.name not in kept:
                stale.unlink(missing_ok=True)
    docs = np.concatenate(all_docs).astype(np.int32) if all_docs else np.zeros(0, np.int32)
    ids = np.concatenate(all_ids) if all_ids else np.zeros(0, np.int64)
    return docs, ids, lines
