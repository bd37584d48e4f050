"""The search page: the same SearchResponse as the API, rendered as HTML for people.

Every state is a GET URL, toggle and remove links are built here on the server,
so the page works with JavaScript off and the back button always works.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup

from indexer.search.query import (
    FACETS,
    FEED_IGNORES,
    MAX_RESULT_WINDOW,
    PARAMS_BY_NAME,
    RANGE_PARAMS,
    ParamError,
    SearchRequest,
    SearchResponse,
    parse_params,
    time_budget,
)

from .metrics import count_refusal
from .state import get_index

bp = Blueprint("pages", __name__)

SORT_CHOICES = [
    ("", "Best match"),
    ("-last_update", "Recently updated"),
    ("-start_date", "Newest start"),
    ("start_date", "Oldest start"),
    ("-enrollment", "Largest enrollment"),
    ("nct_id", "NCT ID"),
    ("changed", "Recently new or changed"),
]
NEAREST_SORT = ("distance", "Nearest site")  # offered with a place
RADIUS_CHOICES = ("10mi", "25mi", "50mi", "100mi", "250mi", "500mi")
RANGE_LABELS = {name: PARAMS_BY_NAME[name].label for name in RANGE_PARAMS}
# which facet each closed-vocabulary code belongs to, for the template's `pretty` filter
_CODE_FACET = {value: spec for spec in FACETS for value in spec.values or ()}


HTML_FACET_VALUES = 100  # the most values the page lists for one facet
MORE_FACET_VALUES = 100  # what "more" asks for


def _url(params: list[tuple[str, str]], endpoint: str = "/search") -> str:
    return endpoint + ("?" + urlencode(params) if params else "")


def _without(
    params: list[tuple[str, str]], name: str, value: str | None = None
) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params if not (k == name and (value is None or v == value))]


def _reset_page(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params if k != "page"]


def pretty(value: str) -> str:
    """RECRUITING -> Recruiting, PHASE1 -> Phase 1 (as its facet shows it), for display."""
    spec = _CODE_FACET.get(value)
    return spec.display(value) if spec is not None else value


def safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) is shown as text."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def build_view(req: SearchRequest, resp: SearchResponse) -> dict[str, Any]:
    params = req.to_params()
    base = _reset_page(params)
    facets = []
    for spec in FACETS:
        if spec.name not in resp.facets:  # facets= left it out
            continue
        items = []
        for item in resp.facets[spec.name]:
            toggled = (
                _without(base, spec.name, item["value"])
                if item["selected"]
                else [*base, (spec.name, item["value"])]
            )
            label = spec.display(item["value"])
            items.append({**item, "label": label, "toggle_url": _url(toggled)})
        more = spec.name in resp.truncated_facets and req.facet_limit < HTML_FACET_VALUES
        more_params = [*_without(params, "facet_limit"), ("facet_limit", str(MORE_FACET_VALUES))]
        facets.append(
            {
                "name": spec.name,
                "label": spec.label,
                "values": items,
                "selected": bool(req.filters.get(spec.name)),
                "truncated": spec.name in resp.truncated_facets,
                "more_url": _url(more_params) + f"#facet-{spec.name}" if more else None,
            }
        )
    chips = [
        {
            "label": f"{spec.label}: {spec.display(value)}",
            "url": _url(_without(base, spec.name, value)),
        }
        for spec in FACETS
        for value in req.filters.get(spec.name, [])
    ]
    if req.near is not None:
        radius = req.near_dict()
        chips.append(
            {
                "label": f"Near {req.near.query} (within {radius['radius_mi']:g} mi)",
                "url": _url(_without(_without(base, "near"), "radius")),
            }
        )
    for name in RANGE_PARAMS:
        value = getattr(req, name)
        if value is not None:
            shown = int(value) if isinstance(value, float) and value.is_integer() else value
            shown = _since_filter(shown) if isinstance(shown, str) else shown
            chips.append(
                {"label": f"{RANGE_LABELS[name]}: {shown}", "url": _url(_without(base, name))}
            )
    clear_all = _url([(k, v) for k, v in base if k in ("q", "sort", "order", "per_page")])
    pages = []
    last = min(resp.pages, MAX_RESULT_WINDOW // req.per_page)
    for number in sorted({1, last, *range(max(1, req.page - 2), min(last, req.page + 2) + 1)}):
        pages.append(
            {
                "number": number,
                "current": number == req.page,
                "url": _url([*base, ("page", str(number))] if number > 1 else base),
            }
        )
    current_sort = req.sort and (("-" if req.order == "desc" else "") + req.sort)
    return {
        "facets": facets,
        "chips": chips,
        "clear_all": clear_all if chips else None,
        "pages": pages,
        "prev_url": _url([*base, ("page", str(req.page - 1))]) if req.page > 1 else None,
        "next_url": _url([*base, ("page", str(req.page + 1))]) if req.page < last else None,
        "json_url": _url(params, "/api/search"),
        "export_urls": {
            kind: _url(_without(_reset_page(params), "per_page"), f"/api/search.{kind}")
            for kind in ("csv", "jsonl", "ris")
        },
        "suggestion_url": _url([("q", resp.suggestion), *[p for p in base if p[0] != "q"]])
        if resp.suggestion
        else None,
        # synonyms: say what was also searched, and offer the other way round
        "exact_url": _url([*_without(base, "exact"), ("exact", "true")]),
        "synonyms_url": _url(_without(base, "exact")),
        # patient mode: the reading can be corrected by searching the other way
        "keywords_url": _url([*_without(base, "mode"), ("mode", "keywords")]),
        "eligible_url": _url([*_without(base, "eligible_only"), ("eligible_only", "true")]),
        "all_studies_url": _url(_without(base, "eligible_only")),
        "feed_url": _url(_feed_params(params), "/search.atom"),
        # mark what is new or changed when the search is about that
        "show_changes": bool(req.new_since or req.changed_since or req.sort == "changed"),
        "sort_choices": SORT_CHOICES + ([NEAREST_SORT] if req.near is not None else []),
        "radius_choices": _radius_choices(req.radius),
        "recruiting_sites": "RECRUITING" in req.filters.get("site_status", []),
        "current_sort": current_sort or "",
        "first": (req.page - 1) * req.per_page + 1,
    }


def _radius_choices(current: str | None) -> list[str]:
    """The select's distances, with one typed in the URL kept among them."""
    chosen = current or "50mi"
    return list(RADIUS_CHOICES) + ([chosen] if chosen not in RADIUS_CHOICES else [])


