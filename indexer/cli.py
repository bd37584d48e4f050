"""`trialsearch`: reindex, stats, search, sample and serve — thin wrappers over the indexer."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from .errors import (
    EXIT_GUARD,
    EXIT_INDEX,
    EXIT_LOCKED,
    EXIT_SKIPPED,
    EXIT_SYNC,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    SearchTimeout,
)
from .index.build import GuardError, PagesDirError, ensure_index
from .index.build import reindex as run_reindex
from .index.schema import FACETS
from .index.store import IndexUnavailable, ReindexLocked
from .pages.sample import write_sample
from .pages.sync import SyncError
from .pages.sync import sync as run_sync
from .search.budget import time_budget
from .search.query import SearchIndex
from .search.request import ParamError, parse_params
from .settings import load_settings, read_setting

_settings = load_settings()
pages_option = click.option(
    "--pages",
    "pages_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TRIALSEARCH_PAGES_DIR",
    show_envvar=True,
    help="Folder of mirror pages (*.md, searched recursively).",
)
index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TRIALSEARCH_INDEX_DIR",
    show_envvar=True,
    default=_settings.index_dir,
    show_default=True,
    help="Index folder (generations and the live pointer).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _fail(message: str, code: int) -> None:
    click.echo(f"trialsearch: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, step by step.")
def main(verbose: bool) -> None:
    """Faceted full-text search over a mirror of ClinicalTrials.gov study pages."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@pages_option
@index_option
@json_option
@click.option("--strict", is_flag=True, help="Exit 1 if any page was skipped.")
@click.option(
    "--procs",
    type=click.IntRange(1, 16),
    default=None,
    help="Writer processes (default: up to 2, the fastest measured here).",
)
@click.option(
    "--max-page-bytes",
    type=click.IntRange(1),
    default=_settings.max_page_bytes,
    show_default=True,
    envvar="TRIALSEARCH_MAX_PAGE_BYTES",
    help="Pages larger than this are skipped.",
)
@click.option(
    "--max-remove",
    type=click.FloatRange(0, 1),
    default=0.2,
    show_default=True,
    help="Refuse if the new index would drop more than this share of studies.",
)
@click.option("--allow-removals", is_flag=True, help="Drop studies whatever their share.")
@click.option(
    "--full", is_flag=True, help="Rebuild everything from scratch instead of only what changed."
)
def reindex(
    pages_dir: Path | None,
    index_dir: Path,
    as_json: bool,
    strict: bool,
    procs: int | None,
    max_page_bytes: int,
    max_remove: float,
    allow_removals: bool,
    full: bool,
) -> None:
    """Bring the index up to date with the pages folder, then make it live atomically.

    By default only new, changed and vanished pages are (re)indexed, found by a
    manifest of size, mtime and content hash kept with the index; --full rebuilds
    everything into a fresh generation. A bad page is skipped and reported with
    its reason; it never stops the run. The live index keeps serving until the new
    one is complete and checked.

    Exit codes: 0 done; 1 pages skipped with --strict; 2 pages folder missing,
    unreadable or empty (nothing touched); 3 refused because too many studies
    would be removed; 4 another reindex is running; 5 the index could not be written.
    """
    bar: Any = None
    interactive = sys.stderr.isatty() and not as_json

    def on_start(total: int) -> None:
        nonlocal bar
        if interactive:
            bar = click.progressbar(
                length=total, label="Indexing", file=sys.stderr, show_pos=True, show_eta=True
            )
            bar.__enter__()

    def progress(n: int) -> None:
        if bar is not None:
            bar.update(n)

    try:
        report = run_reindex(
            pages_dir,
            index_dir,
            full=full,
            max_page_bytes=max_page_bytes,
            procs=procs,
            max_remove=max_remove,
            allow_removals=allow_removals,
            on_start=on_start,
            progress=progress,
        )
    except PagesDirError as exc:
        _fail(str(exc), EXIT_USAGE)
    except GuardError as exc:
        _fail(str(exc), EXIT_GUARD)
    except ReindexLocked as exc:
        _fail(str(exc), EXIT_LOCKED)
    except OSError as exc:
        _fail(f"could not write the index: {exc}; the live index is unchanged", EXIT_INDEX)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)

    if as_json:
        data = report.to_dict()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(
            f"{report.mode.capitalize()} reindex: {report.added} added, {report.updated} "
            f"updated, {report.removed} removed, {report.unchanged} unchanged, "
            f"{len(report.skipped)} skipped in {report.seconds:.1f}s "
            f"({report.docs_per_second} docs/s)."
        )
        click.echo(f"Generation {report.generation} is live with {report.documents} studies.")
        if report.duplicates:
            click.echo(f"{len(report.duplicates)} duplicate NCT IDs (first file kept):")
            for dup in report.duplicates:
                click.echo(f"  {dup['file']}: {dup['nct_id']} already in {dup['kept']}")
        if report.skipped:
            click.echo(f"Skipped {len(report.skipped)} pages:")
            for item in report.skipped:
                click.echo(f"  {item['file']}: {item['reason']}")
    if strict and report.skipped:
        sys.exit(EXIT_SKIPPED)


