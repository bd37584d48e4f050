"""Fuzzing the JSON API: hypothesis on the query layer, schemathesis against real gunicorn."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from indexer.search.query import SearchIndex
from indexer.search.request import ALLOWED_PARAMS, ParamError, parse_params
from webapp import create_app

pytestmark = pytest.mark.server

PARAM_NAMES = st.sampled_from([*ALLOWED_PARAMS, "x", "q[]", "", "status\x00"])
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "RECRUITING",
            "PHASE2",
            "-1",
            "0",
            "1e9",
            "NaN",
            "2020-02-30",
            "*",
            "a*",
            'ab"c',
            "((",
            "NCT00000001",
            "title:",
            "e~2",
            "-enrollment",
            "Korea",
        ]
    ),
)
PARAMS = st.dictionaries(PARAM_NAMES, st.lists(VALUES, min_size=1, max_size=3), max_size=5)


@pytest.fixture(scope="module")
def sample_search(sample_index):
    ix = SearchIndex(sample_index)
    yield ix
    ix.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=PARAMS)
def test_the_query_layer_answers_or_refuses_cleanly(sample_search, params):
    try:
        resp = sample_search.search(parse_params(params))
    except ParamError as exc:
        assert exc.code and exc.message
        return
    assert resp.total >= len(resp.results)
    assert all(h["nct_id"].startswith("NCT") for h in resp.results)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=PARAMS, path=st.sampled_from(["/api/search", "/search"]))
def test_http_never_answers_5xx(sample_index, params, path):
    app = create_app({"INDEX_DIR": str(sample_index), "TESTING": True})
    query = [(k, v) for k, vs in params.items() for v in vs]
    resp = app.test_client().get(path, query_string=query)
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)[:300]
    if path.startswith("/api") and resp.status_code == 400:
        error = resp.get_json()["error"]
        assert set(error) >= {"code", "message", "param"}


def test_the_served_api_matches_its_openapi_document(sample_server):
    """Schemathesis generates requests from the served document; every answer must conform.

    Driven through its Hypothesis strategies (its pytest plugin does not load under
    pytest 9): call_and_validate checks no 5xx, documented status codes, content type
    and response schemas. One check is left out: "schema-valid data is accepted".
    Some refusals depend on the data, not the schema — a sponsor no study has, a
    wildcard matching thousands of words — and are 400s by design (issue 6).
    """
    schema = schemathesis.openapi.from_url(sample_server.url + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert {"GET /api/search", "GET /api/trials/{nct_id}", "GET /healthz"} <= labels
    for operation in operations:

        @settings(max_examples=60, deadline=None, database=None)
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
