"""Per-generation numpy columns: every facet (facet_column.py), every number for
ranges and sorts, the studies' history and their sites (sites.py), computed once by
the reindex, saved beside the generation (`columns.npz`) and loaded by each worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.matching.wrappers import FilterMatcher

from ..atomic import read_json_object, write_atomic
from . import segment_cache
from .age_groups import AGE_GROUP_VALUES, age_group_pairs
from .facet_column import FacetColumn  # noqa: F401 - also read from here
from .history import HISTORY_FIELDS, history_arrays, to_iso
from .npz_map import load_mapped
from .schema import AGE_SCALE, FACETS, NUMBER_MISSING, NUMERIC_FIELDS
from .site_lines import read_site_lines
from .sites import SITE_FACETS, build_site_table, empty_table, load_table
from .store import MANIFEST

MISSING = np.int64(NUMBER_MISSING)


COLUMNS_FILE = "columns.npz"


class Columns:
    """Arrays for one searcher snapshot; immutable, so threads may share them.

    A reindex computes them once per generation and saves them beside the index
    (`columns.npz`): at 560,000 studies, reading them from Whoosh's postings takes
    seconds, and every worker would pay it on every new generation.
    """

    def __init__(
        self,
        searcher,
        directory: Path | None = None,
        manifest: dict[str, Any] | None = None,
        segments: Path | None = None,
    ) -> None:
        """`manifest`: the generation's, for the history columns (history.py); read
        from `directory` when not given and the saved columns lack them. `segments`:
        where what each segment holds is kept between generations (the reindex
        passes the generation it builds; segment_cache.py)."""
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        saved = _load(directory / COLUMNS_FILE, self.size) if directory is not None else None
        layouts: dict[str, dict[str, np.ndarray]] = {}  # each facet's, as the reindex saved them
        if saved is not None:
            layouts = saved.pop("layouts")
            self.__dict__.update(saved)
        else:
            self.live = np.zeros(self.size, dtype=bool)
            self.live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
            self.documents = int(self.live.sum())
            self.facets = self._facets(reader, segments)
            self.numbers = {
                name: self._numeric(reader, field) for name, (field, _) in NUMERIC_FIELDS.items()
            }
            self.nct_rank = self._nct_rank(reader)
        if "age_group" not in self.facets:
            self.facets["age_group"] = self._age_groups()
        self._place_sites(reader, directory, segments)
        if not all(name in self.numbers for name in HISTORY_FIELDS):
            if manifest is None and directory is not None:
                manifest = read_json_object(directory / MANIFEST)
            self.numbers.update(history_arrays(self.nct_rank, manifest or {}))
        for name, column in self.facets.items():
            column.prepare(self.live, layouts.get(name))

    def _place_sites(self, reader, directory: Path | None, segments: Path | None) -> None:
        """The site arrays (memory-mapped when the reindex saved them) and, unless
        loaded, the state, city and site-status facets (sites.py); empty for an index
        written before sites were a column."""
        saved = load_table(directory, self.size) if directory is not None else None
        if saved is not None and all(name in self.facets for name in SITE_FACETS):
            self.sites, self.site_report = saved
            return
        found = read_site_lines(reader, segments)
        self.site_report = {"sites": 0, "named": 0, "placed": 0}
        if found is None:
            self.sites = empty_table()
            facets = {name: ([], np.zeros(0, np.int32), np.zeros(0, np.int32)) for name in
                      SITE_FACETS}  # fmt: skip
        else:
            self.sites, facets, self.site_report = build_site_table(
                *found, self.live, self.facets["country"]
            )
        for name, (values, docs, codes) in facets.items():
            index = {v: i for i, v in enumerate(values)}
            self.facets[name] = FacetColumn(values, docs, codes, index)
        self.sites.finish(self.size, self.facets)

    def history_of(self, doc: int) -> dict[str, str | None]:
        """When the document's study first entered this index and last changed (ISO)."""
        return {
            name: None if self.numbers[name][doc] == MISSING else to_iso(self.numbers[name][doc])
            for name in HISTORY_FIELDS
        }

    def save(self, directory: Path) -> None:
        """Write the arrays beside the generation they describe."""
        arrays: dict[str, np.ndarray] = {
            "size": np.array([self.size]),
            "live": self.live,
            "nct_rank": self.nct_rank,
        }
        for name, column in self.facets.items():
            arrays[f"facet.{name}.docs"] = column.docs
            arrays[f"facet.{name}.codes"] = column.codes
            arrays[f"facet.{name}.value_docs"] = column.value_docs
            arrays[f"facet.{name}.value_starts"] = column.value_starts
            arrays[f"facet.{name}.values"] = np.array(json.dumps(column.values, ensure_ascii=False))
            for part, array in column.layout().items():
                arrays[f"layout.{name}.{part}"] = array
        for name, values in self.numbers.items():
            arrays[f"number.{name}"] = values
        write_atomic(directory / COLUMNS_FILE, lambda handle: np.savez(handle, **arrays))
        self.sites.save(directory, self.site_report)

    def _facets(self, reader, segments: Path | None) -> dict[str, FacetColumn]:
        """Every indexed facet's (document, value) pairs, a segment at a time: each
        segment's pairs are kept beside the generation (segment_cache.py), so a publish
        reads the postings of the segments it wrote only. At 560,000 studies reading
        every facet's postings again was 18 s of each incremental reindex."""
        fields = [(spec.name, spec.field) for spec in FACETS if not spec.derived]
        parts: dict[str, list[tuple[list[str], np.ndarray, np.ndarray]]] = {
            name: [] for name, _ in fields
        }
        for sub, offset in reader.leaf_readers():

            def compute(sub: Any = sub) -> dict[str, Any]:
                reading: dict[str, Any] = {}
                for _, field in fields:
                    values, docs, codes = _segment_facet(sub, field)
                    reading.update({f"{field}.values": values, f"{field}.docs": docs,
                                    f"{field}.codes": codes})  # fmt: skip
                return reading

            reading = segment_cache.read(segments, "facets", sub, compute)
            for name, field in fields:
                docs = reading[f"{field}.docs"].astype(np.int64) + offset
                parts[name].append((reading[f"{field}.values"], docs, reading[f"{field}.codes"]))
        segment_cache.remove_stale(segments, "facets", reader)
        return {name: self._merged(parts[name]) for name, _ in fields}

    def _merged(self, parts: list[tuple[list[str], np.ndarray, np.ndarray]]) -> FacetColumn:
        """One facet's column from its segments' pairs: their values in one sorted list
        (as the index's lexicon orders them), deleted documents left out."""
        values = sorted({value for segment_values, _, _ in parts for value in segment_values})
        index = {v: i for i, v in enumerate(values)}
        all_docs, all_codes = [], []
        for segment_values, docs, codes in parts:
            if not len(docs):
                continue
            remap = np.array([index[v] for v in segment_values], dtype=np.int32)
            keep = self.live[docs]
            all_docs.append(docs[keep].astype(np.int32))
            all_codes.append(remap[codes[keep]])
        docs = np.concatenate(all_docs) if all_docs else np.zeros(0, dtype=np.int32)
        codes = np.concatenate(all_codes) if all_codes else np.zeros(0, dtype=np.int32)
        order = np.lexsort((codes, docs))
        return FacetColumn(values=values, docs=docs[order], codes=codes[order], index=index)

    def _age_groups(self) -> FacetColumn:
        """Derived from the age columns (age_groups.py): present in every generation."""
        bounds = []
        for name in ("min_age_years", "max_age_years"):
            col = self.numbers[name]
            bounds.append(np.where(col == MISSING, np.nan, col / AGE_SCALE))
        docs, codes = age_group_pairs(bounds[0], bounds[1], self.live)
        values = list(AGE_GROUP_VALUES)
        return FacetColumn(values, docs, codes, {v: i for i, v in enumerate(values)})

    def _numeric(self, reader, field: str) -> np.ndarray:
        """One segment at a time: Whoosh's MultiColumnReader can iterate short."""
        out = np.full(self.size, MISSING, dtype=np.int64)
        for sub, offset in reader.leaf_readers():
            count = sub.doc_count_all()
            if count:
                out[offset : offset + count] = column_array(
                    sub.column_reader(field, translate=False), count
                )
        return out

    def _nct_rank(self, reader) -> np.ndarray:
        """Each document's place in NCT ID order (IDs are NCT + 8 digits: their number)."""
        rank = np.zeros(self.size, dtype=np.int64)
        for sub, offset in reader.leaf_readers():
            count = sub.doc_count_all()
            if count:
                rank[offset : offset + count] = _id_numbers(list(sub.column_reader("nct_id")))
        return rank

    def range_mask(
        self, name: str, low: int | None, high: int | None, keep_missing: bool
    ) -> np.ndarray:
        """Documents whose value lies in [low, high]; missing values kept only if asked."""
        col = self.numbers[name]
        present = col != MISSING
        mask = present.copy()
        if low is not None:
            mask &= col >= low
        if high is not None:
            mask &= col <= high
        if keep_missing:
            mask |= ~present
        return mask


