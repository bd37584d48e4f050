"""Every listed site of every study as arrays: where it is, its status, its place names.

A study lists up to 100 sites; at 560,000 studies that is about two million. Each
document carries its sites in a small column (`sites`: city, state, country and
status per site, in the page's order); when a generation is published they are read
once, placed with the offline gazetteer, and saved as flat arrays beside the
generation (`sites.*.npy`, memory-mapped by every worker). A distance search is then
a latitude band cut from a sorted copy and an exact haversine over the band, and "a
site with this status in this place" is one mask over the sites — exact, never a
bounding box alone.

The `state`, `city` and `site_status` facets come from the same arrays: a study has
a value when one of its sites has it. `city` values carry their state ("Portland,
Oregon"), or stand alone where the page gives none, so namesakes stay apart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import read_json_object, write_atomic, write_json_atomic
from ..pages.record import Location

log = logging.getLogger(__name__)

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
    site's value code in that facet's column (-1: none); `pairs[name]` its place among
    that column's (document, value) pairs (-1: none), for counting a facet site by
    site. `by_lat` orders the placed sites by latitude (`lat_sorted`, `lon_by_lat`
    their coordinates in that order, so a band is read as two contiguous slices);
    `starts[d]` is document d's first site.
    """

    doc: np.ndarray  # int32
    lat: np.ndarray  # float32, NaN: unplaced
    lon: np.ndarray
    codes: dict[str, np.ndarray]  # "state", "city", "site_status", "country" -> int32
    pairs: dict[str, np.ndarray] = field(default_factory=dict)
    starts: np.ndarray | None = None
    by_lat: np.ndarray | None = None
    lat_sorted: np.ndarray | None = None
    lon_by_lat: np.ndarray | None = None

    def finish(self, size: int, facets: dict[str, Any]) -> None:
        """The lookups derived from the arrays (saved with them; made here for a
        generation written before they were)."""
        if self.starts is None or len(self.starts) != size + 1:
            self.starts = np.searchsorted(self.doc, np.arange(size + 1)).astype(np.int64)
        if self.by_lat is None or self.lat_sorted is None:
            placed = np.flatnonzero(~np.isnan(self.lat))
            self.by_lat = placed[np.argsort(self.lat[placed], kind="stable")].astype(np.int32)
            self.lat_sorted = self.lat[self.by_lat]
            self.lon_by_lat = None
        if self.lon_by_lat is None:
            self.lon_by_lat = self.lon[self.by_lat]
        for name in self.codes:
            if name not in self.pairs:
                self.pairs[name] = _pair_index(self.doc, self.codes[name], facets[name])

    def __len__(self) -> int:
        return len(self.doc)

    def band(self, low: float, high: float) -> slice:
        """Where the placed sites with latitude in [low, high] are in `by_lat` order."""
        lo = int(np.searchsorted(self.lat_sorted, low, side="left"))
        hi = int(np.searchsorted(self.lat_sorted, high, side="right"))
        return slice(lo, hi)

    def save(self, directory: Path, report: dict[str, int]) -> None:
        """One .npy file per array beside the generation: workers map them, so the
        page cache holds one copy for all of them (two million sites: ~100 MB)."""
        for name, array in self._arrays().items():
            write_atomic(directory / f"sites.{name}.npy", lambda h, a=array: np.save(h, a))
        write_json_atomic(directory / SITES_REPORT, report)

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {"doc": self.doc, "lat": self.lat, "lon": self.lon, "starts": self.starts,
                  "by_lat": self.by_lat, "lat_sorted": self.lat_sorted,
                  "lon_by_lat": self.lon_by_lat}  # fmt: skip
        arrays.update({f"code.{name}": codes for name, codes in self.codes.items()})
        arrays.update({f"pairs.{name}": pairs for name, pairs in self.pairs.items()})
        return arrays


SITES_REPORT = "sites.json"
_SAVED = ("doc", "lat", "lon", "starts", "by_lat", "lat_sorted")


def load_table(directory: Path, size: int) -> tuple[SiteTable, dict[str, int]] | None:
    """The saved arrays of a generation, memory-mapped; None when absent or stale."""
    try:
        arrays = {
            name: np.load(directory / f"sites.{name}.npy", mmap_mode="r")
            for name in (*_SAVED, *(f"{kind}.{n}" for kind in ("code", "pairs")
                                    for n in (*SITE_FACETS, "country")))
        }  # fmt: skip
        report = read_json_object(directory / SITES_REPORT)
    except (OSError, ValueError):
        return None
    if len(arrays["starts"]) != size + 1 or not report:
        return None
    names = (*SITE_FACETS, "country")
    table = SiteTable(
        arrays["doc"], arrays["lat"], arrays["lon"],
        {n: arrays[f"code.{n}"] for n in names}, {n: arrays[f"pairs.{n}"] for n in names},
        arrays["starts"], arrays["by_lat"], arrays["lat_sorted"],
    )  # fmt: skip
    try:  # not saved by the first schema-6 builds: made then in this worker
        table.lon_by_lat = np.load(directory / "sites.lon_by_lat.npy", mmap_mode="r")
    except (OSError, ValueError):
        table.lon_by_lat = table.lon[table.by_lat]
    return table, report


