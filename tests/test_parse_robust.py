"""Every case of FORMAT.md's "robust ingester" list: read sensibly, or refused with a reason."""

from __future__ import annotations

import datetime as dt

import pytest

from indexer.index.build import full_build
from indexer.pages.parse import PageError, decode_page, parse_page
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params

GOOD = """---
title: Aspirin for Headache
nct_id: NCT01234567
overall_status: RECRUITING
phase: PHASE2
sponsor: Acme Pharma, Inc.
study_type: INTERVENTIONAL
primary_condition: Headache
countries: France
canonical_url: "https://mirror.example/NCT01234567.md"
clinicaltrials_gov: "https://clinicaltrials.gov/study/NCT01234567"
ct_last_update_post_date: 2024-03-01
---
# Aspirin for Headache

## Key Facts

- **Status:** RECRUITING
- **Conditions:** Headache
- **Target Enrollment:** 40

## Brief Summary

Aspirin \\[325 mg\\] for tension headache.
"""


def page(**replace: str) -> str:
    text = GOOD
    for old, new in replace.items():
        text = text.replace(old.replace("__", " "), new)
    return text


def refused(text: str, expected_id: str | None = None) -> str:
    with pytest.raises(PageError) as info:
        parse_page(text, expected_id=expected_id)
    return str(info.value)


def test_a_good_page_parses():
    record = parse_page(GOOD, expected_id="NCT01234567")
    assert record.brief_summary == "Aspirin [325 mg] for tension headache."
    assert record.sponsor == "Acme Pharma, Inc."


def test_empty_page_is_refused():
    assert refused("") == "page is empty"
    assert refused("\n  \n") == "page is empty"


def test_page_without_frontmatter_is_read_from_its_body():
    body = GOOD.split("---\n", 2)[2]
    body = body.replace(
        "# Aspirin for Headache\n",
        "# Aspirin for Headache\n\n"
        "**NCT ID:** [NCT01234567](https://clinicaltrials.gov/study/NCT01234567)\n",
    )
    record = parse_page(body)
    assert (record.nct_id, record.title, record.overall_status) == (
        "NCT01234567",
        "Aspirin for Headache",
        "RECRUITING",
    )


def test_page_without_frontmatter_or_id_is_refused():
    assert refused("# Just a title\n\nSome text.\n") == "no frontmatter and no NCT ID"


def test_broken_yaml_is_refused_with_the_line():
    reason = refused(page(**{"title: Aspirin for Headache": "title: [unclosed"}))
    assert reason.startswith("broken YAML frontmatter at line")


def test_missing_nct_id_is_refused():
    assert refused(page(**{"nct_id: NCT01234567\n": ""})) == "no nct_id in the frontmatter"


@pytest.mark.parametrize("bad", ["NCT123", "12345678", "NCT1234567X", "[NCT01234567, NCT2]"])
def test_invalid_nct_id_is_refused(bad):
    assert refused(page(**{"nct_id: NCT01234567": f"nct_id: {bad}"})).startswith("invalid nct_id")


def test_file_name_disagreeing_with_nct_id_is_refused():
    reason = refused(GOOD, expected_id="NCT07654321")
    assert reason == "file name says NCT07654321 but the page's nct_id is NCT01234567"


def test_same_nct_id_twice_keeps_the_first_file_and_reports_the_other(tmp_path):
    pages = tmp_path / "pages"
    (pages / "a").mkdir(parents=True)
    (pages / "a" / "NCT01234567.md").write_text(GOOD)
    (pages / "b").mkdir()
    (pages / "b" / "NCT01234567.md").write_text(GOOD.replace("Aspirin", "Ibuprofen"))
    report = full_build(pages, tmp_path / "index", procs=1)
    assert report.indexed == 1
    assert report.duplicates == [
        {"nct_id": "NCT01234567", "file": "b/NCT01234567.md", "kept": "a/NCT01234567.md"}
    ]


def test_invalid_utf8_is_refused():
    with pytest.raises(PageError, match=r"not valid UTF-8 \(byte \d+\)"):
        decode_page(GOOD.encode() + b"\xff\xfe bad")


def test_nul_bytes_are_refused():
    with pytest.raises(PageError, match="NUL bytes"):
        decode_page(b"\x00\x01\x02binary")


def test_bom_is_ignored():
    record = parse_page(decode_page(b"\xef\xbb\xbf" + GOOD.encode()))
    assert record.nct_id == "NCT01234567"


def test_crlf_line_ends_are_read():
    record = parse_page(decode_page(GOOD.replace("\n", "\r\n").encode()))
    assert record.enrollment == 40
    assert record.brief_summary == "Aspirin [325 mg] for tension headache."


def test_enormous_sections_are_read():
    huge = "word " * 200_000
    record = parse_page(GOOD + "\n## Detailed Description\n\n" + huge + "\n")
    assert len(record.detailed_description) == len(huge.strip())


