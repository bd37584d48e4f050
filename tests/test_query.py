"""The query layer on a small fixture index: exact facets, ranges, sorting, paging, text."""

from __future__ import annotations

import re

import numpy as np
import pytest

from indexer.index.build import full_build
from indexer.search.query import SearchIndex
from indexer.search.request import ParamError, parse_params

from pagemaker import make_page, write_pages

PAGES = {
    "NCT00000001": make_page(
        "NCT00000001",
        "Inhaled budesonide for asthma in children",
        status="RECRUITING",
        phases=("PHASE3",),
        countries=("France", "Korea, Republic of"),
        enrollment=300,
        start="2021-03-01",
        last_update="2024-05-01",
        min_age="6 Years",
        max_age="17 Years",
        summary="Children with asthma receive budesonide or placebo for twelve weeks.",
        interventions=(("Budesonide", "DRUG"), ("Placebo", "DRUG")),
    ),
    "NCT00000002": make_page(
        "NCT00000002",
        "Exercise programme for heart failure",
        status="COMPLETED",
        phases=("NA",),
        conditions=("Heart Failure",),
        countries=("United States",),
        enrollment=50,
        start="2015-06",
        last_update="2020-01-10",
        min_age="65 Years",
        max_age=None,
        healthy="Yes",
        summary="Older adults with heart failure exercise.",
        interventions=(("Exercise", "BEHAVIORAL"),),
    ),
    "NCT00000003": make_page(
        "NCT00000003",
        "Budesonide and formoterol in adult asthma",
        status="COMPLETED",
        phases=("PHASE2", "PHASE3"),
        countries=("France",),
        enrollment=None,
        start=None,
        last_update="2022-07-07",
        sponsor="Lung Institute, Paris",
        sex="FEMALE",
        summary="Adults with <b>severe</b> asthma & allergies; see NCT00000001 for children.",
        interventions=(("Budesonide", "DRUG"), ("Inhaler device", "DEVICE")),
    ),
    "NCT00000004": make_page(
        "NCT00000004",
        "Heart failure registry",
        status="RECRUITING",
        phases=(),
        study_type="OBSERVATIONAL",
        conditions=("Heart Failure", "Diabetes Mellitus, Type 2"),
        countries=("Korea, Republic of",),
        enrollment=5000,
        start="2023-01-20",
        last_update="2025-02-02",
        min_age=None,
        max_age=None,
        sex="ALL",
        summary="A registry of patients hospitalised for heart failure.",
        interventions=(("Questionnaire", "OTHER"),),
    ),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("q")
    full_build(write_pages(root / "pages", PAGES), root / "index", procs=1)
    ix = SearchIndex(root / "index")
    yield ix
    ix.close()


def search(index, **params):
    return index.search(
        parse_params({k: v if isinstance(v, list) else [str(v)] for k, v in params.items()})
    )


def ids(resp):
    return [h["nct_id"] for h in resp.results]


def facet(resp, name):
    return {item["value"]: (item["count"], item["selected"]) for item in resp.facets[name]}


def test_browse_everything_newest_update_first(index):
    resp = search(index)
    assert resp.total == 4
    assert ids(resp) == ["NCT00000004", "NCT00000001", "NCT00000003", "NCT00000002"]
    assert resp.query["sort"] == "last_update" and resp.query["order"] == "desc"
    assert facet(resp, "status") == {"RECRUITING": (2, False), "COMPLETED": (2, False)}
    assert facet(resp, "phase") == {"PHASE3": (2, False), "NA": (1, False), "PHASE2": (1, False)}
    assert facet(resp, "country") == {
        "France": (2, False),
        "Korea, Republic of": (2, False),
        "United States": (1, False),
    }
    assert facet(resp, "intervention_type") == {
        "DRUG": (2, False),
        "BEHAVIORAL": (1, False),
        "DEVICE": (1, False),
        "OTHER": (1, False),
    }
    assert facet(resp, "healthy_volunteers") == {"false": (3, False), "true": (1, False)}
    assert facet(resp, "condition")["Diabetes Mellitus, Type 2"] == (1, False)


def test_facets_are_disjunctive_within_and_conjunctive_across(index):
    resp = search(index, status="COMPLETED")
    assert ids(resp) == ["NCT00000003", "NCT00000002"]
    # status counts ignore the status filter itself, so the other option still shows its gain
    assert facet(resp, "status") == {"RECRUITING": (2, False), "COMPLETED": (2, True)}
    assert facet(resp, "country") == {"France": (1, False), "United States": (1, False)}
    both = search(index, status=["COMPLETED", "RECRUITING"], country="France")
    assert ids(both) == ["NCT00000001", "NCT00000003"]
    assert facet(both, "country") == {
        "France": (2, True),
        "Korea, Republic of": (2, False),
        "United States": (1, False),
    }
    assert facet(both, "status") == {"RECRUITING": (1, True), "COMPLETED": (1, True)}


def test_a_selected_value_with_no_matches_still_shows_with_zero(index):
    resp = search(index, q="registry", status="WITHDRAWN")
    assert resp.total == 0
    assert facet(resp, "status") == {"RECRUITING": (1, False), "WITHDRAWN": (0, True)}


def test_age_admits_studies_whose_bounds_contain_it_and_missing_bounds_admit_all(index):
    assert ids(search(index, age=10, sort="nct_id")) == ["NCT00000001", "NCT00000004"]
    assert ids(search(index, age=70, sort="nct_id")) == ["NCT00000002", "NCT00000004"]
    assert ids(search(index, age=30, sort="nct_id")) == ["NCT00000003", "NCT00000004"]
    assert ids(search(index, age=0.4, sort="nct_id")) == ["NCT00000004"]


def test_date_and_enrollment_ranges_exclude_missing_values(index):
    assert ids(search(index, start_date_from="2021-01-01", sort="nct_id")) == [
        "NCT00000001",
        "NCT00000004",
    ]
    # YYYY-MM as an upper bound covers the whole month; "2015-06" counts as 2015-06-01
    assert ids(search(index, start_date_to="2015-06")) == ["NCT00000002"]
    assert ids(
        search(index, last_update_from="2022-07", last_update_to="2024-12-31", sort="nct_id")
    ) == ["NCT00000001", "NCT00000003"]
    assert ids(search(index, enrollment_min=100, enrollment_max=1000)) == ["NCT00000001"]
    assert search(index, enrollment_min=0).total == 3  # NCT00000003 has no enrollment


def test_sorts_put_missing_values_last_in_either_direction(index):
    assert ids(search(index, sort="-enrollment")) == [
        "NCT00000004",
        "NCT00000001",
        "NCT00000002",
        "NCT00000003",
    ]
    assert ids(search(index, sort="enrollment")) == [
        "NCT00000002",
        "NCT00000001",
        "NCT00000004",
        "NCT00000003",
    ]
    assert ids(search(index, sort="start_date", order="desc")) == [
        "NCT00000004",
        "NCT00000001",
        "NCT00000002",
        "NCT00000003",
    ]
    assert ids(search(index, sort="-nct_id")) == [
        "NCT00000004",
        "NCT00000003",
        "NCT00000002",
        "NCT00000001",
    ]


def test_paging_edges(index):
    first = search(index, per_page=3, sort="nct_id")
    second = search(index, per_page=3, page=2, sort="nct_id")
    beyond = search(index, per_page=3, page=3, sort="nct_id")
    assert (first.total, second.total, beyond.total) == (4, 4, 4)
    assert ids(first) + ids(second) == ["NCT00000001", "NCT00000002", "NCT00000003", "NCT00000004"]
    assert ids(beyond) == []
    assert first.pages == 2


def test_text_is_anded_stemmed_and_ranked(index):
    resp = search(index, q="budesonide asthma")
    assert set(ids(resp)) == {"NCT00000001", "NCT00000003"}
    assert all(h["score"] > 0 for h in resp.results)
    # British and American spellings meet (issue 7)
    assert ids(search(index, q="hospitalized")) == ["NCT00000004"]
    assert ids(search(index, q="hospitalised")) == ["NCT00000004"]
    assert ids(search(index, q="exercising")) == ["NCT00000002"]  # stemmed


def test_phrases_or_not_and_minus(index):
    assert ids(search(index, q='"heart failure"', sort="nct_id")) == ["NCT00000002", "NCT00000004"]
    assert ids(search(index, q='"failure heart"')) == []
    assert ids(search(index, q="registry OR exercise", sort="nct_id")) == [
        "NCT00000002",
        "NCT00000004",
    ]
    assert ids(search(index, q="heart NOT registry")) == ["NCT00000002"]
    assert ids(search(index, q="asthma -formoterol")) == ["NCT00000001"]


def test_field_prefixes(index):
    assert ids(search(index, q="title:registry")) == ["NCT00000004"]
    assert ids(search(index, q="condition:diabetes")) == ["NCT00000004"]
    assert ids(search(index, q="intervention:device")) == ["NCT00000003"]
    assert ids(search(index, q='sponsor:"lung institute"')) == ["NCT00000003"]
    assert ids(search(index, q="country:korea", sort="nct_id")) == ["NCT00000001", "NCT00000004"]


def test_an_nct_id_in_the_query_puts_that_study_first(index):
    resp = search(index, q="NCT00000004 asthma")
    assert ids(resp)[0] == "NCT00000004"
    assert set(ids(resp)[1:]) == {"NCT00000001", "NCT00000003"}
    assert resp.pinned == ["NCT00000004"]
    # alone, an ID finds its study first and the studies that mention it
    assert ids(search(index, q="nct00000001")) == ["NCT00000001", "NCT00000003"]
    # pinned first whatever the sort, but never past the filters
    assert ids(search(index, q="NCT00000002 asthma", sort="-enrollment"))[0] == "NCT00000002"
    assert "NCT00000002" not in ids(search(index, q="NCT00000002 asthma", status="RECRUITING"))


@pytest.mark.parametrize(
    "q",
    [
        '"budesonide asthma',
        "asthma (children",
        "asthma AND",
        "OR asthma",
        "asthma )(",
        "NOT",
        "-",
        "title:",
        "((",
        ":::",
        "record:x",
        "f_status:COMPLETED",
        "asthma^5",
        "*",
    ],
)
def test_malformed_queries_are_read_as_plain_words(index, q):
    resp = search(index, q=q)
    assert resp.total >= 0  # answered, never an exception
    if "asthma" in q:
        assert "NCT00000001" in ids(resp) or "NCT00000003" in ids(resp)


def test_snippets_mark_terms_and_escape_html(index):
    [hit] = search(index, q="severe allergies").results
    assert hit["snippet"] == (
        "Adults with &lt;b&gt;<mark>severe</mark>&lt;/b&gt; asthma &amp; "
        "<mark>allergies</mark>; see NCT00000001 for children."
    )


def test_did_you_mean_comes_from_the_index_vocabulary(index):
    resp = search(index, q="budesonde asthma")
    assert resp.total == 0
    assert resp.suggestion == "budesonide asthma"
    assert search(index, q="budesonide asthma").suggestion is None
    assert search(index, q="zzzzqqq").suggestion is None


def test_hits_carry_everything_an_agent_needs(index):
    [hit] = search(index, q="registry").results
    assert hit == {
        "nct_id": "NCT00000004",
        "title": "Heart failure registry",
        "overall_status": "RECRUITING",
        "phases": [],
        "study_type": "OBSERVATIONAL",
        "sponsor": "Acme Pharma",
        "conditions": ["Heart Failure", "Diabetes Mellitus, Type 2"],
        "countries": ["Korea, Republic of"],
        "enrollment": 5000,
        "start_date": "2023-01-20",
        "last_update": "2025-02-02",
        "canonical_url": "https://mirror.example/NCT00000004.md",
        "clinicaltrials_gov": "https://clinicaltrials.gov/study/NCT00000004",
        "first_indexed": hit["first_indexed"],
        "changed_at": hit["first_indexed"],  # unchanged since it arrived
        "recent_changes": [],
        "nearest_site": None,  # with near= only
        "sites_in_radius": None,
        "sites_truncated": False,
        "score": hit["score"],
        "snippet": "A <mark>registry</mark> of patients hospitalised for heart failure.",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", hit["first_indexed"])


def test_unknown_values_of_open_facets_are_refused_with_close_matches(index):
    with pytest.raises(ParamError) as info:
        search(index, country="Korea")
    assert info.value.param == "country"
    assert "Korea, Republic of" in info.value.allowed


@pytest.mark.parametrize(
    "params, code",
    [
        ({"status": ["RECRUTING"]}, "unknown_value"),
        ({"bogus": ["1"]}, "unknown_parameter"),
        ({"per_page": ["0"]}, "out_of_range"),
        ({"per_page": ["101"]}, "out_of_range"),
        ({"page": ["x"]}, "invalid_integer"),
        ({"page": ["200"], "per_page": ["100"]}, "page_too_deep"),
        ({"start_date_from": ["2020-13-01"]}, "invalid_date"),
        ({"start_date_from": ["yesterday"]}, "invalid_date"),
        ({"age": ["old"]}, "invalid_age"),
        ({"age": ["nan"]}, "invalid_age"),
        ({"sort": ["popularity"]}, "unknown_sort"),
        ({"order": ["up"]}, "invalid_order"),
        ({"q": ["x" * 4001]}, "query_too_long"),
        ({"q": ["a", "b"], "sort": ["nct_id", "enrollment"]}, "repeated_parameter"),
        ({"facet_limit": ["501"]}, "out_of_range"),
    ],
)
def test_bad_parameters_are_refused_with_a_code_and_the_parameter(params, code):
    with pytest.raises(ParamError) as info:
        parse_params(params)
    assert info.value.code == code


@pytest.mark.parametrize("sort", ["enrollment", "start_date", "nct_id"])
@pytest.mark.parametrize("desc", [False, True])
def test_a_page_of_a_sort_is_the_same_as_sorting_everything(sort, desc):
    """The partitioned top of a sort equals the head of the full (missing-last) order."""
    from types import SimpleNamespace

    from indexer.index.columns import MISSING
    from indexer.search.query import sorted_docs

    rng = np.random.default_rng(7)
    size = 5_000
    numbers = {
        name: np.where(rng.random(size) < 0.2, MISSING, rng.integers(0, 50, size))
        for name in ("enrollment", "start_date")
    }
    cols = SimpleNamespace(numbers=numbers, nct_rank=rng.permutation(size) + 1_000_000)
    docs = np.flatnonzero(rng.random(size) < 0.7)
    if sort == "nct_id":
        key = cols.nct_rank[docs]
        expected = docs[np.argsort(-key if desc else key, kind="stable")]
    else:
        values = numbers[sort][docs]
        missing = values == MISSING
        key = np.where(missing, 0, -values if desc else values)
        expected = docs[np.lexsort((cols.nct_rank[docs], key, missing))]
    assert np.array_equal(sorted_docs(cols, docs, sort, desc), expected)
    for limit in (0, 1, 20, 2_200, len(docs) + 5):
        assert np.array_equal(sorted_docs(cols, docs, sort, desc, limit), expected[:limit])


def test_close_values_come_from_a_trigram_index_over_the_facet_values():
    from indexer.search.close_values import CloseValues

    values = sorted(
        ["Korea, Republic of", "Korea, Democratic People's Republic of", "France", "Asthma",
         "Severe Asthma", "Aarhus University Hospital", "Mayo Clinic", "Mayo Foundation"]
    )  # fmt: skip
    lookup = CloseValues(values)
    assert lookup.matches("Korea")[:2] == [
        "Korea, Democratic People's Republic of",
        "Korea, Republic of",
    ]
    assert lookup.matches("asthma") == ["Asthma", "Severe Asthma"]  # containing it, any case
    assert lookup.matches("Mayo Clinc")[0] == "Mayo Clinic"  # a letter dropped
    assert lookup.matches("Frence") == ["France"]
    assert lookup.matches("zzzz") == []


def test_the_close_values_index_is_built_once_per_generation(index):
    from indexer.search.close_values import CACHE_ATTRIBUTE, close_values

    with pytest.raises(ParamError):
        search(index, country="Korea")
    with index.use() as snap:
        column = snap.columns.facets["country"]
        first = getattr(column, CACHE_ATTRIBUTE)
        assert close_values(column, "Frence") == ["France"]
        assert getattr(column, CACHE_ATTRIBUTE) is first
