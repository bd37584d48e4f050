"""The Whoosh schema and the mapping from a StudyRecord to an index document.

Facet values are indexed as one term per value (never split at commas, see
shared/WHOOSH.md) so that `Korea, Republic of` stays one country.
"""

from __future__ import annotations

import json
import sys
import zlib
from array import array
from collections.abc import Iterator
from typing import Any

import numpy as np
from whoosh import analysis, fields, formats
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.system import pack_uint

from ..pages.record import Location, StudyRecord
from ..pages.values import date_key
from .acronyms import acronym_text
from .age_groups import age_groups
from .facet_specs import FACETS, FACETS_BY_NAME, FacetSpec  # noqa: F401 - also read from here
from .site_lines import SITES_FIELD
from .sites import site_facet_values, site_rows
from .textnorm import (
    SECTION_MARK,
    SectionGaps,
    WeightedSections,
    WordForms,
    index_terms,
    spelling_counts,
)

VALUE_SEP = "\x1f"
POSITION_DTYPE = np.dtype("<u4")
# Bump when analyzers or fields change: a reindex then rebuilds in full, since an
# incremental one would mix documents analysed two ways in one index.
SCHEMA_VERSION = 6


# Numeric columns used for range filters and sorting: name -> (field, is_float).
NUMERIC_FIELDS: dict[str, tuple[str, bool]] = {
    "enrollment": ("n_enrollment", False),
    "start_date": ("n_start_date", False),
    "completion_date": ("n_completion_date", False),
    "last_update": ("n_last_update", False),
    "min_age_years": ("n_min_age", True),
    "max_age_years": ("n_max_age", True),
}
# Ages are stored as whole hundredths of a year: Whoosh's float columns cannot hold "missing".
AGE_SCALE = 100
# Numbers are 32-bit columns; this value (the largest) means "not given".
NUMBER_MISSING = 2**31 - 1

# What a word is worth in each part of a study (BM25F field weights, docs/relevance.md).
# All parts go into one `body` field with per-token weights (textnorm.WeightedSections).
TEXT_WEIGHTS: dict[str, float] = {
    "acronym": 6.0,
    "title": 5.0,
    "conditions": 3.0,
    "interventions": 2.5,
    "sponsor": 1.5,
    "summary": 1.5,
    "description": 1.0,
    "countries": 0.8,
    "outcomes": 0.6,
    "arms": 0.6,
    "eligibility": 0.5,
    "locations": 0.4,
}
_SECTION_CODES = {name: chr(ord("a") + i) for i, name in enumerate(TEXT_WEIGHTS)}
BODY = "body"
# Short parts also indexed on their own, for `prefix:` searches and phrase bonuses.
PART_FIELDS = (
    "acronym",
    "title",
    "conditions",
    "interventions",
    "sponsor_text",
    "countries_text",
    "outcomes_text",
    "locations_text",
    "eligibility_text",
)
SEARCHABLE_FIELDS = (BODY, *PART_FIELDS)
# `prefix:` words people can type, and the fields each one searches.
FIELD_PREFIXES: dict[str, tuple[str, ...]] = {
    "title": ("title", "acronym"),
    "condition": ("conditions",),
    "intervention": ("interventions",),
    "sponsor": ("sponsor_text",),
    "country": ("countries_text",),
    "outcome": ("outcomes_text",),
    "location": ("locations_text",),
    "eligibility": ("eligibility_text",),
}


def _facet_analyzer() -> analysis.Analyzer:
    return analysis.RegexTokenizer(r"[^\x1f]+")


def _section_weights() -> dict[str, float]:
    return {_SECTION_CODES[name]: weight for name, weight in TEXT_WEIGHTS.items()}


def body_analyzer() -> analysis.Analyzer:
    """The text analyzer over weighted sections (plain text at query time)."""
    return _normalising(WeightedSections(_section_weights())) | SectionGaps()


def text_analyzer() -> analysis.Analyzer:
    """Stemmed English words, normalised so that the ways people write a word meet.

    Letters and digits are split apart (covid19, COVID-19 and covid 19 all read
    covid·19, queried as a phrase), accents folded (Sjögren finds Sjogren) and British
    spellings mapped to American ones (tumour finds tumor) before stemming.
    """
    return _normalising(analysis.RegexTokenizer())