def _load(path: Path, size: int) -> dict[str, Any] | None:
    """Saved columns, if they exist and describe an index of this size."""
    try:
        data = load_mapped(path)  # shared by every worker through the page cache
        if int(data["size"][0]) != size:
            return None
        facets = {}
        for spec in FACETS:
            key = f"facet.{spec.name}"
            if spec.derived and f"{key}.values" not in data:
                continue  # computed on opening (columns saved before it existed)
            values = json.loads(str(data[f"{key}.values"]))
            grouped = f"{key}.value_docs" in data  # not in columns saved before 2026-11-30
            facets[spec.name] = FacetColumn(
                values=values,
                docs=data[f"{key}.docs"],
                codes=data[f"{key}.codes"],
                index={v: i for i, v in enumerate(values)},
                value_docs=data[f"{key}.value_docs"] if grouped else None,
                value_starts=data[f"{key}.value_starts"] if grouped else None,
            )
        live = data["live"]
        layouts: dict[str, dict[str, np.ndarray]] = {}
        for key, array in data.items():
            if key.startswith("layout."):
                _, name, part = key.split(".", 2)
                layouts.setdefault(name, {})[part] = array
        return {
            "live": live,
            "layouts": layouts,
            "documents": int(live.sum()),
            "facets": facets,
            "numbers": {
                name: data[f"number.{name}"]
                for name in (*NUMERIC_FIELDS, *HISTORY_FIELDS)
                if f"number.{name}" in data
            },
            "nct_rank": data["nct_rank"],
        }
    except (OSError, KeyError, ValueError):
        return None


