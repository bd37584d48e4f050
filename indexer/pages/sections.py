"""Reading the body sections of a mirror page: key facts, eligibility, described
items (arms, interventions), outcomes, locations and field changes.

Each reader takes a section's lines and returns record parts; a line it cannot read
is kept as plain text or left out, never an error (parse.py decides what a page
must have). Markdown escapes are undone here, so values are plain text.
"""

from __future__ import annotations

import re
from typing import Any

from ..places.gazetteer import gazetteer
from ..places.locate import read_site_parts
from .record import Eligibility, FieldChange, Location, Outcome
from .values import age_to_years, as_text, parse_yes_no, unescape_markdown

_FACT = re.compile(r"^-\s+\*\*(.+?):\*\*\s*(.*)$")
_ITEM = re.compile(r"^-\s+\*\*((?:\\.|[^\\*])+)\*\*\s*(.*)$")
_TYPE = re.compile(r"^\(([A-Z][A-Z_ ]*)\)\s*(.*)$")
_TIME_FRAME = re.compile(r"^_\(time frame:\s*((?:\\.|[^\\])*?)\)_\s*(.*)$")
_LOCATION_STATUS = re.compile(r"\s+—\s+_([A-Z_]+)_\s*$")
_MORE_LOCATIONS = re.compile(r"^-\s+…\s+and\s+(\d+)\s+more\s+locations?", re.IGNORECASE)
_CHANGE = re.compile(r"^-\s+`([^`]+)`\s*(?:—\s*(.*?))?\s*(?:_\((.*?)\)_)?\s*$")


def read_facts(lines: list[str]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in lines:
        match = _FACT.match(line.strip())
        if match:
            facts[match.group(1).strip().lower()] = unescape_markdown(match.group(2).strip())
    return facts


def enum_value(value: Any) -> str | None:
    text = as_text(value)
    return text.upper().replace(" ", "_") if text else None


def read_prose(lines: list[str] | None) -> str | None:
    if not lines:
        return None
    text = unescape_markdown("\n".join(lines).strip())
    return text or None


def read_eligibility(lines: list[str]) -> Eligibility:
    facts = read_facts([line for line in lines if line.startswith("- ")])
    criteria: list[str] = []
    in_fence = False
    for line in lines:
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            criteria.append(line)
    min_age = facts.get("minimum age")
    max_age = facts.get("maximum age")
    sex = enum_value(facts.get("sex"))
    return Eligibility(
        min_age=min_age,
        max_age=max_age,
        min_age_years=age_to_years(min_age),
        max_age_years=age_to_years(max_age),
        sex=sex,
        healthy_volunteers=parse_yes_no(facts.get("healthy volunteers")),
        criteria="\n".join(criteria).strip("\n") or None,
    )


def read_described(lines: list[str]) -> list[tuple[str, str | None, str | None]]:
    """'- **Name** (TYPE) — description' items, as (name, type, description)."""
    items = []
    for line in lines:
        line = line.strip()
        if not line.startswith("- "):
            continue
        match = _ITEM.match(line)
        if not match:
            items.append((unescape_markdown(line[2:].strip()), None, None))
            continue
        name = unescape_markdown(match.group(1).strip())
        rest = match.group(2)
        kind = None
        typed = _TYPE.match(rest)
        if typed:
            kind, rest = typed.group(1).strip().replace(" ", "_"), typed.group(2)
        description = rest.split("—", 1)[1].strip() if rest.startswith("—") else rest.strip()
        items.append((name, kind, unescape_markdown(description) or None))
    return items


def read_outcomes(lines: list[str]) -> list[Outcome]:
    outcomes = []
    for line in lines:
        line = line.strip()
        match = _ITEM.match(line)
        if not match:
            continue
        rest = match.group(2)
        time_frame = None
        framed = _TIME_FRAME.match(rest)
        if framed:
            time_frame, rest = unescape_markdown(framed.group(1)), framed.group(2)
        description = rest.split("—", 1)[1].strip() if rest.startswith("—") else rest.strip()
        outcomes.append(
            Outcome(
                measure=unescape_markdown(match.group(1).strip()),
                time_frame=time_frame,
                description=unescape_markdown(description) or None,
            )
        )
    return outcomes


def read_locations(lines: list[str], countries: list[str]) -> tuple[list[Location], int]:
    """Parse '- Facility, City, State, Country — _STATUS_' lines.

    Facility names contain commas, so the country is matched against the study's
    countries first (they contain commas too) and the rest is read from the right,
    with the gazetteer saying whether the last part is a state or a city
    (`places.locate.read_site_parts`).
    """
    locations: list[Location] = []
    more = 0
    for line in lines:
        line = line.strip()
        if not line.startswith("- "):
            continue
        more_match = _MORE_LOCATIONS.match(line)
        if more_match:
            more = int(more_match.group(1))
            continue
        body = line[2:]
        status = None
        status_match = _LOCATION_STATUS.search(body)
        if status_match:
            status = status_match.group(1)
            body = body[: status_match.start()]
        text = unescape_markdown(body.strip())
        rest, country = text, None
        for name in sorted(countries, key=len, reverse=True):
            if rest == name or rest.endswith(", " + name):
                country, rest = name, rest[: -len(name)].rstrip(", ")
                break
        parts = [p for p in rest.split(", ")] if rest else []
        if country is None and len(parts) > 1:
            country = parts.pop()
        facility, city, state = read_site_parts(gazetteer(), parts, country)
        locations.append(Location(text, facility, city, state, country, status))
    return locations, more


def read_changes(lines: list[str]) -> list[FieldChange]:
    changes = []
    for line in lines:
        match = _CHANGE.match(line.strip())
        if match:
            changes.append(FieldChange(match.group(1), match.group(2) or None, match.group(3)))
    return changes
