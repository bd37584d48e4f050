"""The one table of search parameters: every surface is generated from it.

Each `Param` says a parameter's name, type, whether it repeats, its allowed values
(or that the index supplies them), limits, default, a one-line description and an
example. The request parser (`request.parse_params`), the OpenAPI document
(`webapp/openapi.py`), the CLI's `search` options and, later, MCP tool schemas read
this table; none of them lists parameters of its own. This module owns reading one
raw value per its kind and describing it as JSON Schema; it must not know about
HTTP, click or the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..index.schema import FACETS
from .hits import HIT_FIELDS
from .param_kinds import (  # noqa: F401 - the limits are also read from here
    MAX_FILTER_VALUES,
    READERS,
    SCHEMAS,
    SORTS,
    Raw,
)

MAX_QUERY_CHARS = 500  # keywords
MAX_PATIENT_CHARS = 4000  # a patient description (mode=patient)
MAX_PER_PAGE = 100
MAX_FACET_LIMIT = 500
MAX_RESULT_WINDOW = 10_000


@dataclass(frozen=True)
class Param:
    """One search parameter, as every surface must see it.

    `kind` decides how a raw value is read: text, boolean, facet, date, moment (a
    date or a time), integer, decimal, sort, choice or names. A facet's `values` is
    its closed vocabulary; None with kind facet means the index supplies the values
    (checked at search time).
    """

    name: str
    kind: str
    description: str
    example: str
    default: Any = None
    repeatable: bool = False
    values: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""  # decimals: what the number counts, for the error message
    label: str = ""  # how the page names it (filter chips)
    group: str = ""  # query, facet, place, range, order or paging: where a surface shows it
    needs: tuple[str, ...] = ()  # parameters it means nothing without (radius: near)

    @property
    def cli_option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def read(self, raw: Raw) -> Any:
        """The typed value of this parameter in `raw`, None when absent; or ParamError."""
        return READERS[self.kind](self, raw)

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of one value (an array of them when repeatable)."""
        schema = SCHEMAS[self.kind](self)
        if self.default is not None and self.kind != "facet":
            schema["default"] = self.default
        if self.repeatable:
            return {"type": "array", "items": schema, "maxItems": MAX_FILTER_VALUES}
        return schema


# Examples that exist in the built-in sample corpus, so each one is a working search.
_FACET_EXAMPLES = {
    "status": "RECRUITING",
    "phase": "PHASE3",
    "study_type": "INTERVENTIONAL",
    "intervention_type": "DRUG",
    "sex": "ALL",
    "age_group": "ADULT",
    "healthy_volunteers": "false",
    "country": "Korea, Republic of",
    "state": "Massachusetts",
    "city": "Boston, Massachusetts",
    "site_status": "RECRUITING",
    "condition": "Asthma",
    "intervention": "Placebo",
    "sponsor": "Mayo Clinic",
}


# what a facet of the sites says beyond "filter by"
_FACET_NOTES = {
    "state": ": a study with a site there",
    "city": ' ("Boston, Massachusetts"; "Paris" without a state): a study with a site there',
    "site_status": ": a site of that status (in the place, with country, state, city or near)",
}


def _facet_param(spec: Any) -> Param:
    where = "" if spec.values else " (values as the index has them; see `facets`)"
    return Param(
        spec.name,
        "facet",
        f"Filter by {spec.label.lower()}{where}{_FACET_NOTES.get(spec.name, '')}; repeat for "
        "OR within the facet.",
        _FACET_EXAMPLES[spec.name],
        repeatable=True,
        values=spec.values,
        label=spec.label,
        group="facet",
    )