def raw_postings(sub: Any, field: str, text: str) -> tuple[Any, np.ndarray | None]:
    """A segment's posting matcher without Whoosh's deleted-document filter, and the
    segment's deleted documents as a boolean mask (None when it has none).

    After an incremental reindex every old segment has deletions, and Whoosh then
    wraps each matcher in a filter that steps one posting per Python call; the
    mask drops the deleted documents from whole blocks at once.
    """
    matcher = sub.postings(field, text)
    if isinstance(matcher, FilterMatcher) and matcher._exclude:
        deleted = sub.__dict__.get("_trialsearch_deleted")
        if deleted is None:
            deleted = np.zeros(sub.doc_count_all(), dtype=bool)
            deleted[np.fromiter(sub.deleted_docs_set, dtype=np.int64)] = True
            sub.__dict__["_trialsearch_deleted"] = deleted
        return matcher.child, deleted
    return matcher, None


def read_postings(matcher: Any, deleted: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of a posting list, a block at a time.

    Whoosh's matchers hand out one posting per Python call; its on-disk blocks hold
    up to 128, so reading blocks whole is many times faster.
    """
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):
        for block_ids, block_weights, _ in posting_blocks(matcher):
            ids.append(block_ids)
            weights.append(block_weights)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        all_ids, all_weights = np.concatenate(ids), np.concatenate(weights)
        if deleted is not None:
            keep = ~deleted[all_ids]
            return all_ids[keep], all_weights[keep]
        return all_ids, all_weights
    while matcher.is_active():  # pragma: no cover - other codecs
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float32)


def posting_blocks(matcher: Any) -> Iterator[tuple[np.ndarray, np.ndarray, Any]]:
    """Each block of a Whoosh 3 posting list: ids, weights and its values as stored.

    Decoded here rather than by the matcher, which rebuilds the ids from their
    deltas one Python step at a time: a cold common word at 560,000 studies is
    thousands of blocks.
    """
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        deltas, weights, values = matcher._data
        count = matcher._blocklength
        ids = np.cumsum(np.asarray(deltas, dtype=np.int64))
        if weights is None:
            block_weights = np.ones(count, dtype=np.float32)
        elif isinstance(weights, float):
            block_weights = np.full(count, weights, dtype=np.float32)
        else:
            block_weights = np.asarray(weights, dtype=np.float32)
        yield ids, block_weights, values
        matcher._next_block()


def column_array(column: Any, count: int) -> np.ndarray:
    """A fixed-width numeric column as one array: its bytes are read in one go.

    Whoosh's column readers return one Python value per call; at 560,000 documents
    that is a second per column.
    """
    typecode = getattr(column, "_typecode", None)
    if typecode is not None and hasattr(column, "_dbfile") and hasattr(column, "_count"):
        dtype = np.dtype(">" + typecode)
        present = min(count, column._count)
        data = column._dbfile.get(column._basepos, present * dtype.itemsize)
        values = np.frombuffer(data, dtype=dtype).astype(np.int64)
        if present < count:
            default = np.full(count - present, column._default, dtype=np.int64)
            values = np.concatenate([values, default])
        return values
    values = list(column)  # pragma: no cover - other columns
    if len(values) != count:  # pragma: no cover - defensive: read value by value
        values = [column[i] for i in range(count)]
    return np.array(values, dtype=np.int64)


def _segment_facet(sub: Any, field: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A segment's values of a facet and their (document, value) pairs, deleted
    documents included (the segment's reading outlives its deletions)."""
    values: list[str] = []
    docs: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    terms = sub.lexicon(field) if field in sub.schema else ()
    for code, term in enumerate(terms):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        matcher, _ = raw_postings(sub, field, text)
        ids = read_postings(matcher)[0]
        values.append(text)
        docs.append(ids.astype(np.int32))
        codes.append(np.full(len(ids), code, dtype=np.int32))
    return (
        values,
        np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32),
        np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32),
    )


def _id_numbers(ids: list) -> np.ndarray:
    """The numbers of NCT IDs (NCT + 8 digits), 0 for any other value; in numpy when
    every value has that form (a Python loop took 2.3 s for 560,000)."""
    raw = [v if isinstance(v, bytes) else str(v).encode("utf-8", "replace") for v in ids]
    if raw and all(len(v) == 11 for v in raw):
        digits = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(-1, 11)[:, 3:]
        if bool(((digits >= 48) & (digits <= 57)).all()):
            return (digits.astype(np.int64) - 48) @ (10 ** np.arange(7, -1, -1, dtype=np.int64))
    return np.array(
        [int(v[3:]) if v[3:].isdigit() and v[3:].isascii() else 0 for v in raw], dtype=np.int64
    )