def _normalising(tokenizer: analysis.Tokenizer) -> analysis.Analyzer:
    return tokenizer | WordForms()


def exact_analyzer() -> analysis.Analyzer:
    """Acronyms as written, only lowercased: never stemmed, so CARES is not care."""
    return (
        analysis.RegexTokenizer()
        | analysis.LowercaseFilter()
        | analysis.CharsetFilter(_accent_map())
    )


def spell_analyzer() -> analysis.Analyzer:
    """Unstemmed words for 'did you mean': suggestions must be real words, not stems."""
    return analysis.StandardAnalyzer(minsize=3) | analysis.CharsetFilter(_accent_map())


def _accent_map() -> Any:
    from whoosh.support.charset import accent_map

    return accent_map


class PackedPositions(formats.Positions):
    """Positions stored as plain little-endian uint32s, not a pickled list of deltas.

    A phrase check can then read the positions of a thousand postings with one
    numpy call (scoring.py) instead of unpickling them one posting at a time.
    """

    def encode(self, poslist: list[int]) -> bytes:
        packed = array("I", poslist)
        if sys.byteorder == "big":  # pragma: no cover - no such machine here
            packed.byteswap()
        return packed.tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return np.frombuffer(valuestring, dtype=POSITION_DTYPE).tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost


