"""The facets, defined once: request parameter, index field, label, vocabulary.

The request parser, the columns, the facet lists, autocomplete and every surface
read this table; a new facet is one `FacetSpec` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from ..pages.vocab import (
    HEALTHY_VOLUNTEERS,
    INTERVENTION_TYPES,
    PHASES,
    SEXES,
    STATUSES,
    STUDY_TYPES,
    VALUE_LABELS,
)
from .age_groups import AGE_GROUP_LABELS, AGE_GROUP_VALUES


@dataclass(frozen=True)
class FacetSpec:
    """A facet, defined once: the request parameter, the index field, how people see it.

    `values` is the closed vocabulary when the page format has one (the request
    refuses anything else); None means the index supplies the values. Closed
    vocabularies are codes in one case, so a request's value is folded to it.
    `listed` False: a filter and autocomplete field, counted only when a request's
    `facets=` names it (intervention names: a large list few searches need).
    """

    name: str
    field: str
    label: str
    multi: bool
    values: tuple[str, ...] | None = None
    labels: dict[str, str] = dc_field(default_factory=dict, compare=False)
    listed: bool = True
    derived: bool = False  # computed from other columns when opened (age_groups.py, sites.py)
    # counted without being named in `facets=` when one of these has a selection
    # ("near": a place is given): states and cities under a selected country, the
    # sites' statuses under any place — the lists are most useful there, and a search
    # that names no place does not pay for counting two million sites' values
    listed_under: tuple[str, ...] = ()

    def fold_value(self, value: str) -> str:
        """A requested value as the index spells it (recruiting -> RECRUITING)."""
        if self.values is None:
            return value
        return value.lower() if self.values == HEALTHY_VOLUNTEERS else value.upper()

    def display(self, value: str) -> str:
        """RECRUITING -> Recruiting, PHASE1 -> Phase 1; open values as they are."""
        if value in self.labels:
            return self.labels[value]
        if self.values is not None and value.isupper() and " " not in value:
            return value.replace("_", " ").capitalize()
        return value


def _closed(name: str, label: str, multi: bool, values: tuple[str, ...]) -> FacetSpec:
    labels = {v: VALUE_LABELS[v] for v in values if v in VALUE_LABELS}
    return FacetSpec(name, "f_" + name, label, multi, values, labels)


FACETS: tuple[FacetSpec, ...] = (
    _closed("status", "Status", False, STATUSES),
    _closed("phase", "Phase", True, PHASES),
    _closed("study_type", "Study type", False, STUDY_TYPES),
    _closed("intervention_type", "Intervention type", True, INTERVENTION_TYPES),
    _closed("sex", "Sex", False, SEXES),
    FacetSpec(
        "age_group",
        "f_age_group",
        "Age group",
        True,
        AGE_GROUP_VALUES,
        AGE_GROUP_LABELS,
        derived=True,
    ),  # fmt: skip
    _closed("healthy_volunteers", "Healthy volunteers", False, HEALTHY_VOLUNTEERS),
    FacetSpec("country", "f_country", "Country", True),
    FacetSpec(
        "state",
        "f_state",
        "State or region",
        True,
        listed=False,
        derived=True,
        listed_under=("country", "near"),
    ),
    FacetSpec(
        "city",
        "f_city",
        "City",
        True,
        listed=False,
        derived=True,
        listed_under=("country", "state", "near"),
    ),
    FacetSpec(
        "site_status",
        "f_site_status",
        "Site status",
        True,
        STATUSES,
        {v: VALUE_LABELS[v] for v in STATUSES if v in VALUE_LABELS},
        listed=False,
        derived=True,
        listed_under=("country", "state", "city", "site_status", "near"),
    ),
    FacetSpec("condition", "f_condition", "Condition", True),
    FacetSpec("intervention", "f_intervention", "Intervention", True, listed=False),
    FacetSpec("sponsor", "f_sponsor", "Sponsor", False),
)
FACETS_BY_NAME = {spec.name: spec for spec in FACETS}
