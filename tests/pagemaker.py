"""Write small mirror pages for tests, through the project's one page renderer, index
them, and ask the index as the tests of ranking do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.pages.render import PageContent, render_page
from indexer.search.request import parse_params


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
    sites: tuple[tuple[str, str], ...] = (),
    more_sites: int = 0,
) -> str:
    return render_page(
        PageContent(
            nct_id=nct,
            title=title,
            status=status,
            phases=phases,
            study_type=study_type,
            sponsor=sponsor,
            conditions=conditions,
            countries=countries,
            canonical_url=f"https://mirror.example/{nct}.md",
            ctgov_url=f"https://clinicaltrials.gov/study/{nct}",
            last_update=last_update,
            last_seen_at="2026-05-12T06:30:26.088Z",
            enrollment=enrollment,
            start_date=start,
            summary=summary,
            min_age=min_age,
            max_age=max_age,
            sex=sex,
            healthy_volunteers=healthy,
            interventions=[(name, kind, "given daily.") for name, kind in interventions],
            sites=sites,
            more_sites=more_sites,
        )
    )


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


def build_studies(folder: Path, index_dir: Path, studies: dict[str, tuple[str, dict]]) -> Path:
    """Index studies given as NCT ID -> (title, make_page options): a real index on disk."""
    from indexer.index.build import full_build

    pages = {
        nct: make_page(nct, title, **{"summary": "A study.", **extra})
        for nct, (title, extra) in studies.items()
    }
    full_build(write_pages(folder, pages), index_dir, procs=1)
    return index_dir


def search(index: Any, q: str, **params: str) -> Any:
    """`index.search` for the text `q` and single-valued parameters."""
    return index.search(parse_params({"q": [q], **{k: [v] for k, v in params.items()}}))


def ids(resp: Any) -> list[str]:
    """The NCT IDs of a response's hits, in order."""
    return [hit["nct_id"] for hit in resp.results]
