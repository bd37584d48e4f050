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
from .facets import mask_without
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
            or any(getattr(req, name) is not None for name in RANGE_PARAMS)
        )


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
    values' order); values no matching study has are left out."""
    started = time.perf_counter()
    cols = snap.columns
    matches = None
    if sreq.narrowed():
        req = sreq.search
        matches = match(snap, req, parse_text(snap, req.q, req.exact))
    suggestions: list[dict[str, Any]] = []
    for name in sreq.fields:
        column = cols.facets[name]
        codes = prefix_codes(column, sreq.prefix)
        mask = mask_without(matches, name) if matches is not None else None
        counts = column.counts_of(codes, mask)
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
