"""Inputs that used to slip past the checks (issue 20): each is refused with a clear
reason, or read as it should be, and no answer carries a number strict JSON refuses."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat

import pytest

from indexer.atomic import write_bytes_atomic, write_json_atomic
from indexer.index.build import reindex
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params

from pagemaker import make_page, write_pages


def _strict_json(text: str):
    def refuse(name):
        raise ValueError(f"non-finite number {name} in a response")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ('"heart failure"~999999999', "slop_too_large"),
        ('"patients study"~10000', "slop_too_large"),
        ('"heart failure"~21', "slop_too_large"),
        ("asthma^" + "9" * 40, "boost_too_large"),
        ("(asthma cancer)^1000", "boost_too_large"),
    ],
)
def test_unbounded_phrase_windows_and_weights_are_refused(client, q, code):
    resp = client.get("/api/search", query_string={"q": q})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == code
    page = client.get("/search", query_string={"q": q})
    assert page.status_code == 400 and "Traceback" not in page.get_data(as_text=True)


@pytest.mark.parametrize("q", ['"heart failure"~20', "asthma^100", "asthma^2 cancer"])
def test_bounded_windows_and_weights_still_work(client, q):
    resp = client.get("/api/search", query_string={"q": q})
    assert resp.status_code == 200
    _strict_json(resp.get_data(as_text=True))


@pytest.mark.parametrize(
    "params",
    [
        {"page": "５"},
        {"per_page": "٥"},
        {"enrollment_min": "٥٥"},
        {"age": "1e2"},
        {"age": "1_0"},
        {"age": "inf"},
        {"start_date_from": "2020-02-31"},
        {"start_date_to": "2021-13"},
        {"start_date_from": "２０２０-01-01"},
    ],
)
def test_numbers_and_dates_are_ascii_and_real(client, params):
    resp = client.get("/api/search", query_string=params)
    assert resp.status_code == 400, params
    assert resp.get_json()["error"]["param"] == next(iter(params))


def test_a_leap_day_and_a_decimal_age_are_accepted():
    req = parse_params({"start_date_from": ["2020-02-29"], "age": ["45.5"]})
    assert (req.start_date_from, req.age) == ("2020-02-29", 45.5)


def test_a_trial_id_with_a_trailing_newline_is_not_a_trial_id(client):
    assert client.get("/api/trials/NCT90000001%0A").status_code == 400


def test_every_answer_of_a_hostile_set_is_strict_json(client):
    for q in ["asthma^99", "x^0", '"a"~0', "cancer^100 heart^100", "NCT90000001^50"]:
        resp = client.get("/api/search", query_string={"q": q})
        assert resp.status_code in (200, 400), q
        _strict_json(resp.get_data(as_text=True))


# --- odd files in the pages folder ---------------------------------------------------


def test_a_fifo_and_a_name_that_is_not_utf8_are_skipped_and_reported(tmp_path):
    pages = tmp_path / "pages"
    write_pages(pages, {n: make_page(n, f"Study {n}") for n in ("NCT00000101", "NCT00000102")})
    os.mkfifo(pages / "NCT09999999.md")  # opening it for reading would wait forever
    bad_name = os.fsencode(str(pages)) + b"/NCT00000103\xff.md"
    with open(bad_name, "wb") as handle:
        handle.write(b"not read")
    report = reindex(pages, tmp_path / "index")
    reasons = {item["file"]: item["reason"] for item in report.skipped}
    assert reasons["NCT09999999.md"] == "not a regular file"
    assert any("not valid UTF-8" in reason for reason in reasons.values())
    ix = SearchIndex(tmp_path / "index")
    try:
        assert ix.search(parse_params({})).total == 2
    finally:
        ix.close()


def test_the_manifest_does_not_depend_on_how_the_pages_folder_is_spelled(tmp_path, monkeypatch):
    pages = tmp_path / "pages"
    write_pages(pages, {n: make_page(n, f"Study {n}") for n in ("NCT00000101", "NCT00000102")})
    reindex(pages, tmp_path / "index")
    monkeypatch.chdir(tmp_path)
    report = reindex("pages/../pages", tmp_path / "index")
    assert (report.added, report.updated, report.removed) == (0, 0, 0)


@pytest.mark.parametrize("nct_id", ["NCT𝟎𝟎𝟎𝟎𝟎𝟏𝟎𝟐", "NCT０００００１０２", "NCT0000010２"])
def test_look_alike_trial_ids_are_refused(tmp_path, nct_id):
    pages = tmp_path / "pages"
    write_pages(pages, {"NCT00000101": make_page("NCT00000101", "A real study")})
    (pages / "NCT00000102.md").write_text(
        make_page("NCT00000102", "A look-alike").replace("NCT00000102", nct_id),
        encoding="utf-8",
    )
    report = reindex(pages, tmp_path / "index")
    assert [item["file"] for item in report.skipped] == ["NCT00000102.md"]
    assert report.indexed == 1


# --- files the service writes ------------------------------------------------------------


def test_replaced_files_are_readable_by_others_and_keep_their_mode(tmp_path):
    new = tmp_path / "new.json"
    write_json_atomic(new, {"a": 1})
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    kept = tmp_path / "kept.md"
    kept.write_bytes(b"old")
    kept.chmod(0o640)
    write_bytes_atomic(kept, b"new")
    assert kept.read_bytes() == b"new"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- bounded work per request ---------------------------------------------------------


def test_repeated_words_count_against_the_word_limit(client):
    keywords = {"q": "the " * 33, "mode": "keywords"}
    resp = client.get("/api/search", query_string=keywords)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "too_many_terms"
    assert client.get("/api/search", query_string={**keywords, "q": "the " * 32}).status_code == 200


def test_past_the_keyword_limits_a_text_is_read_as_a_description_not_refused(client):
    resp = client.get("/api/search", query_string={"q": "the " * 33})
    assert resp.status_code == 200
    assert resp.get_json()["mode"] == "patient"


def test_many_unknown_words_are_not_corrected_but_a_typo_still_is(client):
    nonsense = " ".join(f"zq{chr(97 + i)}xvbnmwq" for i in range(20))
    resp = client.get("/api/search", query_string={"q": nonsense, "mode": "keywords"}).get_json()
    assert resp["total"] == 0 and resp["suggestion"] is None
    typo = client.get("/api/search", query_string={"q": "asthmma"}).get_json()
    assert typo["suggestion"] == "asthma"


def test_control_characters_never_reach_a_facet_value(tmp_path):
    pages = tmp_path / "pages"
    page = make_page("NCT00000101", "A study").replace(
        "sponsor: ", "sponsor: Acme\x07\x1b[31m\x7f\x85 ", 1
    )
    write_pages(pages, {"NCT00000101": page})
    assert reindex(pages, tmp_path / "index").indexed == 1
    ix = SearchIndex(tmp_path / "index")
    try:
        sponsors = ix.stats()["facets"]["sponsor"]
    finally:
        ix.close()
    assert sponsors and all(ch.isprintable() for value in sponsors for ch in value), sponsors


def test_the_openapi_servers_entry_never_echoes_the_host_header(client, app):
    doc = client.get("/api/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert doc["servers"] == [{"url": "/"}]
    app.config["SETTINGS"] = dataclasses.replace(
        app.config["SETTINGS"], public_url="https://trials.example.org/"
    )
    doc = client.get("/api/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert doc["servers"] == [{"url": "https://trials.example.org"}]


def _listed(html: str, facet: str) -> int:
    block = html.split(f'id="facet-{facet}"', 1)[1].split("</fieldset>", 1)[0]
    return block.count('type="checkbox"')


def test_the_page_lists_a_bounded_number_of_values_a_facet_with_a_more_link(client):
    html = client.get("/search", query_string={"facet_limit": "500"}).get_data(as_text=True)
    assert all(_listed(html, name) <= 100 for name in ("condition", "sponsor", "country"))
    short = client.get("/search", query_string={"facet_limit": "5"}).get_data(as_text=True)
    assert _listed(short, "condition") == 5
    more = short.split('id="facet-condition"', 1)[1].split("</fieldset>", 1)[0]
    href = more.split('class="more" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "facet_limit=100" in href and href.endswith("#facet-condition")
    longer = client.get(href.split("#")[0]).get_data(as_text=True)
    assert _listed(longer, "condition") > 5
    assert 'class="more"' not in longer.split('id="facet-condition"', 1)[1].split("</fieldset>")[0]


@pytest.mark.parametrize(
    ("headers", "path_tail", "status", "code"),
    [
        ({}, "a" * 9000, 414, "uri_too_long"),
        ({"X-Padding": "a" * 9000}, "asthma", 431, "headers_too_large"),
    ],
    ids=["long-url", "large-header"],
)
def test_requests_gunicorn_refuses_itself_are_json_under_the_api(
    sample_server, headers, path_tail, status, code
):
    """gunicorn answers these before Flask runs; under /api/ the answer is still the API's
    error shape, and the page keeps gunicorn's own answer."""
    api = sample_server.get("/api/search?q=" + path_tail, headers=headers)
    assert api.status_code == status
    assert api.headers["Content-Type"] == "application/json"
    assert api.json()["error"]["code"] == code
    page = sample_server.get("/search?q=" + path_tail, headers=headers)
    assert page.status_code == status
    assert "text/html" in page.headers["Content-Type"]
    assert sample_server.get("/api/search?q=asthma").status_code == 200  # the worker lives on


