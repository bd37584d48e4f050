"""End to end: the real gunicorn server over a temp index, spoken to over HTTP."""

from __future__ import annotations

import pytest
import requests

from indexer.index.build import full_build
from indexer.search.request import ALLOWED_PARAMS

from openapi_check import OpenAPIChecker
from pagemaker import make_page, write_pages

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def api(sample_server):
    document = sample_server.get("/api/openapi.json").json()
    return OpenAPIChecker(document)


def test_openapi_document_describes_every_endpoint_and_parameter(sample_server):
    doc = sample_server.get("/api/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/api/search",
        "/api/suggest",
        "/api/search.{format}",
        "/search.atom",
        "/api/trials/{nct_id}",
        "/api/trials/{nct_id}.md",
        "/healthz",
        "/api/openapi.json",
        "/llms.txt",
    }
    documented = {p["name"] for p in doc["paths"]["/api/search"]["get"]["parameters"]}
    assert documented == set(ALLOWED_PARAMS)


def test_health_reports_the_index(sample_server, api):
    resp = sample_server.get("/healthz")
    assert resp.status_code == 200
    api.validate("/healthz", 200, resp.json())
    assert resp.json()["index"]["documents"] == 300


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=diabetes",
        "q=heart+attack&status=RECRUITING&status=COMPLETED",
        "phase=PHASE1&phase=PHASE2&study_type=INTERVENTIONAL&sort=-enrollment",
        "country=Korea,+Republic+of&age=40&healthy_volunteers=false",
        "start_date_from=2015-01&start_date_to=2020-12-31&last_update_from=2020-01-01",
        "enrollment_min=100&enrollment_max=1000&sort=start_date&order=desc&page=2&per_page=5",
        "q=%22blood+pressure%22&facet_limit=3&sex=FEMALE",
        "q=metformn",
        "q=NCT90000007",
        "q=title:(keystone)&intervention_type=DRUG",
    ],
)
def test_search_responses_match_the_schema(sample_server, api, query):
    resp = sample_server.get("/api/search?" + query)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    api.validate("/api/search", 200, resp.json())


def test_search_answers_everything_in_one_call(sample_server):
    body = sample_server.get("/api/search?q=metformin&status=RECRUITING&per_page=3").json()
    assert body["query"]["q"] == "metformin"
    assert body["query"]["filters"] == {"status": ["RECRUITING"]}
    assert body["total"] >= len(body["results"]) > 0
    assert body["per_page"] == 3 and body["page"] == 1
    hit = body["results"][0]
    assert hit["overall_status"] == "RECRUITING"
    assert "<mark>" in hit["snippet"]
    assert {"value": "RECRUITING", "count": body["total"], "selected": True} in body["facets"][
        "status"
    ]
    assert body["index"]["generation"] >= 1 and body["took_ms"] >= 0


@pytest.mark.parametrize(
    "query, code, param",
    [
        ("status=NOPE", "unknown_value", "status"),
        ("colour=red", "unknown_parameter", "colour"),
        ("per_page=1000", "out_of_range", "per_page"),
        ("page=-1", "out_of_range", "page"),
        ("age=abc", "invalid_age", "age"),
        ("start_date_from=2020-99", "invalid_date", "start_date_from"),
        ("sort=best", "unknown_sort", "sort"),
        ("country=Atlantis", "unknown_value", "country"),
        ("q=" + "x" * 4001, "query_too_long", "q"),
    ],
)
def test_bad_parameters_get_400_with_the_json_error_shape(sample_server, api, query, code, param):
    resp = sample_server.get("/api/search?" + query)
    assert resp.status_code == 400
    api.validate("/api/search", 400, resp.json())
    error = resp.json()["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert error["message"]


def test_unknown_value_errors_list_the_allowed_ones(sample_server):
    error = sample_server.get("/api/search?status=recruting").json()["error"]
    assert "RECRUITING" in error["allowed"]


def test_trial_endpoint(sample_server, api):
    ok = sample_server.get("/api/trials/nct90000001")
    assert ok.status_code == 200
    api.validate("/api/trials/{nct_id}", 200, ok.json())
    assert ok.json()["nct_id"] == "NCT90000001"
    assert int(ok.headers["X-Index-Generation"]) >= 1
    assert ok.headers["X-Index-Documents"] == "300"
    assert ok.headers["X-Index-Built-At"].endswith("Z")
    missing = sample_server.get("/api/trials/NCT00000000")
    assert missing.status_code == 404
    api.validate("/api/trials/{nct_id}", 404, missing.json())
    bad = sample_server.get("/api/trials/12345")
    assert bad.status_code == 400
    api.validate("/api/trials/{nct_id}", 400, bad.json())


def test_unknown_api_paths_and_methods_answer_json(sample_server):
    resp = sample_server.get("/api/nothing")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    import requests

    delete = requests.delete(sample_server.url + "/api/search", timeout=10)
    assert delete.status_code == 405 and "error" in delete.json()


def test_the_page_links_its_json_twin_and_sends_security_headers(sample_server):
    resp = sample_server.get("/search?q=asthma&status=RECRUITING")
    assert resp.status_code == 200
    assert '<link rel="alternate" type="application/json" href="/api/search?q=asthma' in resp.text
    assert resp.headers["Link"].startswith("</api/search?q=asthma&status=RECRUITING>")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]
    assert "<script>" not in resp.text  # no inline script: the CSP would block it


