"""Filters that hold for one site of a study, not for the study as a whole.

"Recruiting near Boston" means one site that is both recruiting and near Boston, not
a study recruiting in Houston with a completed site in Boston. So when a request
names a site's place or status (state, city, site_status, near), the country, state,
city, status and distance conditions are evaluated together over every site
(`index/sites.py`) and a study matches when one of its sites passes them all.

Facets stay drill-sideways: the city facet is counted with every condition but the
city's own, still site by site, by marking the (study, city) pairs of the sites that
pass and counting the marked pairs as the facet column counts studies.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..index.columns import Columns
from ..index.sites import SiteTable
from ..places.near import EARTH_RADIUS_KM, KM_PER_MILE, Origin

if TYPE_CHECKING:
    from .request import SearchRequest

# the facets a site carries: with a site condition, each is read site by site
SITE_FILTERS = ("country", "state", "city", "site_status")
# what names the site-level conditions (country alone stays a study-level filter)
SITE_ONLY = ("state", "city", "site_status")


@dataclass(frozen=True)
class SiteMatches:
    """The site-level conditions of one request.

    The place and status conditions are masks over every site; `near`, when given, is
    the ascending list of the sites in range (`candidates`), so that with a place every
    conjunction is taken over the few sites near it, not over two million."""

    table: SiteTable
    size: int  # documents in the generation
    conditions: dict[str, np.ndarray]  # facet name → site mask
    candidates: np.ndarray | None  # sites within the radius (ascending); None: no near
    origin: Origin | None
    radius_km: float | None
    # False when only a country is selected: the country then stays a study-level
    # filter (a page lists its first 100 sites; its countries name them all), and the
    # sites only narrow the state, city and site-status lists to that country
    restricts: bool = True

    def reads(self, name: str) -> bool:
        """Whether facet `name` is counted site by site under this request."""
        return name in SITE_ONLY or (self.restricts and name in SITE_FILTERS)

    @functools.cached_property
    def ok(self) -> np.ndarray:
        """The sites passing every condition, ascending (worked out once a request)."""
        return self._passing([*self.conditions.values()])

    def passing(self, without: str | None = None) -> np.ndarray:
        """The sites passing every condition (but `without`'s), ascending."""
        if without not in self.conditions:
            return self.ok
        return self._passing([m for name, m in self.conditions.items() if name != without])

    def _passing(self, masks: list[np.ndarray]) -> np.ndarray:
        if self.candidates is not None:  # near a place: over the sites in range only
            sites = self.candidates
            for mask in masks:
                sites = sites[mask[sites]]
            return sites
        if not masks:
            return np.arange(len(self.table))
        both = masks[0].copy()
        for mask in masks[1:]:
            both &= mask
        return np.flatnonzero(both)

    def docs(self, without: str | None = None) -> np.ndarray:
        """Studies with a site passing every condition (but `without`'s)."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.table.doc[self.passing(without)]] = True
        return mask

    def count(self, name: str, column: Any, studies: np.ndarray) -> np.ndarray:
        """Facet `name`'s counts: studies among `studies` with a site of each value that
        passes every other condition."""
        sites = self.passing(name)
        sites = sites[studies[self.table.doc[sites]]]
        pairs = self.table.pairs[name][sites]
        marked = np.zeros(len(column.docs), dtype=bool)
        marked[pairs[pairs >= 0]] = True
        return np.bincount(column.codes[marked], minlength=len(column.values))[: len(column.values)]

    def nearest(self, doc: int) -> tuple[int, float, int] | None:
        """(the site's place in the study's list, its distance in km, how many of the
        study's sites pass) for the nearest passing site of `doc`; None without near."""
        if self.origin is None:
            return None
        start, stop = int(self.table.starts[doc]), int(self.table.starts[doc + 1])
        ok = self.ok
        sites = ok[np.searchsorted(ok, start) : np.searchsorted(ok, stop)]
        if not len(sites):
            return None
        km = haversine_km(self.origin, self.table.lat[sites], self.table.lon[sites])
        best = int(np.argmin(km))
        return int(sites[best]) - start, float(km[best]), len(sites)

    def min_distance(self, docs: np.ndarray) -> np.ndarray:
        """Each document's distance to its nearest passing site (inf: none). The passing
        sites come in document order: one minimum per run of a document's sites."""
        best = np.full(self.size, np.inf)
        sites = self.ok
        if len(sites) and self.origin is not None:
            km = haversine_km(self.origin, self.table.lat[sites], self.table.lon[sites])
            owners = self.table.doc[sites]
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            best[owners[starts]] = np.minimum.reduceat(km, starts)
        return best[docs]


def haversine_km(origin: Origin, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances from `origin` (float64 throughout)."""
    h = _haversine_h(origin, lat, lon)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def _haversine_h(origin: Origin, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The haversine of the central angle to each point: sin²(d / 2R)."""
    p1 = math.radians(origin.lat)
    p2 = np.radians(lat.astype(np.float64))
    dl = np.radians(lon.astype(np.float64) - origin.lon)
    return np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2


def within(table: SiteTable, origin: Origin, radius_km: float) -> np.ndarray:
    """Sites within `radius_km` of `origin`, ascending.

    A latitude band by binary search (a degree of latitude is the same length
    everywhere), then the sites of the band whose longitude is within the widest
    longitude a circle of that radius spans at the origin's latitude — a bound, so no
    site in range is lost — then the exact distance of each remaining site."""
    angle = radius_km / EARTH_RADIUS_KM  # the radius as an angle at the Earth's centre
    reach = math.degrees(angle) + 1e-3  # a little margin for 32-bit coordinates
    band = table.band(origin.lat - reach, origin.lat + reach)
    if band.stop <= band.start:
        return np.zeros(0, dtype=np.int64)
    lat = table.lat_sorted[band]
    lon = table.lon_by_lat[band]
    cos_lat = math.cos(math.radians(origin.lat))
    if angle < math.pi / 2 and math.sin(angle) < cos_lat:  # the circle reaches no pole
        span = math.degrees(math.asin(math.sin(angle) / cos_lat)) + 1e-3
        west, east = origin.lon - span, origin.lon + span
        if -180.0 <= west and east <= 180.0:  # two comparisons of 32-bit numbers
            near_enough = np.flatnonzero((lon >= west) & (lon <= east))
        else:  # the box crosses the date line
            gap = np.abs((lon.astype(np.float64) - origin.lon + 180.0) % 360.0 - 180.0)
            near_enough = np.flatnonzero(gap <= span)
    else:
        near_enough = np.arange(len(lat))
    # d <= r exactly when the haversine's h <= sin²(r / 2R): no arcsine or root per site
    inside = _haversine_h(origin, lat[near_enough], lon[near_enough]) <= math.sin(angle / 2) ** 2
    hits = table.by_lat[band][near_enough[inside]]
    mask = np.zeros(len(table), dtype=bool)
    mask[hits] = True
    return np.flatnonzero(mask)


def _value_mask(table: SiteTable, name: str, column: Any, values: list[str]) -> np.ndarray:
    chosen = np.zeros(len(column.values) + 1, dtype=bool)  # the last: a site without a value
    for value in values:
        code = column.index.get(value)
        if code is not None:
            chosen[code] = True
    return chosen[table.codes[name]]


def match_sites(cols: Columns, req: SearchRequest) -> SiteMatches | None:
    """The request's site-level conditions; None when it has none."""
    restricts = req.near is not None or any(name in req.filters for name in SITE_ONLY)
    if not restricts and "country" not in req.filters:
        return None
    table = cols.sites
    conditions = {
        name: _value_mask(table, name, cols.facets[name], req.filters[name])
        for name in SITE_FILTERS
        if name in req.filters
    }
    candidates = radius = None
    if req.near is not None:
        radius = req.radius_km
        candidates = within(table, req.near, radius)
    return SiteMatches(table, cols.size, conditions, candidates, req.near, radius, restricts)


def nearest_site(sites: SiteMatches | None, doc: int, record: dict[str, Any]) -> dict[str, Any]:
    """What a hit says of its sites: the nearest passing one and how many pass (with
    near), and whether the page listed only its first sites."""
    out: dict[str, Any] = {}
    found = sites.nearest(doc) if sites is not None else None
    if found is not None:
        place, km, count = found
        locations = record.get("locations") or []
        site = locations[place] if place < len(locations) else {}
        out["nearest_site"] = {
            "facility": site.get("facility"),
            "city": site.get("city"),
            "state": site.get("state"),
            "country": site.get("country"),
            "status": site.get("status"),
            "distance_km": round(km, 1),
            "distance_mi": round(km / KM_PER_MILE, 1),
        }
        out["sites_in_radius"] = count
    return out
