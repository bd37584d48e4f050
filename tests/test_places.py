"""The offline gazetteer: placing listed sites, reading a site line's parts, and reading
the places and distances people type into near= and radius=."""

from __future__ import annotations

import pytest

from indexer.errors import ParamError
from indexer.places.gazetteer import gazetteer
from indexer.places.locate import locate_site, name_forms, read_site_parts
from indexer.places.names import fold
from indexer.places.near import distance_km, read_place, read_radius


@pytest.fixture(scope="module")
def g():
    return gazetteer()


def place_of(g, city, state, country):
    number = locate_site(g, city, state, country)
    return None if number is None else g.place(number)


def test_names_are_compared_folded():
    assert fold("St. Louis") == fold("Saint Louis") == "saint louis"
    assert fold("Münster") == fold("Munster")
    assert fold("Sjögren") == "sjogren"
    assert fold("Korea, Republic of") == "korea republic of"
    assert fold("  Ft.  Worth ") == "fort worth"


@pytest.mark.parametrize(
    "site, name, region, country",
    [
        (("Portland", "Oregon", "United States"), "Portland", "Oregon", "US"),
        (("Portland", "Maine", "United States"), "Portland", "Maine", "US"),
        (("Springfield", "Illinois", "United States"), "Springfield", "Illinois", "US"),
        (("St Louis", "Missouri", "United States"), "St. Louis", "Missouri", "US"),
        (("Mt. Vernon", "New York", "United States"), "Mount Vernon", "New York", "US"),
        (("Seoul", None, "Korea, Republic of"), "Seoul", "Seoul", "KR"),
        (("Moscow", None, "Russian Federation"), "Moscow", "Moscow", "RU"),
        (("Istanbul", None, "Turkey (Türkiye)"), "Istanbul", "Istanbul", "TR"),
        (("Den Haag", "Zuid-Holland", "Netherlands"), "The Hague", "South Holland", "NL"),
        (("Frankfurt", None, "Germany"), "Frankfurt am Main", "Hesse", "DE"),
        (("Paris Cedex 10", None, "France"), "Paris", "Île-de-France", "FR"),
        (("Aarhus N", None, "Denmark"), "Århus", "Central Jutland", "DK"),
        (("Shinjuku-ku", "Tokyo", "Japan"), "Shinjuku", "Tokyo", "JP"),
        (("München", None, "Germany"), "Munich", "Bavaria", "DE"),
        (("Hong Kong", None, "China"), "Hong Kong", None, "HK"),
    ],
)
def test_a_site_is_placed_in_its_country_and_region(g, site, name, region, country):
    place = place_of(g, *site)
    assert place is not None, site
    assert (place.name, place.country_code) == (name, country)
    if region:
        assert place.region == region


def test_the_region_decides_between_namesakes(g):
    oregon = place_of(g, "Portland", "Oregon", "United States")
    maine = place_of(g, "Portland", "Maine", "United States")
    assert distance_km(oregon.lat, oregon.lon, maine.lat, maine.lon) > 4000
    # without a region, the larger namesake
    assert place_of(g, "Portland", None, "United States").region == "Oregon"


def test_sites_that_cannot_be_placed_are_left_unplaced(g):
    assert locate_site(g, "Kanagawa", None, "Japan") is None  # a prefecture, not a city
    assert locate_site(g, "Boston", "Massachusetts", "Narnia") is None  # no such country
    assert locate_site(g, None, None, "France") is None
    # a plainer form of the name must lie in the site's region: no guess elsewhere
    assert locate_site(g, "Panorama Heights", "California", "United States") is None


def test_bases_and_districts_are_placed_at_the_city_that_holds_them(g):
    travis = place_of(g, "Travis Air Force Base", "California", "United States")
    assert (travis.name, travis.region) == ("Fairfield", "California")
    assert place_of(g, "CABA", None, "Argentina").name == "Buenos Aires"


