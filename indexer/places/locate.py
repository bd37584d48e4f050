"""Placing a listed site ("Facility, City, State, Country") on the map.

A site's city is looked up among the places of its country; when several places
share the name, the one in the site's state or region wins (Portland, Oregon is not
Portland, Maine), then a place whose own name it is over one that only has it as
an alternate name, then the larger place. Names that GeoNames writes otherwise are
tried in a few plainer forms ("Shinjuku-ku" as Shinjuku, "Quezon City" as Quezon,
"75010 Paris" as Paris). A site that still cannot be placed keeps its text and is
counted as unplaced.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from .gazetteer import Gazetteer
from .names import CITY_ALIASES, fold

# endings that name an administrative kind rather than the place (Japanese wards and
# cities, Korean districts, "City", "Township"…)
_SUFFIXES = re.compile(
    r"(?:[- ](?:ku|shi|si|gu|gun|machi|cho|city|town|township|municipality|district|"
    r"province|prefecture|county))+$"
)
# a city this large is taken even when the site names another region for it
OUT_OF_REGION_POPULATION = 100_000
_DIGITS = re.compile(r"\b[0-9][0-9 -]*\b")
# French postal "Cedex", and a district letter ("Aarhus N", "Odense C")
_POSTAL = re.compile(r"(?: cedex(?: [0-9]+)?| [a-z])$")
_BRACKETS = re.compile(r"\([^)]*\)")
_POSTAL_CODE = re.compile(r"[A-Z]{0,2}[0-9][0-9A-Z -]{1,9}", re.IGNORECASE)
# what a facility's name has and a town's has not
_FACILITY_WORDS = re.compile(
    r"(?i)\b(?:hosp|hospital|hôpital|clinic|clinique|klinik|center|centre|centro|"
    r"institute?|instituto|univ|university|universit|dept|department|research|program|"
    r"service|unit|faculty|school|medical|health|crs|site|office|laborator)|[0-9.]"
)


def name_forms(city: str) -> Iterator[str]:
    """The city as written, then plainer forms of it, each once (made only when the
    ones before were not found: most cities are found as written)."""
    first = fold(city)
    if first:
        yield first
    seen: set[str] = {first}
    forms = [city, _BRACKETS.sub(" ", city), _DIGITS.sub(" ", city)]
    for separator in ("/", ",", " - ", "("):
        if separator in city:
            forms.extend(city.split(separator))
    for form in list(forms):
        folded = _POSTAL.sub("", fold(form))
        forms.extend((folded, _SUFFIXES.sub("", folded)))
    words = fold(city).split()
    if len(words) > 1:  # "Torquay Devon", "Elkton MD": a place and its county or state
        forms.append(" ".join(words[:-1]))
    for form in forms:
        folded = fold(form)
        if folded and folded not in seen:
            seen.add(folded)
            yield folded


def _in_region(g: Gazetteer, place: int, state: str | None, country_code: str | None) -> bool:
    if not state:
        return False
    region = g.region_of(place)
    return region >= 0 and region in g.regions_named(state, country_code)


def locate_site(
    g: Gazetteer, city: str | None, state: str | None, country: str | None
) -> int | None:
    """The gazetteer place of a site, or None when it cannot be placed."""
    country_code = g.country_code(country)
    if country_code is None:
        return None  # a site of no known country is not guessed at across the world
    known_region = bool(state) and bool(g.regions_named(state, country_code))
    alias = CITY_ALIASES.get((country_code, fold(city))) if city else None
    forms = name_forms(city) if city else iter(())
    if alias is not None:
        forms = itertools.chain((alias,), forms)
    for attempt, name in enumerate(forms):
        found = g.candidates(name, country_code)
        if known_region and not (alias is not None and attempt == 0):
            # in the site's own region, or a city large enough that a region written
            # otherwise is likelier (Hyderabad, "Andhra Pradesh"; Bogotá, "Cundinamarca")
            # than a namesake: Wynnewood, Pennsylvania is not the Wynnewood of Oklahoma
            found = [
                item for item in found
                if _in_region(g, item[0], state, country_code)
                or g.population(item[0]) >= OUT_OF_REGION_POPULATION
            ]  # fmt: skip
        if found:
            return min(
                found,
                key=lambda item: (
                    not _in_region(g, item[0], state, country_code),
                    not item[1],
                    item[0],
                ),
            )[0]
    # "Hong Kong, China": a city that is a country of its own in GeoNames
    own_country = g.country_code(city)
    if own_country is not None and own_country != country_code:
        found = g.candidates(city or "", own_country)
        if found:
            return found[0][0]
    return None


class SiteLocator:
    """`locate_site` with a memory of the (city, state, country) already placed: a build
    places millions of sites but only tens of thousands of distinct cities."""

    def __init__(self, g: Gazetteer) -> None:
        self.g = g
        self._known: dict[tuple[str | None, str | None, str | None], int | None] = {}

    def __call__(self, city: str | None, state: str | None, country: str | None) -> int | None:
        key = (city, state, country)
        if key not in self._known:
            self._known[key] = locate_site(self.g, city, state, country)
        return self._known[key]


def read_site_parts(
    g: Gazetteer, parts: list[str], country: str | None
) -> tuple[str | None, str | None, str | None]:
    """(facility, city, state) of a site line's parts before its country.

    The line is "Facility, City, State", but facilities hold commas and many sites
    have no state: "Department of Ophthalmology, Malmo University Hospital, Malmo" is
    a facility in Malmo, not a city "Malmo University Hospital" in a state "Malmo".
    The last part is read as the state only when it is one of the country's regions
    (or when it is not a place there either); "Hubei" is a state, "Malmo" a city.
    """
    # a postal code written after the state ("…, Boston, Massachusetts, 02114")
    while parts and _POSTAL_CODE.fullmatch(parts[-1]):
        parts = parts[:-1]
    if not parts:
        return None, None, None
    code = g.country_code(country)
    if len(parts) == 1:
        # "Barcelona, Spain": a city alone; "Hospital Clínic, Spain": a facility alone
        if code is not None and g.candidates(parts[0], code):
            return None, parts[0], None
        return parts[0], None, None
    last, before = parts[-1], parts[-2]
    last_is_region = code is not None and bool(g.regions_named(last, code))
    if len(parts) == 2:
        # "City, State" without a facility: "Boston, Massachusetts", "München, Bayern"
        if code is not None and g.candidates(before, code):
            if last_is_region or not g.candidates(last, code):
                return None, before, last
        return before, last, None
    if code is None:
        return ", ".join(parts[:-2]), before, last
    before_is_place = bool(g.candidates(before, code))
    if last_is_region:
        # a place named as its own region is its capital (Mbeya in Mbeya region), not a
        # town elsewhere that shares a state's name (California, Pennsylvania)
        regions = set(g.regions_named(last, code))
        last_is_place = any(g.region_of(n) in regions for n, _ in g.candidates(last, code))
    else:
        last_is_place = bool(g.candidates(last, code))
    # "…, Boston, Massachusetts" and "…, Bangkok, Ratchathewi": a city, then its region
    if before_is_place and (last_is_region or not last_is_place):
        return ", ".join(parts[:-2]), before, last
    if last_is_region and (not last_is_place or not _FACILITY_WORDS.search(before)):
        # "Fleurimont, Quebec": an unknown town in a region named like its capital
        return ", ".join(parts[:-2]), before, last
    # "Mbeya Referral Hosp., Mbeya" (a region and its city), "Dept. of Peds., Bayamon":
    # the facility's own commas, then the city
    return ", ".join(parts[:-1]), last, None
