"""Per-generation columns: saved by the reindex, loaded by every worker, never stale."""

from __future__ import annotations

import json
import mmap

import numpy as np
import pytest

from indexer.index import npz_map
from indexer.index.build import reindex
from indexer.index.columns import COLUMNS_FILE, Columns, FacetColumn
from indexer.index.npz_map import load_mapped
from indexer.index.store import MANIFEST, IndexStore
from indexer.search.query import commonest_values

from pagemaker import make_page, pages_for, write_pages


def _open(index_dir):
    store = IndexStore(index_dir)
    info, ix = store.open_current()
    return store.generation_dir(info), ix


def _computed(searcher, folder) -> Columns:
    """Columns computed afresh, history from the generation's manifest."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return Columns(searcher, manifest=manifest)


def _same(a: Columns, b: Columns) -> None:
    assert a.size == b.size and a.documents == b.documents
    assert np.array_equal(a.live, b.live) and np.array_equal(a.nct_rank, b.nct_rank)
    for name in a.facets:
        assert a.facets[name].values == b.facets[name].values
        assert np.array_equal(a.facets[name].docs, b.facets[name].docs)
        assert np.array_equal(a.facets[name].codes, b.facets[name].codes)
        assert np.array_equal(a.facets[name].value_docs, b.facets[name].value_docs)
        assert np.array_equal(a.facets[name].value_starts, b.facets[name].value_starts)
    assert set(a.numbers) == set(b.numbers)
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
            saved, computed = Columns(searcher, folder), _computed(searcher, folder)
            _same(saved, computed)
            assert computed.documents == 19 and computed.size == 21
    finally:
        ix.close()


def _mapped(array) -> bool:
    while array is not None:
        if isinstance(array, np.memmap | mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_saved_columns_are_mapped_from_the_file_not_read_into_each_worker(tmp_path, monkeypatch):
    monkeypatch.setattr(npz_map, "MIN_MAPPED_BYTES", 0)  # small here; 2 MB at 560,000
    pages = write_pages(tmp_path / "pages", pages_for(20))
    reindex(pages, tmp_path / "ix", procs=1)
    folder, ix = _open(tmp_path / "ix")
    try:
        with ix.searcher() as searcher:
            saved = Columns(searcher, folder)
            docs = saved.facets["country"].docs
            assert _mapped(docs) and not docs.flags.writeable
            # and the counting layouts each facet would otherwise make in every worker
            several = next(c for c in saved.facets.values() if not c.single and len(c.docs))
            one = next(c for c in saved.facets.values() if c.single and len(c.docs))
            assert _mapped(several._keys) and _mapped(several._offsets)
            assert _mapped(one._dense)
            _same(saved, _computed(searcher, folder))
    finally:
        ix.close()


def test_an_npz_is_read_member_by_member_mapped_or_not(tmp_path):
    arrays = {
        "big": np.arange(40_000, dtype=np.int32),
        "text": np.array("héllo"),
        "matrix": np.ones((200, 100), dtype=np.float32, order="F"),
        "empty": np.zeros(0, dtype=np.int64),
    }
    np.savez(tmp_path / "plain.npz", **arrays)
    np.savez_compressed(tmp_path / "packed.npz", **arrays)
    for name in ("plain.npz", "packed.npz"):
        loaded = load_mapped(tmp_path / name)
        for key, array in arrays.items():
            assert loaded[key].dtype == array.dtype and np.array_equal(loaded[key], array), key
    assert _mapped(load_mapped(tmp_path / "plain.npz")["big"])
    assert not _mapped(load_mapped(tmp_path / "packed.npz")["big"])
    (tmp_path / "bad.npz").write_bytes(b"not numpy")
    with pytest.raises(ValueError):
        load_mapped(tmp_path / "bad.npz")


def test_columns_of_another_size_are_ignored(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(5))
    reindex(pages, tmp_path / "ix", procs=1)
    folder, ix = _open(tmp_path / "ix")
    try:
        with ix.searcher() as searcher:
            stale = Columns(searcher)
            stale.size += 1
            stale.save(folder)
            _same(Columns(searcher, folder), _computed(searcher, folder))
            (folder / COLUMNS_FILE).write_bytes(b"not numpy")
            _same(Columns(searcher, folder), _computed(searcher, folder))
    finally:
        ix.close()


def test_columns_saved_without_the_grouping_by_value_still_load_and_filter_alike(
    tmp_path, monkeypatch
):
    """Generations written before the grouping was saved stay servable after an upgrade,
    from their saved columns (not by reading every facet's postings again)."""
    pages = write_pages(tmp_path / "pages", pages_for(12))
    reindex(pages, tmp_path / "ix", procs=1)
    folder, ix = _open(tmp_path / "ix")
    try:
        with ix.searcher() as searcher:
            with np.load(folder / COLUMNS_FILE) as data:
                older = {k: data[k] for k in data.files if ".value_" not in k}
                assert len(older) == len(data.files) - 2 * len(Columns(searcher).facets)
            np.savez(folder / COLUMNS_FILE, **older)
            computed = _computed(searcher, folder)
            monkeypatch.setattr(Columns, "_facets", lambda *a: pytest.fail("recomputed"))
            loaded = Columns(searcher, folder)
            _same(loaded, computed)
            for name, column in loaded.facets.items():
                for value in column.values[:3]:
                    expected = computed.facets[name].mask_for([value], loaded.size)
                    assert np.array_equal(column.mask_for([value], loaded.size), expected)
    finally:
        ix.close()


def _naive_counts(docs, codes, values, mask):
    counts = np.zeros(len(values), dtype=np.int64)
    for doc, code in zip(docs.tolist(), codes.tolist(), strict=True):
        if mask[doc]:
            counts[code] += 1
    return counts


@pytest.mark.parametrize("single", [False, True], ids=["several values", "one value or none"])
def test_facet_counts_are_exact_whichever_way_they_are_counted(single):
    """Few matches (looked up), nearly all (subtracted from the live totals) and the
    rest (one tagged pass) must all equal counting pair by pair."""
    rng = np.random.default_rng(7)
    size, n_values = 3000, 40
    if single:  # a value for two documents in three
        docs = np.flatnonzero(rng.random(size) < 0.66).astype(np.int32)
    else:  # several values for some documents, none for others
        docs = rng.integers(0, size, 5000).astype(np.int32)
    codes = rng.integers(0, n_values, len(docs)).astype(np.int32)
    values = [f"v{i:02d}" for i in range(n_values)]
    column = FacetColumn(values, docs, codes, {v: i for i, v in enumerate(values)})
    assert column.single == single
    assert np.all(np.diff(column.docs) >= 0)  # kept in document order
    live = rng.random(size) < 0.9  # deleted documents never count
    column.prepare(live)
    for share in (0.0, 0.001, 0.05, 0.3, 0.5, 0.8, 0.97, 0.999, 1.0):
        mask = live & (rng.random(size) < share)
        expected = _naive_counts(docs, codes, values, mask)
        assert np.array_equal(column.counts(mask), expected), share
        assert np.array_equal(column.counts(mask, np.flatnonzero(mask)), expected), share
    assert np.array_equal(column.counts(live.copy()), _naive_counts(docs, codes, values, live))


def test_the_commonest_values_are_listed_largest_first_ties_in_value_order():
    counts = np.array([0, 5, 2, 5, 9, 0, 2, 1, 2])
    naive = [i for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
    for limit in range(1, 11):
        assert commonest_values(counts, limit) == naive[:limit]
    assert commonest_values(np.zeros(4, dtype=np.int64), 3) == []


def test_a_filter_holds_the_documents_with_any_of_its_values():
    docs = np.array([5, 1, 3, 1, 0, 5], dtype=np.int32)
    codes = np.array([0, 1, 1, 2, 2, 2], dtype=np.int32)
    values = ["a", "b", "c"]
    column = FacetColumn(values, docs, codes, {v: i for i, v in enumerate(values)})
    assert np.flatnonzero(column.mask_for(["a"], 7)).tolist() == [5]
    assert np.flatnonzero(column.mask_for(["b", "a"], 7)).tolist() == [1, 3, 5]
    assert np.flatnonzero(column.mask_for(["c", "unknown"], 7)).tolist() == [0, 1, 5]
    assert not column.mask_for(["unknown"], 7).any()


def test_each_segments_facet_pairs_are_kept_and_an_incremental_reindex_reads_only_new_ones(
    tmp_path,
):
    """A publish keeps what each segment's facets hold beside the generation; the next
    one links those files and reads only the segment it wrote, and its columns equal
    a full rebuild's."""
    from indexer.index.store import IndexStore

    pages = write_pages(tmp_path / "pages", pages_for(12))
    reindex(pages, tmp_path / "ix", procs=1)
    store = IndexStore(tmp_path / "ix")
    first = store.generation_dir(store.current())
    kept = {p.name: p.stat().st_ino for p in first.glob("facets-seg-*.npz")}
    assert kept
    write_pages(pages, pages_for(3, start=13))
    reindex(pages, tmp_path / "ix", procs=1)
    second = store.generation_dir(store.current())
    now = {p.name: p.stat().st_ino for p in second.glob("facets-seg-*.npz")}
    assert set(kept) < set(now) and all(now[n] == inode for n, inode in kept.items())
    reindex(pages, tmp_path / "full", procs=1)
    folder, ix = _open(tmp_path / "ix")
    full_folder, full_ix = _open(tmp_path / "full")
    try:
        with ix.searcher() as searcher, full_ix.searcher() as full_searcher:
            incremental = Columns(searcher, folder)
            rebuilt = Columns(full_searcher, full_folder)
            for name, column in rebuilt.facets.items():
                got = incremental.facets[name]
                assert got.totals_of(np.arange(len(got.values))).tolist() == [
                    int(column.totals_of(np.array([column.index[v]]))[0]) if v in column.index
                    else 0 for v in got.values
                ], name  # fmt: skip
    finally:
        ix.close()
        full_ix.close()