@main.command()
@index_option
@json_option
@click.option(
    "--top",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="Values shown per facet in text output.",
)
def stats(index_dir: Path, as_json: bool, top: int) -> None:
    """Documents in the live index, and the count of every facet value."""
    try:
        data = SearchIndex(index_dir).stats()
    except IndexUnavailable as exc:
        _fail(str(exc), EXIT_INDEX)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    info = data["index"]
    click.echo(
        f"{data['documents']} documents, generation {info['generation']}, built {info['built_at']}"
    )
    for spec in FACETS:
        values = data["facets"][spec.name]
        click.echo(f"\n{spec.label} ({len(values)} values)")
        for value, count in list(values.items())[:top]:
            click.echo(f"  {count:>8}  {value}")


@main.command()
@click.argument("query", nargs=-1)
@index_option
@json_option
@click.option(
    "--filter",
    "-f",
    "filters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any API parameter, e.g. -f status=RECRUITING -f age=40 (repeatable).",
)
@click.option("--status", multiple=True, help="Overall status (repeatable: OR).")
@click.option("--phase", multiple=True, help="Phase, e.g. PHASE3 (repeatable: OR).")
@click.option("--country", multiple=True, help="Country (repeatable: OR).")
@click.option(
    "--sort",
    default=None,
    help="relevance, last_update, start_date, enrollment, nct_id; prefix - for descending.",
)
@click.option("--page", type=int, default=None)
@click.option("--per-page", type=int, default=None)
@click.option("--exact", is_flag=True, help="Search the words only as typed (no synonyms).")
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds the search may run before it is stopped (exit 7); 0: no budget.  "
    "[default: TRIALSEARCH_REQUEST_BUDGET, 10]",
)
def search(
    query: tuple[str, ...],
    index_dir: Path,
    as_json: bool,
    filters: tuple[str, ...],
    status: tuple[str, ...],
    phase: tuple[str, ...],
    country: tuple[str, ...],
    sort: str | None,
    page: int | None,
    per_page: int | None,
    exact: bool,
    budget: float | None,
) -> None:
    """Search the index from the terminal (the same query API as the web and JSON)."""
    params: dict[str, list[str]] = {}
    if query:
        params["q"] = [" ".join(query)]
    for name, values in (("status", status), ("phase", phase), ("country", country)):
        if values:
            params[name] = list(values)
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--filter takes NAME=VALUE, got {item!r}", EXIT_USAGE)
        params.setdefault(name, []).append(value)
    if exact:
        params["exact"] = ["true"]
    for name, value in (("sort", sort), ("page", page), ("per_page", per_page)):
        if value is not None:
            params[name] = [str(value)]
    try:
        req = parse_params(params)
        seconds = read_setting("request_budget") if budget is None else budget
        index = SearchIndex(index_dir)
        index.info()  # open the index first: the budget is the search's, as on the web
        with time_budget(seconds):
            resp = index.search(req)
    except ParamError as exc:
        _fail(
            f"{exc.message}" + (f" (allowed: {', '.join(exc.allowed)})" if exc.allowed else ""),
            EXIT_USAGE,
        )
    except IndexUnavailable as exc:
        _fail(str(exc), EXIT_INDEX)
    except SearchTimeout as exc:
        _fail(exc.public_message(), EXIT_TIMEOUT)
    if as_json:
        click.echo(json.dumps(resp.to_dict(), indent=2, ensure_ascii=False))
        return
    first = (resp.page - 1) * resp.per_page + 1
    noun = "study" if resp.total == 1 else "studies"
    click.echo(
        f"{resp.total} {noun}"
        + (
            f", showing {first}-{first + len(resp.results) - 1}"
            if resp.results and resp.total > len(resp.results)
            else ""
        )
    )
    for expansion in resp.expansions:
        click.echo(
            f"Also searched {expansion['text']!r} as: {', '.join(expansion['alternatives'])}"
            " (--exact to turn off)"
        )
    if resp.suggestion:
        click.echo(f"Did you mean: {resp.suggestion}")
    for hit in resp.results:
        phases = "/".join(hit["phases"]) or "-"
        click.echo(f"\n{hit['nct_id']}  {click.style(hit['title'], bold=True)}")
        click.echo(
            f"  {hit['overall_status']} · {phases} · {hit['sponsor'] or '-'} · "
            f"updated {hit['last_update'] or '-'}"
        )
        click.echo(f"  {hit['canonical_url'] or hit['clinicaltrials_gov'] or ''}")


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the pages into.",
)
@click.option("-n", "count", type=click.IntRange(1, 100000), default=300, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def sample(out_dir: Path, count: int, seed: int) -> None:
    """Write the built-in sample corpus (made-up studies in the mirror format)."""
    written = write_sample(out_dir, count, seed)
    click.echo(f"Wrote {written} sample pages to {out_dir}")


@main.command()
@index_option
@pages_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Gunicorn workers (default from gunicorn.conf.py).",
)
@click.option(
    "--ensure-index/--no-ensure-index",
    "build_missing",
    default=True,
    show_default=True,
    help="Build an index first if none exists (sample corpus without a mirror).",
)
def serve(
    index_dir: Path,
    pages_dir: Path | None,
    host: str,
    port: int,
    workers: int | None,
    build_missing: bool,
) -> None:
    """Serve the web page and JSON API with gunicorn (config: webapp/gunicorn_conf.py)."""
    if build_missing:
        try:
            ensure_index(index_dir, pages_dir, say=lambda line: click.echo(line, err=True))
        except (PagesDirError, GuardError, ReindexLocked) as exc:
            _fail(str(exc), EXIT_USAGE)
    env = dict(os.environ, TRIALSEARCH_INDEX_DIR=str(Path(index_dir).resolve()))
    args = ["gunicorn", "-c", "python:webapp.gunicorn_conf", "--bind", f"{host}:{port}"]
    if workers:
        args += ["--workers", str(workers)]
    args.append("webapp:create_app()")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    os.execve(str(gunicorn), args, env)


