"""The typed search request, and its strict parsing from URL-style parameters.

The JSON API, the web page and the CLI all build a SearchRequest here, so one
parameter means the same thing everywhere and is refused the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ParamError
from ..index.schema import FACETS_BY_NAME
from ..pages.vocab import (  # noqa: F401 - these names are also read from here
    HEALTHY_VOLUNTEERS,
    INTERVENTION_TYPES,
    PHASES,
    SEXES,
    STATUSES,
    STUDY_TYPES,
)
from ..places.near import DEFAULT_RADIUS, KM_PER_MILE, Origin, read_radius
from .params import (  # noqa: F401 - the limits are also read from here
    MAX_FACET_LIMIT,
    MAX_FILTER_VALUES,
    MAX_PER_PAGE,
    MAX_QUERY_CHARS,
    MAX_RESULT_WINDOW,
    PARAMS,
    PARAMS_BY_NAME,
    RANGE_PARAMS,
    SORTS,
)

ALLOWED_PARAMS = tuple(PARAMS_BY_NAME)
_DEFAULT = {param.name: param.default for param in PARAMS}


@dataclass
class SearchRequest:
    """Everything a search can ask for; defaults give the first page of everything."""

    q: str = ""
    exact: bool = False  # no synonym expansion: only the words as typed
    mode: str = "auto"  # keywords, patient, or auto: which of the two q reads as
    eligible_only: bool = False  # patient mode: leave out studies excluding the patient
    filters: dict[str, list[str]] = field(default_factory=dict)
    near: Origin | None = None  # the place near= named, as the gazetteer read it
    radius: str | None = None  # as typed ("50mi"); None: the default, with near
    start_date_from: str | None = None
    start_date_to: str | None = None
    last_update_from: str | None = None
    last_update_to: str | None = None
    completion_date_from: str | None = None
    completion_date_to: str | None = None
    new_since: str | None = None  # ISO UTC, as param_kinds reads a moment
    changed_since: str | None = None
    enrollment_min: int | None = None
    enrollment_max: int | None = None
    age: float | None = None
    sort: str | None = None
    order: str | None = None
    page: int = _DEFAULT["page"]
    per_page: int = _DEFAULT["per_page"]
    facet_limit: int = _DEFAULT["facet_limit"]
    fields: list[str] | None = None  # None: every field of a hit
    facets: list[str] | None = None  # None: every facet; []: none
    facet_prefix: str = ""  # only values starting with it (any case) are listed
    format: str = "json"  # or "md"

    def counts_facet(self, name: str) -> bool:
        if self.facets is None:
            spec = FACETS_BY_NAME[name]
            given = {*self.filters, *(("near",) if self.near is not None else ())}
            return spec.listed or any(name in given for name in spec.listed_under)
        return name in self.facets

    @property
    def radius_km(self) -> float:
        return read_radius(self.radius or DEFAULT_RADIUS)

    def near_dict(self) -> dict[str, Any] | None:
        """How near= was read and the radius, as the response says it."""
        if self.near is None:
            return None
        km = self.radius_km
        return {**self.near.to_dict(), "radius_km": round(km, 3),
                "radius_mi": round(km / KM_PER_MILE, 3)}  # fmt: skip

    def effective_sort(self) -> tuple[str, bool]:
        """(field, descending): relevance with text, newest update without; what
        changed most recently first unless asked otherwise."""
        sort = self.sort or ("relevance" if self.q.strip() else "last_update")
        if sort == "relevance" and not self.q.strip():
            sort = "last_update"
        if self.order:
            return sort, self.order == "desc"
        if self.sort is None or sort in ("relevance", "changed"):
            return sort, sort != "nct_id"
        if sort == "distance":
            return sort, False
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
        if self.mode != "auto":
            params.append(("mode", self.mode))
        if self.eligible_only:
            params.append(("eligible_only", "true"))
        for name in FACETS_BY_NAME:
            params.extend((name, v) for v in self.filters.get(name, []))
        if self.near is not None:
            params.append(("near", self.near.query))
        if self.radius is not None:
            params.append(("radius", self.radius))
        for name in RANGE_PARAMS:
            value = getattr(self, name)
            if value is not None:
                params.append((name, _fmt_number(value)))
        if self.sort:
            params.append(("sort", self.sort))
        if self.order:
            params.append(("order", self.order))
        if self.per_page != _DEFAULT["per_page"]:
            params.append(("per_page", str(self.per_page)))
        if self.page != _DEFAULT["page"]:
            params.append(("page", str(self.page)))
        if self.fields is not None:
            params.append(("fields", ",".join(self.fields)))
        if self.facets is not None:
            params.append(("facets", ",".join(self.facets) or "none"))
        if self.facet_prefix:
            params.append(("facet_prefix", self.facet_prefix))
        if self.format != "json":
            params.append(("format", self.format))
        return params


def _fmt_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_params(params: Mapping[str, Sequence[str]]) -> SearchRequest:
    """Build a SearchRequest from parameters (name -> list of values), or raise ParamError.

    Each parameter is read as `params.PARAMS` defines it, in the table's order, so
    the first bad parameter in that order is the one reported.
    """
    raw = {k: [str(v) for v in vs] for k, vs in params.items()}
    unknown = sorted(set(raw) - set(ALLOWED_PARAMS))
    if unknown:
        raise ParamError(
            "unknown_parameter",
            f"unknown parameter '{unknown[0]}'",
            unknown[0],
            allowed=list(ALLOWED_PARAMS),
        )
    req = SearchRequest()
    for param in PARAMS:
        value = param.read(raw)
        if param.kind == "facet":
            if value:
                req.filters[param.name] = value
        elif param.kind == "sort":
            if value:
                req.sort, descending = value
                if descending:
                    req.order = "desc"
        elif param.kind == "choice":
            if value:
                setattr(req, param.name, value)
        elif param.kind == "names":
            setattr(req, param.name, value)
        else:
            setattr(req, param.name, value)
        if param.name == "sort" and (req.radius or req.sort == "distance") and req.near is None:
            raise ParamError(
                "near_required",
                ("sort=distance" if req.sort == "distance" else "radius")
                + " needs near= (a place to measure from)",
                "near",
            )
        if param.name == "page" and req.page * req.per_page > MAX_RESULT_WINDOW:
            raise ParamError(
                "page_too_deep",
                f"page × per_page may not exceed {MAX_RESULT_WINDOW}; narrow the search instead",
                "page",
            )
    return req
