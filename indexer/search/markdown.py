"""Answers as Markdown, the form language models read best.

A search answer becomes a few lines: the total, the criteria applied, one line per
hit (its title linked to the canonical page, status, phases, sponsor, the snippet as
plain text) and the facet counts as short lists, selected values in bold. One study
becomes a mirror page (`pages/render.py`), the format the mirror itself publishes for
agents. Only rendering here: the answer and the record come from the query API.
"""

from __future__ import annotations

import html
import re
from typing import Any

from ..index.schema import FACETS_BY_NAME
from ..pages.record import StudyRecord
from ..pages.render import PageContent, md, render_page
from .answer import SearchResponse
from .params import PARAMS_BY_NAME, RANGE_PARAMS
from .request import SearchRequest

_TAG = re.compile(r"</?mark>")
FACET_VALUES_SHOWN = 10


def listed_note(count: int) -> str:
    """How the answer says what the studies listing a concept added (Markdown, CLI)."""
    if not count:
        return ""
    return f", and the {count:,} {'study' if count == 1 else 'studies'} listing it as a condition"


def plain_snippet(snippet: str | None) -> str:
    """The HTML snippet as plain text: marks dropped, entities decoded, one line."""
    return " ".join(html.unescape(_TAG.sub("", snippet or "")).split())


def criteria(req: SearchRequest) -> list[str]:
    """What the request asked for, as a person would say it."""
    said = [f"text: {req.q}"] if req.q else []
    for name, values in req.filters.items():
        spec = FACETS_BY_NAME[name]
        said.append(f"{spec.label.lower()}: {' or '.join(spec.display(v) for v in values)}")
    for name in RANGE_PARAMS:
        value = getattr(req, name)
        if value is not None:
            shown = f"{value:g}" if isinstance(value, float) else value
            said.append(f"{PARAMS_BY_NAME[name].label.lower()} {shown}")
    if req.exact:
        said.append("exact words (no synonyms)")
    return said


def search_markdown(req: SearchRequest, resp: SearchResponse) -> str:
    noun = "study" if resp.total == 1 else "studies"
    first = (resp.page - 1) * resp.per_page + 1
    lines = [f"# {resp.total:,} {noun}"]
    if resp.results:
        lines[0] += f" (showing {first}–{first + len(resp.results) - 1})"
    lines.append("")
    said = criteria(req)
    if said:
        lines += ["Criteria: " + "; ".join(md(s) for s in said) + ".", ""]
    for expansion in resp.expansions:
        alternatives = ", ".join(expansion["alternatives"])
        lines.append(
            f"Also searched “{md(expansion['text'])}” as: {md(alternatives)}"
            + listed_note(expansion.get("listed", 0))
            + "."
        )
    if resp.suggestion:
        lines.append(f"Did you mean: {md(resp.suggestion)}?")
    if resp.expansions or resp.suggestion:
        lines.append("")
    if resp.patient is not None:
        lines += [reading_line(resp.patient, md), ""]
    if resp.near is not None:
        lines += [near_line(resp.near, md), ""]
    for hit in resp.results:
        lines.append(_hit_line(hit))
    if resp.results:
        lines.append("")
    if resp.partial is not None:
        part = resp.partial
        lines.append(
            f"No study has all {part['of']} words; {part['total']:,} have {part['words']} of "
            "them. The closest:"
        )
        lines += [_hit_line(hit) + f" (lacks: {md(', '.join(hit['missing']))})" for hit in
                  part["results"]]  # fmt: skip
        lines.append("")
    for name, items in resp.facets.items():
        if not items:
            continue
        spec = FACETS_BY_NAME[name]
        shown = ", ".join(_facet_value(spec, item) for item in items[:FACET_VALUES_SHOWN])
        lines.append(f"- **{spec.label}:** {shown}")
    return "\n".join(lines).rstrip() + "\n"


def _facet_value(spec: Any, item: dict[str, Any]) -> str:
    """'Completed (9)'; a selected value in bold."""
    label = md(spec.display(item["value"]))
    return (f"**{label}**" if item["selected"] else label) + f" ({item['count']:,})"


