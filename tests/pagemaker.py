"""Write small mirror pages for tests, in the exact format of shared/FORMAT.md."""

from __future__ import annotations

import json
from pathlib import Path


def make_page(
    nct: str,
    title: str,
    *,
    status: str = "RECRUITING",
    phases: tuple[str, ...] = ("PHASE2",),
    study_type: str = "INTERVENTIONAL",
    sponsor: str = "Acme Pharma",
    conditions: tuple[str, ...] = ("Asthma",),
    countries: tuple[str, ...] = ("France",),
    enrollment: int | None = 100,
    start: str | None = "2020-01-15",
    last_update: str = "2024-01-01",
    min_age: str | None = "18 Years",
    max_age: str | None = "65 Years",
    sex: str = "ALL",
    healthy: str = "No",
    summary: str = "A study.",
    interventions: tuple[tuple[str, str], ...] = (("Drug X", "DRUG"),),
) -> str:
    fm = ["---", f"title: {json.dumps(title)}", f"nct_id: {nct}", f"overall_status: {status}"]
    if phases:
        fm.append(f'phase: "{", ".join(phases)}"')
    fm += [
        f"sponsor: {json.dumps(sponsor)}",
        f"study_type: {study_type}",
        f"primary_condition: {json.dumps(conditions[0])}",
        "countries:",
    ]
    fm += [f"  - {json.dumps(c)}" for c in countries]
    fm += [
        f'canonical_url: "https://mirror.example/{nct}.md"',
        f'clinicaltrials_gov: "https://clinicaltrials.gov/study/{nct}"',
        f"ct_last_update_post_date: {last_update}",
        'last_seen_at: "2026-05-12T06:30:26.088Z"',
        "---",
    ]
    body = [f"# {title}", "", "## Key Facts", "", f"- **Status:** {status}"]
    if enrollment is not None:
        body.append(f"- **Target Enrollment:** {enrollment}")
    body.append(f"- **Conditions:** {', '.join(conditions)}")
    if start:
        body.append(f"- **Start Date:** {start}")
    body += ["", "## Brief Summary", "", summary, "", "## Eligibility", ""]
    if min_age:
        body.append(f"- **Minimum age:** {min_age}")
    if max_age:
        body.append(f"- **Maximum age:** {max_age}")
    body += [
        f"- **Sex:** {sex}",
        f"- **Healthy Volunteers:** {healthy}",
        "",
        "## Interventions",
        "",
    ]
    body += [f"- **{name}** ({kind}) — given daily." for name, kind in interventions]
    return "\n".join(fm + body) + "\n"


def write_pages(folder: Path, pages: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for nct, text in pages.items():
        (folder / f"{nct}.md").write_text(text, encoding="utf-8")
    return folder


def pages_for(n: int, start: int = 1, word: str = "asthma") -> dict[str, str]:
    """n simple studies NCT<start>… whose titles all carry `word`."""
    return {
        f"NCT{i:08d}": make_page(f"NCT{i:08d}", f"Study {i} of {word}", enrollment=i)
        for i in range(start, start + n)
    }
