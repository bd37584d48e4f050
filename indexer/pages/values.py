"""Small value conversions shared by the parser and the index: ages, dates, lists, escapes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")
_UNIT_YEARS = {
    "year": 1.0,
    "month": 1.0 / 12.0,
    "week": 7.0 / 365.25,
    "day": 1.0 / 365.25,
    "hour": 1.0 / (365.25 * 24),
    "minute": 1.0 / (365.25 * 24 * 60),
}
# The patterns of the format, defined once. re.ASCII: `\d` is 0-9 only (without it,
# Arabic-Indic or full-width digits pass and then fail in int()); use them with
# fullmatch, since `$` also matches before a final newline.
DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?", re.ASCII)
# DATE for JSON Schema clients (OpenAPI, MCP): months and days in range; the request
# parser also checks the calendar (2020-02-31 is refused).
DATE_JSON_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"
NCT_ID = re.compile(r"NCT\d{8}", re.ASCII)
NCT_ID_ANY_CASE = re.compile(r"NCT\d{8}", re.ASCII | re.IGNORECASE)
# an NCT ID as people type it in a query: any case, a space, leading zeros dropped
NCT_IN_TEXT = re.compile(r"\bNCT\s?0*(\d{1,8})\b", re.ASCII | re.IGNORECASE)


def unescape_markdown(text: str) -> str:
    """Undo backslash escapes (`\\[F-18\\]` -> `[F-18]`) so text reads as written."""
    return _MD_ESCAPE.sub(r"\1", text)


def age_to_years(text: Any) -> float | None:
    """'18 Years' -> 18.0, '6 Months' -> 0.5; 'N/A', blanks and nonsense mean no bound."""
    if text is None:
        return None
    match = _AGE.match(str(text))
    if not match:
        return None
    unit = match.group(2).lower().rstrip("s")
    factor = _UNIT_YEARS.get(unit)
    if factor is None:
        return None
    return round(float(match.group(1)) * factor, 4)


def normalize_date(value: Any) -> str | None:
    """Return 'YYYY-MM-DD' or 'YYYY-MM' for a date, whatever YAML turned it into."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if isinstance(value, int) or re.fullmatch(r"\d{8}", text, re.ASCII):
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 else text
    match = DATE.fullmatch(text[:10]) or DATE.fullmatch(text[:7])
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        dt.date(int(year), int(month), int(day or 1))
    except ValueError:
        return None
    return f"{year}-{month}-{day}" if day else f"{year}-{month}"


def date_key(value: str | None) -> int | None:
    """A sortable integer for a date: 'YYYY-MM' counts as the first day of the month."""
    if not value:
        return None
    match = DATE.fullmatch(value)
    if not match:
        return None
    return int(match.group(1)) * 10000 + int(match.group(2)) * 100 + int(match.group(3) or 1)


def as_text(value: Any) -> str | None:
    """One clean line of text from a scalar YAML value; lists are joined, mappings refused."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        parts = [as_text(v) for v in value]
        text = ", ".join(p for p in parts if p)
        return text or None
    if isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return normalize_date(value)
    text = " ".join(str(value).split())
    return text or None


def as_list(value: Any) -> list[str]:
    """A list of clean strings from a YAML scalar or list; a string is one value, never split."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in items:
        text = as_text(item)
        if text and text not in out:
            out.append(text)
    return out


def split_phases(value: Any) -> list[str]:
    """'PHASE1, PHASE2' -> ['PHASE1', 'PHASE2']; phases never contain commas themselves."""
    out: list[str] = []
    for item in as_list(value):
        for part in re.split(r"[,/|]", item):
            part = part.strip().upper().replace(" ", "")
            if re.fullmatch(r"[A-Z][A-Z0-9_]*", part) and part not in out:
                out.append(part)
    return out


def parse_yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = (as_text(value) or "").lower()
    return {"yes": True, "true": True, "no": False, "false": False}.get(text)


def parse_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = (as_text(value) or "").replace(",", "")
    match = re.match(r"^(\d+)", text)
    return int(match.group(1)) if match else None