def reading_line(patient: dict[str, Any], escape: Any = str) -> str:
    """What patient mode read, in a line (Markdown here, plain text in the terminal),
    so a wrong reading can be seen and corrected."""
    age = f"age {patient['age']:g}" if patient["age"] is not None else "age not read"
    sex = (patient["sex"] or "sex not read").lower()
    concepts = ", ".join(c["text"] for c in patient["concepts"]) or "none"
    line = f"Read as a patient: {age}, {sex}; concepts: {escape(concepts)}"
    if patient["negated"]:
        line += f"; not counted (denied): {escape('; '.join(patient['negated']))}"
    return line + ". Studies excluding this age or sex come last."


def near_line(near: dict[str, Any], escape: Any = str) -> str:
    """How near= was read, in a line, so a wrong place can be seen at once."""
    if near["precision"] == "coordinates":
        where = f"{near['lat']:.4f}, {near['lon']:.4f}"
    else:
        where = ", ".join(p for p in (near["name"], near["region"], near["country"]) if p)
        if near["precision"] == "postal_code":
            where += f" (ZIP {near['query']})"
    return f"Near {escape(where)}, within {near['radius_mi']:g} mi ({near['radius_km']:g} km)."


def site_line(hit: dict[str, Any], escape: Any = str) -> str | None:
    """'2.3 mi: Facility, City, State (Recruiting); 4 sites in range' for a hit near a place."""
    site = hit.get("nearest_site")
    if not site:
        return None
    named = ", ".join(p for p in (site["facility"], site["city"], site["state"]) if p)
    status = f" ({FACETS_BY_NAME['status'].display(site['status'])})" if site["status"] else ""
    line = f"{site['distance_mi']:g} mi: {escape(named)}{status}"
    if (hit.get("sites_in_radius") or 0) > 1:
        line += f"; {hit['sites_in_radius']} sites in range"
    return line


def _hit_line(hit: dict[str, Any]) -> str:
    title = md(hit.get("title") or hit["nct_id"])
    url = hit.get("canonical_url") or hit.get("clinicaltrials_gov")
    head = f"[{title}]({url})" if url else title
    facts = [hit["nct_id"]]
    if hit.get("overall_status"):
        facts.append(FACETS_BY_NAME["status"].display(hit["overall_status"]))
    if hit.get("phases"):
        facts.append("/".join(FACETS_BY_NAME["phase"].display(p) for p in hit["phases"]))
    if hit.get("sponsor"):
        facts.append(md(hit["sponsor"]))
    why = hit.get("why")
    if why is not None:
        if False in (why["age_ok"], why["sex_ok"]):
            facts.append("**excludes this patient**")
        if why["concepts"]:
            facts.append("matches: " + md(", ".join(why["concepts"])))
    site = site_line(hit, md)
    if site:
        facts.append(site)
    line = f"- {head} — {' · '.join(facts)}"
    snippet = plain_snippet(hit.get("snippet"))
    return line + (f"\n  {md(snippet)}" if snippet else "")


def study_markdown(data: dict[str, Any]) -> str:
    """One study (the API's record) as a mirror page."""
    record = StudyRecord.from_dict(data)
    elig = record.eligibility
    healthy = {True: "Yes", False: "No"}.get(elig.healthy_volunteers)  # type: ignore[arg-type]
    return render_page(
        PageContent(
            nct_id=record.nct_id,
            title=record.title,
            status=record.overall_status,
            phases=record.phases,
            study_type=record.study_type,
            sponsor=record.sponsor,
            conditions=record.conditions,
            countries=record.countries,
            canonical_url=record.canonical_url,
            ctgov_url=record.clinicaltrials_gov,
            last_update=record.last_update,
            last_seen_at=record.last_seen_at,
            official_title=record.official_title,
            enrollment=record.enrollment,
            start_date=record.start_date,
            completion_date=record.completion_date,
            summary=md(record.brief_summary) if record.brief_summary else None,
            description=[md(record.detailed_description)] if record.detailed_description else [],
            min_age=elig.min_age,
            max_age=elig.max_age,
            sex=elig.sex,
            healthy_volunteers=healthy,
            criteria=elig.criteria.splitlines() if elig.criteria else [],
            arms=[(a.label, a.type or "", md(a.description or "")) for a in record.arms],
            interventions=[
                (i.name, i.type or "", md(i.description or "")) for i in record.interventions
            ],
            outcomes=[
                (o.measure, o.time_frame or "", md(o.description or ""))
                for o in record.primary_outcomes
            ],
            sites=[(md(loc.text), loc.status or "") for loc in record.locations],
            more_sites=record.locations_more,
            footer=False,
        )
    )
