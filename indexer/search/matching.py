"""Which documents a request matches, computed once and read by everything after.

`match` turns a request and its parsed text into `Matches`: the text-and-range
matches (`base`), one mask per selected facet, their conjunction (`final`), the
relevance of every document, and the pinned documents. The total, the page of
hits, the drill-sideways facet counts and the suggestion's count all read it, so
no part of a request parses or evaluates the query a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParamError
from ..index.columns import Columns
from ..index.history import to_seconds
from ..index.schema import AGE_SCALE, FACETS_BY_NAME
from ..pages.values import date_key
from .close_values import close_values
from .request import SearchRequest
from .site_matching import SITE_FILTERS, SiteMatches, match_sites
from .text import ParsedText

if TYPE_CHECKING:
    from .reader import Snapshot


@dataclass(frozen=True)
class Matches:
    """The documents a request matches, as boolean masks over the generation."""

    base: np.ndarray  # text, pinned IDs and ranges, live documents only
    facet_masks: dict[str, np.ndarray]  # one per facet with selected values
    final: np.ndarray  # base and every facet mask
    relevance: np.ndarray | None  # per-document score; None without a text query
    pinned: tuple[int, ...]  # documents named by NCT ID that pass every filter
    # patient mode: studies whose age range or sex excludes the patient, ranked last
    excluded: np.ndarray | None = None
    admitted: np.ndarray | None = None  # what the ranges admit, whatever the text
    # patient mode: studies whose bounds admit the patient's age, and sex (None: not read)
    age_ok: np.ndarray | None = None
    sex_ok: np.ndarray | None = None
    # with a site condition (state, city, site_status, near): those and the country,
    # held site by site (site_matching.py) instead of in facet_masks
    sites: SiteMatches | None = None

    def filtered(self) -> np.ndarray:
        """The documents every filter admits, without the text (partial.py)."""
        out = self.admitted.copy()
        for mask in self.facet_masks.values():
            out &= mask
        if self.sites is not None and self.sites.restricts:
            out &= self.sites.docs()
        return out

    @property
    def total(self) -> int:
        return int(self.final.sum())


def match(snap: Snapshot, req: SearchRequest, text: ParsedText | None) -> Matches:
    """Every mask a request needs; unknown facet values are refused first."""
    cols = snap.columns
    _selected_values(cols, req)
    matched = cols.live.copy()
    relevance: np.ndarray | None = None
    pinned_docs: list[int] = []
    if text is not None:
        matched[:] = False
        if text.query is not None:
            hits, relevance = snap.scorer.evaluate(text.query)
            matched |= hits
        for nct in text.pinned:
            doc = snap.searcher.document_number(nct_id=nct)
            if doc is not None:
                pinned_docs.append(doc)
                matched[doc] = True
    admitted = _range_masks(cols, req) & cols.live  # counts assume live documents
    base = matched & admitted
    excluded = age_ok = sex_ok = None
    if text is not None and text.patient is not None:
        reading = text.patient.reading
        age_ok = age_mask(cols, reading.age) if reading.age is not None else None
        sex_ok = _sex_mask(cols, reading.sex) if reading.sex is not None else None
        if age_ok is not None or sex_ok is not None:
            eligible = cols.live.copy()
            for mask in (age_ok, sex_ok):
                if mask is not None:
                    eligible &= mask
            if req.eligible_only:
                base &= eligible
            else:
                excluded = ~eligible
    sites = match_sites(cols, req)
    facet_masks = {
        name: cols.facets[name].mask_for(values, cols.size)
        for name, values in req.filters.items()
        if sites is None or not sites.restricts or name not in SITE_FILTERS
    }
    final = base.copy()
    for fmask in facet_masks.values():
        final &= fmask
    if sites is not None and sites.restricts:
        final &= sites.docs()
    pinned = tuple(d for d in pinned_docs if final[d])
    return Matches(
        base, facet_masks, final, relevance, pinned, excluded, admitted, age_ok, sex_ok, sites
    )


def age_mask(cols: Columns, age: float) -> np.ndarray:
    """Studies whose age bounds admit `age` in years (a bound not given excludes no one):
    the `age` filter and patient mode's eligibility alike."""
    scaled = round(age * AGE_SCALE)
    mask = cols.range_mask("min_age_years", None, scaled, keep_missing=True)
    mask &= cols.range_mask("max_age_years", scaled, None, keep_missing=True)
    return mask


def _sex_mask(cols: Columns, sex: str) -> np.ndarray:
    """Studies open to `sex`: ALL, that sex, or none given."""
    column = cols.facets["sex"]
    return ~column.mask_for([v for v in column.values if v not in ("ALL", sex)], cols.size)


def _selected_values(cols: Columns, req: SearchRequest) -> None:
    """Refuse filter values the index has never seen (for open-ended facets)."""
    for name, values in req.filters.items():
        if FACETS_BY_NAME[name].values is not None:  # closed: checked by the request
            continue
        column = cols.facets[name]
        for value in values:
            if value not in column.index:
                close = close_values(column, value)
                raise ParamError(
                    "unknown_value",
                    f"no study has {name} '{value}'"
                    + (f"; close values: {', '.join(close)}" if close else ""),
                    name,
                    allowed=close,
                )


def _range_masks(cols: Columns, req: SearchRequest) -> np.ndarray:
    mask = cols.live.copy()
    for name, low, high in (
        ("start_date", req.start_date_from, req.start_date_to),
        ("last_update", req.last_update_from, req.last_update_to),
        ("completion_date", req.completion_date_from, req.completion_date_to),
    ):
        if low or high:
            mask &= cols.range_mask(name, date_key(low), _date_upper(high), keep_missing=False)
    for name, since in (("first_indexed", req.new_since), ("changed_at", req.changed_since)):
        if since:
            mask &= cols.range_mask(name, to_seconds(since), None, keep_missing=False)
    if req.enrollment_min is not None or req.enrollment_max is not None:
        mask &= cols.range_mask("enrollment", req.enrollment_min, req.enrollment_max, False)
    if req.age is not None:
        mask &= age_mask(cols, req.age)
    return mask


def _date_upper(text: str | None) -> int | None:
    """'2020-05' as an upper bound means the whole of May."""
    if not text:
        return None
    key = date_key(text)
    return key + 30 if key is not None and len(text) == 7 else key
