"""The built-in sample corpus: realistic, complete and clean."""

from indexer.pages.files import read_record as read_page
from indexer.search.query import SearchIndex
from indexer.search.request import STATUSES


def test_every_sample_page_parses(sample_pages):
    records = [read_page(p) for p in sorted(sample_pages.glob("*.md"))]
    assert len(records) == 300
    assert {r.overall_status for r in records} == set(STATUSES)
    assert any(len(r.phases) == 2 for r in records)
    assert {r.study_type for r in records} == {"INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"}
    assert any("Korea, Republic of" in r.countries for r in records)
    assert any(r.detailed_description is None for r in records)
    assert any(r.eligibility.min_age_years == 0.5 for r in records)
    assert any(r.locations_more for r in records)
    assert any(", " in (r.sponsor or "") for r in records)


def test_sample_index_reports_no_skips(sample_index):
    stats = SearchIndex(sample_index).stats()
    assert stats["documents"] == 300
    assert stats["facets"]["condition"]["Diabetes Mellitus, Type 2"] >= 15
