"""Relevance behaviours on small fixtures: IDs, acronyms, spellings, hyphens, synonyms.

The figures (success@k, MRR) live in bench/relevance.py and docs/relevance.md; these
tests pin the behaviours behind them.
"""

from __future__ import annotations

import json

import pytest

from indexer.index.build import reindex
from indexer.index.store import POINTER
from indexer.search.query import SearchIndex
from indexer.search.synonyms import SynonymTable, normalise_phrase

from pagemaker import build_studies, ids, make_page, search, write_pages

STUDIES = {
    "NCT04554719": ("Pembrolizumab in Peripheral T-cell Lymphoma", {}),
    "NCT00000002": (
        "Pembrolizumab Plus Chemotherapy for Metastatic Lung Cancer (KEYNOTE-189)",
        {"conditions": ("Non-small-cell Lung Cancer",)},
    ),
    "NCT00000003": ("Dapagliflozin in Heart Failure (DAPA-HF)", {"conditions": ("Heart Failure",)}),
    "NCT00000004": (
        "Systolic Blood Pressure Intervention Trial (SPRINT)",
        {"conditions": ("Hypertension",)},
    ),
    "NCT00000005": ("Iron for Anaemia in Paediatric Oesophageal Tumours", {}),
    "NCT00000006": ("A COVID-19 Vaccine in Adults", {"conditions": ("COVID-19",)}),
    "NCT00000007": (
        "Early Angioplasty After Myocardial Infarction",
        {"conditions": ("Myocardial Infarction",)},
    ),
    "NCT00000008": (
        "Rehabilitation After a Heart Attack",
        {"conditions": ("Heart Attack",), "summary": "Exercise after a heart attack."},
    ),
    "NCT00000009": ("Thrombolysis in Acute Stroke", {"conditions": ("Stroke",)}),
    "NCT00000010": ("Sprint Interval Training for Fitness", {"conditions": ("Obesity",)}),
    "NCT00000011": ("Tumor Markers in Esophageal Cancer", {}),
    "NCT00000012": ("Cell Therapy Without T Lymphocytes", {"summary": "Stem cell therapy."}),
    "NCT00000013": ("Home Visits for Older Adults (CARES)", {}),
    "NCT00000014": ("Care Pathways in Care Homes", {"summary": "Who cares for the carers?"}),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder, index_dir = tmp_path_factory.mktemp("pages"), tmp_path_factory.mktemp("index")
    ix = SearchIndex(build_studies(folder, index_dir, STUDIES))
    yield ix
    ix.close()


@pytest.mark.parametrize("q", ["NCT04554719", "nct04554719", "NCT4554719", "04554719"])
def test_an_nct_id_in_any_form_puts_that_study_first(index, q):
    resp = search(index, q)
    assert ids(resp)[0] == "NCT04554719"
    assert resp.pinned == ["NCT04554719"]


def test_eight_digits_that_are_no_study_are_just_a_word(index):
    resp = search(index, "12345678")
    assert resp.pinned == [] and resp.total == 0


def test_a_hyphen_inside_a_word_joins_and_a_leading_one_excludes(index):
    assert ids(search(index, "T-cell lymphoma")) == ["NCT04554719"]
    assert "NCT00000012" not in ids(search(index, "T-cell"))  # "T" and "cell" apart: no
    assert "NCT04554719" not in ids(search(index, "pembrolizumab -lymphoma"))
    assert ids(search(index, "pembrolizumab -lymphoma")) == ["NCT00000002"]


@pytest.mark.parametrize(
    "q, nct",
    [
        ("KEYNOTE-189", "NCT00000002"),
        ("KEYNOTE189", "NCT00000002"),
        ("keynote 189", "NCT00000002"),
        ("DAPA-HF", "NCT00000003"),
        ("DAPAHF", "NCT00000003"),
        ("dapa hf", "NCT00000003"),
    ],
)
def test_acronyms_match_with_and_without_hyphens(index, q, nct):
    assert ids(search(index, q))[0] == nct


def test_an_acronym_that_is_also_a_word_is_found_as_written(index):
    """CARES typed in capitals is the trial, not every study about care."""
    assert ids(search(index, "CARES"))[0] == "NCT00000013"
    assert ids(search(index, "cares"))[0] == "NCT00000014"  # in lower case it is the word


def test_an_acronym_outranks_the_same_word_in_a_title(index):
    resp = search(index, "SPRINT")
    assert ids(resp)[:2] == ["NCT00000004", "NCT00000010"]


@pytest.mark.parametrize(
    "british, american",
    [("tumour", "tumor"), ("oesophageal", "esophageal"), ("anaemia", "anemia"),
     ("paediatric", "pediatric")],
)  # fmt: skip
def test_british_and_american_spellings_meet(index, british, american):
    found = set(ids(search(index, british, exact="true")))
    assert found == set(ids(search(index, american, exact="true")))
    assert "NCT00000005" in found


@pytest.mark.parametrize("q", ["covid-19", "covid19", "covid 19", "COVID-19 vaccine"])
def test_hyphenation_variants_meet(index, q):
    assert ids(search(index, q))[0] == "NCT00000006"


@pytest.mark.parametrize("q", ["non-small-cell lung", "non small cell lung"])
def test_hyphenated_and_spaced_compounds_meet(index, q):
    assert ids(search(index, q, exact="true")) == ["NCT00000002"]


def test_lay_terms_find_the_medical_term_and_say_so(index):
    resp = search(index, "heart attack")
    assert set(ids(resp)) == {"NCT00000007", "NCT00000008"}
    assert ids(resp)[0] == "NCT00000008"  # the words as typed outrank their synonym
    assert resp.expansions[0]["text"] == "heart attack"
    assert "myocardial infarction" in [a.lower() for a in resp.expansions[0]["alternatives"]]
    assert resp.expansions[0]["kind"] == "synonym"


def test_exact_turns_expansion_off(index):
    resp = search(index, "heart attack", exact="true")
    assert ids(resp) == ["NCT00000008"]
    assert resp.expansions == []
    assert resp.query["exact"] is True


def test_expansion_works_both_ways(index):
    resp = search(index, "myocardial infarction")
    assert ids(resp)[0] == "NCT00000007"
    assert "NCT00000008" in ids(resp)


def test_abbreviations_expand_only_as_whole_words_in_capitals(index):
    resp = search(index, "CVA")
    assert ids(resp) == ["NCT00000009"]
    assert resp.expansions[0]["kind"] == "abbreviation"
    assert search(index, "cva").expansions == []  # short and lowercase: a word, not an ID


def test_expansions_leave_quotes_prefixes_and_negations_alone(index):
    assert search(index, '"heart attack"').expansions == []
    assert search(index, "title:stroke").expansions == []
    assert ids(search(index, "rehabilitation NOT stroke")) == ["NCT00000008"]


def test_the_configured_list_is_used_and_none_turns_it_off(index, tmp_path, monkeypatch):
    custom = tmp_path / "custom.tsv"
    custom.write_text("preferred\tsynonym\tsource\tid\nAngioplasty\tballoon dilation\tx\tX:1\n")
    monkeypatch.setenv("TRIALSEARCH_SYNONYMS", str(custom))
    resp = search(index, "balloon dilation")
    assert ids(resp) == ["NCT00000007"]
    assert resp.expansions[0]["alternatives"] == ["Angioplasty"]
    assert search(index, "heart attack").expansions == []  # the built-in list is replaced
    monkeypatch.setenv("TRIALSEARCH_SYNONYMS", "none")
    assert search(index, "balloon dilation").total == 0


def test_subconcepts_lead_to_the_heading_but_not_the_other_way():
    rows = [
        ("Neoplasms", "Tumors", "MeSH2024", "MESH:D009369"),
        ("Neoplasms", "Cancer", "MeSH2024-subconcept", "MESH:D009369"),
    ]
    table = SynonymTable()
    for preferred, synonym, source, ident in rows:
        table.add(ident, preferred, synonym, source)
    [(_, _, cancer)] = table.expand(["cancer"])
    assert cancer.alternatives == ("Neoplasms", "Tumors")
    [(_, _, neoplasms)] = table.expand(["neoplasms"])
    assert neoplasms.alternatives == ("Tumors",)


def test_phrases_are_compared_without_case_accents_or_punctuation():
    assert normalise_phrase("Sjögren's  Syndrome") == "sjogren s syndrome"
    assert normalise_phrase("Non-Small-Cell") == "non small cell"


def test_an_index_from_an_older_schema_is_rebuilt_in_full(tmp_path):
    pages = write_pages(tmp_path / "pages", {"NCT00000001": make_page("NCT00000001", "Asthma")})
    reindex(pages, tmp_path / "ix", procs=1)
    pointer = tmp_path / "ix" / POINTER
    data = json.loads(pointer.read_text())
    data["schema_version"] = 1
    pointer.write_text(json.dumps(data))
    report = reindex(pages, tmp_path / "ix", procs=1)
    assert report.mode == "full"
    assert report.note == "the index schema changed; rebuilt in full"
