"""The one table of search parameters: every surface takes every parameter in it.

Each parameter's example is a working search of the built-in sample corpus, and it
is accepted by the request parser, by GET /api/search, by the search page, and by
`trialsearch search`, and described in the OpenAPI document.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from indexer.cli import main
from indexer.search.query import FACETS, PARAMS, PARAMS_BY_NAME, SearchIndex, parse_params

CLI = [str(Path(sys.executable).with_name("trialsearch"))]
NAMES = [param.name for param in PARAMS]


def with_needs(param) -> list:
    """The parameter, after those it needs (radius: near), each with its example."""
    return [PARAMS_BY_NAME[name] for name in param.needs] + [param]


def example_params(param) -> list[tuple[str, str]]:
    return [(p.name, p.example) for p in with_needs(param)]


def cli_args(param) -> list[str]:
    if param.name == "q":
        return param.example.split()
    needed = [arg for p in with_needs(param)[:-1] for arg in cli_args(p)]
    if param.kind == "boolean":
        return [*needed, param.cli_option]
    return [*needed, param.cli_option, param.example]


def test_the_table_names_each_parameter_once_and_every_facet():
    assert len(NAMES) == len(set(NAMES))
    assert {spec.name for spec in FACETS} <= set(NAMES)


@pytest.mark.parametrize("param", PARAMS, ids=NAMES)
def test_each_parameter_is_described_with_an_example_its_schema_admits(param):
    assert param.description.strip()
    value = [param.example] if param.repeatable else param.example
    schema = param.json_schema()
    if schema.get("type") in ("integer", "number") or schema.get("items", {}).get("type") in (
        "integer",
        "number",
    ):
        value = [float(param.example)] if param.repeatable else float(param.example)
    assert not list(Draft202012Validator(schema).iter_errors(value)), (param.name, schema)


@pytest.mark.parametrize("param", PARAMS, ids=NAMES)
def test_each_example_is_a_working_search_of_the_sample(param, sample_index):
    req = parse_params({name: [value] for name, value in example_params(param)})
    resp = SearchIndex(sample_index).search(req)
    assert resp.total > 0, f"{param.name}={param.example} finds nothing in the sample"


def total_of(text: str, markdown: bool) -> int:
    """The total of an answer, JSON or Markdown ("# 1,234 studies …")."""
    if markdown:
        return int(text.split()[1].replace(",", ""))
    return json.loads(text)["total"]


@pytest.mark.parametrize("param", PARAMS, ids=NAMES)
def test_each_parameter_is_accepted_by_the_json_api(param, client):
    response = client.get("/api/search", query_string=example_params(param))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert total_of(response.get_data(as_text=True), param.name == "format") > 0


@pytest.mark.parametrize("param", PARAMS, ids=NAMES)
def test_each_parameter_is_accepted_in_a_post_body(param, client):
    body = {p.name: [p.example] if p.repeatable else p.example for p in with_needs(param)}
    response = client.post("/api/search", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert total_of(response.get_data(as_text=True), param.name == "format") > 0


@pytest.mark.parametrize("param", PARAMS, ids=NAMES)
def test_each_parameter_is_accepted_by_the_search_page(param, client):
    response = client.get("/search", query_string=example_params(param))
    assert response.status_code == 200
    assert "NCT" in response.get_data(as_text=True)


@pytest.mark.parametrize("param", PARAMS, ids=NAMES)
def test_each_parameter_is_an_option_of_the_search_command(param, sample_index):
    markdown = param.name == "format"
    args = ["search", *cli_args(param), "--index", str(sample_index)]
    result = CliRunner().invoke(main, args if markdown else [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert total_of(result.output, markdown) > 0


@pytest.mark.parametrize("param", PARAMS, ids=NAMES)
def test_each_parameter_is_described_in_the_openapi_document(param, client):
    document = client.get("/api/openapi.json").get_json()
    described = {p["name"]: p for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert param.name in described
    assert described[param.name]["description"] == param.description
    assert described[param.name]["schema"] == param.json_schema()


def test_the_openapi_document_describes_nothing_the_table_lacks(client):
    document = client.get("/api/openapi.json").get_json()
    described = [p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]]
    assert described == NAMES


def test_the_installed_command_takes_every_parameter_at_once(sample_index):
    """One real process with every option: the options parse together, the answer
    is the API's for the same parameters."""
    skipped = ("page", "format", "radius")
    args = [arg for param in PARAMS if param.name not in skipped for arg in cli_args(param)]
    args += ["--radius", PARAMS_BY_NAME["radius"].example]
    result = subprocess.run(
        [*CLI, "search", *args, "--index", str(sample_index), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    params: dict[str, list[str]] = {
        p.name: [p.example] for p in PARAMS if p.name not in ("page", "q", "format")
    }
    params["q"] = [" ".join(cli_args(PARAMS[0]))]
    expected = SearchIndex(sample_index).search(parse_params(params))
    assert json.loads(result.stdout)["total"] == expected.total


def test_a_bad_value_is_refused_the_same_way_by_the_command_and_the_api(sample_index, client):
    api = client.get("/api/search?status=NOPE").get_json()["error"]
    result = CliRunner().invoke(main, ["search", "--status", "NOPE", "--index", str(sample_index)])
    assert result.exit_code == 2
    assert api["message"] in result.output