def _pair_index(docs: np.ndarray, codes: np.ndarray, column: Any) -> np.ndarray:
    """Each site's place in `column`'s (document, value) pairs, -1 when absent."""
    n = max(len(column.values), 1)
    pair_keys = column.docs.astype(np.int64) * n + column.codes
    if len(pair_keys) < 2 or bool(np.all(pair_keys[1:] >= pair_keys[:-1])):
        order = np.arange(len(pair_keys))  # already in order (documents, then values)
    else:
        order = np.argsort(pair_keys, kind="stable")
    sorted_keys = pair_keys[order]
    site_keys = docs.astype(np.int64) * n + np.maximum(codes, 0)
    if not len(sorted_keys):
        return np.full(len(docs), -1, dtype=np.int32)
    at = np.minimum(np.searchsorted(sorted_keys, site_keys), len(sorted_keys) - 1)
    found = (codes >= 0) & (sorted_keys[at] == site_keys)
    return np.where(found, order[at], -1).astype(np.int32)


def empty_table() -> SiteTable:
    none = np.zeros(0, dtype=np.int32)
    return SiteTable(
        none, np.zeros(0, np.float32), np.zeros(0, np.float32),
        {name: none for name in (*SITE_FACETS, "country")},
    )  # fmt: skip


def build_site_table(
    docs: np.ndarray,
    line_ids: np.ndarray,
    lines: list[list[Any]],
    live: np.ndarray,
    country_column: Any,
) -> tuple[SiteTable, dict[str, tuple[list[str], np.ndarray, np.ndarray]], dict[str, int]]:
    """The site arrays, the state/city/site_status facets' (values, docs, codes) and
    what placing them found (`sites`, `named`: with a city, `placed`), from each
    site's document and distinct line (site_lines.py). Two million sites are a few
    tens of thousands of distinct lines: each is placed and coded once, then
    gathered with numpy."""
    from ..places.gazetteer import gazetteer
    from ..places.locate import SiteLocator

    keep = live[docs] if len(docs) else np.zeros(0, dtype=bool)
    docs = docs[keep]
    row_of = line_ids[keep]
    distinct = [tuple(line) for line in lines]
    locate = SiteLocator(gazetteer())
    g = locate.g
    places = np.full(len(distinct), -1, dtype=np.int64)
    values: dict[str, dict[str, int]] = {name: {} for name in SITE_FACETS}
    raw_codes: dict[str, list[int]] = {name: [] for name in SITE_FACETS}
    country_codes: list[int] = []
    has_city = np.zeros(len(distinct), dtype=bool)
    for i, (city, state, country, status) in enumerate(distinct):
        if city:
            has_city[i] = True
            place = locate(city, state, country)
            if place is not None:
                places[i] = place
        for name, value in (
            ("state", state),
            ("city", city_value(city, state)),
            ("site_status", status),
        ):
            raw_codes[name].append(
                values[name].setdefault(value, len(values[name])) if value else _NO_VALUE
            )
        country_codes.append(country_column.index.get(country, _NO_VALUE) if country else _NO_VALUE)
    placed = places >= 0
    lat_of = np.where(placed, g.arrays["lat"][np.maximum(places, 0)], np.nan).astype(np.float32)
    lon_of = np.where(placed, g.arrays["lon"][np.maximum(places, 0)], np.nan).astype(np.float32)
    lat, lon = lat_of[row_of], lon_of[row_of]
    named = int(has_city[row_of].sum())
    codes: dict[str, np.ndarray] = {}
    facets: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for name in SITE_FACETS:
        # facet values sorted, as a column built from index terms has them
        found = sorted(values[name])
        renumber = np.full(len(values[name]) + 1, _NO_VALUE, dtype=np.int32)
        for new, value in enumerate(found):
            renumber[values[name][value]] = new
        # a line without a value has code -1, which renumber's last entry maps to -1
        line_codes = renumber[np.array(raw_codes[name], dtype=np.int64)]
        site_codes = line_codes[row_of] if len(row_of) else np.zeros(0, dtype=np.int32)
        codes[name] = site_codes.astype(np.int32)
        has = site_codes >= 0
        n = max(len(found), 1)
        # distinct (study, value) pairs: a sort and a comparison (np.unique hashed them,
        # 0.8 s a facet at two million sites)
        pairs = np.sort(docs[has].astype(np.int64) * n + site_codes[has])
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        facets[name] = (found, (pairs // n).astype(np.int32), (pairs % n).astype(np.int32))
    codes["country"] = np.array(country_codes, dtype=np.int32)[row_of]
    table = SiteTable(docs.astype(np.int32), lat, lon, codes)
    report = {"sites": len(row_of), "named": named, "placed": int(np.count_nonzero(~np.isnan(lat)))}
    return table, facets, report
