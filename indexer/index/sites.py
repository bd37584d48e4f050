"""Every listed site of every study as arrays: where it is, its status, its place names.

A study lists up to 100 sites; at 560,000 studies that is about two million. Each
document carries its sites in a small column (`sites`: city, state, country and
status per site, in the page's order); when a generation is published they are read
once, placed with the offline gazetteer, and kept as flat arrays beside the facet
columns (`columns.npz`). A distance search is then a latitude band cut from a sorted
copy and an exact haversine over the band, and "a site with this status in this
place" is one mask over the sites — exact, never a bounding box alone.

The `state`, `city` and `site_status` facets come from the same arrays: a study has
a value when one of its sites has it. `city` values carry their state ("Portland,
Oregon"), or stand alone where the page gives none, so namesakes stay apart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..pages.record import Location

log = logging.getLogger(__name__)

SITES_FIELD = "sites"
SITE_FACETS = ("state", "city", "site_status")
_NO_VALUE = -1


def site_rows(locations: Iterable[Location]) -> bytes:
    """The `sites` column value of a study: [city, state, country, status] per site."""
    rows = [[loc.city, loc.state, loc.country, loc.status] for loc in locations]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def city_value(city: str | None, state: str | None) -> str | None:
    """A site's `city` facet value: "Boston, Massachusetts", or "Paris" without a state."""
    if not city:
        return None
    return f"{city}, {state}" if state else city


def site_facet_values(locations: Iterable[Location]) -> dict[str, list[str]]:
    """The state, city and site-status values of one study (what the tests compare)."""
    out: dict[str, dict[str, None]] = {name: {} for name in SITE_FACETS}
    for loc in locations:
        for name, value in (
            ("state", loc.state),
            ("city", city_value(loc.city, loc.state)),
            ("site_status", loc.status),
        ):
            if value:
                out[name].setdefault(value, None)
    return {name: list(values) for name, values in out.items()}


@dataclass
class SiteTable:
    """Parallel arrays over every site, ordered by document (then by the page's order).

    `lat`/`lon` are NaN for a site the gazetteer could not place. `codes[name]` is the
    site's value code in that facet's column (-1: none). `by_lat` orders the placed
    sites by latitude, for cutting a band.
    """

    doc: np.ndarray  # int32
    lat: np.ndarray  # float32, NaN: unplaced
    lon: np.ndarray
    codes: dict[str, np.ndarray]  # "state", "city", "site_status", "country" -> int32
    starts: np.ndarray | None = None  # first site of each document (len = size + 1)
    by_lat: np.ndarray | None = None

    def finish(self, size: int) -> None:
        """Derived lookups (cheap; not saved)."""
        self.starts = np.searchsorted(self.doc, np.arange(size + 1)).astype(np.int64)
        placed = np.flatnonzero(~np.isnan(self.lat))
        self.by_lat = placed[np.argsort(self.lat[placed], kind="stable")].astype(np.int32)
        self._lat_sorted = self.lat[self.by_lat]
        self._pairs: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.doc)

    @property
    def placed(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.lat)))

    def band(self, low: float, high: float) -> np.ndarray:
        """Placed sites with latitude in [low, high]."""
        lo = int(np.searchsorted(self._lat_sorted, low, side="left"))
        hi = int(np.searchsorted(self._lat_sorted, high, side="right"))
        return self.by_lat[lo:hi]

    def pair_index(self, name: str, column: Any) -> np.ndarray:
        """Each site's place in `column`'s (document, value) pairs, -1 when the pair is
        absent: counting a facet over sites marks pairs, then counts them as the
        column counts documents. Built on first use per facet and kept."""
        cached = self._pairs.get(name)
        if cached is not None:
            return cached
        n = max(len(column.values), 1)
        pair_keys = column.docs.astype(np.int64) * n + column.codes
        order = np.argsort(pair_keys, kind="stable")
        sorted_keys = pair_keys[order]
        codes = self.codes[name]
        site_keys = self.doc.astype(np.int64) * n + np.maximum(codes, 0)
        at = np.searchsorted(sorted_keys, site_keys)
        at = np.minimum(at, max(len(sorted_keys) - 1, 0))
        found = (codes >= 0) & (len(sorted_keys) > 0)
        if len(sorted_keys):
            found &= sorted_keys[at] == site_keys
        index = np.where(found, order[at] if len(order) else 0, -1).astype(np.int64)
        self._pairs[name] = index
        return index


