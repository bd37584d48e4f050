"""The recipe of a search: text → matches → page of hits, facet counts, suggestion.

Each step is its own module (text, matching, ordering, hits, facets, suggest);
this one only puts them in order and shapes the one `SearchResponse` that the
JSON view, the HTML view and the CLI render.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .facets import count_drill_sideways
from .hits import SNIPPET_ANALYZER, make_hit, nct_of
from .matching import match
from .ordering import page_of_hits
from .partial import offer
from .patient_query import why_matched
from .request import SearchRequest
from .suggest import FEW_RESULTS, suggest
from .text import parse_text

if TYPE_CHECKING:
    from .reader import Snapshot


@dataclass
class SearchResponse:
    """The one result shape, rendered as JSON, HTML and terminal text."""

    query: dict[str, Any]
    total: int
    page: int
    per_page: int
    results: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]
    suggestion: str | None
    index: dict[str, Any]
    took_ms: float
    pinned: list[str] = field(default_factory=list)
    expansions: list[dict[str, Any]] = field(default_factory=list)
    # facets with more non-zero values than facet_limit lists (the page offers "more")
    truncated_facets: list[str] = field(default_factory=list)
    mode: str = "keywords"  # how q was read: keywords or patient (mode=auto picks)
    patient: dict[str, Any] | None = None  # patient mode: what was read from q
    # no study has every word: the studies with the most of them (partial.py)
    partial: dict[str, Any] | None = None
    # near=: the place as read (name, region, country, lat, lon, precision) and radius
    near: dict[str, Any] | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def digest(self) -> dict[str, Any]:
        """What the request answered, without timings: two runs that answer the same
        have equal digests (the benchmark's smoke JSON and tests/test_layout.py compare
        them across commits)."""
        return {
            "total": self.total,
            "hits": [hit["nct_id"] for hit in self.results],
            "facets": {
                name: {item["value"]: item["count"] for item in items}
                for name, items in self.facets.items()
            },
            "suggestion": self.suggestion,
        }

    def to_dict(self) -> dict[str, Any]:
        """The response as JSON-ready data. Its parts are built for this response alone,
        so they are handed over as they are (`asdict` deep-copied every hit and facet
        value on every request)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in _JSON_FIELDS}


def run_search(snap: Snapshot, req: SearchRequest) -> SearchResponse:
    """Answer one request on one snapshot."""
    started = time.perf_counter()
    text = parse_text(snap, req.q, req.exact, req.mode)
    matches = match(snap, req, text)
    has_query = text is not None and text.query is not None
    page_docs, scores = page_of_hits(snap.columns, matches, req, has_query)
    terms = text.terms if text is not None else frozenset()

    def hit_of(doc: int, score: float | None) -> dict[str, Any]:
        history = snap.columns.history_of(doc)
        return make_hit(
            snap.searcher, doc, score, terms, SNIPPET_ANALYZER, req.fields, history=history,
            sites=matches.sites,
        )  # fmt: skip

    results = [hit_of(doc, scores.get(doc)) for doc in page_docs]
    facet_lists = count_drill_sideways(snap.columns, matches, req)
    total = matches.total
    suggestion = None
    patient = text.patient if text is not None else None
    if patient is not None:
        for doc, hit in zip(page_docs, results, strict=True):
            hit["why"] = why_matched(snap, patient, matches, doc)
    elif text is not None and total < FEW_RESULTS:
        suggestion = suggest(snap, req, total)
    partial = None
    if text is not None and patient is None and total == 0 and req.page == 1:
        partial = offer(snap, text.rest, matches, req.per_page, hit_of)
    return SearchResponse(
        query=req.to_dict(),
        total=total,
        page=req.page,
        per_page=req.per_page,
        results=results,
        facets={facet.name: facet.items for facet in facet_lists},
        suggestion=suggestion,
        index=snap.index_info(),
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        pinned=[nct_of(snap.searcher, d) for d in matches.pinned],
        expansions=[e.to_dict() for e in text.expansions] if text else [],
        truncated_facets=[facet.name for facet in facet_lists if facet.truncated],
        mode=text.mode if text is not None else "keywords",
        patient=patient.to_dict() if patient is not None else None,
        partial=partial,
        near=req.near_dict(),
    )


_JSON_FIELDS = {f.name for f in fields(SearchResponse)}
