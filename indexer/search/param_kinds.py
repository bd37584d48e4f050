"""How a search parameter of each kind is read from raw values and described as
JSON Schema: text, boolean, facet, date, moment, integer, decimal, sort, choice,
names.

`params.Param` delegates here, so the table (params.py) says only what each
parameter is. Every refusal is a ParamError with the code and message the API
documents (`errors.API_ERROR_CODES`). Nothing here knows HTTP, click or the index.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ParamError
from ..index.schema import FACETS_BY_NAME
from ..pages.values import DATE, DATE_JSON_PATTERN
from ..places.near import PLACE_FORMS, RADIUS_JSON_PATTERN, Origin, read_place, read_radius

if TYPE_CHECKING:
    from .params import Param

MAX_FILTER_VALUES = 50
SORTS = (
    "relevance", "last_update", "start_date", "enrollment", "nct_id", "changed", "distance",
)  # fmt: skip
BOOLEAN_WORDS = ("true", "false", "1", "0")
_DECIMAL = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?")
_INTEGER = re.compile(r"-?[0-9]{1,12}")  # ASCII: int() reads any script's digits

Raw = Mapping[str, list[str]]


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
    spec = FACETS_BY_NAME[param.name]
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


# a day, a month, or a moment: 2026-11-27, 2026-11, 2026-11-27T09:30:00Z (+01:00 or naive: UTC)
_MOMENT = re.compile(
    r"(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?)?"
)
MOMENT_JSON_PATTERN = (
    r"^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?)?$"
)


def _read_moment(param: Param, raw: Raw) -> str | None:
    """A time as ISO 8601 in UTC (`...Z`): what `since` filters compare with the
    times the index keeps (history.py)."""
    text = _one(raw, param.name)
    if text is None:
        return None
    match = _MOMENT.fullmatch(text)
    when = None
    if match:
        iso = text if match.group(3) else text + "-01"
        iso = iso.replace(" ", "T").replace("Z", "+00:00")
        try:
            when = dt.datetime.fromisoformat(iso)
        except ValueError:
            when = None
    if when is None:
        raise ParamError(
            "invalid_date",
            f"'{param.name}' must be a date or a time, as YYYY-MM-DD, YYYY-MM or "
            f"YYYY-MM-DDTHH:MM:SSZ, got {text!r}",
            param.name,
        )
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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


def _read_names(param: Param, raw: Raw) -> list[str] | None:
    """Names given comma-separated or repeated; None when absent. `none` alone is the
    empty list (`facets=none`: count no facet)."""
    given = raw.get(param.name)
    if not given:
        return None
    names = [n.strip() for v in given for n in v.split(",") if n.strip()]
    if names == ["none"] and "none" in (param.values or ()):
        return []
    bad = [n for n in names if n not in (param.values or ()) or n == "none"]
    if bad:
        raise ParamError(
            "unknown_value",
            f"'{bad[0]}' is not a value of '{param.name}'",
            param.name,
            allowed=list(param.values or ()),
        )
    return list(dict.fromkeys(names))


def _read_place(param: Param, raw: Raw) -> Origin | None:
    """The place `near=` names, read by the offline gazetteer (places/near.py)."""
    text = _one(raw, param.name)
    if text is None:
        return None
    if len(text) > (param.maximum or 0):
        raise ParamError(
            "unknown_place", f"'{param.name}' may have {int(param.maximum or 0)} characters",
            param.name, allowed=list(PLACE_FORMS),
        )  # fmt: skip
    return read_place(text)


def _read_distance(param: Param, raw: Raw) -> str | None:
    """A radius as typed ("50mi", "80 km"), checked; `SearchRequest.radius_km` reads it."""
    text = _one(raw, param.name)
    if text is None:
        return None
    read_radius(text)
    return "".join(text.split()).lower()


READERS: dict[str, Callable[[Any, Raw], Any]] = {
    "text": _read_text,
    "boolean": _read_boolean,
    "facet": _read_facet,
    "date": _read_date,
    "moment": _read_moment,
    "integer": _read_integer,
    "decimal": _read_decimal,
    "sort": _read_sort,
    "choice": _read_choice,
    "names": _read_names,
    "place": _read_place,
    "distance": _read_distance,
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


def _names_pattern(names: tuple[str, ...]) -> str:
    one = "(" + "|".join(names) + ")"
    return f"^{one}(,{one})*$"


SCHEMAS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "text": lambda p: {"type": "string", "maxLength": int(p.maximum or 0)},
    "boolean": lambda p: {"type": "string", "enum": list(BOOLEAN_WORDS)},
    "facet": _enum_schema,
    "date": lambda p: {"type": "string", "pattern": DATE_JSON_PATTERN},
    "moment": lambda p: {"type": "string", "pattern": MOMENT_JSON_PATTERN},
    "integer": lambda p: _number_schema("integer", p),
    "decimal": lambda p: _number_schema("number", p),
    "sort": lambda p: {"type": "string", "enum": [*SORTS, *("-" + s for s in SORTS)]},
    "choice": _enum_schema,
    "names": lambda p: {"type": "string", "pattern": _names_pattern(p.values or ())},
    "place": lambda p: {"type": "string", "maxLength": int(p.maximum or 0)},
    "distance": lambda p: {"type": "string", "pattern": RADIUS_JSON_PATTERN},
}