def empty_table() -> SiteTable:
    none = np.zeros(0, dtype=np.int32)
    return SiteTable(
        none, np.zeros(0, np.float32), np.zeros(0, np.float32),
        {name: none for name in (*SITE_FACETS, "country")},
    )  # fmt: skip


def read_site_rows(reader: Any) -> tuple[np.ndarray, list[list[Any]]] | None:
    """(document of each site, [city, state, country, status] of each site) from the
    `sites` column of every segment; None for an index written before it existed."""
    if SITES_FIELD not in reader.schema:
        return None
    docs: list[int] = []
    rows: list[list[Any]] = []
    for sub, offset in reader.leaf_readers():
        count = sub.doc_count_all()
        if not count or not sub.has_column(SITES_FIELD):
            continue
        column = sub.column_reader(SITES_FIELD)
        for local in range(count):
            value = column[local]
            if value:
                found = json.loads(value)
                docs.extend([offset + local] * len(found))
                rows.extend(found)
    return np.array(docs, dtype=np.int32), rows


def build_site_table(
    docs: np.ndarray, rows: list[list[Any]], live: np.ndarray, country_column: Any
) -> tuple[SiteTable, dict[str, tuple[list[str], np.ndarray, np.ndarray]], dict[str, int]]:
    """The site arrays, the state/city/site_status facets' (values, docs, codes) and
    what placing them found (`sites`, `named`: with a city, `placed`)."""
    from ..places.gazetteer import gazetteer
    from ..places.locate import SiteLocator

    keep = live[docs] if len(docs) else np.zeros(0, dtype=bool)
    docs = docs[keep]
    rows = [row for row, kept in zip(rows, keep.tolist(), strict=True) if kept]
    locate = SiteLocator(gazetteer())
    g = locate.g
    lat = np.full(len(rows), np.nan, dtype=np.float32)
    lon = np.full(len(rows), np.nan, dtype=np.float32)
    values: dict[str, dict[str, int]] = {name: {} for name in SITE_FACETS}
    raw_codes: dict[str, list[int]] = {name: [] for name in SITE_FACETS}
    country_codes: list[int] = []
    named = 0
    for i, (city, state, country, status) in enumerate(rows):
        if city:
            named += 1
            place = locate(city, state, country)
            if place is not None:
                lat[i], lon[i] = g.coordinates(place)
        for name, value in (
            ("state", state),
            ("city", city_value(city, state)),
            ("site_status", status),
        ):
            raw_codes[name].append(
                values[name].setdefault(value, len(values[name])) if value else _NO_VALUE
            )
        country_codes.append(country_column.index.get(country, _NO_VALUE) if country else -1)
    codes: dict[str, np.ndarray] = {}
    facets: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for name in SITE_FACETS:
        # facet values sorted, as a column built from index terms has them
        found = sorted(values[name])
        renumber = np.full(len(values[name]) + 1, _NO_VALUE, dtype=np.int32)
        for new, value in enumerate(found):
            renumber[values[name][value]] = new
        site_codes = (
            renumber[np.array(raw_codes[name], dtype=np.int64)]
            if rows
            else np.zeros(0, dtype=np.int32)
        )
        codes[name] = site_codes.astype(np.int32)
        has = site_codes >= 0
        pairs = np.unique(docs[has].astype(np.int64) * max(len(found), 1) + site_codes[has])
        n = max(len(found), 1)
        facets[name] = (found, (pairs // n).astype(np.int32), (pairs % n).astype(np.int32))
    codes["country"] = np.array(country_codes, dtype=np.int32)
    table = SiteTable(docs.astype(np.int32), lat, lon, codes)
    report = {"sites": len(rows), "named": named, "placed": int(np.count_nonzero(~np.isnan(lat)))}
    return table, facets, report
