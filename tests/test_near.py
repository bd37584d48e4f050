"""Trials near a place, over real gunicorn and 2,000 real studies: what near=, radius=,
the site filters and their facets answer equals a brute-force scan over every listed
site of every study, placed with the same gazetteer and measured with plain math."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
import requests

from indexer.pages.parse import parse_page
from indexer.places.gazetteer import gazetteer
from indexer.places.locate import SiteLocator
from indexer.places.near import KM_PER_MILE, read_place, read_radius

pytestmark = [pytest.mark.realdata, pytest.mark.server]

EARTH_KM = 6371.0088


def f32(value: float) -> float:
    """The index keeps coordinates as 32-bit floats: the scan uses the same numbers."""
    import numpy as np

    return float(np.float32(value))


def haversine(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


@pytest.fixture(scope="module")
def studies(real_pages: Path) -> dict[str, list[dict]]:
    """Every study's listed sites as the reindex reads them, each placed or not."""
    g = gazetteer()
    locate = SiteLocator(g)
    out = {}
    for path in sorted(real_pages.glob("*.md")):
        record = parse_page(path.read_text(encoding="utf-8"))
        sites = []
        for loc in record.locations:
            number = locate(loc.city, loc.state, loc.country) if loc.city else None
            lat, lon = g.coordinates(number) if number is not None else (None, None)
            sites.append(
                {
                    "facility": loc.facility, "city": loc.city, "state": loc.state,
                    "country": loc.country, "status": loc.status,
                    "lat": None if lat is None else f32(lat),
                    "lon": None if lon is None else f32(lon),
                }
            )  # fmt: skip
        out[record.nct_id] = sites
    return out


@pytest.fixture(scope="module")
def server(real_index, start_server):
    return start_server(real_index)


def passing(sites, origin, km, statuses=None, states=None):
    """The sites within km of origin (with the given statuses/states), with distances."""
    found = []
    for i, site in enumerate(sites):
        if site["lat"] is None:
            continue
        if statuses is not None and site["status"] not in statuses:
            continue
        if states is not None and site["state"] not in states:
            continue
        d = haversine(origin.lat, origin.lon, site["lat"], site["lon"])
        if d <= km:
            found.append((d, i))
    return found


def all_matches(server, params) -> list[str]:
    response = server.get("/api/search.jsonl", params={**params, "fields": "nct_id"})
    assert response.status_code == 200, response.text
    return sorted(json.loads(line)["nct_id"] for line in response.text.splitlines() if line)


def cases(studies) -> list[dict]:
    """30 places and radii: cities where sites are, ZIP codes and coordinates, with and
    without a site-status filter."""
    g = gazetteer()
    cities = Counter()
    for sites in studies.values():
        for site in sites:
            if site["lat"] is not None and site["city"] and site["country"]:
                cities[(site["city"], site["state"], site["country"])] += 1
    rng = random.Random(15)
    common = [c for c, n in cities.most_common(300) if n >= 3]
    picked = rng.sample(common, 20)
    radii = ["5mi", "10mi", "25mi", "50mi", "80km", "100mi", "250mi", "500mi"]
    out = []
    for i, (city, state, country) in enumerate(picked):
        number = SiteLocator(g)(city, state, country)
        lat, lon = g.coordinates(number)
        params = {"near": f"{lat:.5f},{lon:.5f}", "radius": radii[i % len(radii)]}
        if i % 3 == 0:
            params["site_status"] = "RECRUITING"
        out.append(params)
    for near in ("Boston, MA", "Houston, Texas", "Paris, France", "Seoul, South Korea",
                 "Toronto, Ontario", "02115", "10032", "60611"):  # fmt: skip
        out.append({"near": near, "radius": "30mi"})
    out.append({"near": "Rochester, MN", "radius": "500mi", "site_status": "COMPLETED"})
    out.append({"near": "New York, NY", "radius": "100mi", "state": "New Jersey"})
    assert len(out) == 30
    return out


def expected(studies, params):
    origin = read_place(params["near"])
    km = read_radius(params.get("radius"))
    statuses = [params["site_status"]] if "site_status" in params else None
    states = [params["state"]] if "state" in params else None
    return (
        origin,
        km,
        {
            nct: passing(sites, origin, km, statuses, states)
            for nct, sites in studies.items()
            if passing(sites, origin, km, statuses, states)
        },
    )


def test_near_matches_exactly_the_studies_a_scan_of_every_site_finds(server, studies):
    checked = 0
    for params in cases(studies):
        _, _, want = expected(studies, params)
        assert all_matches(server, params) == sorted(want), params
        checked += bool(want)
    assert checked >= 20  # the cases find studies, not only empty answers


