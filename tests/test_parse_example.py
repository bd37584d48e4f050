"""The parser reads every field of the real example page exactly."""

from indexer.pages.files import read_record as read_page


def test_example_page_frontmatter_and_key_facts(example_page):
    record = read_page(example_page)
    assert record.nct_id == "NCT04554719"
    assert record.title == (
        "Clinical Application of Fibroblast Activation Protein PET/MRI for Diagnosis and "
        "Staging in Malignant Tumors"
    )
    assert record.official_title == (
        "Clinical Application of Fibroblast Activation Protein PET/MRI for Diagnosis and Staging"
    )
    assert record.overall_status == "UNKNOWN"
    assert record.phases == ["NA"]
    assert record.study_type == "INTERVENTIONAL"
    assert record.sponsor == (
        "Union Hospital, Tongji Medical College, Huazhong University of Science and Technology"
    )
    assert record.primary_condition == "Malignant Neoplasm"
    assert record.conditions == ["Malignant Neoplasm"]
    assert record.countries == ["China"]
    assert record.canonical_url == "https://parkinsonspathways.com/agent/trials/NCT04554719.md"
    assert record.clinicaltrials_gov == "https://clinicaltrials.gov/study/NCT04554719"
    assert record.last_update == "2023-02-14"
    assert record.last_seen_at == "2026-05-12T06:30:26.088Z"
    assert record.source == "ClinicalTrials.gov (mirrored, no enrichment)"
    assert record.enrollment == 500
    assert record.start_date == "2020-05-22"
    assert record.completion_date == "2023-12-31"
    assert record.extra == {}


def test_example_page_text_sections_are_unescaped(example_page):
    record = read_page(example_page)
    assert record.brief_summary.startswith("Positron emission tomography (PET) molecular imaging")
    assert "[F-18] fluorodeoxyglucose (18F-FDG) to diagnose" in record.brief_summary
    assert "\\[" not in record.brief_summary
    assert record.detailed_description.count("\n\n") == 1  # two paragraphs kept apart
    assert record.detailed_description.endswith("in the diagnosis and staging of some tumors.")


def test_example_page_eligibility(example_page):
    elig = read_page(example_page).eligibility
    assert (elig.min_age, elig.max_age) == ("18 Years", "80 Years")
    assert (elig.min_age_years, elig.max_age_years) == (18.0, 80.0)
    assert elig.sex == "ALL"
    assert elig.healthy_volunteers is False
    assert elig.criteria.startswith("Inclusion Criteria:\n\n* Patients with suspected")
    assert elig.criteria.endswith("* Patients refuse to sign the informed consent.")


def test_example_page_arms_interventions_outcomes(example_page):
    record = read_page(example_page)
    assert [(a.label, a.type) for a in record.arms] == [("68Ga-DOTA-FAPI PET/MR", "EXPERIMENTAL")]
    assert record.arms[0].description.startswith("Investigators select subjects")
    assert [(i.name, i.type) for i in record.interventions] == [
        ("68Ga-DOTA-FAPI", "DRUG"),
        ("PET/MR", "DEVICE"),
        ("PET/CT", "DEVICE"),
    ]
    assert record.interventions[1].description == (
        "Each subject undergoes PET/MR imaging within 40-60 minutes after injection."
    )
    assert record.intervention_types == ["DRUG", "DEVICE"]
    [outcome] = record.primary_outcomes
    assert outcome.measure == (
        "Sensitivity and specificity of 68Ga-DOTA-FAPI PET/MR for diagnosis and staging in "
        "some malignant tumors."
    )
    assert outcome.time_frame == "2 years"
    assert outcome.description.startswith("For subjects with suspected or diagnosed")


def test_example_page_locations_and_changes(example_page):
    record = read_page(example_page)
    [loc] = record.locations
    assert loc.text == "China, Hubei Province, Wuhan, Hubei, China"
    assert (loc.facility, loc.city, loc.state, loc.country, loc.status) == (
        "China, Hubei Province",
        "Wuhan",
        "Hubei",
        "China",
        "RECRUITING",
    )
    assert record.locations_total == 1
    assert record.locations_more == 0
    assert len(record.field_changes) == 16
    first, last = record.field_changes[0], record.field_changes[-1]
    assert (first.field, first.change, first.date) == (
        "status.overallStatus",
        "added",
        "2026-05-12",
    )
    assert last.field == "locations.china, hubei province|wuhan|hubei|china"
    assert record.acronyms == ["PET", "MRI"]
