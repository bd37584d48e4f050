"""The typed study record: the one shape a page becomes, whatever the page looked like."""

from __future__ import annotations

from dataclasses import dataclass, field, is_dataclass
from typing import Any


@dataclass
class Eligibility:
    min_age: str | None = None
    max_age: str | None = None
    min_age_years: float | None = None
    max_age_years: float | None = None
    sex: str | None = None
    healthy_volunteers: bool | None = None
    criteria: str | None = None


@dataclass
class Arm:
    label: str
    type: str | None = None
    description: str | None = None


@dataclass
class Intervention:
    name: str
    type: str | None = None
    description: str | None = None


@dataclass
class Outcome:
    measure: str
    time_frame: str | None = None
    description: str | None = None


@dataclass
class Location:
    text: str
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = None


@dataclass
class FieldChange:
    field: str
    change: str | None = None
    date: str | None = None


@dataclass
class StudyRecord:
    """Everything the search service knows about one study."""

    nct_id: str
    title: str
    official_title: str | None = None
    acronyms: list[str] = field(default_factory=list)
    overall_status: str | None = None
    phases: list[str] = field(default_factory=list)
    study_type: str | None = None
    sponsor: str | None = None
    primary_condition: str | None = None
    conditions: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    enrollment: int | None = None
    start_date: str | None = None
    completion_date: str | None = None
    last_update: str | None = None
    last_seen_at: str | None = None
    canonical_url: str | None = None
    clinicaltrials_gov: str | None = None
    source: str | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None
    eligibility: Eligibility = field(default_factory=Eligibility)
    arms: list[Arm] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    primary_outcomes: list[Outcome] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    locations_total: int | None = None
    locations_more: int = 0
    field_changes: list[FieldChange] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def intervention_types(self) -> list[str]:
        """Distinct intervention types, in first-seen order."""
        seen: dict[str, None] = {}
        for iv in self.interventions:
            if iv.type:
                seen.setdefault(iv.type, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (what `dataclasses.asdict` gives, without its
        deep copy of every value: this runs once per page of a build)."""
        data = _plain(self)
        data["intervention_types"] = self.intervention_types
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyRecord:
        data = dict(data)
        data.pop("intervention_types", None)
        data["eligibility"] = Eligibility(**data.get("eligibility") or {})
        data["arms"] = [Arm(**a) for a in data.get("arms") or []]
        data["interventions"] = [Intervention(**i) for i in data.get("interventions") or []]
        data["primary_outcomes"] = [Outcome(**o) for o in data.get("primary_outcomes") or []]
        data["locations"] = [Location(**loc) for loc in data.get("locations") or []]
        data["field_changes"] = [FieldChange(**c) for c in data.get("field_changes") or []]
        return cls(**data)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(item) for name, item in vars(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
