"""`trialsearch reindex` and `trialsearch stats`: building the index and reading its size."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..errors import EXIT_INDEX, EXIT_SKIPPED
from ..index.build import reindex as run_reindex
from ..index.last_run import read_status
from ..index.report import MAX_REMOVE_SHARE
from ..search.query import FACETS, SearchIndex
from .common import (
    Progress,
    echo_json,
    fail,
    from_setting,
    index_option,
    json_option,
    pages_option,
)


@click.command()
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
    **from_setting("max_page_bytes"),
    envvar="TRIALSEARCH_MAX_PAGE_BYTES",
    help="Pages larger than this are skipped.",
)
@click.option(
    "--max-remove",
    type=click.FloatRange(0, 1),
    default=MAX_REMOVE_SHARE,
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
    bar = Progress("Indexing", enabled=not as_json, eta=True)
    with bar.shown():
        try:
            report = run_reindex(
                pages_dir,
                index_dir,
                full=full,
                max_page_bytes=max_page_bytes,
                procs=procs,
                max_remove=max_remove,
                allow_removals=allow_removals,
                on_start=bar.start,
                progress=bar.advance,
            )
        except OSError as exc:
            fail(f"could not write the index: {exc}; the live index is unchanged", EXIT_INDEX)
    if as_json:
        echo_json(report.to_dict(), line=True)
    else:
        click.echo(
            f"{report.mode.capitalize()} reindex: {report.added} added, {report.updated} "
            f"updated, {report.removed} removed, {report.unchanged} unchanged, "
            f"{len(report.skipped)} skipped in {report.seconds:.1f}s "
            f"({report.docs_per_second} docs/s)."
        )
        click.echo(f"Generation {report.generation} is live with {report.documents} studies.")
        if report.sites:
            click.echo(sites_line(report.sites))
        if report.duplicates:
            click.echo(f"{len(report.duplicates)} duplicate NCT IDs (first file kept):")
            for dup in report.duplicates:
                click.echo(f"  {dup['file']}: {dup['nct_id']} already in {dup['kept']}")
        if report.skipped:
            click.echo(f"Skipped {len(report.skipped)} pages:")
            for item in report.skipped:
                click.echo(f"  {item['file']}: {item['reason']}")
        if report.kept_previous:
            click.echo(
                f"{len(report.kept_previous)} of them still serve their study's last good "
                "version (fix the page to update it):"
            )
            for item in report.kept_previous:
                click.echo(f"  {item['file']}: {item['nct_id']}")
    if strict and report.skipped:
        sys.exit(EXIT_SKIPPED)


@click.command()
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
    """Documents in the live index, and the count of every facet value.

    Exit codes: 0 done; 5 no index could be read.
    """
    data = SearchIndex(index_dir).stats()
    data["reindex"] = read_status(index_dir)
    if as_json:
        echo_json(data)
        return
    info = data["index"]
    click.echo(
        f"{data['documents']} documents, generation {info['generation']}, built {info['built_at']}"
    )
    last = data["reindex"].get("last")
    if last:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(last["finished_at"]))
        runs = ", ".join(f"{n} {outcome}" for outcome, n in data["reindex"]["runs"].items())
        said = f": {last['error']}" if last.get("error") else ""
        click.echo(f"last reindex {when}: {last['outcome']}{said} (runs: {runs})")
    if data["sites"]:
        click.echo(sites_line(data["sites"]))
    for spec in FACETS:
        values = data["facets"][spec.name]
        click.echo(f"\n{spec.label} ({len(values)} values)")
        for value, count in list(values.items())[:top]:
            click.echo(f"  {count:>8}  {value}")


def sites_line(sites: dict[str, int]) -> str:
    """'169,349 sites listed; 137,040 name a city, 134,753 placed (98.3%), 2,287 unplaced'."""
    named, placed = sites["named"], sites["placed"]
    share = f" ({100 * placed / named:.1f}%)" if named else ""
    return (
        f"{sites['sites']:,} sites listed; {named:,} name a city, {placed:,} placed on the map"
        f"{share}, {named - placed:,} unplaced (near= cannot find those)"
    )