PARAMS: tuple[Param, ...] = (
    Param(
        "q",
        "text",
        'Words (AND-ed), "phrases", OR, NOT or -word, prefixes title:, condition:, '
        "intervention:, sponsor:, country:, outcome: (primary outcomes), location: "
        "(facility, city, state), eligibility: (the criteria text). An NCT ID (or its 8 "
        "digits) puts that study first. Known condition and intervention terms are also "
        "searched as their synonyms (see `expansions` in the response). Keywords may "
        f"have {MAX_QUERY_CHARS} characters; a patient description (see `mode`) "
        f"{MAX_PATIENT_CHARS:,}.",
        "asthma inhaler",
        maximum=MAX_PATIENT_CHARS,
        group="query",
    ),
    Param(
        "mode",
        "choice",
        "How `q` is read. `keywords`: as a query (words AND-ed, syntax as above). "
        '`patient`: as a description of a patient ("A 45-year-old man with …"): its '
        'conditions, treatments and findings weigh most, denied ones ("no history of '
        'diabetes") not at all, and the age and sex it gives rank studies that exclude '
        "the patient last (`patient` in the response says what was read). `auto` (the "
        "default): `patient` for more than 12 words without query syntax or past the "
        "keyword limits, else `keywords`.",
        "patient",
        default="auto",
        values=("auto", "keywords", "patient"),
        group="query",
    ),
    Param(
        "eligible_only",
        "boolean",
        "true: in patient mode, leave out the studies whose age range or sex excludes "
        "the patient as read (instead of ranking them last).",
        "true",
        default="false",
        group="query",
    ),
    Param(
        "exact",
        "boolean",
        "true: search the words only as typed, without synonym expansion.",
        "true",
        default="false",
        group="query",
    ),
    *(_facet_param(spec) for spec in FACETS),
    Param(
        "near",
        "place",
        'Studies with a site within `radius` of a place: a city ("Boston, MA", "Portland, '
        'Oregon", "Wuhan, China"), a US ZIP code or "lat,lon". `near` in the response says '
        "how it was read; an unknown or ambiguous place is refused, the candidates in "
        "`allowed`. Hits get `nearest_site`, `sites_in_radius`; sort=distance.",
        "Boston, MA",
        maximum=200,
        label="Near",
        group="place",
    ),
    Param(
        "radius",
        "distance",
        "Distance from `near`: 50mi (a bare number is miles) or 80km; at most 500 mi; "
        "default 50mi.",
        "25mi",
        label="Within",
        group="place",
        needs=("near",),
    ),
    Param(
        "start_date_from",
        "date",
        "Start date on or after (YYYY-MM-DD or YYYY-MM).",
        "2020-01",
        label="Start from",
        group="range",
    ),
    Param(
        "start_date_to",
        "date",
        "Start date on or before (YYYY-MM covers the month).",
        "2024-12-31",
        label="Start to",
        group="range",
    ),
    Param(
        "last_update_from",
        "date",
        "Last CT.gov update on or after.",
        "2023-01-01",
        label="Updated from",
        group="range",
    ),
    Param(
        "last_update_to",
        "date",
        "Last CT.gov update on or before.",
        "2026-06",
        label="Updated to",
        group="range",
    ),
    Param(
        "completion_date_from",
        "date",
        "Completion date (actual or anticipated) on or after.",
        "2027-01",
        label="Completes from",
        group="range",
    ),
    Param(
        "completion_date_to",
        "date",
        "Completion date on or before.",
        "2030-12",
        label="Completes to",
        group="range",
    ),
    Param(
        "new_since",
        "moment",
        "Only studies that entered this index at or after this time (a date is its "
        "midnight UTC; a time may carry Z or an offset). See `first_indexed` in hits.",
        "2026-11-01",
        label="New since",
        group="range",
    ),
    Param(
        "changed_since",
        "moment",
        "Only studies new or changed at or after this time, as the reindex saw them "
        "(`changed_at` in hits); a sync that only refetches a page changes nothing.",
        "2026-11-01",
        label="Changed since",
        group="range",
    ),
    Param(
        "enrollment_min",
        "integer",
        "Target enrollment ≥.",
        "50",
        minimum=0,
        maximum=10**9,
        label="Enrollment ≥",
        group="range",
    ),
    Param(
        "enrollment_max",
        "integer",
        "Target enrollment ≤.",
        "1000",
        minimum=0,
        maximum=10**9,
        label="Enrollment ≤",
        group="range",
    ),
    Param(
        "age",
        "decimal",
        "A person's age in years: studies whose age bounds admit it.",
        "40",
        minimum=0,
        maximum=150,
        unit="years",
        label="Age",
        group="range",
    ),
    Param(
        "sort",
        "sort",
        "Sort field; prefix - for descending. Default: relevance with text, "
        "-last_update without. `changed`: most recently new or changed first. "
        "`distance` (with near=): nearest site first.",
        "-start_date",
        values=SORTS,
        group="order",
    ),
    Param("order", "choice", "Sort direction.", "desc", values=("asc", "desc"), group="order"),
    Param(
        "per_page",
        "integer",
        f"Results per page; page × per_page ≤ {MAX_RESULT_WINDOW}.",
        "10",
        default=20,
        minimum=1,
        maximum=MAX_PER_PAGE,
        group="paging",
    ),
    Param(
        "page",
        "integer",
        "1-based page.",
        "2",
        default=1,
        minimum=1,
        maximum=MAX_RESULT_WINDOW,
        group="paging",
    ),
    Param(
        "facet_limit",
        "integer",
        "Values listed per facet (selected values are always listed; "
        "`truncated_facets` names the facets that had more).",
        "5",
        default=20,
        minimum=1,
        maximum=MAX_FACET_LIMIT,
        group="paging",
    ),
    Param(
        "fields",
        "names",
        "The fields each hit carries, comma-separated or repeated (nct_id always "
        "comes); default: all. Fewer fields make a smaller, faster answer.",
        "title,overall_status,canonical_url",
        repeatable=True,
        values=HIT_FIELDS,
        group="response",
    ),
    Param(
        "facets",
        "names",
        "The facets counted, comma-separated or repeated; `none` for none; default: "
        "all but intervention (counted only when named here) and the sites' state, city "
        "and site_status, counted when a place is given (country, state, city, near).",
        "status,phase",
        repeatable=True,
        values=(*(spec.name for spec in FACETS), "none"),
        group="response",
    ),
    Param(
        "facet_prefix",
        "text",
        "List only facet values with a word starting with this text, ignoring case "
        "and accents (with facets=condition: conditions as one types).",
        "Ma",
        maximum=100,
        group="response",
    ),
    Param(
        "format",
        "choice",
        "`json` (the default) or `md`: the answer as compact Markdown (also with "
        "`Accept: text/markdown`).",
        "md",
        values=("json", "md"),
        group="response",
    ),
)
PARAMS_BY_NAME = {param.name: param for param in PARAMS}
RANGE_PARAMS = tuple(param.name for param in PARAMS if param.group == "range")

# Autocomplete (`/api/suggest`, the MCP and CLI suggest): these three, and any search
# parameter above as the filters the counts are taken under.
SUGGEST_FIELDS_DEFAULT = ("condition", "intervention", "sponsor")
MAX_SUGGEST_LIMIT = 50
SUGGEST_PARAMS: tuple[Param, ...] = (
    Param(
        "prefix",
        "text",
        "Required: the text typed so far. Values with a word starting with it are "
        'suggested, ignoring case and accents ("cancer" finds Breast Cancer).',
        "bre",
        maximum=100,
        group="suggest",
    ),
    Param(
        "field",
        "names",
        "The facets to suggest values of, comma-separated or repeated; default "
        + ",".join(SUGGEST_FIELDS_DEFAULT)
        + ".",
        "condition",
        repeatable=True,
        values=tuple(spec.name for spec in FACETS),
        group="suggest",
    ),
    Param(
        "limit",
        "integer",
        "Suggestions per field, most studies first.",
        "10",
        default=10,
        minimum=1,
        maximum=MAX_SUGGEST_LIMIT,
        group="suggest",
    ),
)
SUGGEST_PARAMS_BY_NAME = {param.name: param for param in SUGGEST_PARAMS}
