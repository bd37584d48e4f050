"""A phrase naming a concept finds the studies that list it, under any of its names.

The synonym expansion searches six of a group's terms as text; these tests pin what
concepts.py adds: every study whose listed condition is a term of the group is found
(not only those spelling it as one of the six), ranks above studies that only
mention the words, and `exact=true` turns it off with the rest of the expansion.
"""

from __future__ import annotations

import pytest

from indexer.search.query import SearchIndex, search_markdown
from indexer.search.request import parse_params

from pagemaker import build_studies, ids, search

# One group of ten terms: more than the six the text expansion searches.
LYMPHOMA = [
    "Lymphoma",
    "Malignant Lymphoma",
    "Lymphomas",
    "Germinoblastic Sarcoma",
    "Germinoblastoma",
    "Germinoblastomas",
    "Malignant Lymphomas",
    "Lymphosarcoma",
    "Reticulolymphosarcoma",
    "Malignant Lymphoma (ML)",
]
ROWS = [("Lymphoma", term, "MeSH2024", "MESH:D008223") for term in LYMPHOMA[1:]] + [
    ("Lymphoma", "Reticulum Cell Sarcoma", "MeSH2024-subconcept", "MESH:D008223"),
    ("Asthma", "Bronchial Asthma", "MeSH2024", "MESH:D001249"),
]

STUDIES = {
    # lists the group's last term: no study text holds any of the six searched
    "NCT00000101": (
        "Radiotherapy in Older Adults",
        {"conditions": ("Reticulolymphosarcoma",), "summary": "Low-dose radiation."},
    ),
    "NCT00000102": (
        "Rituximab Maintenance",
        {"conditions": ("Lymphomas",), "summary": "Antibody therapy."},
    ),
    # says the words, lists another condition
    "NCT00000103": (
        "Inhaled Steroids",
        {
            "conditions": ("Asthma",),
            "summary": "People treated for malignant lymphoma or germinoblastic sarcoma "
            "in the past five years cannot take part.",
        },
    ),
    # lists a narrower term of the group: not the concept itself
    "NCT00000104": ("Watchful Waiting", {"conditions": ("Reticulum Cell Sarcoma",)}),
    "NCT00000105": ("Chemotherapy Intensity", {"conditions": ("Malignant Lymphoma (ML)",)}),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    lists = tmp_path_factory.mktemp("lists") / "conditions.tsv"
    lists.write_text(
        "preferred\tsynonym\tsource\tid\n" + "".join("\t".join(row) + "\n" for row in ROWS)
    )
    folder, index_dir = tmp_path_factory.mktemp("pages"), tmp_path_factory.mktemp("index")
    ix = SearchIndex(build_studies(folder, index_dir, STUDIES))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIALSEARCH_SYNONYMS", str(lists))
        yield ix
    ix.close()


def test_a_concept_finds_every_study_listing_it_not_only_the_six_names_searched(index):
    resp = search(index, "germinoblastoma")
    assert len(resp.expansions[0]["alternatives"]) == 6
    assert "Reticulolymphosarcoma" not in resp.expansions[0]["alternatives"]
    assert {"NCT00000101", "NCT00000102", "NCT00000105"} <= set(ids(resp))


def test_studies_listing_the_concept_rank_above_studies_that_only_mention_it(index):
    found = ids(search(index, "malignant lymphoma"))
    assert "NCT00000103" in found  # its summary has the words
    listing = {"NCT00000101", "NCT00000102", "NCT00000105"}
    assert set(found[:3]) == listing
    assert found.index("NCT00000103") > 2


def test_a_narrower_term_listed_is_not_the_concept(index):
    assert "NCT00000104" not in ids(search(index, "germinoblastoma"))


def test_exact_searches_the_words_alone(index):
    assert ids(search(index, "germinoblastic sarcoma", exact="true")) == ["NCT00000103"]


def test_a_bracketed_abbreviation_is_part_of_the_term(index):
    resp = search(index, "malignant lymphoma (ml)")
    assert resp.expansions and resp.expansions[0]["text"] == "malignant lymphoma (ml)"
    assert {"NCT00000101", "NCT00000102", "NCT00000105"} <= set(ids(resp))
    # as typed, every word must be there: only the study listing the bracketed term
    assert ids(search(index, "malignant lymphoma (ml)", exact="true")) == ["NCT00000105"]


def test_with_other_words_the_concept_stands_for_its_phrase_alone(index):
    # the study listing the concept under a seventh name, and saying "radiation"
    assert ids(search(index, "germinoblastoma radiation")) == ["NCT00000101"]
    assert ids(search(index, "germinoblastoma radiation", exact="true")) == []


def test_the_query_as_run_says_what_was_added(index):
    explained = index.explain(parse_params({"q": ["germinoblastoma"]}))
    assert "listed:(germinoblastoma)" in explained["query"]


def test_a_typed_placeholder_mark_is_only_a_space(index):
    assert ids(search(index, "rituximab \ue000\ue000")) == ["NCT00000102"]
    typed = search(index, "\ue0000\ue000 germinoblastoma")
    assert typed.total == search(index, "0 germinoblastoma").total


def test_the_answer_counts_the_studies_listing_the_concept(index):
    req = parse_params({"q": ["germinoblastoma"]})
    resp = index.search(req)
    assert resp.expansions[0]["listed"] == 3
    assert "and the 3 studies listing it as a condition" in search_markdown(req, resp)
