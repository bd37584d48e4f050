"""The order of the hits: by relevance (pinned IDs first) or by a column.

Only the documents that can reach the requested page are ordered: the top k by
partition, never a sort of every match.
"""

from __future__ import annotations

import numpy as np

from ..index.columns import MISSING, Columns
from .matching import Matches
from .request import SearchRequest

# sorts named otherwise than the column they read
SORT_COLUMNS = {"changed": "changed_at"}


def page_of_hits(
    cols: Columns, matches: Matches, req: SearchRequest, has_query: bool
) -> tuple[list[int], dict[int, float]]:
    """The documents of the requested page, in order, and the scores of those ranked."""
    sort, desc = req.effective_sort()
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    pinned = list(matches.pinned)
    scores: dict[int, float] = {}
    if sort == "relevance" and has_query and matches.relevance is not None:
        rest_mask = matches.final.copy()
        rest_mask[pinned] = False
        need = max(0, stop - len(pinned))
        ranked: list[int] = list(pinned)
        # the studies that exclude the patient come after every one that does not
        tiers = (
            [rest_mask]
            if matches.excluded is None
            else [
                rest_mask & ~matches.excluded,
                rest_mask & matches.excluded,
            ]
        )
        for tier in tiers:
            if need <= 0 or not tier.any():
                continue
            for doc in _top(np.flatnonzero(tier), matches.relevance, need):
                ranked.append(doc)
                scores[doc] = float(matches.relevance[doc])
            need = max(0, stop - len(ranked))
        return ranked[start:stop], scores
    if sort == "relevance":
        sort, desc = "last_update", True
    if sort == "distance" and matches.sites is not None:
        others = matches.final.copy()
        others[pinned] = False
        docs = np.flatnonzero(others)
        km = matches.sites.min_distance(docs)
        order = np.lexsort((cols.nct_rank[docs], -km if desc else km))
        return (pinned + docs[order[: max(0, stop - len(pinned))]].tolist())[start:stop], scores
    others = matches.final.copy()
    others[pinned] = False
    need = max(0, stop - len(pinned))
    ordered = sorted_docs(cols, np.flatnonzero(others), sort, desc, limit=need)
    return (pinned + ordered.tolist())[start:stop], scores


def sorted_docs(
    cols: Columns, docs: np.ndarray, sort: str, desc: bool, limit: int | None = None
) -> np.ndarray:
    """Order documents by a column; missing values last either way; ties by NCT ID.

    With `limit`, only the first `limit` are returned, found by partition: a page
    needs twenty documents, and sorting all 560,000 was most of a browse request.
    """
    rank = np.minimum(cols.nct_rank[docs], 2**27 - 1)  # NCT + 8 digits: below 2**27
    if sort == "nct_id":
        composite = -rank if desc else rank
    else:
        values = cols.numbers[SORT_COLUMNS.get(sort, sort)][docs]
        missing = values == MISSING
        key = np.where(missing, 0, -values if desc else values)
        # one int64 ordering as (missing, key, NCT rank): 1 + 32 + 27 bits
        composite = (missing.astype(np.int64) << 60) | ((key + 2**31) << 27) | rank
    if limit is not None and limit < len(docs):
        if limit <= 0:
            return docs[:0]
        kth = np.partition(composite, limit - 1)[limit - 1]
        docs, composite = docs[composite <= kth], composite[composite <= kth]
    return docs[np.argsort(composite, kind="stable")][:limit]


def _top(candidates: np.ndarray, relevance: np.ndarray, k: int) -> list[int]:
    """The k best-scoring candidates, best first; equal scores in document order."""
    scores = relevance[candidates]
    if len(candidates) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[keep].min()
        # every candidate tied with the k-th must be considered for a stable order
        keep = np.flatnonzero(scores >= threshold)
        candidates, scores = candidates[keep], scores[keep]
    order = np.lexsort((candidates, -scores))[:k]
    return candidates[order].tolist()