def test_the_page_explains_bad_parameters_kindly(sample_server):
    resp = sample_server.get("/search?status=NOPE&q=asthma")
    assert resp.status_code == 400
    assert "is not a value of" in resp.text and 'value="asthma"' in resp.text
    assert "Traceback" not in resp.text


def test_the_server_follows_a_new_generation_without_restart(tmp_path, start_server):
    pages = write_pages(
        tmp_path / "pages",
        {
            "NCT00000001": make_page("NCT00000001", "Old title about asthma"),
        },
    )
    full_build(pages, tmp_path / "ix", procs=1)
    server = start_server(tmp_path / "ix", workers=2)
    try:
        before = server.get("/api/search?q=asthma").json()
        assert before["results"][0]["title"] == "Old title about asthma"
        write_pages(
            pages,
            {
                "NCT00000001": make_page("NCT00000001", "New title about asthma"),
                "NCT00000002": make_page("NCT00000002", "Another asthma study"),
            },
        )
        full_build(pages, tmp_path / "ix", procs=1)
        for _ in range(4):  # every worker switches, each showing the study once
            after = server.get("/api/search?q=asthma&sort=nct_id").json()
            assert [h["title"] for h in after["results"]] == [
                "New title about asthma",
                "Another asthma study",
            ]
            assert after["index"]["generation"] == before["index"]["generation"] + 1
    finally:
        server.stop()


def test_health_is_503_without_an_index(tmp_path, start_server):
    server = start_server(tmp_path / "empty")
    try:
        health = server.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert str(tmp_path) not in health.text  # no server paths in responses
        search = server.get("/api/search?q=x")
        assert search.status_code == 503
        assert search.json()["error"]["code"] == "index_unavailable"
        assert server.get("/").status_code == 503
    finally:
        server.stop()


def test_the_page_says_what_synonyms_were_searched_and_offers_exact(sample_server):
    page = sample_server.get("/search", params={"q": "heart attack"}).text
    assert 'id="expansions"' in page and "myocardial infarction" in page.lower()
    assert "/search?q=heart+attack&amp;exact=true" in page
    exact = sample_server.get("/search", params={"q": "heart attack", "exact": "true"}).text
    assert "Synonyms are off" in exact and 'name="exact" value="true"' in exact
    api = sample_server.get("/api/search", params={"q": "heart attack", "exact": "true"}).json()
    assert api["expansions"] == [] and api["query"]["exact"] is True


def test_the_page_reads_a_patient_description_posted_or_linked(sample_server):
    text = "A 9-year-old girl with asthma. She denies smoking."
    posted = requests.post(sample_server.url + "/search", data={"q": text, "mode": "patient"})
    assert posted.status_code == 200
    assert 'id="patient-reading"' in posted.text and "age 9" in posted.text
    assert '<textarea id="q"' in posted.text and 'method="post"' in posted.text
    assert 'id="eligible-only"' in posted.text and 'id="as-keywords"' in posted.text
    linked = sample_server.get("/search", params={"q": text, "mode": "patient"})
    assert linked.text.count('class="why"') == posted.text.count('class="why"') > 0
    keywords = sample_server.get("/search", params={"q": "asthma"}).text
    assert 'id="patient-reading"' not in keywords and '<input id="q"' in keywords
    too_long = requests.post(sample_server.url + "/search", data={"q": "x" * 4001})
    assert too_long.status_code == 400 and "4000" in too_long.text.replace(",", "")


def test_the_page_offers_the_closest_studies_when_none_has_every_word(sample_server):
    page = sample_server.get("/search", params={"q": "asthma zzyzzyx"}).text
    assert "No studies match" in page and 'id="partial"' in page
    assert "<s>zzyzzyx</s>" in page
    api = sample_server.get("/api/search", params={"q": "asthma zzyzzyx"}).json()
    assert api["total"] == 0 and api["partial"]["dropped"] == ["zzyzzyx"]
    assert api["partial"]["results"] and all("missing" in h for h in api["partial"]["results"])


def test_the_api_reads_a_long_description_sent_by_post(sample_server):
    text = ("A 9-year-old girl with asthma, using her inhaler every day. " * 40)[:3900]
    resp = requests.post(sample_server.url + "/api/search", json={"q": text}, timeout=30)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["mode"] == "patient" and data["patient"]["age"] == 9
    assert data["patient"]["sex"] == "FEMALE" and data["total"] > 0
    assert all("why" in hit for hit in data["results"])
    keywords = requests.post(
        sample_server.url + "/api/search", json={"q": text, "mode": "keywords"}, timeout=30
    )
    assert keywords.status_code == 400 and keywords.json()["error"]["code"] == "query_too_long"