def test_plainer_forms_of_a_city_name_are_tried_in_order():
    forms = list(name_forms("Lyon Cedex 03"))
    assert forms[0] == "lyon cedex 03" and "lyon" in forms
    assert "shinjuku" in name_forms("Shinjuku-ku")
    assert "quezon" in name_forms("Quezon City")


@pytest.mark.parametrize(
    "parts, country, expected",
    [
        (["Mayo Clinic", "Rochester", "Minnesota"], "United States",
         ("Mayo Clinic", "Rochester", "Minnesota")),
        (["Dept. of Ophthalmology", "Malmo University Hospital", "Malmo"], "Sweden",
         ("Dept. of Ophthalmology, Malmo University Hospital", "Malmo", None)),
        (["Mbeya Med. Research Program", "Mbeya Referral Hosp. CRS", "Mbeya"], "Tanzania",
         ("Mbeya Med. Research Program, Mbeya Referral Hosp. CRS", "Mbeya", None)),
        (["David Grant Medical Center", "Travis Air Force Base", "California"],
         "United States", ("David Grant Medical Center", "Travis Air Force Base", "California")),
        (["CHUS-Hopital Fleurimont", "Fleurimont", "Quebec"], "Canada",
         ("CHUS-Hopital Fleurimont", "Fleurimont", "Quebec")),
        (["Boston", "Massachusetts"], "United States", (None, "Boston", "Massachusetts")),
        (["Karolinska University Hospital", "Stockholm"], "Sweden",
         ("Karolinska University Hospital", "Stockholm", None)),
        (["Barcelona"], "Spain", (None, "Barcelona", None)),
        (["Hospital Clinic"], "Spain", ("Hospital Clinic", None, None)),
    ],
)  # fmt: skip
def test_a_site_lines_parts_are_read_as_facility_city_and_state(g, parts, country, expected):
    assert read_site_parts(g, parts, country) == expected


@pytest.mark.parametrize(
    "text, name, region, country, precision",
    [
        ("Boston", "Boston", "Massachusetts", "United States", "city"),
        ("Boston, MA", "Boston", "Massachusetts", "United States", "city"),
        ("boston,  massachusetts", "Boston", "Massachusetts", "United States", "city"),
        ("Portland, Oregon", "Portland", "Oregon", "United States", "city"),
        ("Portland, ME", "Portland", "Maine", "United States", "city"),
        ("Wuhan, China", "Wuhan", "Hubei", "China", "city"),
        ("Paris", "Paris", "Île-de-France", "France", "city"),
        ("München", "Munich", "Bavaria", "Germany", "city"),
        ("Cambridge, UK", "Cambridge", "England", "United Kingdom", "city"),
        # a state that is also a country, a state code that is also a country's code
        ("Atlanta, Georgia", "Atlanta", "Georgia", "United States", "city"),
        ("Tbilisi, Georgia", "Tbilisi", "Tbilisi", "Georgia", "city"),
        ("San Diego, CA", "San Diego", "California", "United States", "city"),
        ("Atlanta, Georgia, United States", "Atlanta", "Georgia", "United States", "city"),
        ("Seoul, South Korea", "Seoul", "Seoul", "South Korea", "city"),
        ("02115", "Boston", "MA", "United States", "postal_code"),
        ("02115-1234", "Boston", "MA", "United States", "postal_code"),
    ],
)
def test_near_reads_cities_and_zip_codes(text, name, region, country, precision):
    origin = read_place(text)
    assert (origin.name, origin.region, origin.country, origin.precision) == (
        name, region, country, precision,
    )  # fmt: skip
    assert origin.query == " ".join(text.split())


def test_near_reads_coordinates_as_given():
    origin = read_place("42.3601, -71.0589")
    assert (origin.lat, origin.lon, origin.precision) == (42.3601, -71.0589, "coordinates")


def test_an_ambiguous_place_lists_the_namesakes_with_their_regions():
    with pytest.raises(ParamError) as caught:
        read_place("Portland")
    assert caught.value.code == "ambiguous_place"
    assert caught.value.param == "near"
    assert caught.value.allowed[:2] == [
        "Portland, Oregon, United States",
        "Portland, Maine, United States",
    ]


