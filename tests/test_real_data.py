"""Real data: 2,000 ClinicalTrials.gov records rendered as pages, indexed, and checked
against the records themselves — fields, facet counts, and search totals."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from indexer.pages.values import age_to_years
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params

pytestmark = pytest.mark.realdata


def norm(text):
    return " ".join(str(text).split()) if text is not None else None


def expected_facets(rec: dict) -> dict[str, list[str]]:
    """A record's facet values, straight from the record (the ground truth)."""
    hv = rec.get("healthy_volunteers")
    types = []
    for iv in rec.get("interventions") or []:
        if iv.get("name") and iv.get("type") and iv["type"] not in types:
            types.append(iv["type"])
    return {
        "status": [rec["overall_status"]] if rec.get("overall_status") else [],
        "phase": list(rec.get("phases") or []),
        "study_type": [rec["study_type"]] if rec.get("study_type") else [],
        "intervention_type": types,
        "sex": [rec["sex"]] if rec.get("sex") else [],
        "healthy_volunteers": [] if hv is None else ["true" if hv else "false"],
        "country": list(dict.fromkeys(norm(c) for c in rec.get("countries") or [])),
        "sponsor": [norm(rec["lead_sponsor"])] if rec.get("lead_sponsor") else [],
        "condition": [norm(c) for c in rec.get("conditions") or []],
    }


def has_comma_condition(rec: dict) -> bool:
    return any(", " in c for c in rec.get("conditions") or [])


@pytest.fixture(scope="module")
def index(real_index):
    ix = SearchIndex(real_index)
    yield ix
    ix.close()


def test_every_indexed_document_matches_its_record(index, real_records):
    mismatches = []
    for nct, rec in real_records.items():
        got = index.get_record(nct)
        assert got is not None, nct
        checks = {
            "overall_status": (got["overall_status"], rec.get("overall_status")),
            "phases": (got["phases"], rec.get("phases") or []),
            "study_type": (got["study_type"], rec.get("study_type")),
            "sponsor": (got["sponsor"], norm(rec.get("lead_sponsor"))),
            "countries": (got["countries"], [norm(c) for c in rec.get("countries") or []]),
            "enrollment": (got["enrollment"], rec.get("enrollment")),
            "start_date": (got["start_date"], rec.get("start_date")),
            "completion_date": (got["completion_date"], rec.get("completion_date")),
            "last_update": (got["last_update"], rec.get("last_update_post_date")),
            "title": (got["title"], norm(rec.get("brief_title") or nct)),
            # The Key Facts line joins names that may hold commas: the join is exact...
            "conditions_joined": (
                ", ".join(got["conditions"]),
                ", ".join(norm(c) for c in rec.get("conditions") or []),
            ),
        }
        # ...and the split is exact wherever the format is unambiguous.
        if not has_comma_condition(rec):
            checks["conditions"] = (got["conditions"], [norm(c) for c in rec["conditions"] or []])
        for name, (have, want) in checks.items():
            if have != want:
                mismatches.append((nct, name, have, want))
    assert mismatches == []


def test_names_with_commas_are_mostly_split_right(index, real_records):
    """Lossy in the format (see the issue note): measured, and held above a floor."""
    ambiguous = [r for r in real_records.values() if has_comma_condition(r)]
    right = sum(
        index.get_record(r["nct_id"])["conditions"] == [norm(c) for c in r["conditions"]]
        for r in ambiguous
    )
    assert ambiguous, "the sample should contain condition names with commas"
    assert right / len(ambiguous) >= 0.6, f"{right}/{len(ambiguous)}"


def test_stats_facet_counts_equal_the_records(index, real_records):
    stats = index.stats()
    assert stats["documents"] == len(real_records)
    for facet in (
        "status",
        "phase",
        "study_type",
        "intervention_type",
        "sex",
        "healthy_volunteers",
        "country",
        "sponsor",
    ):
        want = Counter(v for rec in real_records.values() for v in expected_facets(rec)[facet])
        assert stats["facets"][facet] == dict(want), facet