def test_facets_under_near_count_sites_that_pass_every_other_condition(server, studies):
    for params in cases(studies)[:12]:
        origin, km, _ = expected(studies, params)
        body = server.get(
            "/api/search", params={**params, "facets": "state,site_status", "facet_limit": 500}
        ).json()
        statuses = [params["site_status"]] if "site_status" in params else None
        want_state, want_status = Counter(), Counter()
        for sites in studies.values():
            states = {sites[i]["state"] for _, i in passing(sites, origin, km, statuses)}
            want_state.update(s for s in states if s)
            # site_status is counted with every condition but its own
            found = {sites[i]["status"] for _, i in passing(sites, origin, km)}
            want_status.update(s for s in found if s)
        got_state = {item["value"]: item["count"] for item in body["facets"]["state"]}
        got_status = {
            item["value"]: item["count"] for item in body["facets"]["site_status"] if item["count"]
        }
        assert got_state == dict(want_state), params
        assert got_status == dict(want_status), params


def test_each_hit_names_its_nearest_passing_site_and_sort_distance_orders_by_it(server, studies):
    for params in cases(studies)[:10]:
        _, _, want = expected(studies, params)
        body = server.get(
            "/api/search", params={**params, "sort": "distance", "per_page": 100}
        ).json()
        assert body["total"] == len(want)
        nearest = {nct: min(found) for nct, found in want.items()}
        order = sorted(want, key=lambda nct: (round(nearest[nct][0], 6), nct))
        got = [hit["nct_id"] for hit in body["results"]]
        assert [round(nearest[n][0], 3) for n in got] == [
            round(nearest[n][0], 3) for n in order[: len(got)]
        ], params
        for hit in body["results"]:
            d, i = nearest[hit["nct_id"]]
            site = studies[hit["nct_id"]][i]
            assert hit["nearest_site"]["distance_km"] == pytest.approx(d, abs=0.051)
            assert hit["nearest_site"]["distance_mi"] == pytest.approx(d / KM_PER_MILE, abs=0.051)
            assert hit["nearest_site"]["city"] == site["city"]
            assert hit["sites_in_radius"] == len(want[hit["nct_id"]])


US = "United States"
CRAFTED = {
    # a recruiting site in Houston beside a completed one in Boston
    "NCT00000001": ("Split study", {"countries": (US,), "sites": (
        ("Massachusetts General Hospital, Boston, Massachusetts, United States", "COMPLETED"),
        ("MD Anderson Cancer Center, Houston, Texas, United States", "RECRUITING"),
    )}),
    "NCT00000002": ("Boston study", {"countries": (US,), "sites": (
        ("Dana-Farber Cancer Institute, Boston, Massachusetts, United States", "RECRUITING"),
    )}),
    # a page that lists its first 100 sites of 150
    "NCT00000003": ("Large study", {"countries": (US,), "more_sites": 50, "sites": tuple(
        (f"Site {i}, Houston, Texas, United States", "RECRUITING") for i in range(100)
    )}),
    "NCT00000004": ("Maine study", {"countries": (US,), "sites": (
        ("Maine Medical Center, Portland, Maine, United States", "RECRUITING"),
    )}),
    "NCT00000005": ("Oregon study", {"countries": (US,), "sites": (
        ("OHSU, Portland, Oregon, United States", "RECRUITING"),
    )}),
    "NCT00000006": ("German study", {"countries": ("Germany",), "sites": (
        ("Charité, Berlin, Germany", "RECRUITING"),
        ("Klinikum rechts der Isar, München, Bayern, Germany", "COMPLETED"),
    )}),
}  # fmt: skip


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    from indexer.search.query import SearchIndex

    from pagemaker import build_studies

    folder = tmp_path_factory.mktemp("near_crafted")
    index = SearchIndex(build_studies(folder / "pages", folder / "index", CRAFTED))
    yield index
    index.close()


def ask(index, **params):
    from indexer.search.query import parse_params

    return index.search(parse_params({k: [str(v)] for k, v in params.items()})).to_dict()


def ids(body) -> list[str]:
    return sorted(hit["nct_id"] for hit in body["results"])


