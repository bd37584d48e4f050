"""The MCP server, through the SDK's own client: over stdio (the real `trialsearch mcp`
process) and over Streamable HTTP (a real process on a loopback port)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from indexer.index.build import reindex

from pagemaker import pages_for, write_pages

pytestmark = pytest.mark.server
TRIALSEARCH = str(Path(sys.executable).with_name("trialsearch"))
TOOLS = {"search_trials", "count_trials", "list_facet_values", "get_trial", "explain_query",
         "match_patient"}  # fmt: skip
CALLS = {
    "search_trials": {"q": "asthma", "status": ["RECRUITING", "COMPLETED"], "per_page": 3},
    "count_trials": {"q": "asthma", "age": 40},
    "list_facet_values": {"facet": "sponsor", "prefix": "ma"},
    "get_trial": {"nct_id": "nct90000001"},
    "explain_query": {"q": "the heart attack NCT90000001"},
    "match_patient": {"description": "A 9-year-old girl with asthma. She denies smoking."},
}


def stdio(index: Path) -> Client:
    return Client(StdioServerParameters(command=TRIALSEARCH, args=["mcp", "--index", str(index)]))


def call(client_factory, work):
    async def main():
        async with client_factory() as client:
            return await work(client)

    return asyncio.run(main())


def error_of(result) -> dict:
    assert result.is_error
    text = result.content[0].text
    return json.loads(text[text.index("{") :])["error"]


@pytest.fixture(scope="module")
def mcp_http(sample_index):
    port = _free_port()
    proc = subprocess.Popen(
        [TRIALSEARCH, "mcp", "--http", "--port", str(port), "--index", str(sample_index)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=15)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_catalog_lists_six_read_only_tools_with_schemas_and_examples(sample_index):
    tools = call(lambda: stdio(sample_index), lambda c: c.list_tools()).tools
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.input_schema["type"] == "object" and tool.output_schema
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.open_world_hint is False
        assert "e.g." in tool.description.lower(), tool.name
    catalog = json.dumps(
        [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    )
    # what an agent pays for in every conversation (README: "For agents"): 23.4 KB with
    # six tools, 29.1 KB once near, radius, state, city and site_status joined four
    # of them with the nearest site and the place read in the results (issue 15)
    assert len(catalog.encode()) < 30_000, len(catalog.encode())


def test_every_tool_answers_with_structured_content_valid_against_its_schema(sample_index):
    async def work(client):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        return tools, {name: await client.call_tool(name, args) for name, args in CALLS.items()}

    tools, results = call(lambda: stdio(sample_index), work)
    for name, result in results.items():
        assert not result.is_error, (name, result.content)
        errors = list(Draft202012Validator(tools[name].output_schema).iter_errors(
            result.structured_content))  # fmt: skip
        assert not errors, (name, errors[:3])
    search = results["search_trials"].structured_content
    assert search["total"] > 0 and len(search["hits"]) == 3
    compact = {"nct_id", "title", "overall_status", "phases", "conditions", "sponsor",
               "countries", "canonical_url", "snippet"}  # fmt: skip
    assert set(search["hits"][0]) <= compact
    assert search["criteria"]["filters"] == {"status": ["RECRUITING", "COMPLETED"]}
    assert all(len(values) <= 10 for values in search["facets"].values())
    assert results["list_facet_values"].structured_content["values"][0]["value"] == "Mayo Clinic"
    assert results["get_trial"].structured_content["record"]["nct_id"] == "NCT90000001"
    explained = results["explain_query"].structured_content
    assert explained["pinned"] == ["NCT90000001"] and "infarction" in explained["words"]
    assert 'conditions:"myocardial infarct"' in explained["query"]
    assert explained["ignored"] == ["the"]


def test_search_trials_and_the_json_api_agree(sample_index, sample_server):
    args = {"q": "cancer", "phase": ["PHASE2", "PHASE3"], "sort": "-start_date", "per_page": 10}
    result = call(lambda: stdio(sample_index), lambda c: c.call_tool("search_trials", args))
    api = sample_server.get("/api/search", params=args).json()
    tool = result.structured_content
    assert tool["total"] == api["total"] > 0
    assert [h["nct_id"] for h in tool["hits"]] == [h["nct_id"] for h in api["results"]]


def test_bad_arguments_are_the_apis_typed_errors(sample_index):
    async def work(client):
        return [
            await client.call_tool("search_trials", {"status": ["NOPE"]}),
            await client.call_tool("search_trials", {"sponsor": "Pfizr"}),
            await client.call_tool("count_trials", {"age": "forty"}),
            await client.call_tool("get_trial", {"nct_id": "NCT123"}),
            await client.call_tool("get_trial", {"nct_id": "NCT00000000"}),
        ]

    status, sponsor, age, bad_id, missing = call(lambda: stdio(sample_index), work)
    assert (
        error_of(status)["code"] == "unknown_value" and "RECRUITING" in error_of(status)["allowed"]
    )
    assert error_of(sponsor)["param"] == "sponsor" and error_of(sponsor)["allowed"] == ["Pfizer"]
    assert (error_of(age)["code"], error_of(age)["param"]) == ("invalid_age", "age")
    assert error_of(bad_id)["code"] == "invalid_nct_id"
    assert error_of(missing)["code"] == "not_found"


def test_a_study_as_markdown(sample_index):
    result = call(
        lambda: stdio(sample_index),
        lambda c: c.call_tool("get_trial", {"nct_id": "NCT90000001", "format": "markdown"}),
    )
    page = result.structured_content["markdown"]
    assert page.startswith("---\ntitle: ") and "nct_id: NCT90000001" in page


def test_streamable_http_serves_the_same_tools(mcp_http):
    async def work(client):
        tools = (await client.list_tools()).tools
        return tools, await client.call_tool("count_trials", {"q": "asthma"})

    tools, count = call(lambda: Client(mcp_http), work)
    assert {tool.name for tool in tools} == TOOLS
    assert count.structured_content["total"] > 0


def test_streamable_http_refuses_a_host_it_was_not_told_of(mcp_http):
    response = requests.post(
        mcp_http, headers={"Host": "evil.example", "Content-Type": "application/json"},
        data="{}", timeout=10,
    )  # fmt: skip
    assert response.status_code == 421


def test_the_server_follows_a_new_generation(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(3))
    reindex(pages, tmp_path / "ix")

    async def work(client):
        before = await client.call_tool("count_trials", {"q": "asthma"})
        write_pages(pages, pages_for(2, start=10))
        reindex(pages, tmp_path / "ix")
        after = await client.call_tool("count_trials", {"q": "asthma"})
        return before.structured_content, after.structured_content

    before, after = call(lambda: stdio(tmp_path / "ix"), work)
    assert (before["total"], after["total"]) == (3, 5)
    assert after["index"]["generation"] > before["index"]["generation"]


def test_match_patient_says_what_it_read_and_why_each_study_matched(sample_index, sample_server):
    args = {"description": "She has asthma and denies smoking.", "age": 9, "sex": "FEMALE"}
    result = call(lambda: stdio(sample_index), lambda c: c.call_tool("match_patient", args))
    assert not result.is_error, result.content
    found = result.structured_content
    assert (found["read"]["age"], found["read"]["sex"]) == (9, "FEMALE")  # stated: they win
    assert "asthma" in [c.lower() for c in found["read"]["concepts"]]
    assert any("smoking" in text for text in found["read"]["negated"])
    first = found["hits"][0]
    assert first["why"]["age_ok"] is True and "asthma" in [
        c.lower() for c in first["why"]["concepts"]
    ]
    excluded = [False in (hit["why"]["age_ok"], hit["why"]["sex_ok"]) for hit in found["hits"]]
    assert excluded == sorted(excluded)  # every study excluding a 9-year-old girl comes last
    api = sample_server.get(
        "/api/search",
        params={"q": "A 9-year-old woman. She has asthma and denies smoking.", "mode": "patient"},
    ).json()
    assert found["total"] == api["total"] > 0


def test_match_patient_without_anything_to_read_is_a_typed_error(sample_index):
    result = call(lambda: stdio(sample_index), lambda c: c.call_tool("match_patient", {}))
    assert error_of(result)["code"] == "missing_description"


def test_the_tools_search_near_a_place_and_match_a_patient_near_one(sample_index):
    async def work(client):
        near = {"near": "Boston, MA", "radius": "25mi", "site_status": ["RECRUITING"],
                "sort": "distance", "fields": ["title", "nearest_site"]}  # fmt: skip
        return (
            await client.call_tool("search_trials", near),
            await client.call_tool("count_trials", {"near": "Houston, TX", "radius": "50mi"}),
            await client.call_tool("match_patient", {"description": "A 60-year-old man "
                                   "with heart failure.", "near": "02115", "radius": "20mi"}),
            await client.call_tool("search_trials", {"near": "Portland"}),
        )  # fmt: skip

    found, counted, patient, ambiguous = call(lambda: stdio(sample_index), work)
    search = found.structured_content
    assert search["total"] > 0
    assert search["near"]["name"] == "Boston" and search["near"]["radius_mi"] == 25
    for hit in search["hits"]:
        assert hit["nearest_site"]["city"] == "Boston"
        assert hit["nearest_site"]["status"] == "RECRUITING"
    assert counted.structured_content["total"] > 0
    matched = patient.structured_content
    assert matched["near"]["precision"] == "postal_code"
    assert matched["hits"] and all(h["nearest_site"]["city"] == "Boston" for h in matched["hits"])
    error = error_of(ambiguous)
    assert error["code"] == "ambiguous_place"
    assert "Portland, Maine, United States" in error["allowed"]
