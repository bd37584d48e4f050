"""Drill-sideways facet counts: each facet counted with every filter but its own.

A patient who ticks RECRUITING still sees how many studies are COMPLETED: the
status facet is counted over the matches without the status filter, while every
other facet is counted over the final matches. `FacetList` is one facet's answer,
and says whether values were left off (`truncated`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..index.columns import Columns
from ..index.schema import FACETS
from .matching import Matches
from .prefixes import prefix_codes
from .request import SearchRequest
from .site_matching import SITE_FILTERS


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
        if matches.sites is not None and matches.sites.reads(spec.name):
            counts = matches.sites.count(spec.name, column, studies_matched(matches))
        elif spec.name in matches.facet_masks:
            counts = column.counts(mask_without(matches, spec.name))
        else:
            if final_docs is None:
                final_docs = np.flatnonzero(matches.final)
            counts = column.counts(matches.final, final_docs)
        selected = req.filters.get(spec.name, [])
        if req.facet_prefix:
            kept = np.zeros_like(counts)
            codes = prefix_codes(column, req.facet_prefix)
            kept[codes] = counts[codes]
            counts = kept
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


def mask_without(matches: Matches, name: str) -> np.ndarray:
    """The documents facet `name` is counted over: every filter but its own."""
    sites = matches.sites
    if sites is not None and sites.restricts and name in SITE_FILTERS:
        return studies_matched(matches) & sites.docs(without=name)
    if name not in matches.facet_masks:
        return matches.final
    mask = matches.base.copy()
    for other, fmask in matches.facet_masks.items():
        if other != name:
            mask &= fmask
    if sites is not None and sites.restricts:
        mask &= sites.docs()
    return mask


def studies_matched(matches: Matches) -> np.ndarray:
    """The text, ranges and study-level facets, without the site conditions."""
    mask = matches.base.copy()
    for fmask in matches.facet_masks.values():
        mask &= fmask
    return mask


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
