"""Per-generation columns: saved by the reindex, loaded by every worker, never stale."""

from __future__ import annotations

import numpy as np

from indexer.build import reindex
from indexer.columns import COLUMNS_FILE, Columns
from indexer.store import IndexStore

from pagemaker import make_page, pages_for, write_pages


def _open(index_dir):
    store = IndexStore(index_dir)
    info, ix = store.open_current()
    return store.generation_dir(info), ix


def _same(a: Columns, b: Columns) -> None:
    assert a.size == b.size and a.documents == b.documents
    assert np.array_equal(a.live, b.live) and np.array_equal(a.nct_rank, b.nct_rank)
    for name in a.facets:
        assert a.facets[name].values == b.facets[name].values
        assert np.array_equal(a.facets[name].docs, b.facets[name].docs)
        assert np.array_equal(a.facets[name].codes, b.facets[name].codes)
    for name in a.numbers:
        assert np.array_equal(a.numbers[name], b.numbers[name])


def test_every_generation_carries_columns_equal_to_computing_them(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(20))
    reindex(pages, tmp_path / "ix", procs=1)
    write_pages(pages, {"NCT00000003": make_page("NCT00000003", "Changed", status="COMPLETED")})
    (pages / "NCT00000004.md").unlink()
    reindex(pages, tmp_path / "ix", procs=1)  # incremental: deletions and a new segment
    folder, ix = _open(tmp_path / "ix")
    try:
        assert (folder / COLUMNS_FILE).exists()
        with ix.searcher() as searcher:
            saved, computed = Columns(searcher, folder), Columns(searcher)
            _same(saved, computed)
            assert computed.documents == 19 and computed.size == 21
    finally:
        ix.close()


def test_columns_of_another_size_are_ignored(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(5))
    reindex(pages, tmp_path / "ix", procs=1)
    folder, ix = _open(tmp_path / "ix")
    try:
        with ix.searcher() as searcher:
            stale = Columns(searcher)
            stale.size += 1
            stale.save(folder)
            _same(Columns(searcher, folder), Columns(searcher))
            (folder / COLUMNS_FILE).write_bytes(b"not numpy")
            _same(Columns(searcher, folder), Columns(searcher))
    finally:
        ix.close()
