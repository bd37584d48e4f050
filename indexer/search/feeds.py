"""What a search's feed says: its newest new-or-changed studies, each summed up.

A feed is a search asked by a reader every few hours, so it is one query of the
same API, ordered by `changed_at` (history.py) and cut to the newest FEED_ENTRIES.
The Atom document itself is HTTP's business (webapp/feeds.py); here is only what
the entries say, so any other surface could publish the same feed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..index.schema import FACETS_BY_NAME
from .request import SearchRequest

FEED_ENTRIES = 50
FEED_FIELDS = [
    "title",
    "overall_status",
    "phases",
    "sponsor",
    "conditions",
    "canonical_url",
    "clinicaltrials_gov",
    "first_indexed",
    "changed_at",
    "recent_changes",
]
# what a search's order, paging and response shape mean nothing to a feed
FEED_IGNORES = ("sort", "order", "page", "per_page", "fields", "facets", "facet_limit", "format")


def feed_request(req: SearchRequest) -> SearchRequest:
    """The search a feed runs: the same filters and words, newest changes first, no
    facet counting (a feed shows none)."""
    return replace(
        req,
        sort="changed",
        order="desc",
        page=1,
        per_page=FEED_ENTRIES,
        fields=list(FEED_FIELDS),
        facets=[],
        facet_prefix="",
        format="json",
    )


def is_new(hit: dict[str, Any]) -> bool:
    """A study whose only change is its arrival."""
    return bool(hit.get("first_indexed")) and hit.get("first_indexed") == hit.get("changed_at")


def entry_summary(hit: dict[str, Any]) -> str:
    """One line a person reads in a feed reader: status, phases, sponsor, conditions,
    and what changed (as the mirror page's Recent Field Changes says)."""
    status, phase = FACETS_BY_NAME["status"], FACETS_BY_NAME["phase"]
    facts = [
        status.display(hit["overall_status"]) if hit.get("overall_status") else "Unknown status",
        " / ".join(phase.display(p) for p in hit.get("phases") or []),
        hit.get("sponsor") or "",
        "; ".join((hit.get("conditions") or [])[:5]),
    ]
    line = " · ".join(fact for fact in facts if fact)
    arrival = "New in this index" if is_new(hit) else "Changed"
    changes = [
        change["field"]
        + (f" {change['change']}" if change.get("change") else "")
        + (f" ({change['date']})" if change.get("date") else "")
        for change in hit.get("recent_changes") or []
    ]
    said = f"{arrival} {str(hit.get('changed_at') or '')[:10]}".strip()
    if changes:
        said += ". Recent field changes: " + "; ".join(changes[:10])
        if len(changes) > 10:
            said += f"; and {len(changes) - 10} more"
    return f"{line}. {said}." if line else f"{said}."
