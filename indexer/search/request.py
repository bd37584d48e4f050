"""The typed search request, and its strict parsing from URL-style parameters.

The JSON API, the web page and the CLI all build a SearchRequest here, so one
parameter means the same thing everywhere and is refused the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ParamError
from ..index.schema import FACETS_BY_NAME
from ..pages.values import DATE
from ..pages.vocab import (  # noqa: F401 - these names are also read from here
    HEALTHY_VOLUNTEERS,
    INTERVENTION_TYPES,
    PHASES,
    SEXES,
    STATUSES,
    STUDY_TYPES,
)

# Facets whose values are a closed vocabulary; the others are checked against the index.
ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "phase": PHASES,
    "study_type": STUDY_TYPES,
    "intervention_type": INTERVENTION_TYPES,
    "sex": SEXES,
    "healthy_volunteers": HEALTHY_VOLUNTEERS,
}
SORTS = ("relevance", "last_update", "start_date", "enrollment", "nct_id")
RANGE_PARAMS = (
    "start_date_from",
    "start_date_to",
    "last_update_from",
    "last_update_to",
    "enrollment_min",
    "enrollment_max",
    "age",
)
OTHER_PARAMS = ("q", "exact", "sort", "order", "page", "per_page", "facet_limit")
ALLOWED_PARAMS = (*OTHER_PARAMS, *FACETS_BY_NAME, *RANGE_PARAMS)

MAX_QUERY_CHARS = 500
MAX_PER_PAGE = 100
MAX_FACET_LIMIT = 500
MAX_RESULT_WINDOW = 10_000
MAX_FILTER_VALUES = 50
_DECIMAL = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?")


@dataclass
class SearchRequest:
    """Everything a search can ask for; defaults give the first page of everything."""

    q: str = ""
    exact: bool = False  # no synonym expansion: only the words as typed
    filters: dict[str, list[str]] = field(default_factory=dict)
    start_date_from: str | None = None
    start_date_to: str | None = None
    last_update_from: str | None = None
    last_update_to: str | None = None
    enrollment_min: int | None = None
    enrollment_max: int | None = None
    age: float | None = None
    sort: str | None = None
    order: str | None = None
    page: int = 1
    per_page: int = 20
    facet_limit: int = 20

    def effective_sort(self) -> tuple[str, bool]:
        """(field, descending): relevance with text, newest update without."""
        sort = self.sort or ("relevance" if self.q.strip() else "last_update")
        if sort == "relevance" and not self.q.strip():
            sort = "last_update"
        if self.order:
            return sort, self.order == "desc"
        if self.sort is None or sort == "relevance":
            return sort, sort != "nct_id"
        return sort, False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        sort, desc = self.effective_sort()
        data["sort"] = sort
        data["order"] = "desc" if desc else "asc"
        return data

    def to_params(self) -> list[tuple[str, str]]:
        """The request as URL parameters (for permalinks and toggles), defaults left out."""
        params: list[tuple[str, str]] = []
        if self.q:
            params.append(("q", self.q))
        if self.exact:
            params.append(("exact", "true"))
        for name in FACETS_BY_NAME:
            params.extend((name, v) for v in self.filters.get(name, []))
        for name in RANGE_PARAMS:
            value = getattr(self, name)
            if value is not None:
                params.append((name, _fmt_number(value)))
        if self.sort:
            params.append(("sort", self.sort))
        if self.order:
            params.append(("order", self.order))
        if self.per_page != 20:
            params.append(("per_page", str(self.per_page)))
        if self.page != 1:
            params.append(("page", str(self.page)))
        return params


def _fmt_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise ParamError("repeated_parameter", f"'{name}' may be given only once", name)
    value = values[0].strip() if values else None
    return value or None


def _int(params: Mapping[str, list[str]], name: str, low: int, high: int) -> int | None:
    text = _one(params, name)
    if text is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,12}", text):  # ASCII: int() reads any digit
        raise ParamError("invalid_integer", f"'{name}' must be a whole number, got {text!r}", name)
    value = int(text)
    if not low <= value <= high:
        raise ParamError(
            "out_of_range", f"'{name}' must be between {low} and {high}, got {value}", name
        )
    return value


def _date(params: Mapping[str, list[str]], name: str) -> str | None:
    text = _one(params, name)
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
            "invalid_date", f"'{name}' must be a date as YYYY-MM-DD or YYYY-MM, got {text!r}", name
        )
    return text


def parse_params(params: Mapping[str, Sequence[str]]) -> SearchRequest:
    """Build a SearchRequest from parameters (name -> list of values), or raise ParamError."""
    params = {k: [str(v) for v in vs] for k, vs in params.items()}
    unknown = sorted(set(params) - set(ALLOWED_PARAMS))
    if unknown:
        raise ParamError(
            "unknown_parameter",
            f"unknown parameter '{unknown[0]}'",
            unknown[0],
            allowed=list(ALLOWED_PARAMS),
        )
    req = SearchRequest()
    q = " ".join(params.get("q") or []).strip()
    if len(q) > MAX_QUERY_CHARS:
        raise ParamError(
            "query_too_long",
            f"the query is {len(q)} characters; the limit is {MAX_QUERY_CHARS}",
            "q",
        )
    req.q = q
    exact = (_one(params, "exact") or "false").lower()
    if exact not in ("true", "false", "1", "0"):
        raise ParamError(
            "invalid_boolean", "'exact' must be true or false", "exact", allowed=["true", "false"]
        )
    req.exact = exact in ("true", "1")
    for name in FACETS_BY_NAME:
        values = [v.strip() for v in params.get(name) or [] if v.strip()]
        if len(values) > MAX_FILTER_VALUES:
            raise ParamError(
                "too_many_values", f"at most {MAX_FILTER_VALUES} values for '{name}'", name
            )
        if name in ENUM_VALUES:
            values = [v.lower() if name == "healthy_volunteers" else v.upper() for v in values]
            bad = [v for v in values if v not in ENUM_VALUES[name]]
            if bad:
                raise ParamError(
                    "unknown_value",
                    f"'{bad[0]}' is not a value of '{name}'",
                    name,
                    allowed=list(ENUM_VALUES[name]),
                )
        if values:
            req.filters[name] = list(dict.fromkeys(values))
    for name in ("start_date_from", "start_date_to", "last_update_from", "last_update_to"):
        setattr(req, name, _date(params, name))
    req.enrollment_min = _int(params, "enrollment_min", 0, 10**9)
    req.enrollment_max = _int(params, "enrollment_max", 0, 10**9)
    age = _one(params, "age")
    if age is not None:
        # plain decimals only: float() also reads 1e2, 1_0, inf and non-ASCII digits
        req.age = float(age) if _DECIMAL.fullmatch(age) else None
        if req.age is None or not 0 <= req.age <= 150 or req.age != req.age:
            raise ParamError(
                "invalid_age", f"'age' must be a number of years 0-150, got {age!r}", "age"
            )
    sort = _one(params, "sort")
    if sort:
        desc = sort.startswith("-")
        sort = sort.lstrip("-")
        if sort not in SORTS:
            raise ParamError("unknown_sort", f"cannot sort by '{sort}'", "sort", allowed=SORTS)
        req.sort = sort
        if desc:
            req.order = "desc"
    order = _one(params, "order")
    if order:
        if order not in ("asc", "desc"):
            raise ParamError(
                "invalid_order", "'order' must be asc or desc", "order", allowed=["asc", "desc"]
            )
        req.order = order
    req.per_page = _int(params, "per_page", 1, MAX_PER_PAGE) or 20
    req.page = _int(params, "page", 1, MAX_RESULT_WINDOW) or 1
    if req.page * req.per_page > MAX_RESULT_WINDOW:
        raise ParamError(
            "page_too_deep",
            f"page × per_page may not exceed {MAX_RESULT_WINDOW}; narrow the search instead",
            "page",
        )
    limit = _int(params, "facet_limit", 1, MAX_FACET_LIMIT)
    req.facet_limit = limit or 20
    return req
