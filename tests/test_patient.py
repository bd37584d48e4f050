"""Patient mode: a description read as evidence, its age and sex used for eligibility.

The figures (NDCG@10 on TREC 2022 and SIGIR 2016) live in bench/relevance.py and
docs/relevance.md; these tests pin the behaviours behind them.
"""

from __future__ import annotations

import pytest

from indexer.errors import ParamError
from indexer.search.patient import read_patient
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params
from indexer.search.synonyms import DEFAULT_LISTS, SynonymTable, get_table

from pagemaker import build_studies, ids, search

ASTROCYTOMA = ("Anaplastic Astrocytoma",)
STUDIES = {
    "NCT10000001": ("Temozolomide for Anaplastic Astrocytoma", {"conditions": ASTROCYTOMA}),
    "NCT10000002": (
        "Radiation for Anaplastic Astrocytoma in Children",
        {"conditions": ASTROCYTOMA, "min_age": "1 Year", "max_age": "17 Years"},
    ),
    "NCT10000003": (
        "Anaplastic Astrocytoma in Women",
        {"conditions": ASTROCYTOMA, "sex": "FEMALE", "max_age": "80 Years"},
    ),
    "NCT10000004": (
        "Metformin in Type 2 Diabetes",
        {"conditions": ("Type 2 Diabetes",), "max_age": None},
    ),
    "NCT10000005": ("Exercise for Hip Osteoarthritis", {"conditions": ("Osteoarthritis, Hip",)}),
    "NCT10000006": ("Daratumumab in Multiple Myeloma", {"conditions": ("Multiple Myeloma",)}),
    "NCT10000007": ("A Registry of Plasma Cells", {"conditions": ("Plasma Cell Myeloma",)}),
}
DESCRIPTION = (
    "Patient is a 45-year-old man with a history of anaplastic astrocytoma of the spine "
    "complicated by severe lower extremity weakness, s/p radiation. He has no history of "
    "diabetes and denies chest pain."
)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder, index_dir = tmp_path_factory.mktemp("pages"), tmp_path_factory.mktemp("index")
    ix = SearchIndex(build_studies(folder, index_dir, STUDIES))
    yield ix
    ix.close()


@pytest.mark.parametrize(
    ("text", "age", "sex"),
    [
        ("Patient is a 45-year-old man with a history of glioma", 45, "MALE"),
        ("A 6 yo girl with fever and cough", 6, "FEMALE"),
        ("72 F with CHF exacerbation", 72, "FEMALE"),
        ("68M presenting with chest pain", 68, "MALE"),
        ("A 58-year-old African-American woman presents to the ER", 58, "FEMALE"),
        ("An 8-year-old male presents in March to the ER", 8, "MALE"),
        ("a forty-two-year-old woman with migraine", 42, "FEMALE"),
        ("A 3-month-old infant with bronchiolitis", 0.25, None),
        ("The patient, aged 67 years, reports dyspnea. He smokes.", 67, "MALE"),
        ("A woman, 34 years of age, with lupus", 34, "FEMALE"),
        ("A 10 y/o boy with asthma", 10, "MALE"),
    ],
)
def test_age_and_sex_are_read_from_the_usual_phrasings(text, age, sex):
    reading = read_patient(text)
    assert (reading.age, reading.sex) == (age, sex)


@pytest.mark.parametrize(
    "text",
    [
        "18F-FDG PET imaging of the brain",
        "COVID-19 pneumonia in the ICU",
        "type 2 diabetes on metformin",
        "a phase 3 study of insulin",
        "smoked for 30 years, quit 5 years ago",
        "Temperature 101 F, pulse 110",
        "BMI 24 kg/m2, HbA1c 7.2",
    ],
)
def test_numbers_that_are_not_ages_are_not_read_as_ages(text):
    assert read_patient(text).age is None


@pytest.mark.parametrize(
    ("text", "denied", "kept"),
    [
        ("He has no history of diabetes. He has asthma.", "diabetes", "asthma"),
        ("She denies chest pain, but reports dyspnea.", "chest pain", "dyspnea"),
        ("Pulmonary embolism was ruled out; she has pneumonia.", "embolism", "pneumonia"),
        ("without fever or cough; rash on the arms", "cough", "rash"),
    ],
)
def test_negation_covers_its_clause_and_no_more(text, denied, kept):
    reading = read_patient(text)
    negated = " ".join(reading.negated_text(text))
    assert denied in negated and kept not in negated


def test_a_description_finds_studies_of_its_condition_and_says_what_it_read(index):
    resp = search(index, DESCRIPTION)
    assert resp.mode == "patient"
    assert ids(resp)[0] == "NCT10000001"
    assert resp.patient["age"] == 45 and resp.patient["sex"] == "MALE"
    assert "anaplastic astrocytoma" in [c["text"].lower() for c in resp.patient["concepts"]]
    assert any("diabetes" in text for text in resp.patient["negated"])
    assert "NCT10000004" not in ids(resp)  # "no history of diabetes" counts for nothing
    why = resp.results[0]["why"]
    assert why == {"age_ok": True, "sex_ok": True, "concepts": why["concepts"]}
    assert "anaplastic astrocytoma" in [c.lower() for c in why["concepts"]]