def test_html_and_script_are_kept_as_text():
    script = "<script>alert('x')</script>"
    record = parse_page(page(**{"title: Aspirin for Headache": f'title: "{script}"'}))
    assert record.title == script  # escaping is the renderer's job, and it is tested there


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "ftp://x.org/a"])
def test_non_http_canonical_urls_are_refused_and_kept_aside(url):
    record = parse_page(page(**{'"https://mirror.example/NCT01234567.md"': f'"{url}"'}))
    assert record.canonical_url is None
    assert record.extra["canonical_url_refused"] == url


def test_a_list_where_a_string_was_expected():
    record = parse_page(page(**{"sponsor: Acme Pharma, Inc.": "sponsor: [Acme, Beta]"}))
    assert record.sponsor == "Acme, Beta"


def test_a_number_where_a_string_was_expected():
    record = parse_page(page(**{"title: Aspirin for Headache": "title: 2024"}))
    assert record.title == "2024"


def test_a_date_and_a_mapping_where_strings_were_expected():
    record = parse_page(
        page(
            **{
                "title: Aspirin for Headache": "title: 2023-02-14",
                "sponsor: Acme Pharma, Inc.": "sponsor: {name: Acme}",
            }
        )
    )
    assert record.title == "2023-02-14"
    assert record.sponsor is None  # a mapping is not a sponsor name


def test_yaml_dates_and_strings_give_the_same_last_update():
    as_date = parse_page(GOOD)
    as_string = parse_page(page(**{"2024-03-01": '"2024-03-01"'}))
    assert as_date.last_update == as_string.last_update == dt.date(2024, 3, 1).isoformat()


def test_countries_as_string_or_list_and_names_with_commas():
    one = parse_page(page(**{"countries: France": 'countries: "Korea, Republic of"'}))
    many = parse_page(
        page(**{"countries: France": "countries:\n  - Korea, Republic of\n  - France"})
    )
    assert one.countries == ["Korea, Republic of"]
    assert many.countries == ["Korea, Republic of", "France"]


def test_multi_phase_is_two_values():
    record = parse_page(page(**{"phase: PHASE2": 'phase: "PHASE1, PHASE2"'}))
    assert record.phases == ["PHASE1", "PHASE2"]


def test_unknown_extra_keys_are_kept():
    record = parse_page(page(**{"study_type:": "mirror_flag: yes\nstudy_type:"}))
    assert record.extra == {"mirror_flag": True}


def test_yaml_aliases_are_refused():
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\n'
    reason = refused(page(**{"study_type:": bomb + "study_type:"}))
    assert "aliases are not allowed" in reason


def test_a_folder_of_bad_pages_indexes_the_good_ones_and_reports_the_rest(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "NCT01234567.md").write_text(GOOD)
    (pages / "NCT00000001.md").write_text("")
    (pages / "NCT00000002.md").write_bytes(b"\xff\xfe\x00garbage")
    (pages / "NCT00000003.md").write_text(page(**{"title: Aspirin for Headache": "title: [x"}))
    (pages / "NCT00000004.md").mkdir()
    (pages / "NCT00000005.md").symlink_to("/etc/hostname")
    report = full_build(pages, tmp_path / "index", procs=1)
    assert report.indexed == 1
    reasons = {item["file"]: item["reason"] for item in report.skipped}
    assert reasons["NCT00000001.md"] == "page is empty"
    assert reasons["NCT00000002.md"].startswith("file contains NUL bytes")
    assert reasons["NCT00000003.md"].startswith("broken YAML frontmatter")
    assert reasons["NCT00000004.md"] == "is a directory"
    assert reasons["NCT00000005.md"] == "symlink points outside the pages folder"
    hits = SearchIndex(tmp_path / "index").search(parse_params({"q": ["aspirin"]}))
    assert [h["nct_id"] for h in hits.results] == ["NCT01234567"]


def test_deeply_nested_frontmatter_is_refused():
    deep = "x: " + "[" * 10_000 + "]" * 10_000 + "\n"
    reason = refused(page(**{"study_type:": deep + "study_type:"}))
    assert reason.startswith("broken YAML frontmatter") and "nest" in reason


@pytest.mark.parametrize("alias", [False, True])
def test_frontmatter_deeper_than_twenty_levels_is_refused_with_or_without_aliases(alias):
    """Pages without `*` skip the event scan; the depth is then read from the data."""
    anchor = "x0: &a 1\nx1: *a\n" if alias else ""
    nested = lambda n: "[" * n + "1" + "]" * n  # noqa: E731
    ok = page(**{"study_type:": f"{anchor}deep: {nested(19)}\nstudy_type:"})
    if not alias:
        assert parse_page(ok).nct_id == "NCT01234567"
    too_deep = page(**{"study_type:": f"{anchor}deep: {nested(20)}\nstudy_type:"})
    reason = refused(too_deep)
    assert "aliases" in reason if alias else "nested deeper than 20 levels" in reason
