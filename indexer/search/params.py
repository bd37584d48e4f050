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

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ParamError
from ..index.schema import FACETS
from ..pages.values import DATE, DATE_JSON_PATTERN

MAX_QUERY_CHARS = 500
MAX_PER_PAGE = 100
MAX_FACET_LIMIT = 500
MAX_RESULT_WINDOW = 10_000
MAX_FILTER_VALUES = 50
SORTS = ("relevance", "last_update", "start_date", "enrollment", "nct_id")
BOOLEAN_WORDS = ("true", "false", "1", "0")
_DECIMAL = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?")
_INTEGER = re.compile(r"-?[0-9]{1,12}")  # ASCII: int() reads any script's digits

Raw = Mapping[str, list[str]]


@dataclass(frozen=True)
class Param:
    """One search parameter, as every surface must see it.

    `kind` decides how a raw value is read: text, boolean, facet, date, integer,
    decimal, sort or choice. A facet's `values` is its closed vocabulary; None with
    kind facet means the index supplies the values (checked at search time).
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
    group: str = ""  # query, facet, range, order or paging: where a surface shows it

    @property
    def cli_option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def read(self, raw: Raw) -> Any:
        """The typed value of this parameter in `raw`, None when absent; or ParamError."""
        return _READERS[self.kind](self, raw)

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of one value (an array of them when repeatable)."""
        schema = _SCHEMAS[self.kind](self)
        if self.default is not None and self.kind != "facet":
            schema["default"] = self.default
        if self.repeatable:
            return {"type": "array", "items": schema, "maxItems": MAX_FILTER_VALUES}
        return schema


def _one(raw: Raw, name: str) -> str | None:
    values = raw.get(name) or []
    if len(values) > 1:
        raise ParamError("repeated_parameter", f"'{name}' may be given only once", name)
    value = values[0].strip() if values else None
    return value or None


def _read_text(param: Param, raw: Raw) -> str:
    text = " ".join(raw.get(param.name) or []).strip()
    if param.maximum is not None and len(text) > param.maximum:
        raise ParamError(
            "query_too_long",
            f"the query is {len(text)} characters; the limit is {int(param.maximum)}",
            param.name,
        )
    return text


def _read_boolean(param: Param, raw: Raw) -> bool:
    text = (_one(raw, param.name) or "false").lower()
    if text not in BOOLEAN_WORDS:
        raise ParamError(
            "invalid_boolean",
            f"'{param.name}' must be true or false",
            param.name,
            allowed=["true", "false"],
        )
    return text in ("true", "1")


