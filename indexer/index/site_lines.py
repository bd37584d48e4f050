"""Reading every segment's site lines once, and keeping what was read beside it.

At 560,000 studies the `sites` column holds 2.7 million sites: reading them back and
finding the distinct lines (city, state, country, status) took 9 s of every publish,
an incremental one too, though Whoosh segments never change once written. So what a
segment holds is saved beside the generation the first time it is read
(segment_cache.py: each site's document within the segment, its line number, and
the segment's distinct lines), hard-linked into the next generation with the
segment's own files, and read back in milliseconds; only the segments a reindex
wrote are read from the column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from . import segment_cache

SITES_FIELD = "sites"


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
    for sub, offset in reader.leaf_readers():

        def compute(sub: Any = sub) -> dict[str, Any]:
            docs, line_ids, segment_lines = _read_segment(sub)
            return {"docs": docs, "line_ids": line_ids, "lines": segment_lines}

        found = segment_cache.read(folder, "sitelines", sub, compute)
        docs, line_ids = found["docs"], found["line_ids"]
        remap = np.array(
            [number.setdefault(tuple(line), len(number)) for line in found["lines"]] or [0],
            dtype=np.int64,
        )
        lines.extend(list(line) for line in list(number)[len(lines) :])
        all_docs.append(docs.astype(np.int64) + offset)
        all_ids.append(remap[line_ids] if len(line_ids) else line_ids.astype(np.int64))
    segment_cache.remove_stale(folder, "sitelines", reader)
    docs = np.concatenate(all_docs).astype(np.int32) if all_docs else np.zeros(0, np.int32)
    ids = np.concatenate(all_ids) if all_ids else np.zeros(0, np.int64)
    return docs, ids, lines