def _place_choices(args: dict[str, list[str]], exc: ParamError) -> list[dict[str, str]]:
    """For an ambiguous or unknown place: the same search near each place offered."""
    if exc.param != "near" or exc.code not in ("ambiguous_place", "unknown_place"):
        return []
    if not exc.allowed or any('"' in choice for choice in exc.allowed):  # the forms, not places
        return []
    rest = [(k, v) for k, values in args.items() if k not in ("near", "page") for v in values]
    return [{"label": label, "url": _url([*rest, ("near", label)])} for label in exc.allowed]


def _feed_params(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The search without what a feed decides itself: its order, page and format."""
    return [(k, v) for k, v in params if k not in FEED_IGNORES]


@bp.app_template_filter("since")
def _since_filter(value: str) -> str:
    """A since-time as typed: midnight UTC shows as its date."""
    return value[:10] if value.endswith("T00:00:00Z") else value


@bp.app_template_filter("pretty")
def _pretty_filter(value: str) -> str:
    return pretty(value)


@bp.app_template_filter("safe_link")
def _safe_link_filter(url: str | None) -> str | None:
    return safe_link(url)


@bp.get("/")
@bp.get("/search")
@bp.post("/search")
def search_page():
    """GET for every state as a link; POST too, for a patient description longer than
    a URL may be (the form posts in patient mode)."""
    form = request.form if request.method == "POST" else request.args
    args = form.to_dict(flat=False)
    if not "".join(args.get("near", [])).strip():
        # the form's radius select always sends a value; without a place it says nothing
        args.pop("radius", None)
    try:
        req = parse_params(args)
        # the page lists at most HTML_FACET_VALUES values a facet (a "more" link beyond
        # the default), whatever the JSON allows: facet_limit=500 made a 3.3 MB page
        req.facet_limit = min(req.facet_limit, HTML_FACET_VALUES)
        with time_budget(float(current_app.config["REQUEST_BUDGET"])):
            resp = get_index().search(req)
    except ParamError as exc:
        count_refusal(exc.code)
        return render_template(
            "search.html",
            req=None,
            resp=None,
            view=None,
            q=" ".join(args.get("q", [])),
            error=exc,
            place_choices=_place_choices(args, exc),
        ), 400
    view = build_view(req, resp)
    html = render_template(
        "search.html",
        req=req,
        resp=resp,
        view=view,
        q=req.q,
        error=None,
        snippet=lambda s: Markup(s),
    )
    markdown_url = _url([*req.to_params(), ("format", "md")], "/api/search")
    links = [
        f'<{view["json_url"]}>; rel="alternate"; type="application/json"',
        f'<{markdown_url}>; rel="alternate"; type="text/markdown"',
    ]
    return html, 200, {"Link": ", ".join(links)}