class NormalisedText(fields.TEXT):
    """A TEXT field analysed by `text_analyzer` (or `body_analyzer` given weights), whose
    indexing computes the same postings without Whoosh's per-token objects."""

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        analyzer = text_analyzer() if weights is None else body_analyzer()
        super().__init__(analyzer=analyzer, stored=False, multitoken_query="phrase")
        self.format = PackedPositions(field_boost=self.format.field_boost)
        self.section_weights = weights

    def index(self, value: str, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text")
        positions, weights = index_terms(value, self.section_weights)
        encode = self.format.encode
        boost = self.format.field_boost
        for word, found in positions.items():
            yield word.encode("utf-8"), len(found), weights[word] * boost, encode(found)


class SpellingText(fields.TEXT):
    """The `spell` field: `spell_analyzer`'s words and counts, without per-token objects."""

    def __init__(self) -> None:
        super().__init__(analyzer=spell_analyzer(), phrase=False)

    def index(self, value: str, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text")
        boost = self.format.field_boost
        for word, count in spelling_counts(value).items():
            yield word.encode("utf-8"), count, float(count) * boost, pack_uint(count)


class FacetField(fields.KEYWORD):
    """One term per value; values joined with an unprintable separator when indexing."""

    def __init__(self, sortable: bool = False) -> None:
        super().__init__(stored=False, lowercase=False, commas=False, sortable=sortable)
        self.analyzer = _facet_analyzer()


def build_schema() -> fields.Schema:
    # a query word that analyses to several tokens (T-cell, covid19) is a phrase
    text: dict[str, fields.FieldType] = {name: NormalisedText() for name in PART_FIELDS}
    text["acronym"] = fields.TEXT(analyzer=exact_analyzer(), stored=False, phrase=True)
    text["acronym"].format = PackedPositions()
    text[BODY] = NormalisedText(_section_weights())
    facets = {spec.field: FacetField(not spec.multi) for spec in FACETS if not spec.derived}
    # Columns only, not indexed terms: ranges and sorts are answered from numpy
    # arrays (indexer/columns.py), so Whoosh's four range terms per value were a
    # tenth of all postings written for nothing.
    numbers = {
        field: fields.COLUMN(NumericColumn("i", default=NUMBER_MISSING))
        for field, _ in NUMERIC_FIELDS.values()
    }
    return fields.Schema(
        nct_id=fields.ID(stored=True, unique=True, sortable=True),
        nct_text=fields.KEYWORD(lowercase=True),
        spell=SpellingText(),
        record=fields.STORED(),
        # each site's city, state, country and status, placed on the map at publish
        **{SITES_FIELD: fields.COLUMN(VarBytesColumn())},
        **text,
        **facets,
        **numbers,
    )


def facet_values(record: StudyRecord) -> dict[str, list[str]]:
    """The values of every facet for one record, as the index and the tests see them."""
    hv = record.eligibility.healthy_volunteers
    return {
        "status": [record.overall_status] if record.overall_status else [],
        "phase": list(record.phases),
        "study_type": [record.study_type] if record.study_type else [],
        "intervention_type": record.intervention_types,
        "sex": [record.eligibility.sex] if record.eligibility.sex else [],
        "age_group": age_groups(record.eligibility.min_age_years, record.eligibility.max_age_years),
        "healthy_volunteers": [] if hv is None else ["true" if hv else "false"],
        "country": list(record.countries),
        **site_facet_values(record.locations),
        "condition": list(record.conditions),
        "intervention": list(dict.fromkeys(iv.name for iv in record.interventions if iv.name)),
        "sponsor": [record.sponsor] if record.sponsor else [],
    }


def pack_record(record: StudyRecord) -> bytes:
    return zlib.compress(json.dumps(record.to_dict(), ensure_ascii=False).encode("utf-8"), 6)


def unpack_record(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob).decode("utf-8"))


def _join(parts: list[str | None]) -> str:
    return "\n".join(p for p in parts if p)


def _site(loc: Location) -> str:
    """What `location:` searches of a site: its facility, city and state (its country
    has `country:`, its status the page's list)."""
    named = ", ".join(part for part in (loc.facility, loc.city, loc.state) if part)
    return named or loc.text


def record_to_document(record: StudyRecord) -> dict[str, Any]:
    """The Whoosh document for a record: text fields, facet terms, numeric columns."""
    elig = record.eligibility
    parts = {
        "acronym": acronym_text(record.acronyms, record.title, record.official_title),
        "title": _join([record.title, record.official_title]),
        "conditions": _join(record.conditions),
        "interventions": _join(
            [f"{iv.name} {iv.type or ''}".replace("_", " ") for iv in record.interventions]
        ),
        "sponsor": record.sponsor or "",
        "summary": record.brief_summary or "",
        "description": record.detailed_description or "",
        "countries": _join(record.countries),
        "outcomes": _join(
            [_join([o.measure, o.time_frame, o.description]) for o in record.primary_outcomes]
        ),
        "arms": _join([_join([a.label, a.description]) for a in record.arms]),
        "eligibility": elig.criteria or "",
        "locations": _join([loc.text for loc in record.locations]),
    }
    doc: dict[str, Any] = {
        "nct_id": record.nct_id,
        "nct_text": record.nct_id.lower(),
        "record": pack_record(record),
        BODY: "".join(
            SECTION_MARK + _SECTION_CODES[name] + text.replace(SECTION_MARK, " ")
            for name, text in parts.items()
            if text
        ),
        "acronym": parts["acronym"],
        "title": parts["title"],
        "conditions": parts["conditions"],
        "interventions": parts["interventions"],
        "sponsor_text": parts["sponsor"],
        "countries_text": parts["countries"],
        "outcomes_text": parts["outcomes"],
        "locations_text": _join([_site(loc) for loc in record.locations]),
        "eligibility_text": parts["eligibility"],
        "spell": _join(
            [
                record.title,
                *record.conditions,
                *(iv.name for iv in record.interventions),
                record.brief_summary,
            ]
        ),
    }
    if record.locations:
        doc[SITES_FIELD] = site_rows(record.locations)
    for spec in (spec for spec in FACETS if not spec.derived):
        values = [v.replace(VALUE_SEP, " ") for v in facet_values(record)[spec.name]]
        if values:
            doc[spec.field] = VALUE_SEP.join(values)
    numbers = {
        "enrollment": record.enrollment,
        "start_date": date_key(record.start_date),
        "completion_date": date_key(record.completion_date),
        "last_update": date_key(record.last_update),
        "min_age_years": elig.min_age_years,
        "max_age_years": elig.max_age_years,
    }
    for name, value in numbers.items():
        if value is not None:
            field, is_float = NUMERIC_FIELDS[name]
            number = round(value * AGE_SCALE) if is_float else int(value)
            if -NUMBER_MISSING <= number < NUMBER_MISSING:  # else it cannot be stored: missing
                doc[field] = number
    return {k: v for k, v in doc.items() if v != ""}
