"""Drill-sideways facet counts: each facet counted with every filter but its own.

A patient who ticks RECRUITING still sees how many studies are COMPLETED: the
status facet is counted over the matches without the status filter, while every
other facet is counted over the final matches. `FacetList` is one facet's answer,
and says whether values were left off (`truncated`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..index.columns import Columns
from ..index.schema import FACETS
from .matching import Matches
from .request import SearchRequest


@dataclass(frozen=True)
class FacetList:
    """One facet's values with their counts, largest first; selected values always shown."""

    name: str
    items: list[dict[str, Any]]  # {"value", "count", "selected"}
    truncated: bool  # more values have a non-zero count than are listed


def count_drill_sideways(cols: Columns, matches: Matches, req: SearchRequest) -> list[FacetList]:
    """The list of every facet the request counts. A facet without a filter of its
    own counts the final matches, so those are listed once for all of them."""
    out: list[FacetList] = []
    final_docs: np.ndarray | None = None
    for spec in FACETS:
        if not req.counts_facet(spec.name):
            continue
        column = cols.facets[spec.name]
        if spec.name in matches.facet_masks:
            mask = matches.base.copy()
            for name, fmask in matches.facet_masks.items():
                if name != spec.name:
                    mask &= fmask
            counts = column.counts(mask)
        else:
            if final_docs is None:
                final_docs = np.flatnonzero(matches.final)
            counts = column.counts(matches.final, final_docs)
        selected = req.filters.get(spec.name, [])
        if req.facet_prefix:
            counts = np.where(starts_with(column, req.facet_prefix), counts, 0)
        commonest = commonest_values(counts, req.facet_limit)
        items = [
            {
                "value": column.values[i],
                "count": int(counts[i]),
                "selected": column.values[i] in selected,
            }
            for i in commonest
        ]
        shown = {item["value"] for item in items}
        for value in selected:
            if value not in shown:
                code = column.index.get(value)
                count = int(counts[code]) if code is not None else 0
                items.append({"value": value, "count": count, "selected": True})
        items.sort(key=lambda item: (-item["count"], item["value"]))
        truncated = int(np.count_nonzero(counts)) > len(commonest)
        out.append(FacetList(spec.name, items, truncated))
    return out


def _folded(text: str) -> str:
    """Lowered, accents dropped: "Hôpitaux" and "hopitaux" meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def starts_with(column: Any, prefix: str) -> np.ndarray:
    """Which of a column's values have a word starting with `prefix`, ignoring case and
    accents ("cancer" finds "Breast Cancer"). The folded values are kept on the
    column, so they are made once per generation."""
    folded = getattr(column, "folded_values", None)
    if folded is None:
        folded = np.array([" " + _folded(value) for value in column.values], dtype=str)
        column.folded_values = folded
    if not len(folded):
        return np.zeros(0, dtype=bool)
    wanted = _folded(prefix).strip()
    hits = np.char.find(folded, " " + wanted) >= 0
    for separator in ("(", "-", "/"):  # words after these start too: "(NCI)", "Non-Small"
        hits |= np.char.find(folded, separator + wanted) >= 0
    return hits


def commonest_values(counts: np.ndarray, limit: int) -> list[int]:
    """Codes of the `limit` largest non-zero counts, largest first, ties by value order.

    A facet such as condition has tens of thousands of values: only the few that
    can make the list are sorted.
    """
    codes = np.flatnonzero(counts)
    if len(codes) > limit > 0:
        kth = np.partition(counts[codes], len(codes) - limit)[len(codes) - limit]
        codes = codes[counts[codes] >= kth]
    return codes[np.argsort(-counts[codes], kind="stable")][:limit].tolist()