def test_a_site_filter_holds_for_one_site_not_for_the_study_as_a_whole(crafted):
    """Recruiting near Boston: one site both recruiting and near; never a recruiting site
    in Houston beside a completed one in Boston."""
    assert ids(ask(crafted, near="Boston, MA", radius="25mi")) == ["NCT00000001", "NCT00000002"]
    recruiting = ask(crafted, near="Boston, MA", radius="25mi", site_status="RECRUITING")
    assert ids(recruiting) == ["NCT00000002"]
    # the status facet is counted site by site too: one study has a completed site nearby
    counts = {i["value"]: i["count"] for i in recruiting["facets"]["site_status"]}
    assert counts == {"RECRUITING": 1, "COMPLETED": 1}
    # state and status together, without near: a recruiting site in Massachusetts
    body = ask(crafted, state="Massachusetts", site_status="RECRUITING")
    assert ids(body) == ["NCT00000002"]
    assert ids(ask(crafted, city="München, Bayern", site_status="RECRUITING")) == []
    assert ids(ask(crafted, city="München, Bayern")) == ["NCT00000006"]


def test_namesakes_are_told_apart_by_their_region(crafted):
    assert ids(ask(crafted, near="Portland, ME", radius="50mi")) == ["NCT00000004"]
    assert ids(ask(crafted, near="Portland, Oregon", radius="50mi")) == ["NCT00000005"]
    hit = ask(crafted, near="97201", radius="10mi")["results"][0]
    assert hit["nearest_site"]["state"] == "Oregon"


def test_a_study_listing_only_its_first_sites_says_so(crafted):
    body = ask(crafted, near="Houston, TX", radius="10mi", sort="distance")
    assert ids(body) == ["NCT00000001", "NCT00000003"]
    large = next(hit for hit in body["results"] if hit["nct_id"] == "NCT00000003")
    assert large["sites_truncated"] is True and large["sites_in_radius"] == 100
    split = next(hit for hit in body["results"] if hit["nct_id"] == "NCT00000001")
    assert split["sites_truncated"] is False and split["sites_in_radius"] == 1
    assert split["nearest_site"]["facility"] == "MD Anderson Cancer Center"


def test_sort_by_distance_puts_the_nearest_first_and_farthest_with_a_minus(crafted):
    body = ask(crafted, near="Boston, MA", radius="500mi", sort="distance")
    assert [h["nct_id"] for h in body["results"]] == ["NCT00000001", "NCT00000002", "NCT00000004"]
    far = ask(crafted, near="Boston, MA", radius="500mi", sort="-distance")
    assert far["results"][0]["nct_id"] == "NCT00000004"
    maine = far["results"][0]["nearest_site"]
    assert maine["city"] == "Portland" and 150 < maine["distance_km"] < 180


def test_the_response_says_how_the_place_was_read(server):
    body = server.get("/api/search", params={"near": "Portland, ME", "radius": "80km"}).json()
    near = body["near"]
    assert (near["name"], near["region"], near["country"], near["precision"]) == (
        "Portland", "Maine", "United States", "city",
    )  # fmt: skip
    assert near["radius_km"] == 80.0 and near["radius_mi"] == pytest.approx(49.71, abs=0.01)
    assert server.get("/api/search").json()["near"] is None