def test_an_unknown_place_lists_the_closest_known_places():
    with pytest.raises(ParamError) as caught:
        read_place("Bostn")
    assert caught.value.code == "unknown_place"
    assert "Boston, Massachusetts, United States" in caught.value.allowed


@pytest.mark.parametrize(
    "text, says",
    [
        ("Bavaria", "state=Bavaria"),
        ("Boston, Narnia", "neither a country nor a state"),
        ("91.0,10.0", "latitude"),
        ("10.0,181", "longitude"),
        ("99999", "not a known US ZIP code"),
        ("!!!", "names no place"),
    ],
)
def test_what_is_not_a_place_is_refused_with_the_reason(text, says):
    with pytest.raises(ParamError) as caught:
        read_place(text)
    assert caught.value.code == "unknown_place"
    assert says in caught.value.message
    assert caught.value.allowed


@pytest.mark.parametrize(
    "text, km",
    [
        ("50mi", 80.467),
        ("50 mi", 80.467),
        ("80km", 80.0),
        ("80 KM", 80.0),
        ("25", 40.234),
        ("500mi", 804.672),
        ("804km", 804.0),
        ("0.5mi", 0.805),
    ],
)
def test_a_radius_is_miles_or_kilometres(text, km):
    assert read_radius(text) == pytest.approx(km, abs=1e-3)


@pytest.mark.parametrize("text", ["0mi", "501mi", "900km", "-5mi", "1e3", "50 miles away", "５0mi"])
def test_a_radius_outside_the_forms_or_limits_is_refused(text):
    with pytest.raises(ParamError) as caught:
        read_radius(text)
    assert caught.value.code == "invalid_radius"
    assert caught.value.allowed


def test_the_gazetteer_is_compiled_once_and_shared(g, tmp_path, monkeypatch):
    assert g is gazetteer()
    assert g.size > 200_000
    assert g.country_code("Korea, Republic of") == "KR"
    assert g.country_code("Turkey (Türkiye)") == "TR"
    assert g.country_code("Côte D'Ivoire") == "CI"


def test_a_postal_code_after_the_state_is_not_read_as_the_city(g):
    parts = ["Massachusetts General Hospital", "Boston", "Massachusetts", "02114"]
    assert read_site_parts(g, parts, "United States") == (
        "Massachusetts General Hospital", "Boston", "Massachusetts",
    )  # fmt: skip
    assert read_site_parts(g, ["München", "Bayern"], "Germany") == (None, "München", "Bayern")


def test_distance_search_is_exact_across_the_antimeridian_and_near_the_poles():
    """The latitude band and the longitude bound only skip sites that cannot be in
    range: 20,000 random sites, origins at the date line and by the poles."""
    import numpy as np

    from indexer.index.sites import SiteTable
    from indexer.places.near import Origin
    from indexer.search.site_matching import within

    rng = np.random.default_rng(7)
    n = 20_000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n))).astype(np.float32)
    lon = rng.uniform(-180, 180, n).astype(np.float32)
    codes = {name: np.full(n, -1, np.int32) for name in ("state", "city", "site_status")}
    codes["country"] = codes["city"]
    table = SiteTable(np.arange(n, dtype=np.int32), lat, lon, codes, pairs=dict(codes))
    table.finish(n, {})
    for o_lat, o_lon in [(0, 179.9), (0, -179.9), (84, 10), (-89.5, 0), (45, -120), (60, 180)]:
        origin = Origin("x", None, None, None, o_lat, o_lon, "coordinates")
        for km in (10, 80.5, 500, 804.7):
            expected = [
                i for i in range(n)
                if distance_km(o_lat, o_lon, float(lat[i]), float(lon[i])) <= km
            ]  # fmt: skip
            assert within(table, origin, km).tolist() == expected, (o_lat, o_lon, km)
