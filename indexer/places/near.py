"""Reading `near=` and `radius=` as a person or an agent writes them.

A place is a city ("Boston", "Boston, MA", "Portland, Oregon", "Wuhan, China"), a
US ZIP code ("02115", from the `zipcodes` package's offline table) or "lat,lon".
A name that several well-known places share ("Portland": Oregon's 650,000 people
against Maine's 67,000, within a factor of ten) is ambiguous and refused with the
candidates listed, as is a name the gazetteer does not know (with the closest
names it does). A much larger namesake wins ("Paris" is Paris, France; "Boston" is
Boston, Massachusetts); a region or country after a comma narrows it.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ParamError
from .gazetteer import Gazetteer, Place, gazetteer
from .names import fold

KM_PER_MILE = 1.609344
EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_MILES = 500.0
DEFAULT_RADIUS = "50mi"
# a namesake at least this share of the largest place's population makes a name ambiguous
AMBIGUOUS_SHARE = 0.1
_COORDINATES = re.compile(r"(-?[0-9]{1,3}(?:\.[0-9]{1,8})?)\s*,\s*(-?[0-9]{1,3}(?:\.[0-9]{1,8})?)")
_ZIP = re.compile(r"([0-9]{5})(?:-[0-9]{4})?")
_RADIUS = re.compile(
    r"([0-9]{1,4}(?:\.[0-9]{1,3})?)\s*(mi|mile|miles|km|kms|kilometers|kilometres)?",
    re.IGNORECASE,
)
RADIUS_JSON_PATTERN = r"^[0-9]{1,4}(\.[0-9]{1,3})?\s*(mi|mile|miles|km|kms|kilometers|kilometres)?$"
PLACE_FORMS = (
    'a city ("Boston", "Boston, MA", "Portland, Oregon", "Wuhan, China")',
    'a US ZIP code ("02115")',
    'coordinates "lat,lon" ("42.36,-71.06")',
)
RADIUS_FORMS = ("50mi", "80km", f"up to {MAX_RADIUS_MILES:g} mi (804.7 km)")


@dataclass(frozen=True)
class Origin:
    """Where a search is centred, and how `near=` was read."""

    query: str
    name: str | None
    region: str | None
    country: str | None
    lat: float
    lon: float
    precision: str  # city, postal_code or coordinates

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _refuse(code: str, message: str, allowed: list[str]) -> ParamError:
    return ParamError(code, message, "near", allowed=allowed)


def read_radius(text: str | None) -> float:
    """Kilometres from "50mi", "80 km", "25" (miles): at most 500 miles."""
    raw = (text or DEFAULT_RADIUS).strip()
    match = _RADIUS.fullmatch(raw)
    if match is None:
        raise ParamError(
            "invalid_radius",
            f"radius '{raw}' is not a distance like 50mi or 80km",
            "radius",
            allowed=list(RADIUS_FORMS),
        )
    value = float(match.group(1))
    unit = (match.group(2) or "mi").lower()
    km = value if unit.startswith("k") else value * KM_PER_MILE
    if not 0 < km <= MAX_RADIUS_MILES * KM_PER_MILE + 1e-9:
        raise ParamError(
            "invalid_radius",
            f"radius must be above 0 and at most {MAX_RADIUS_MILES:g} mi (804.7 km)",
            "radius",
            allowed=list(RADIUS_FORMS),
        )
    return km


def read_place(text: str, g: Gazetteer | None = None) -> Origin:
    """The origin `text` names, or a ParamError listing the forms or the candidates."""
    query = " ".join(text.split())
    coordinates = _COORDINATES.fullmatch(query)
    if coordinates is not None:
        lat, lon = float(coordinates.group(1)), float(coordinates.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _refuse(
                "unknown_place", "coordinates must be a latitude in [-90, 90], a longitude "
                "in [-180, 180]", list(PLACE_FORMS),
            )  # fmt: skip
        return Origin(query, None, None, None, lat, lon, "coordinates")
    if _ZIP.fullmatch(query):
        return _zip_code(query)
    if not fold(query):
        raise _refuse("unknown_place", f"'{query}' names no place", list(PLACE_FORMS))
    return _city(query, g or gazetteer())


def _zip_code(query: str) -> Origin:
    import zipcodes

    found = zipcodes.matching(query[:5])
    if not found or not found[0].get("lat"):
        raise _refuse("unknown_place", f"'{query}' is not a known US ZIP code", list(PLACE_FORMS))
    row = found[0]
    return Origin(
        query, row.get("city"), row.get("state"), "United States",
        float(row["lat"]), float(row["long"]), "postal_code",
    )  # fmt: skip


def _city(query: str, g: Gazetteer) -> Origin:
    name, *qualifiers = [part.strip() for part in query.split(",") if part.strip()]
    found: list[tuple[int, bool]] = []
    for country_code, regions in _readings(g, qualifiers):
        found = g.candidates(name, country_code)
        if regions is not None:
            found = [item for item in found if g.region_of(item[0]) in regions]
        if found:
            break
    own = [number for number, primary in found if primary]
    places = _distinct([g.place(n) for n in (own or [n for n, _ in found])])
    if not places and not qualifiers and g.regions_named(name):
        raise _refuse(
            "unknown_place",
            f"'{name}' is a state or region, not a city: filter by it with state={name}, "
            "or name a city in it",
            list(PLACE_FORMS),
        )
    if not places:
        close = _close_places(g, name)
        raise _refuse(
            "unknown_place",
            f"no place named '{query}' is known"
            + (f"; close: {'; '.join(close)}" if close else ""),
            close or list(PLACE_FORMS),
        )
    best = places[0]
    rivals = [p for p in places[1:] if p.population >= AMBIGUOUS_SHARE * max(best.population, 1)]
    if rivals:
        labels = [p.label() for p in [best, *rivals][:8]]
        raise _refuse(
            "ambiguous_place",
            f"'{query}' names several places; add a state or country: {'; '.join(labels)}",
            labels,
        )
    return Origin(query, best.name, best.region, best.country, best.lat, best.lon, "city")


def _readings(g: Gazetteer, qualifiers: list[str]) -> list[tuple[str | None, list[int] | None]]:
    """Every way the parts after the city can be read, a region first: (country code,
    regions). "Georgia" is a US state and a country, "CA" California and Canada's
    code: `_city` takes the first reading under which the city exists."""
    readings: list[tuple[str | None, list[int] | None]] = [(None, None)]
    for qualifier in reversed(qualifiers):
        grown = []
        for country_code, regions in readings:
            named = g.regions_named(qualifier, country_code)
            if named and regions is None:
                grown.append((country_code, named))
            code = g.country_code(qualifier)
            if code is not None and country_code is None and regions is None:
                grown.append((code, None))
        if not grown:
            raise _refuse(
                "unknown_place",
                f"'{qualifier}' is neither a country nor a state or region that the "
                "gazetteer knows",
                list(PLACE_FORMS),
            )
        readings = grown
    return readings


def _distinct(places: list[Place]) -> list[Place]:
    """One entry per town: GeoNames lists some cities twice (the city and a seat of the
    same name nearby)."""
    kept: list[Place] = []
    for place in places:
        if not any(
            p.country_code == place.country_code and distance_km(p.lat, p.lon, place.lat, place.lon)
            < 25 for p in kept
        ):  # fmt: skip
            kept.append(place)
    return kept


def _close_places(g: Gazetteer, name: str, limit: int = 5) -> list[str]:
    folded = fold(name)
    close = difflib.get_close_matches(folded, g.common_names(folded), n=limit, cutoff=0.75)
    out: list[str] = []
    for match in close:
        own = [number for number, primary in g.candidates(match) if primary]
        label = g.place(own[0]).label() if own else None
        if label is not None and label not in out:
            out.append(label)
    return out


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
