"""The typed results of the MCP tools (webapp/mcp_server.py): pydantic models, lean.

The SDK publishes each tool's output schema from these, and the whole catalog is sent
in every conversation an agent has, so the models carry no titles and only the
fields a tool returns.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer


def _lean_model(schema: dict[str, Any]) -> None:
    """A result model's schema without the titles pydantic makes from field names."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class Lean(BaseModel):
    model_config = ConfigDict(json_schema_extra=_lean_model)


class Site(Lean):
    """The nearest site passing the site filters."""

    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    status: str | None
    distance_km: float
    distance_mi: float


class Near(Lean):
    """How `near` was read."""

    query: str
    name: str | None
    region: str | None
    country: str | None
    lat: float
    lon: float
    precision: str
    radius_km: float
    radius_mi: float


class Hit(Lean):
    """A study in a result list: nct_id and the fields asked for (others left out)."""

    nct_id: str
    title: str | None = None
    overall_status: str | None = None
    phases: list[str] | None = None
    study_type: str | None = None
    sponsor: str | None = None
    conditions: list[str] | None = None
    countries: list[str] | None = None
    enrollment: int | None = None
    start_date: str | None = None
    last_update: str | None = None
    canonical_url: str | None = None
    clinicaltrials_gov: str | None = None
    nearest_site: Site | None = None
    sites_in_radius: int | None = None
    sites_truncated: bool | None = None
    score: float | None = None
    snippet: str | None = Field(None, description="HTML-escaped; only <mark> is markup")

    @model_serializer(mode="wrap")
    def _asked_only(self, handler: Any) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if k in self.model_fields_set}


class FacetValue(Lean):
    value: str
    count: int
    selected: bool


class Expansion(Lean):
    text: str
    alternatives: list[str]
    kind: str
    listed: int = 0


class IndexInfo(Lean):
    generation: int
    documents: int
    built_at: str


class SearchResult(Lean):
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    expansions: list[Expansion]
    suggestion: str | None
    near: Near | None = None
    criteria: dict[str, Any] = Field(description="The request as understood, defaults filled")
    index: IndexInfo


class Why(Lean):
    age_ok: bool | None = Field(description="null: no age read or given")
    sex_ok: bool | None
    concepts: list[str] = Field(description="The patient's concepts the study holds")


class PatientHit(Lean):
    nct_id: str
    title: str
    overall_status: str | None
    phases: list[str]
    conditions: list[str]
    canonical_url: str | None
    why: Why
    nearest_site: Site | None = None


class Reading(Lean):
    """What was read from the description: check it, and correct with age/sex."""

    age: float | None
    age_text: str | None
    sex: str | None
    sex_text: str | None
    concepts: list[str] = Field(description="Conditions, findings, treatments named")
    negated: list[str] = Field(description="Denied: not counted")


class PatientMatches(Lean):
    total: int
    page: int
    per_page: int
    read: Reading
    near: Near | None = None
    hits: list[PatientHit]
    criteria: dict[str, Any]
    index: IndexInfo


class CountResult(Lean):
    total: int
    facets: dict[str, list[FacetValue]]
    criteria: dict[str, Any]
    index: IndexInfo


class FacetValues(Lean):
    facet: str
    values: list[FacetValue]
    truncated: bool = Field(description="More values match than were listed")


class Trial(Lean):
    nct_id: str
    record: dict[str, Any] | None = Field(None, description="The full study (format json)")
    markdown: str | None = Field(None, description="The study as a page (format markdown)")


class Explanation(Lean):
    text: str
    pinned: list[str] = Field(description="NCT IDs in the text: those studies come first")
    words: list[str] = Field(description="The words searched, as the index reads them")
    query: str | None = Field(
        description='The query as run: field:word, "phrases", AND/OR/ANDNOT; ANDMAYBE '
        "parts only add to the score"
    )
    ignored: list[str] = Field(description="Words left out: too common to search")
    expansions: list[Expansion]
    filters: dict[str, list[str]]
    criteria: dict[str, Any]
    total: int