def test_a_study_that_excludes_the_patient_ranks_below_one_that_admits_them(index):
    ranked = ids(search(index, DESCRIPTION))
    assert ranked.index("NCT10000001") < ranked.index("NCT10000002")  # children only
    assert ranked.index("NCT10000001") < ranked.index("NCT10000003")  # women only
    hits = {hit["nct_id"]: hit["why"] for hit in search(index, DESCRIPTION).results}
    assert hits["NCT10000002"]["age_ok"] is False and hits["NCT10000003"]["sex_ok"] is False


def test_eligible_only_leaves_out_the_studies_that_exclude_the_patient(index):
    resp = search(index, DESCRIPTION, eligible_only="true")
    assert ids(resp) == ["NCT10000001"]
    assert resp.total == 1


def test_auto_mode_reads_long_plain_text_as_a_description_and_queries_as_keywords(index):
    assert search(index, "anaplastic astrocytoma").mode == "keywords"
    assert (
        search(
            index,
            '"anaplastic astrocytoma" OR glioma in adults with a long history of '
            "weakness and radiation to the spine",
        ).mode
        == "keywords"
    )  # syntax: a query
    assert search(index, DESCRIPTION).mode == "patient"
    assert search(index, "anaplastic astrocytoma", mode="patient").mode == "patient"
    with pytest.raises(ParamError) as info:  # as keywords: 35 words AND-ed
        search(index, DESCRIPTION, mode="keywords")
    assert info.value.code == "too_many_terms"


def test_keywords_keep_their_limit_and_a_description_has_4000_characters(index):
    with pytest.raises(ParamError) as info:
        search(index, "asthma " * 80, mode="keywords")
    assert info.value.code == "query_too_long"
    assert search(index, (DESCRIPTION + " ") * 20).mode == "patient"  # 4,000 characters
    with pytest.raises(ParamError):
        parse_params({"q": ["x" * 4001]})
    with pytest.raises(ParamError):
        parse_params({"q": ["asthma"], "mode": ["essay"]})


def test_mesh_synonyms_are_searched_with_no_environment_set(index, monkeypatch):
    monkeypatch.delenv("TRIALSEARCH_SYNONYMS", raising=False)
    resp = search(index, "Kahler disease")  # MeSH's entry term for Multiple Myeloma
    assert set(ids(resp)) == {"NCT10000006", "NCT10000007"}
    # of the heading's 15 other terms, the six searched are those studies use first
    assert resp.expansions[0]["alternatives"][:2] == ["Multiple Myeloma", "Plasma Cell Myeloma"]


def test_the_compiled_lists_answer_as_the_lists_read_into_memory():
    compiled, memory = get_table(list(DEFAULT_LISTS)), SynonymTable.load(list(DEFAULT_LISTS))
    phrases = ["heart attack", "CVA", "Kahler disease", "paracetamol", "NSCLC", "asthma",
               "lou gehrig s disease", "T2DM", "no such phrase at all"]  # fmt: skip
    for phrase in phrases:
        assert compiled.expand(phrase.split()) == memory.expand(phrase.split()), phrase
    assert compiled.names_treatment(compiled.phrase_groups("acetaminophen")[0])
    assert not compiled.names_treatment(compiled.phrase_groups("multiple myeloma")[0])


def test_age_groups_are_counted_and_filtered_as_ctgov_defines_them(index):
    resp = search(index, "", facets="age_group")
    counts = {item["value"]: item["count"] for item in resp.facets["age_group"]}
    # 18–65 and 18–80 reach OLDER_ADULT (65+); 1–17 is CHILD only; no maximum is open
    assert counts == {"CHILD": 1, "ADULT": 6, "OLDER_ADULT": 6}
    assert ids(search(index, "", age_group="child")) == ["NCT10000002"]
    both = search(index, "", age_group="CHILD", facets="age_group")
    assert {i["value"]: i["count"] for i in both.facets["age_group"]}["ADULT"] == 6  # disjunctive


def test_a_keyword_search_no_study_fully_matches_offers_the_closest_and_what_they_lack(index):
    resp = search(index, "anaplastic astrocytoma zebrafish", mode="keywords")
    assert resp.total == 0 and resp.results == []
    partial = resp.partial
    assert (partial["words"], partial["of"], partial["total"]) == (2, 3, 3)
    assert partial["dropped"] == ["zebrafish"]
    assert {hit["nct_id"] for hit in partial["results"]} == {
        "NCT10000001", "NCT10000002", "NCT10000003"
    }  # fmt: skip
    assert all(hit["missing"] == ["zebrafish"] for hit in partial["results"])
    filtered = search(index, "anaplastic astrocytoma zebrafish", mode="keywords", sex="FEMALE")
    assert [hit["nct_id"] for hit in filtered.partial["results"]] == ["NCT10000003"]
    assert search(index, "zebrafish", mode="keywords").partial is None  # one word: nothing
    assert search(index, "anaplastic astrocytoma").partial is None  # found: not needed