@pytest.mark.parametrize(
    "params, code, allowed",
    [
        ({"near": "Portland"}, "ambiguous_place", "Portland, Maine, United States"),
        ({"near": "Bostn"}, "unknown_place", "Boston, Massachusetts, United States"),
        ({"near": "Bavaria"}, "unknown_place", None),
        ({"near": "99999"}, "unknown_place", None),
        ({"near": "91,10"}, "unknown_place", None),
        ({"near": "Boston", "radius": "600mi"}, "invalid_radius", "50mi"),
        ({"near": "Boston", "radius": "far"}, "invalid_radius", "80km"),
        ({"radius": "50mi"}, "near_required", None),
        ({"sort": "distance"}, "near_required", None),
        ({"near": "Boston", "near ": "x"}, "unknown_parameter", None),
        ({"state": "Atlantis"}, "unknown_value", None),
    ],
)
def test_bad_places_and_radii_are_400s_with_what_is_allowed(server, params, code, allowed):
    response = server.get("/api/search", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    if allowed:
        assert allowed in error["allowed"]


def test_states_and_cities_are_listed_under_a_selected_country(server, studies):
    body = server.get("/api/search", params={"country": "Canada", "facet_limit": 500}).json()
    assert "state" not in server.get("/api/search").json()["facets"]
    want_states, want_cities = Counter(), Counter()
    for sites in studies.values():
        here = [s for s in sites if s["country"] == "Canada"]
        want_states.update({s["state"] for s in here if s["state"]})
        want_cities.update(
            {f"{s['city']}, {s['state']}" if s["state"] else s["city"] for s in here if s["city"]}
        )
    assert {i["value"]: i["count"] for i in body["facets"]["state"]} == dict(want_states)
    assert {i["value"]: i["count"] for i in body["facets"]["city"]} == dict(want_cities)
    assert "Ontario" in want_states


def test_the_page_asks_for_a_place_and_shows_distances_without_javascript(server):
    page = server.get(
        "/search",
        params={"q": "cancer", "near": "Boston, MA", "radius": "25mi", "sort": "distance"},
    )
    assert page.status_code == 200
    html = page.text
    assert 'name="near" type="text" value="Boston, MA"' in html
    assert '<option value="25mi" selected>' in html
    assert 'id="near-reading"' in html and "Near Boston, Massachusetts, United States" in html
    assert 'class="distance"' in html
    assert '<option value="distance" selected>Nearest site</option>' in html
    ambiguous = server.get("/search", params={"q": "cancer", "near": "Portland"})
    assert ambiguous.status_code == 400
    assert "Portland, Oregon, United States</a>" in ambiguous.text
    assert "near=Portland%2C+Maine%2C+United+States" in ambiguous.text


def test_the_markdown_answer_says_where_and_how_far(server):
    text = server.get(
        "/api/search", params={"near": "02115", "radius": "10mi", "format": "md"}
    ).text
    assert "Near Boston, MA, United States (ZIP 02115), within 10 mi" in text
    assert " mi: " in text


def test_near_queries_from_many_clients_never_fail(server):
    """Near queries of every form interleaved over two workers: no 5xx."""
    places = ["Boston, MA", "02115", "40.7128,-74.0060", "Paris, France", "Portland"]
    with requests.Session() as session:
        for i in range(40):
            response = session.get(
                server.url + "/api/search",
                params={"near": places[i % len(places)], "radius": f"{5 + i * 10}mi",
                        "facets": "state,city,site_status", "sort": "distance"},
                timeout=30,
            )  # fmt: skip
            assert response.status_code in (200, 400), response.text


def test_each_common_city_value_is_a_place_near_takes(server):
    """A city facet value ("Atlanta, Georgia") read back as near= finds that city's
    studies: the commonest 40 cities of the real sample."""
    body = server.get(
        "/api/search", params={"country": "United States", "facets": "city", "facet_limit": 40}
    ).json()
    for item in body["facets"]["city"]:
        near = server.get(
            "/api/search", params={"near": item["value"], "radius": "1mi", "per_page": 1}
        )
        assert near.status_code == 200, (item["value"], near.text)
        assert near.json()["total"] >= item["count"], item


def test_an_incremental_reindex_reads_the_sites_of_new_segments_only(tmp_path):
    """What each segment's sites are is kept beside the generation and linked into the
    next one: only the segment a reindex wrote is read, and the answers equal a full
    rebuild's."""
    from indexer.index.build import reindex
    from indexer.index.store import IndexStore
    from indexer.search.query import SearchIndex

    from pagemaker import make_page, write_pages

    def page(nct, city_line):
        return make_page(nct, f"Study {nct}", countries=(US,), sites=((city_line, "RECRUITING"),))

    pages = write_pages(tmp_path / "pages", {
        "NCT00000001": page("NCT00000001", "Dana-Farber, Boston, Massachusetts, United States"),
        "NCT00000002": page("NCT00000002", "OHSU, Portland, Oregon, United States"),
    })  # fmt: skip
    index = tmp_path / "ix"
    reindex(pages, index, procs=1)
    store = IndexStore(index)
    first = store.generation_dir(store.current())
    kept = {p.name: p.stat().st_ino for p in first.glob("sitelines-seg-*.npz")}
    assert kept
    write_pages(
        pages, {"NCT00000003": page("NCT00000003", "Baylor, Houston, Texas, United States")}
    )
    reindex(pages, index, procs=1)
    second = store.generation_dir(store.current())
    now = {p.name: p.stat().st_ino for p in second.glob("sitelines-seg-*.npz")}
    assert set(kept) < set(now)  # the old segments' readings, and the new one's
    assert all(now[name] == inode for name, inode in kept.items())  # linked, not read again

    def answers(ix_dir):
        ix = SearchIndex(ix_dir)
        try:
            return [
                ask(ix, near=place, radius="25mi")["total"]
                for place in ("Boston, MA", "Portland, Oregon", "Houston, TX", "77030")
            ]
        finally:
            ix.close()

    incremental = answers(index)
    assert incremental == [1, 1, 1, 1]
    reindex(pages, tmp_path / "full", procs=1)
    assert answers(tmp_path / "full") == incremental