def _read_facet(param: Param, raw: Raw) -> list[str]:
    values = [v.strip() for v in raw.get(param.name) or [] if v.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise ParamError(
            "too_many_values", f"at most {MAX_FILTER_VALUES} values for '{param.name}'", param.name
        )
    spec = next(s for s in FACETS if s.name == param.name)
    values = [spec.fold_value(v) for v in values]
    if param.values is not None:
        bad = [v for v in values if v not in param.values]
        if bad:
            raise ParamError(
                "unknown_value",
                f"'{bad[0]}' is not a value of '{param.name}'",
                param.name,
                allowed=list(param.values),
            )
    return list(dict.fromkeys(values))


def _read_date(param: Param, raw: Raw) -> str | None:
    text = _one(raw, param.name)
    if text is None:
        return None
    match = DATE.fullmatch(text)
    ok = bool(match)
    if match:
        try:  # a real day of the calendar: 2020-02-31 is refused
            dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
        except ValueError:
            ok = False
    if not ok:
        raise ParamError(
            "invalid_date",
            f"'{param.name}' must be a date as YYYY-MM-DD or YYYY-MM, got {text!r}",
            param.name,
        )
    return text


def _read_integer(param: Param, raw: Raw) -> int | None:
    text = _one(raw, param.name)
    if text is None:
        return param.default
    if not _INTEGER.fullmatch(text):
        raise ParamError(
            "invalid_integer", f"'{param.name}' must be a whole number, got {text!r}", param.name
        )
    value = int(text)
    low, high = int(param.minimum or 0), int(param.maximum or 0)
    if not low <= value <= high:
        raise ParamError(
            "out_of_range",
            f"'{param.name}' must be between {low} and {high}, got {value}",
            param.name,
        )
    return value


def _read_decimal(param: Param, raw: Raw) -> float | None:
    text = _one(raw, param.name)
    if text is None:
        return None
    # plain decimals only: float() also reads 1e2, 1_0, inf and non-ASCII digits
    value = float(text) if _DECIMAL.fullmatch(text) else None
    low, high = param.minimum or 0, param.maximum or 0
    if value is None or not low <= value <= high:
        raise ParamError(
            f"invalid_{param.name}",
            f"'{param.name}' must be a number of {param.unit} {low:g}-{high:g}, got {text!r}",
            param.name,
        )
    return value


def _read_sort(param: Param, raw: Raw) -> tuple[str, bool] | None:
    """(field, descending) from `field` or `-field`."""
    text = _one(raw, param.name)
    if not text:
        return None
    desc = text.startswith("-")
    field = text.lstrip("-")
    if field not in (param.values or ()):
        raise ParamError(
            "unknown_sort", f"cannot sort by '{field}'", param.name, allowed=param.values
        )
    return field, desc


def _read_choice(param: Param, raw: Raw) -> str | None:
    text = _one(raw, param.name)
    if text and text not in (param.values or ()):
        choices = " or ".join(param.values or ())
        raise ParamError(
            f"invalid_{param.name}",
            f"'{param.name}' must be {choices}",
            param.name,
            allowed=list(param.values or ()),
        )
    return text


_READERS = {
    "text": _read_text,
    "boolean": _read_boolean,
    "facet": _read_facet,
    "date": _read_date,
    "integer": _read_integer,
    "decimal": _read_decimal,
    "sort": _read_sort,
    "choice": _read_choice,
}


def _number_schema(kind: str, param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    return schema


def _enum_schema(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if param.values is not None:
        schema["enum"] = list(param.values)
    return schema


_SCHEMAS = {
    "text": lambda p: {"type": "string", "maxLength": int(p.maximum or 0)},
    "boolean": lambda p: {"type": "string", "enum": list(BOOLEAN_WORDS)},
    "facet": _enum_schema,
    "date": lambda p: {"type": "string", "pattern": DATE_JSON_PATTERN},
    "integer": lambda p: _number_schema("integer", p),
    "decimal": lambda p: _number_schema("number", p),
    "sort": lambda p: {"type": "string", "enum": [*SORTS, *("-" + s for s in SORTS)]},
    "choice": _enum_schema,
}

# Examples that exist in the built-in sample corpus, so each one is a working search.
_FACET_EXAMPLES = {
    "status": "RECRUITING",
    "phase": "PHASE3",
    "study_type": "INTERVENTIONAL",
    "intervention_type": "DRUG",
    "sex": "ALL",
    "healthy_volunteers": "false",
    "country": "Korea, Republic of",
    "condition": "Asthma",
    "sponsor": "Mayo Clinic",
}


def _facet_param(spec: Any) -> Param:
    where = "" if spec.values else " (values as the index has them; see `facets`)"
    return Param(
        spec.name,
        "facet",
        f"Filter by {spec.label.lower()}{where}; repeat for OR within the facet.",
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
        "intervention:, sponsor:, country:. An NCT ID (or its 8 digits) puts that study "
        "first. Known condition and intervention terms are also searched as their "
        "synonyms (see `expansions` in the response).",
        "asthma inhaler",
        maximum=MAX_QUERY_CHARS,
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
        "Sort field; prefix - for descending. Default: relevance with text, -last_update without.",
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
)
PARAMS_BY_NAME = {param.name: param for param in PARAMS}
RANGE_PARAMS = tuple(param.name for param in PARAMS if param.group == "range")
