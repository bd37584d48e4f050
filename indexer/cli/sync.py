"""`trialsearch sync`: fetching the mirror's pages over HTTP into the pages folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_SKIPPED
from ..pages.fetch import MAX_RETRY_AFTER
from ..pages.sync import DEFAULT_DEADLINE
from ..pages.sync import sync as run_sync
from ..settings import read_setting
from .common import Progress, echo_json, json_option


@click.command()
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
@click.option(
    "--deadline",
    type=click.FloatRange(0.1, 3600),
    default=DEFAULT_DEADLINE,
    show_default=True,
    help="Seconds one page may take in all (redirects, retries and waits included; "
    "a sitemap: ten times this). Past it, or when the mirror asks to retry after more "
    f"than {MAX_RETRY_AFTER:g} s, the page fails for this run.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Ask for every page (conditionally), even those the sitemap dates no later "
    "than the last sync that fetched them.",
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
    deadline: float,
    full: bool,
    strict: bool,
    as_json: bool,
) -> None:
    """Fetch the mirror's pages over HTTP into the pages folder.

    Pages the sitemap dates (<lastmod>) no later than the last sync that fetched
    them are not asked for (a sitemap index's sitemaps likewise); the others are
    asked with conditional GETs. Sitemaps are read without DTDs or entities, at
    most 50 MB unpacked (gzip too). A page is written only after
    it parses as a mirror page for the NCT ID its URL names; a 5xx, a timeout, a
    truncated body or an HTML error page never replaces a good local page, nor does a
    page over TRIALSEARCH_MAX_PAGE_BYTES once decompressed. Only URLs of the form
    <--from>/<NCT ID>.md are fetched (no query strings, no other host, port or
    path), and redirects are followed only within --from. Then: `trialsearch reindex`.

    Exit codes: 0 done (failures are listed); 1 pages failed with --strict;
    6 the page list (sitemap or --list) could not be had, nothing changed.
    """
    bar = Progress("Syncing", enabled=not as_json)
    with bar.shown():
        report = run_sync(
            base_url,
            pages_dir,
            list_file=list_file,
            delete=delete,
            full=full,
            workers=workers,
            rate=rate,
            timeout=timeout,
            retries=retries,
            deadline=deadline,
            max_page_bytes=read_setting("max_page_bytes"),
            on_start=bar.start,
            progress=bar.advance,
        )
    if as_json:
        echo_json(report.to_dict(), line=True)
    else:
        click.echo(
            f"Sync: {len(report.fetched)} fetched, {report.unchanged} unchanged, "
            f"{report.not_modified_since} not modified since the last sync, "
            f"{len(report.gone)} gone upstream ({len(report.deleted)} deleted), "
            f"{len(report.failed)} failed in {report.seconds:.1f}s."
        )
        for item in report.failed:
            click.echo(f"  failed {item['nct_id']}: {item['reason']}")
        if report.refused:
            click.echo(f"  {len(report.refused)} entries of the page list were not fetched:")
            for item in report.refused:
                click.echo(f"  refused {item['url']}: {item['reason']}")
        if report.gone and not delete:
            click.echo("  pages gone upstream were kept; pass --delete to remove them")
    if strict and report.failed:
        sys.exit(EXIT_SKIPPED)