def test_a_wide_window_over_words_most_studies_hold_is_refused_with_the_widest_allowed(
    client, monkeypatch
):
    """Its cost is the rarest word's studies × the window (MAX_PHRASE_WORK; 560,000
    studies: "patients study"~20 took 2.8 s). Every sample study says "study" and
    "outcomes", so a low bound shows the rule at 300 studies."""
    from indexer.search import query_cost

    monkeypatch.setattr(query_cost, "MAX_PHRASE_WORK", 1000)
    wide = client.get('/api/search?q="study outcomes"~10').get_json()["error"]
    assert wide["code"] == "phrase_too_costly" and wide["param"] == "q"
    widest = int(re.search(r"at most ~(\d+)", wide["message"]).group(1))
    assert 1 <= widest < 10
    assert client.get(f'/api/search?q="study outcomes"~{widest}').status_code == 200
    assert client.get(f'/api/search?q="study outcomes"~{widest + 1}').status_code == 400
    assert client.get('/api/search?q="study outcomes"').status_code == 200


def test_a_query_of_words_most_studies_hold_is_refused_naming_the_commonest(client, monkeypatch):
    """The postings a query reads are bounded (MAX_POSTINGS; 560,000 studies: 32 such
    words read 6.7 million, 1.7 s with cold caches). A low bound shows it at 300."""
    from indexer.search import query_cost

    monkeypatch.setattr(query_cost, "MAX_POSTINGS", 500)
    costly = client.get("/api/search?q=study outcomes adults").get_json()["error"]
    assert costly["code"] == "query_too_costly" and costly["param"] == "q"
    assert "studi" in costly["message"]
    assert client.get("/api/search?q=asthma").status_code == 200


