"""Indexing's fast paths give exactly the postings the analyzer chains give."""

from __future__ import annotations

import pytest
from whoosh import fields

from indexer.index.schema import BODY, PART_FIELDS, build_schema, record_to_document
from indexer.index.textnorm import SECTION_MARK
from indexer.pages.parse import decode_page, parse_page


def _by_analyzer(field: fields.FieldType, value: str) -> list:
    """What Whoosh's own TEXT indexing makes of the value with the field's analyzer."""
    return sorted(fields.FieldType.index(field, value))


def _fast(field: fields.FieldType, value: str) -> list:
    return sorted(field.index(value))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Asthma in children",
        "COVID-19 and covid19, T-cell lymphoma; tumours of the oesophagus",
        "the and of",  # stop words only
        "The asthma of the children",  # a stop word first: positions start at 1
        "Sjögren's syndrome à la carte 3.5 mg/kg *starred*",
        f"{SECTION_MARK}bTitle words{SECTION_MARK}e{SECTION_MARK}gsummary words title",
        f"text before any mark{SECTION_MARK}aACRO{SECTION_MARK}bthe of and{SECTION_MARK}cAsthma",
        f"{SECTION_MARK}zunknown section code{SECTION_MARK}",
        f"{SECTION_MARK}{SECTION_MARK}{SECTION_MARK}b",
    ],
)
def test_edge_cases_index_the_same_both_ways(value):
    schema = build_schema()
    for name in (BODY, *PART_FIELDS, "spell"):
        if name == "acronym":
            continue
        assert _fast(schema[name], value) == _by_analyzer(schema[name], value), name


def test_real_studies_index_the_same_both_ways(real_pages):
    schema = build_schema()
    checked = 0
    for path in sorted(real_pages.glob("*.md"))[:300]:
        record = parse_page(decode_page(path.read_bytes()), expected_id=path.stem)
        doc = record_to_document(record)
        for name in (BODY, *PART_FIELDS, "spell"):
            if name == "acronym" or name not in doc:
                continue
            assert _fast(schema[name], doc[name]) == _by_analyzer(schema[name], doc[name])
            checked += 1
    assert checked > 1000
