"""One facet's (document, value) pairs as arrays: counts and filters without a loop.

Whoosh's `groupedby` counts facets with a Python loop over every match (seconds at
scale, see shared/WHOOSH.md). A facet's postings, read once per generation, are
(document, value) pairs; counting is then a `bincount` over the matched documents,
and a filter is a boolean mask — exact, and fast at any result size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# what `prepare` lays out, for a facet with one value per document or with several
LAYOUT_SINGLE = ("_dense", "_dense_keys")
LAYOUT_PAIRS = ("_keys", "_docs", "_offsets")


@dataclass
class FacetColumn:
    """All (document, value) pairs of one facet, in document order.

    `codes` index into the sorted `values`. `prepare` must be given the live
    documents before counting: it lays the pairs out for the index's size.
    """

    values: list[str]
    docs: np.ndarray  # document numbers, ascending
    codes: np.ndarray  # value codes, parallel to docs
    index: dict[str, int]
    # the same pairs grouped by value, for filters: value i's documents are
    # value_docs[value_starts[i]:value_starts[i + 1]]. Sorting for them is a third
    # of opening a generation at 560k, so the reindex saves them; derived if absent.
    value_docs: np.ndarray | None = None
    value_starts: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.docs) > 1 and not bool(np.all(self.docs[1:] >= self.docs[:-1])):
            order = np.argsort(self.docs, kind="stable")
            self.docs, self.codes = self.docs[order], self.codes[order]
            self.value_docs = self.value_starts = None
        grouped = (
            self.value_docs is not None
            and self.value_starts is not None
            and len(self.value_docs) == len(self.docs)
            and len(self.value_starts) == len(self.values) + 1
            and int(self.value_starts[-1]) == len(self.docs)
        )
        if not grouped:
            by_value = np.argsort(self.codes, kind="stable")
            self.value_docs = self.docs[by_value]
            self.value_starts = np.searchsorted(
                self.codes[by_value], np.arange(len(self.values) + 1)
            )
        # at most one value per document (status, sponsor…): counted from a code per
        # document, read front to back; several (country, condition…): from the pairs
        self.single = not bool(np.any(self.docs[1:] == self.docs[:-1]))

    def prepare(self, live: np.ndarray, layout: dict[str, np.ndarray] | None = None) -> None:
        """Lay the pairs out for an index of `len(live)` documents, and count the live
        ones once (a match-all browse is then a lookup). `layout`: the same arrays as
        the reindex saved them (`layout()`), memory-mapped: at 560,000 studies they
        were ~215 MB of every worker's private memory when each made its own."""
        if layout is None or not self._fits(layout, len(live)):
            layout = self._lay_out(len(live))
        for name, array in layout.items():
            setattr(self, name, array)
        self._live, self._live_count = live, int(np.count_nonzero(live))
        self._totals = self._count_all(live)

    def layout(self) -> dict[str, np.ndarray]:
        """The arrays `prepare` made, by attribute name, for saving."""
        names = LAYOUT_SINGLE if self.single else LAYOUT_PAIRS
        return {name: getattr(self, name) for name in names}

    def _lay_out(self, size: int) -> dict[str, np.ndarray]:
        n = len(self.values)
        if self.single:
            dense = np.full(size, n, dtype=np.intp)  # n: no value
            dense[self.docs] = self.codes
            # twice the code: `keys + matched` tags each document, one bincount counts both
            return {"_dense": dense, "_dense_keys": dense * 2}
        return {
            "_keys": self.codes.astype(np.intp) * 2,
            "_docs": self.docs.astype(np.intp),
            "_offsets": np.searchsorted(self.docs, np.arange(size + 1)),
        }

    def _fits(self, layout: dict[str, np.ndarray], size: int) -> bool:
        """Whether saved arrays are this column's layout for `size` documents."""
        if self.single:
            return set(layout) == set(LAYOUT_SINGLE) and all(
                len(layout[name]) == size and layout[name].dtype == np.intp
                for name in LAYOUT_SINGLE
            )
        return (
            set(layout) == set(LAYOUT_PAIRS)
            and len(layout["_keys"]) == len(layout["_docs"]) == len(self.docs)
            and len(layout["_offsets"]) == size + 1
            and all(layout[name].dtype == np.intp for name in LAYOUT_PAIRS)
        )

    def counts(self, mask: np.ndarray, matched: np.ndarray | None = None) -> np.ndarray:
        """How many masked documents have each value (masks hold live documents only);
        `matched` is `np.flatnonzero(mask)` when the caller has it already.

        The cheapest of three exact ways: look up the values of few matched
        documents; or, when nearly every live document matches, subtract the few
        that do not from the live totals; or tag every document and count once.
        """
        selected = len(matched) if matched is not None else int(np.count_nonzero(mask))
        few = len(mask) // 3 if self.single else len(self.docs) // 8
        if selected < few:
            return self._count_few(mask, matched)
        if self._live_count - selected < few:
            return self._totals - self._count_few(self._live & ~mask)
        return self._count_all(mask)

    def _count_all(self, mask: np.ndarray) -> np.ndarray:
        n = len(self.values)
        matched = mask.view(np.uint8)
        if self.single:
            return np.bincount(self._dense_keys + matched, minlength=2 * n + 2)[1 : 2 * n : 2]
        return np.bincount(self._keys + matched[self._docs], minlength=2 * n)[1::2]

    def _count_few(self, mask: np.ndarray, matched: np.ndarray | None = None) -> np.ndarray:
        docs = np.flatnonzero(mask) if matched is None else matched
        n = len(self.values)
        if self.single:
            return np.bincount(self._dense[docs], minlength=n + 1)[:n]
        starts = self._offsets[docs]
        lengths = self._offsets[docs + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(n, dtype=np.int64)
        ends = np.cumsum(lengths)
        pairs = np.arange(total) + np.repeat(starts - (ends - lengths), lengths)
        return np.bincount(self.codes[pairs], minlength=n)

    def totals_of(self, codes: np.ndarray) -> np.ndarray:
        """How many live documents have each of the values `codes` (counted at prepare)."""
        return self._totals[codes]

    def pairs_of(self, codes: np.ndarray) -> int:
        """How many (document, value) pairs the values `codes` have in all."""
        return int((self.value_starts[codes + 1] - self.value_starts[codes]).sum())

    def counts_of(self, codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """How many masked documents have each of the values `codes`, reading only those
        values' documents: for the few values of a long typed prefix, much cheaper than
        counting the whole facet."""
        starts = self.value_starts[codes]
        lengths = self.value_starts[codes + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(len(codes), dtype=np.int64)
        ends = np.cumsum(lengths)
        pairs = np.arange(total) + np.repeat(starts - (ends - lengths), lengths)
        matched = np.concatenate(([0], np.cumsum(mask[self.value_docs[pairs]])))
        return matched[ends] - matched[ends - lengths]

    def mask_for(self, selected: list[str], size: int) -> np.ndarray:
        """Documents having any of the selected values (OR within a facet)."""
        mask = np.zeros(size, dtype=bool)
        for value in selected:
            code = self.index.get(value)
            if code is not None:
                start, stop = self.value_starts[code], self.value_starts[code + 1]
                mask[self.value_docs[start:stop]] = True
        return mask
