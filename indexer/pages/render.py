"""Writing a mirror page: structured study content in, page text out.

The one writer of the page format (`../shared/FORMAT.md`): the built-in sample
corpus and the tests' page maker both render through `render_page`, so the pages
they make are the pages the parser is tested against. A field left empty leaves
its line (or section) out, as real pages do. Inline values (titles, names, list
items) are Markdown-escaped here; prose fields are Markdown as given. It must not
read pages (that is parse.py) nor make content up (that is sample.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

_MD_SPECIAL = re.compile(r"([\\`*_\[\]])")
_PLAIN_YAML = re.compile(r"^[A-Za-z0-9(][^:#\"'\n]*$")
_YAML_NUMBER = re.compile(r"^[0-9.+-]+$")
FOOTER_NOTE = (
    "*This page is a raw mirror with no AI summary, no editorial enrichment, and no "
    "Parkinson's-specific filtering.*"
)


def md(text: str) -> str:
    """Text shown literally inside Markdown (`*`, `_`, `` ` ``, brackets escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def yaml_scalar(text: str) -> str:
    """A YAML string: bare when YAML reads it back unchanged, JSON-quoted otherwise."""
    plain = _PLAIN_YAML.match(text) and not _YAML_NUMBER.match(text)
    return text if plain else json.dumps(text, ensure_ascii=False)


@dataclass
class PageContent:
    """What one page says. Tuples: arms (label, type, description), interventions
    (name, type, description), outcomes (measure, time frame, description), sites
    (facility-city-state-country text, site status)."""

    nct_id: str
    title: str
    status: str | None = None
    phases: Sequence[str] = ()
    study_type: str | None = None
    sponsor: str | None = None
    conditions: Sequence[str] = ()
    countries: Sequence[str] = ()
    canonical_url: str | None = None
    ctgov_url: str | None = None
    last_update: str | None = None
    last_seen_at: str | None = None
    source: str | None = None
    official_title: str | None = None
    enrollment: int | None = None
    start_date: str | None = None
    completion_date: str | None = None
    summary: str | None = None
    description: Sequence[str] = ()
    min_age: str | None = None
    max_age: str | None = None
    sex: str | None = None
    healthy_volunteers: str | None = None
    criteria: Sequence[str] = ()
    arms: Sequence[tuple[str, str, str]] = ()
    interventions: Sequence[tuple[str, str, str]] = ()
    outcomes: Sequence[tuple[str, str, str]] = ()
    sites: Sequence[tuple[str, str]] = ()
    more_sites: int = 0
    field_changes: Sequence[str] = ()
    footer: bool = True


def render_page(page: PageContent) -> str:
    """The page's text: frontmatter, then the body sections in the format's order."""
    return "\n".join([*_frontmatter(page), *_body(page)])


def _frontmatter(page: PageContent) -> list[str]:
    lines = ["---", f"title: {yaml_scalar(page.title)}", f"nct_id: {page.nct_id}"]
    if page.status:
        lines.append(f"overall_status: {page.status}")
    if page.phases:
        lines.append(f"phase: {yaml_scalar(', '.join(page.phases))}")
    if page.sponsor:
        lines.append(f"sponsor: {yaml_scalar(page.sponsor)}")
    if page.study_type:
        lines.append(f"study_type: {page.study_type}")
    if page.conditions:
        lines.append(f"primary_condition: {yaml_scalar(page.conditions[0])}")
    if len(page.countries) == 1:
        lines.append(f"countries: {yaml_scalar(page.countries[0])}")
    elif page.countries:
        lines.append("countries:")
        lines += [f"  - {yaml_scalar(c)}" for c in page.countries]
    if page.canonical_url:
        lines.append(f'canonical_url: "{page.canonical_url}"')
    if page.ctgov_url:
        lines.append(f'clinicaltrials_gov: "{page.ctgov_url}"')
    if page.last_update:
        lines.append(f"ct_last_update_post_date: {page.last_update}")
    if page.last_seen_at:
        lines.append(f'last_seen_at: "{page.last_seen_at}"')
    if page.source:
        lines.append(f"source: {page.source}")
    return [*lines, "---"]


def _body(page: PageContent) -> list[str]:
    lines = [f"# {md(page.title)}", ""]
    if page.official_title:
        lines += [f"**Official Title:** {md(page.official_title)}", ""]
    if page.ctgov_url:
        lines += [f"**NCT ID:** [{page.nct_id}]({page.ctgov_url})", ""]
    lines += ["## Key Facts", "", *_key_facts(page), ""]
    if page.summary:
        lines += ["## Brief Summary", "", page.summary, ""]
    if page.description:
        lines += ["## Detailed Description", "", "\n\n".join(page.description), ""]
    lines += _eligibility(page)
    if page.arms:
        lines += ["## Arms", ""]
        lines += [_item(label, kind, text) for label, kind, text in page.arms]
        lines.append("")
    if page.interventions:
        lines += ["## Interventions", ""]
        lines += [_item(name, kind, text) for name, kind, text in page.interventions]
        lines.append("")
    if page.outcomes:
        lines += ["## Primary Outcomes", ""]
        lines += [
            f"- **{md(measure)}**"
            + (f" _(time frame: {frame})_" if frame else "")
            + (f" — {text}" if text else "")
            for measure, frame, text in page.outcomes
        ]
        lines.append("")
    if page.sites or page.more_sites:
        lines += [f"## Locations ({len(page.sites) + page.more_sites})", ""]
        lines += [f"- {site}" + (f" — _{status}_" if status else "") for site, status in page.sites]
        if page.more_sites:
            lines.append(f"- … and {page.more_sites} more locations")
        lines.append("")
    if page.field_changes:
        lines += ["## Recent Field Changes (last 30 days)", ""]
        lines += [f"- {change}" for change in page.field_changes]
        lines.append("")
    if page.footer:
        lines += ["---", ""]
        if page.canonical_url:
            lines.append(f"*Canonical: {page.canonical_url}*  ")
        if page.ctgov_url:
            lines.append(f"*Source data (authoritative): {page.ctgov_url}*  ")
        lines += [FOOTER_NOTE, ""]
    return lines


def _item(name: str, kind: str, text: str) -> str:
    """'- **Name** (TYPE) — description', each part only when given."""
    return f"- **{md(name)}**" + (f" ({kind})" if kind else "") + (f" — {text}" if text else "")


def _key_facts(page: PageContent) -> list[str]:
    facts = [
        ("Status", page.status),
        ("Phase", ", ".join(page.phases)),
        ("Study Type", page.study_type),
        ("Target Enrollment", None if page.enrollment is None else str(page.enrollment)),
        ("Lead Sponsor", page.sponsor and md(page.sponsor)),
        ("Conditions", md(", ".join(page.conditions))),
        ("Start Date", page.start_date),
        ("Completion Date", page.completion_date),
        ("CT.gov Last Update", page.last_update),
    ]
    return [f"- **{name}:** {value}" for name, value in facts if value]


def _eligibility(page: PageContent) -> list[str]:
    facts = [
        ("Minimum age", page.min_age),
        ("Maximum age", page.max_age),
        ("Sex", page.sex),
        ("Healthy Volunteers", page.healthy_volunteers),
    ]
    lines = [f"- **{name}:** {value}" for name, value in facts if value]
    if not lines and not page.criteria:
        return []
    lines = ["## Eligibility", "", *lines, ""]
    if page.criteria:
        lines += ["```", *page.criteria, "```", ""]
    return lines
