"""HTTP for agents: POST search, field and facet selection, Markdown answers, llms.txt.

Contract tests use the Flask test client; the ones that matter over the wire (POST
and GET agreeing, the 414 advice) talk to a real gunicorn.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import requests

from indexer.pages.parse import parse_page
from indexer.search.query import API_ERROR_CODES, PARAMS

ROOT = Path(__file__).resolve().parent.parent
QUERY = {
    "q": "asthma",
    "status": ["RECRUITING", "COMPLETED"],
    "age": 40,
    "exact": False,
    "per_page": 5,
}


def as_url_params(body: dict) -> list[tuple[str, str]]:
    out = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            out.append((name, str(item).lower() if isinstance(item, bool) else str(item)))
    return out


def test_post_with_a_json_body_answers_as_the_get(sample_server):
    get = sample_server.get("/api/search", params=as_url_params(QUERY)).json()
    post = requests.post(sample_server.url + "/api/search", json=QUERY, timeout=30).json()
    assert post["total"] == get["total"] > 0
    assert [h["nct_id"] for h in post["results"]] == [h["nct_id"] for h in get["results"]]
    assert post["facets"] == get["facets"]


def test_a_query_too_long_for_a_url_is_refused_with_the_way_out(sample_server):
    long = sample_server.get("/api/search", params={"q": "asthma " * 1500})
    assert long.status_code == 414
    assert "POST /api/search" in long.json()["error"]["message"]
    post = requests.post(
        sample_server.url + "/api/search", json={"q": "asthma " * 1500}, timeout=30
    )
    assert post.status_code == 400
    assert post.json()["error"]["code"] == "query_too_long"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        (b"{not json", "invalid_body", None),
        (b"[1, 2]", "invalid_body", None),
        (b'{"q": {"nested": 1}}', "invalid_value", "q"),
        (b'{"status": [["RECRUITING"]]}', "invalid_value", "status"),
        (b'{"bogus": 1}', "unknown_parameter", "bogus"),
        (b'{"per_page": 1000}', "out_of_range", "per_page"),
        (b'{"age": "forty"}', "invalid_age", "age"),
    ],
)
def test_a_bad_body_is_a_json_400_naming_the_problem(client, body, code, param):
    response = client.post("/api/search", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["param"]) == (code, param)


def test_a_body_over_a_mebibyte_is_refused_in_json(client):
    response = client.post("/api/search", data=b" " * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"]


def test_fields_choose_what_each_hit_carries(client):
    body = client.get("/api/search?q=asthma&fields=title,canonical_url&fields=phases").get_json()
    assert body["results"]
    assert all(set(h) == {"nct_id", "title", "canonical_url", "phases"} for h in body["results"])
    full = client.get("/api/search?q=asthma").get_json()["results"][0]
    assert set(full) >= {"snippet", "score", "sponsor"}


def test_an_unknown_field_is_refused_with_the_allowed_ones(client):
    error = client.get("/api/search?fields=title,secret").get_json()["error"]
    assert error["code"] == "unknown_value" and error["param"] == "fields"
    assert "snippet" in error["allowed"] and "secret" not in error["allowed"]


def test_facets_choose_what_is_counted(client):
    some = client.get("/api/search?q=asthma&facets=status,phase").get_json()
    assert set(some["facets"]) == {"status", "phase"}
    none = client.get("/api/search?q=asthma&facets=none").get_json()
    assert none["facets"] == {} and none["total"] == some["total"]
    mixed = client.get("/api/search?facets=none,status")
    assert mixed.status_code == 400


def test_the_page_still_works_when_facets_are_chosen(client):
    page = client.get("/search?q=asthma&facets=status")
    assert page.status_code == 200 and "facet-status" in page.get_data(as_text=True)


def test_markdown_answers_for_format_md_and_for_accept(client):
    by_param = client.get("/api/search?q=asthma&status=RECRUITING&format=md")
    assert by_param.status_code == 200
    assert by_param.headers["Content-Type"].startswith("text/markdown")
    assert by_param.headers["X-Index-Generation"]
    text = by_param.get_data(as_text=True)
    total = client.get("/api/search?q=asthma&status=RECRUITING").get_json()["total"]
    assert text.startswith(f"# {total:,} studies")
    assert "Criteria: text: asthma; status: Recruiting." in text
    assert re.search(r"^- \[.+\]\(https://\S+\.md\) — NCT\d{8} · Recruiting", text, re.M)
    assert re.search(r"^- \*\*Status:\*\* .*\*\*Recruiting\*\* \(\d+\)", text, re.M)
    assert "<mark>" not in text
    by_accept = client.get("/api/search?q=asthma", headers={"Accept": "text/markdown"})
    assert by_accept.headers["Content-Type"].startswith("text/markdown")
    json_wins = client.get("/api/search?q=asthma&format=json", headers={"Accept": "text/markdown"})
    assert json_wins.get_json()["total"] > 0


def test_one_study_as_markdown_is_a_mirror_page_the_parser_reads_back(client):
    record = client.get("/api/trials/NCT90000001").get_json()
    page = client.get("/api/trials/nct90000001.md")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/markdown")
    back = parse_page(page.get_data(as_text=True), expected_id="NCT90000001")
    assert (back.title, back.overall_status, back.conditions, back.countries) == (
        record["title"],
        record["overall_status"],
        record["conditions"],
        record["countries"],
    )
    assert [i.name for i in back.interventions] == [i["name"] for i in record["interventions"]]
    assert len(back.locations) == len(record["locations"])
    assert client.get("/api/trials/NCT00000000.md").status_code == 404


def test_llms_txt_explains_every_parameter_and_error_code(client):
    response = client.get("/llms.txt")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("# trialsearch\n\n> ")
    for param in PARAMS:
        assert f"- `{param.name}`" in text
    for code in API_ERROR_CODES:
        assert f"- `{code}`" in text
    assert "/api/openapi.json" in text and "POST" in text
    # the data's notices: MeSH (NLM's words) and GeoNames (CC BY 4.0)
    assert "courtesy of the U.S. National Library of Medicine" in text
    assert "GeoNames" in text and "CC BY 4.0" in text


def test_the_page_links_to_its_json_and_markdown_twins(client):
    response = client.get("/search?q=asthma&status=RECRUITING")
    links = dict(
        (kind, url)
        for url, kind in re.findall(
            r'<([^>]+)>; rel="alternate"; type="([^"]+)"', response.headers["Link"]
        )  # fmt: skip
    )
    assert client.get(links["application/json"]).get_json()["total"] > 0
    twin = client.get(links["text/markdown"])
    assert twin.headers["Content-Type"].startswith("text/markdown")


def _raised_codes() -> set[str]:
    """The first argument of every ParamError(...) and json_error(status, code, ...)."""
    codes: set[str] = set()
    for path in [*(ROOT / "indexer").rglob("*.py"), *(ROOT / "webapp").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id == "ParamError" and node.args:
                arg = node.args[0]
            elif node.func.id == "json_error" and len(node.args) > 1:
                arg = node.args[1]
            else:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.add(arg.value)
    return codes


def test_every_error_code_a_client_can_meet_is_documented():
    codes = _raised_codes() | {
        f"invalid_{p.name}" for p in PARAMS if p.kind in ("decimal", "choice")
    }
    assert len(codes) > 15
    assert codes - {"internal_error"} <= set(API_ERROR_CODES)


def test_facet_prefix_matches_any_word_ignoring_case_and_accents(client):
    def values(facet: str, prefix: str) -> list[str]:
        body = client.get(f"/api/search?facets={facet}&facet_prefix={prefix}").get_json()
        return [item["value"] for item in body["facets"][facet]]

    assert "Breast Cancer" in values("condition", "cancer")
    assert values("sponsor", "hopitaux") == ["Assistance Publique - Hôpitaux de Paris"]
    assert "National Cancer Institute (NCI)" in values("sponsor", "nci")
    assert values("country", "zzz") == []


def test_completion_date_ranges_keep_only_studies_completing_then(client):
    body = client.get(
        "/api/search?completion_date_from=2028-01&completion_date_to=2028-12&per_page=100"
    ).get_json()
    assert 0 < body["total"] < 300
    for hit in body["results"]:
        done = client.get(f"/api/trials/{hit['nct_id']}").get_json()["completion_date"]
        assert "2028-01" <= done[:7] <= "2028-12"
    assert client.get("/api/search?completion_date_from=2028-13").status_code == 400
