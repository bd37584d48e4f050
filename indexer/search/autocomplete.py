"""Values as one types: the search box, long facet lists and `/api/suggest`.

A suggestion is a facet value with a word starting with the typed text, and the
number of studies it would give: counted under the request's other filters with
the field's own filter left out, exactly as that facet counts it, so choosing
"Breast Cancer (1,234)" gives 1,234 studies. Only the values found by the prefix
(prefixes.py) are counted, which keeps a keystroke's answer to milliseconds at
any index size; an unfiltered request is a lookup of counts kept per generation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParamError
from .facets import mask_without, studies_matched
from .matching import match
from .params import RANGE_PARAMS, SUGGEST_FIELDS_DEFAULT, SUGGEST_PARAMS_BY_NAME
from .prefixes import prefix_codes
from .request import ALLOWED_PARAMS, SearchRequest, parse_params
from .text import parse_text

if TYPE_CHECKING:
    from .reader import Snapshot


@dataclass(frozen=True)
class SuggestRequest:
    """What to complete, and the search whose filters the counts are taken under."""

    prefix: str
    fields: tuple[str, ...] = SUGGEST_FIELDS_DEFAULT
    limit: int = 10
    search: SearchRequest = field(default_factory=SearchRequest)

    def narrowed(self) -> bool:
        req = self.search
        return bool(
            req.q.strip()
            or req.filters
            or req.near is not None
            or any(getattr(req, name) is not None for name in RANGE_PARAMS)
        )


# (field, filter set) entries kept per snapshot: the filter's documents (a bool per
# document: 0.56 MB at 560,000) and, once a one-letter prefix needed them, the facet's
# counts (8 bytes a value: 0.2 MB for interventions at 560,000) — at most ~6 MB a worker
CACHED_FILTERS = 8


def _filter_key(req: SearchRequest, field: str) -> tuple:
    """What decides a field's drill-sideways counts: the words and every filter but its own."""
    ranges = tuple((name, getattr(req, name)) for name in RANGE_PARAMS)
    others = tuple(sorted((k, tuple(v)) for k, v in req.filters.items() if k != field))
    near = (req.near.lat, req.near.lon, req.radius_km) if req.near is not None else None
    return (req.q.strip(), req.exact, others, ranges, near)


def _top_masked(
    column: Any, codes: np.ndarray, seen: dict[str, Any], limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The values among `codes` that can be in the top `limit` under the entry's mask,
    with their exact counts. A value's count under a filter is at most its count over
    all studies, so values are counted from the commonest down, in growing batches,
    until the next one's total is below the `limit`-th count found: the rest cannot
    rank. A one-letter prefix counts the whole facet once, kept for the entry."""
    if seen["counts"] is not None:
        return codes, seen["counts"][codes]
    if not len(codes):
        return codes, np.zeros(0, dtype=np.int64)
    if column.pairs_of(codes) > len(column.docs) // 2:
        seen["counts"] = column.counts(seen["mask"])
        return codes, seen["counts"][codes]
    totals = column.totals_of(codes)
    order = np.argsort(-totals, kind="stable")
    codes, totals = codes[order], totals[order]
    done, batch = 0, max(16, 4 * limit)
    parts: list[np.ndarray] = []
    while done < len(codes):
        parts.append(column.counts_of(codes[done : done + batch], seen["mask"]))
        done = min(len(codes), done + batch)
        counted = np.concatenate(parts)
        if done < len(codes) and len(counted) >= limit:
            kth = np.partition(counted, len(counted) - limit)[len(counted) - limit]
            if kth > 0 and totals[done] < kth:
                break
        batch *= 2
    return codes[:done], np.concatenate(parts)


def _cached(snap: Snapshot, key: tuple) -> dict[str, Any] | None:
    with snap.lock:
        seen = snap.suggest_filters.get(key)
        if seen is not None:
            snap.suggest_filters.move_to_end(key)
        return seen


def _remember(snap: Snapshot, key: tuple, seen: dict[str, Any]) -> None:
    with snap.lock:
        snap.suggest_filters[key] = seen
        while len(snap.suggest_filters) > CACHED_FILTERS:
            snap.suggest_filters.popitem(last=False)


def parse_suggest(params: Mapping[str, Sequence[str]]) -> SuggestRequest:
    """A SuggestRequest from URL-style parameters, or ParamError: `prefix`, `field` and
    `limit`, every other parameter read as the search's own."""
    raw = {str(k): [str(v) for v in vs] for k, vs in params.items()}
    own = {k: v for k, v in raw.items() if k in SUGGEST_PARAMS_BY_NAME}
    rest = {k: v for k, v in raw.items() if k not in SUGGEST_PARAMS_BY_NAME}
    prefix = SUGGEST_PARAMS_BY_NAME["prefix"].read(own)
    if not prefix:
        raise ParamError(
            "missing_prefix",
            "'prefix' is required: the text typed so far, e.g. prefix=bre",
            "prefix",
        )
    fields = SUGGEST_PARAMS_BY_NAME["field"].read(own) or SUGGEST_FIELDS_DEFAULT
    limit = SUGGEST_PARAMS_BY_NAME["limit"].read(own)
    try:
        search = parse_params(rest)
    except ParamError as exc:
        if exc.code == "unknown_parameter":
            exc.allowed = [*SUGGEST_PARAMS_BY_NAME, *ALLOWED_PARAMS]
        raise
    return SuggestRequest(prefix, tuple(fields), limit, search)


def run_suggest(snap: Snapshot, sreq: SuggestRequest) -> dict[str, Any]:
    """The suggestions, per field in the order asked, most studies first (ties in the
    values' order); values no matching study has are left out.

    Under filters, a field's counts are those of its facet (drill sideways). The
    filter's documents are kept for the snapshot's last few filter sets: one types a
    word a letter at a time under the same filters, so only the first letter pays
    for matching."""
    started = time.perf_counter()
    cols = snap.columns
    matches = None
    suggestions: list[dict[str, Any]] = []
    for name in sreq.fields:
        column = cols.facets[name]
        codes = prefix_codes(column, sreq.prefix)
        if not sreq.narrowed():
            counts = column.totals_of(codes)
        else:
            key = (name, _filter_key(sreq.search, name))
            seen = _cached(snap, key)
            if seen is None:
                if matches is None:
                    req = sreq.search
                    matches = match(snap, req, parse_text(snap, req.q, req.exact, req.mode))
                seen = {"mask": mask_without(matches, name), "counts": None}
                if matches.sites is not None and matches.sites.reads(name):
                    # a site's place and status are one site's: counted site by site
                    seen["counts"] = matches.sites.count(name, column, studies_matched(matches))
                _remember(snap, key, seen)
            codes, counts = _top_masked(column, codes, seen, sreq.limit)
        kept = counts > 0
        codes, counts = codes[kept], counts[kept]
        best = np.lexsort((codes, -counts))[: sreq.limit]
        selected = set(sreq.search.filters.get(name, ()))
        suggestions.extend(
            {
                "field": name,
                "value": column.values[code],
                "count": int(count),
                "selected": column.values[code] in selected,
            }
            for code, count in zip(codes[best].tolist(), counts[best].tolist(), strict=True)
        )
    return {
        "prefix": sreq.prefix,
        "fields": list(sreq.fields),
        "suggestions": suggestions,
        "index": snap.index_info(),
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
    }
