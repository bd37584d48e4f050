"""One hit as the API shows it: the study's key fields and its best snippet."""

from __future__ import annotations

import math
from typing import Any

from ..index.schema import text_analyzer, unpack_record
from .site_matching import SiteMatches, nearest_site
from .snippets import best_passage

# one analyzer for every request's snippets, so its cache of analysed words lasts
SNIPPET_ANALYZER = text_analyzer()
# what a hit holds, in order; `fields=` picks some of them (nct_id always comes)
MAX_CHANGES = 20  # recent field changes a hit lists
HIT_FIELDS = (
    "nct_id",
    "title",
    "overall_status",
    "phases",
    "study_type",
    "sponsor",
    "conditions",
    "countries",
    "enrollment",
    "start_date",
    "last_update",
    "canonical_url",
    "clinicaltrials_gov",
    "first_indexed",
    "changed_at",
    "recent_changes",
    "nearest_site",
    "sites_in_radius",
    "sites_truncated",
    "score",
    "snippet",
)


def nct_of(searcher: Any, doc: int) -> str:
    return searcher.stored_fields(doc)["nct_id"]


def make_hit(
    searcher: Any,
    doc: int,
    score: float | None,
    terms: set[str],
    analyzer: Any,
    fields: list[str] | None = None,
    history: dict[str, str | None] | None = None,
    sites: SiteMatches | None = None,
) -> dict[str, Any]:
    """The hit for `doc`: every field, or `nct_id` and the `fields` asked for (the
    snippet, the costliest part, is only made when asked). `history`: when the study
    first entered the index and last changed (`Columns.history_of`); `sites`: the
    request's site conditions, for the nearest site within `near`'s radius."""
    record = unpack_record(searcher.stored_fields(doc)["record"])
    wanted = None if fields is None else {"nct_id", *fields}
    snippet = None
    if wanted is None or "snippet" in wanted:
        snippet = best_passage(_snippet_sources(record), terms, analyzer)
    hit = {
        "nct_id": record["nct_id"],
        "title": record["title"],
        "overall_status": record.get("overall_status"),
        "phases": record.get("phases") or [],
        "study_type": record.get("study_type"),
        "sponsor": record.get("sponsor"),
        "conditions": record.get("conditions") or [],
        "countries": record.get("countries") or [],
        "enrollment": record.get("enrollment"),
        "start_date": record.get("start_date"),
        "last_update": record.get("last_update"),
        "canonical_url": record.get("canonical_url"),
        "clinicaltrials_gov": record.get("clinicaltrials_gov"),
        "first_indexed": (history or {}).get("first_indexed"),
        "changed_at": (history or {}).get("changed_at"),
        # what the mirror's "Recent Field Changes" says (its last 30 days)
        "recent_changes": (record.get("field_changes") or [])[:MAX_CHANGES],
        "nearest_site": None,
        "sites_in_radius": None,
        # the page listed its first sites only ("… and N more"): distances and site
        # filters know only those
        "sites_truncated": bool(record.get("locations_more")),
        "score": round(score, 4) if score is not None and math.isfinite(score) else None,
        "snippet": snippet,
    }
    hit.update(nearest_site(sites, doc, record))
    if wanted is None:
        return hit
    return {name: hit[name] for name in HIT_FIELDS if name in wanted}


def _snippet_sources(record: dict[str, Any]) -> list[str | None]:
    """Texts a snippet may come from, best first; the title is shown anyway."""

    def described(items: list[dict[str, Any]], name: str) -> str:
        return "; ".join(
            f"{item.get(name)}" + (f": {item['description']}" if item.get("description") else "")
            for item in items
        )

    return [
        record.get("brief_summary"),
        record.get("detailed_description"),
        "Conditions: " + "; ".join(record.get("conditions") or []),
        "Interventions: " + described(record.get("interventions") or [], "name"),
        "Arms: " + described(record.get("arms") or [], "label"),
        "Outcomes: " + described(record.get("primary_outcomes") or [], "measure"),
        (record.get("eligibility") or {}).get("criteria"),
        "Sponsor: " + (record.get("sponsor") or ""),
        "Locations: " + "; ".join(loc.get("text") or "" for loc in record.get("locations") or []),
    ]