@main.command()
@click.option("--from", "base_url", required=True, help="Base URL of the mirror.")
@click.option(
    "--pages",
    "pages_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    envvar="TRIALSEARCH_PAGES_DIR",
    show_envvar=True,
    help="Local pages folder to update.",
)
@click.option(
    "--list",
    "list_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file of page URLs or NCT IDs, one a line (default: the mirror's sitemap.xml).",
)
@click.option("--delete", is_flag=True, help="Remove local pages that are gone upstream (404/410).")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Parallel downloads.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.1, 1000),
    default=10.0,
    show_default=True,
    help="Most requests started per second (be polite).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for a response.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=3,
    show_default=True,
    help="Retries for connection errors, 429 and 5xx (with backoff).",
)
@click.option("--strict", is_flag=True, help="Exit 1 if any page failed.")
@json_option
def sync(
    base_url: str,
    pages_dir: Path,
    list_file: Path | None,
    delete: bool,
    workers: int,
    rate: float,
    timeout: float,
    retries: int,
    strict: bool,
    as_json: bool,
) -> None:
    """Fetch the mirror's pages over HTTP into the pages folder.

    Conditional GETs skip pages that did not change. A page is written only after
    it parses as a mirror page for the NCT ID its URL names; a 5xx, a timeout, a
    truncated body or an HTML error page never replaces a good local page, nor does a
    page over TRIALSEARCH_MAX_PAGE_BYTES once decompressed. Only URLs of the form
    <--from>/<NCT ID>.md are fetched (no query strings, no other host, port or
    path), and redirects are followed only within --from. Then: `trialsearch reindex`.

    Exit codes: 0 done (failures are listed); 1 pages failed with --strict;
    6 the page list (sitemap or --list) could not be had, nothing changed.
    """
    bar: Any = None
    interactive = sys.stderr.isatty() and not as_json

    def on_start(total: int) -> None:
        nonlocal bar
        if interactive:
            bar = click.progressbar(length=total, label="Syncing", file=sys.stderr, show_pos=True)
            bar.__enter__()

    def progress(n: int) -> None:
        if bar is not None:
            bar.update(n)

    try:
        report = run_sync(
            base_url,
            pages_dir,
            list_file=list_file,
            delete=delete,
            workers=workers,
            rate=rate,
            timeout=timeout,
            retries=retries,
            max_page_bytes=read_setting("max_page_bytes"),
            on_start=on_start,
            progress=progress,
        )
    except SyncError as exc:
        _fail(str(exc), EXIT_SYNC)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(
            f"Sync: {len(report.fetched)} fetched, {report.unchanged} unchanged, "
            f"{len(report.gone)} gone upstream ({len(report.deleted)} deleted), "
            f"{len(report.failed)} failed in {report.seconds:.1f}s."
        )
        for item in report.failed:
            click.echo(f"  failed {item['nct_id']}: {item['reason']}")
        if report.gone and not delete:
            click.echo("  pages gone upstream were kept; pass --delete to remove them")
    if strict and report.failed:
        sys.exit(EXIT_SKIPPED)