def matches(rec: dict, filters: dict[str, list[str]], age: float | None = None) -> bool:
    values = expected_facets(rec)
    for name, wanted in filters.items():
        if not set(values[name]) & set(wanted):
            return False
    if age is not None:
        low, high = age_to_years(rec.get("min_age")), age_to_years(rec.get("max_age"))
        if (low is not None and low > age) or (high is not None and high < age):
            return False
    return True


FILTER_SETS = [
    {},
    {"status": ["RECRUITING"]},
    {"status": ["COMPLETED", "TERMINATED"]},
    {"phase": ["PHASE2"]},
    {"phase": ["PHASE1", "PHASE2"], "study_type": ["INTERVENTIONAL"]},
    {"country": ["United States"]},
    {"country": ["France", "Germany"], "status": ["COMPLETED"]},
    {"intervention_type": ["DRUG"], "sex": ["FEMALE"]},
    {"healthy_volunteers": ["true"], "phase": ["PHASE1"]},
    {"sponsor": ["National Cancer Institute (NCI)"], "phase": ["PHASE2", "PHASE3"]},
    {"status": ["UNKNOWN"], "intervention_type": ["BEHAVIORAL", "DEVICE"], "sex": ["ALL"]},
]


@pytest.mark.parametrize("filters", FILTER_SETS, ids=lambda f: ",".join(f) or "none")
@pytest.mark.parametrize("age", [None, 8.0, 70.0])
def test_totals_and_disjunctive_facet_counts_equal_the_records(index, real_records, filters, age):
    params = {k: list(v) for k, v in filters.items()}
    if age is not None:
        params["age"] = [str(age)]
    params["facet_limit"] = ["500"]
    resp = index.search(parse_params(params))
    assert resp.total == sum(matches(r, filters, age) for r in real_records.values())
    for facet in (
        "status",
        "phase",
        "study_type",
        "intervention_type",
        "sex",
        "healthy_volunteers",
        "country",
    ):
        others = {k: v for k, v in filters.items() if k != facet}
        want = Counter(
            v
            for r in real_records.values()
            if matches(r, others, age)
            for v in expected_facets(r)[facet]
        )
        got = {item["value"]: item["count"] for item in resp.facets[facet]}
        want_shown = {v: c for v, c in want.items() if c}
        for value in filters.get(facet, []):
            want_shown.setdefault(value, 0)
        assert got == want_shown, facet


def test_a_facet_count_equals_the_total_after_adding_that_value(index):
    resp = index.search(parse_params({"q": ["cancer"], "status": ["RECRUITING"]}))
    for facet in ("phase", "country", "status"):
        for item in resp.facets[facet][:5]:
            params = {"q": ["cancer"], "status": ["RECRUITING"]}
            if facet == "status":
                params["status"] = [item["value"]]
            else:
                params[facet] = [item["value"]]
            assert index.search(parse_params(params)).total == item["count"]


def test_text_totals_are_exact_and_paging_covers_them(index):
    resp = index.search(parse_params({"q": ["diabetes"], "per_page": ["100"]}))
    seen = [h["nct_id"] for h in resp.results]
    page = 2
    while len(seen) < resp.total:
        more = index.search(
            parse_params({"q": ["diabetes"], "per_page": ["100"], "page": [str(page)]})
        )
        assert more.results, page
        seen += [h["nct_id"] for h in more.results]
        page += 1
    assert len(seen) == len(set(seen)) == resp.total


def test_every_phase_combination_filter_is_consistent(index, real_records):
    phases = ["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"]
    for a, b in itertools.combinations(phases, 2):
        resp = index.search(parse_params({"phase": [a, b], "per_page": ["1"]}))
        assert resp.total == sum(matches(r, {"phase": [a, b]}) for r in real_records.values())