def test_a_phrase_of_words_most_studies_hold_is_refused_and_plain_words_are_not(
    client, monkeypatch
):
    """A phrase reads its words' positions in every study holding them
    (MAX_PHRASE_POSITIONS; 560,000 studies: "patients study" 1.7 s with cold caches)."""
    from indexer.search import query_cost

    monkeypatch.setattr(query_cost, "MAX_PHRASE_POSITIONS", 400)
    phrase = client.get('/api/search?q="study outcomes"').get_json()["error"]
    assert phrase["code"] == "phrase_too_costly" and "without quotes" in phrase["message"]
    assert client.get("/api/search?q=study outcomes").status_code == 200
    assert client.get('/api/search?q="heart failure"').status_code == 200


def test_a_feed_of_a_query_with_control_characters_is_well_formed_xml(client):
    """XML 1.0 cannot hold most control characters: the feed's title leaves them out
    (the fuzzer found a 500 here)."""
    from xml.etree import ElementTree

    response = client.get(
        "/search.atom", query_string={"q": "asthma\x0b\x1f\x11", "near": "Boston"}
    )
    assert response.status_code == 200
    title = ElementTree.fromstring(response.data).find("{http://www.w3.org/2005/Atom}title")
    assert title.text == "trialsearch: “asthma”; near Boston"
