"""Making a built generation live: check it as a reader would, save its columns,
hot terms and manifest beside it, then swap the live pointer atomically.

Both kinds of reindex end here, so a generation is never published unchecked.
It does not build anything (build.py and parallel.py do).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.query import Term

from .. import failpoints
from ..atomic import write_json_atomic
from .columns import COLUMNS_FILE, Columns
from .hot_terms import save_hot_terms
from .replication import write_file_list
from .schema import SCHEMA_VERSION
from .store import MANIFEST, GenerationInfo, IndexStore, utc_now

# files of a generation that are rewritten, never shared with the next one
_NOT_LINKED = {"meta.json", MANIFEST, COLUMNS_FILE}


def link_generation(source: Path, target: Path) -> None:
    """Hard-link every index file of the live generation into the new folder."""
    for item in source.iterdir():
        if item.is_file() and item.name not in _NOT_LINKED and "LOCK" not in item.name:
            os.link(item, target / item.name)


def publish(
    store: IndexStore,
    number: int,
    building: Path,
    manifest: dict[str, Any],
    expect: set[str],
    canaries: list[str] | None = None,
) -> GenerationInfo:
    """Check the built generation, save what workers load with it, list its files for
    replicas (replication.py), and swap it live."""
    canaries = canaries if canaries is not None else sorted(expect)[:3]
    sites = _verify(building, expect, canaries, manifest)
    write_json_atomic(building / MANIFEST, manifest)
    live = store.current()
    write_file_list(building, store.generation_dir(live) if live else None, canaries)
    failpoints.reached("before_swap")
    seen = [e.get("last_seen_at") for e in manifest.values() if e.get("last_seen_at")]
    info = GenerationInfo(
        generation=number,
        directory=building.name,
        built_at=utc_now(),
        documents=len(expect),
        newest_last_seen_at=max(seen) if seen else None,
        schema_version=SCHEMA_VERSION,
        sites=sites,
    )
    store.publish(number, building, info)
    failpoints.reached("after_swap")
    return info


def _verify(
    path: Path, expect: set[str], canaries: list[str], manifest: dict[str, Any]
) -> dict[str, int]:
    """Open the new generation as a reader would, check it, and save its columns;
    returns what placing its sites found.

    Each canary must be found exactly once: an updated study shown twice is the
    failure WHOOSH.md warns about.
    """
    ix = whoosh_index.open_dir(str(path))
    try:
        with ix.searcher() as searcher:
            count = searcher.doc_count()
            if count != len(expect):
                raise RuntimeError(f"new index holds {count} documents, expected {len(expect)}")
            for nct in canaries:
                hits = searcher.search(Term("nct_text", nct.lower()), limit=3)
                if len(hits) != 1:
                    raise RuntimeError(f"canary query for {nct} found {len(hits)} documents")
            # facet and sort columns, computed once here for every worker to load
            columns = Columns(searcher, manifest=manifest, segments=path)
            columns.save(path)
            save_hot_terms(searcher, path)
            return columns.site_report
    finally:
        ix.close()
