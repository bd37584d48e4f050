"""Per-generation numpy columns: facet counts and filters as array operations.

Whoosh's `groupedby` counts facets with a Python loop over every match (seconds at
scale, see shared/WHOOSH.md). Reading each facet's postings once per searcher
gives (document, value) pairs; counting is then a `bincount` over the matched
documents, and a filter is a boolean mask — exact, and fast at any result size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .schema import FACETS, NUMERIC_FIELDS

MISSING = np.int64(2**31 - 1)  # Whoosh's default for an absent 32-bit NUMERIC column value


@dataclass
class FacetColumn:
    """All (document, value) pairs of one facet; values sorted, codes index into them."""

    values: list[str]
    docs: np.ndarray  # int32 document numbers
    codes: np.ndarray  # int32 value codes, parallel to docs
    index: dict[str, int]

    def counts(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes[mask[self.docs]], minlength=len(self.values))

    def mask_for(self, selected: list[str], size: int) -> np.ndarray:
        """Documents having any of the selected values (OR within a facet)."""
        mask = np.zeros(size, dtype=bool)
        codes = [self.index[v] for v in selected if v in self.index]
        if codes:
            mask[self.docs[np.isin(self.codes, codes)]] = True
        return mask


class Columns:
    """Arrays for one searcher snapshot; immutable, so threads may share them."""

    def __init__(self, searcher) -> None:
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        self.live = np.zeros(self.size, dtype=bool)
        self.live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self.documents = int(self.live.sum())
        self.facets = {spec.name: self._facet(reader, spec.field) for spec in FACETS}
        self.numbers = {
            name: self._numeric(reader, field) for name, (field, _) in NUMERIC_FIELDS.items()
        }
        self.nct_rank = np.zeros(self.size, dtype=np.int64)
        for rank, term in enumerate(reader.lexicon("nct_id")):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            for doc in reader.postings("nct_id", text).all_ids():
                self.nct_rank[doc] = rank

    def _facet(self, reader, field: str) -> FacetColumn:
        values: list[str] = []
        docs: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for code, term in enumerate(reader.lexicon(field)):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            ids = np.fromiter(reader.postings(field, text).all_ids(), dtype=np.int32)
            values.append(text)
            docs.append(ids)
            codes.append(np.full(len(ids), code, dtype=np.int32))
        return FacetColumn(
            values=values,
            docs=np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32),
            codes=np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32),
            index={v: i for i, v in enumerate(values)},
        )

    def _numeric(self, reader, field: str) -> np.ndarray:
        """One segment at a time: Whoosh's MultiColumnReader can iterate short."""
        out = np.full(self.size, MISSING, dtype=np.int64)
        for sub, offset in reader.leaf_readers():
            count = sub.doc_count_all()
            if count == 0:
                continue
            column = sub.column_reader(field)
            values = list(column)
            if len(values) != count:  # pragma: no cover - defensive: read value by value
                values = [column[i] for i in range(count)]
            out[offset : offset + count] = values
        return out

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
