"""Autocomplete: facet values as one types, each with the count its facet shows."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner

from indexer.cli import main
from indexer.search.prefixes import SEPARATORS, WordStarts, folded
from indexer.search.query import SearchIndex

from openapi_check import OpenAPIChecker


def facet_counts(server, field: str, prefix: str, params: dict) -> dict[str, int]:
    """The facet's own list of the values with the prefix (the prefix logic itself is
    checked against a scan of every value below)."""
    listing = {"facets": field, "facet_prefix": prefix, "facet_limit": 500, "per_page": 1}
    body = server.get("/api/search", params={**params, **listing, "fields": "nct_id"}).json()
    assert field not in body["truncated_facets"]
    return {item["value"]: item["count"] for item in body["facets"][field]}


@pytest.mark.server
def test_suggest_filters_are_the_facet_counts_under_the_same_filters(real_index, start_server):
    server = start_server(real_index, workers=1)
    api = OpenAPIChecker(server.get("/api/openapi.json").json())
    cases = [
        ("condition", "can", {}),
        ("condition", "dia", {"status": "RECRUITING"}),
        ("condition", "cancer", {"q": "chemotherapy", "phase": "PHASE2"}),
        ("sponsor", "uni", {"country": "United States"}),
        ("country", "uni", {"q": "cancer"}),
        ("intervention", "pla", {"study_type": "INTERVENTIONAL"}),
        # the field's own filter is left out, as its facet leaves it out
        ("status", "rec", {"status": "COMPLETED", "q": "asthma"}),
        ("condition", "hea", {"condition": "Heart Failure", "age": "70"}),
    ]
    for field, prefix, params in cases:
        response = server.get("/api/suggest", params={**params, "field": field, "prefix": prefix})
        assert response.status_code == 200, response.text
        body = response.json()
        api.validate("/api/suggest", 200, body)
        assert body["suggestions"], (field, prefix, params)
        counts = facet_counts(server, field, prefix, params)
        for item in body["suggestions"]:
            assert item["field"] == field
            assert item["count"] == counts[item["value"]], (field, prefix, params, item)
            assert _has_word_start(item["value"], prefix)
        listed = [item["count"] for item in body["suggestions"]]
        assert listed == sorted(listed, reverse=True)
        # nothing commoner was left out
        best = sorted((n for v, n in counts.items() if _has_word_start(v, prefix)), reverse=True)[
            : len(listed)
        ]
        assert listed == best, (field, prefix, params)


def _has_word_start(value: str, prefix: str) -> bool:
    text = folded(value)
    return any(
        text.startswith(prefix, i) for i in range(len(text)) if i == 0 or text[i - 1] in SEPARATORS
    )


def test_word_starts_find_exactly_what_a_scan_of_every_value_finds(real_index):
    index = SearchIndex(real_index)
    rng = random.Random(7)
    with index.use() as snap:
        for name in ("condition", "sponsor", "intervention"):
            values = snap.columns.facets[name].values
            starts = WordStarts(values)
            texts = [folded(v) for v in values]
            prefixes = ["a", "can", "non-s", "(nc", "hopi", "breast can", "de la", "zzz"]
            for value in rng.sample(texts, 30):  # and the value's own words, long ones too
                prefixes += [value[:n] for n in (2, 5, 30)] + value.split()[-1:]
            for prefix in prefixes:
                wanted = prefix.strip()
                expected = [c for c, text in enumerate(texts) if _has_word_start(text, wanted)]
                assert starts.codes_for(prefix).tolist() == expected, (name, prefix)


def test_suggest_ignores_case_and_accents_and_matches_any_word(client):
    def values(field: str, prefix: str) -> list[str]:
        body = client.get(f"/api/suggest?field={field}&prefix={prefix}").get_json()
        return [item["value"] for item in body["suggestions"]]

    assert "Breast Cancer" in values("condition", "CANCER")
    assert values("sponsor", "hopitaux") == ["Assistance Publique - Hôpitaux de Paris"]
    assert "National Cancer Institute (NCI)" in values("sponsor", "nci")
    assert values("country", "zzz") == []


def test_suggest_by_default_completes_conditions_interventions_and_sponsors(client):
    body = client.get("/api/suggest?prefix=as&limit=3").get_json()
    fields = [item["field"] for item in body["suggestions"]]
    assert body["fields"] == ["condition", "intervention", "sponsor"]
    assert fields == sorted(fields, key=body["fields"].index)  # grouped in that order
    assert all(fields.count(f) <= 3 for f in set(fields)) and "condition" in fields


def test_a_selected_value_is_marked_and_a_value_no_study_has_left_out(client):
    body = client.get("/api/suggest?field=status&prefix=re&status=RECRUITING").get_json()
    assert {"field": "status", "value": "RECRUITING", "selected": True} == {
        k: v for k, v in body["suggestions"][0].items() if k != "count"
    }
    none = client.get("/api/suggest?field=condition&prefix=asth&q=zzzzqqq").get_json()
    assert none["suggestions"] == []


@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ("field=condition", "missing_prefix", "prefix"),
        ("prefix=%20%20", "missing_prefix", "prefix"),
        ("prefix=as&field=nope", "unknown_value", "field"),
        ("prefix=as&limit=0", "out_of_range", "limit"),
        ("prefix=as&limit=51", "out_of_range", "limit"),
        ("prefix=as&limit=x", "invalid_integer", "limit"),
        ("prefix=" + "a" * 101, "query_too_long", "prefix"),
        ("prefix=as&status=NOPE", "unknown_value", "status"),
        ("prefix=as&condition=Nothing%20Like%20It", "unknown_value", "condition"),
    ],
)
def test_bad_suggest_parameters_are_json_400s(client, query, code, param):
    response = client.get("/api/suggest?" + query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["param"]) == (code, param)


def test_an_unknown_parameter_lists_the_suggest_ones_too(client):
    error = client.get("/api/suggest?prefix=as&bogus=1").get_json()["error"]
    assert error["code"] == "unknown_parameter"
    assert {"prefix", "field", "limit", "q", "status"} <= set(error["allowed"])


def test_interventions_are_a_filter_counted_only_when_asked(client):
    plain = client.get("/api/search?per_page=1").get_json()
    assert "intervention" not in plain["facets"]
    asked = client.get("/api/search?facets=intervention&facet_limit=100&per_page=1").get_json()
    placebo = {i["value"]: i["count"] for i in asked["facets"]["intervention"]}["Placebo"]
    filtered = client.get("/api/search?intervention=Placebo&per_page=1").get_json()
    assert filtered["total"] == placebo > 0


def test_the_cli_suggests_with_filters(sample_index):
    result = CliRunner().invoke(
        main, ["suggest", "ast", "--index", str(sample_index), "--field", "condition", "-f",
               "status=RECRUITING"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Asthma" in result.output
    bad = CliRunner().invoke(main, ["suggest", "ast", "--index", str(sample_index), "--limit", "0"])
    assert bad.exit_code == 2


def test_typing_a_word_under_filters_keeps_the_facet_counts_letter_after_letter(real_index):
    """The counts of the first letter's filters are reused for the next letters; a
    change of filter (or of the words) counts afresh."""
    from indexer.search.query import parse_params, parse_suggest

    index = SearchIndex(real_index)
    try:
        for filters in ({"status": ["RECRUITING"]}, {"status": ["COMPLETED"]}, {"q": ["insulin"]}):
            for prefix in ("d", "di", "dia", "diab"):
                got = index.suggest(
                    parse_suggest(
                        {"prefix": [prefix], "field": ["condition"], "limit": ["50"], **filters}
                    )
                )
                facet = index.search(
                    parse_params(
                        {
                            **filters,
                            "facets": ["condition"],
                            "facet_prefix": [prefix],
                            "facet_limit": ["500"],
                        }
                    )
                ).facets["condition"]
                counts = {item["value"]: item["count"] for item in facet}
                assert got["suggestions"], (filters, prefix)
                for item in got["suggestions"]:
                    assert item["count"] == counts[item["value"]], (filters, prefix, item)
    finally:
        index.close()
