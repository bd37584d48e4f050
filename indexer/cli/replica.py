"""`trialsearch publish` and `trialsearch pull`: one builder, any number of replicas."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click

from ..errors import EXIT_PULL, ReplicationError
from ..index.replication import publish_live, pull
from .common import echo_json, fail, index_option, json_option

log = logging.getLogger(__name__)


@click.command()
@index_option
@json_option
def publish(index_dir: Path, as_json: bool) -> None:
    """List the live generation's files (size, SHA-256) for replicas to pull.

    Every reindex does this itself when it publishes; run it once for a generation
    built before replication existed. Replicas pull from this server's app when
    TRIALSEARCH_REPLICATION_TOKEN is set there.

    Exit codes: 0 done; 8 no live generation.
    """
    listing = publish_live(index_dir)
    if as_json:
        echo_json(listing, line=True)
        return
    files = listing["files"]
    size = sum(item["size"] for item in files.values())
    click.echo(
        f"Generation {listing['generation']} ({listing['documents']} documents): "
        f"{len(files)} files, {size / 1e6:.1f} MB listed for replicas."
    )


@click.command("pull")
@click.option("--from", "source", required=True, help="The builder's URL (its web app).")
@index_option
@click.option(
    "--token",
    envvar="TRIALSEARCH_REPLICATION_TOKEN",
    show_envvar=True,
    required=True,
    help="The shared secret the builder was started with.",
)
@click.option(
    "--every",
    type=click.FloatRange(1, 86400),
    default=None,
    help="Keep pulling, this many seconds apart (a failed pull is logged and retried).",
)
@click.option("--timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True)
@json_option
def pull_command(
    source: str, index_dir: Path, token: str, every: float | None, timeout: float, as_json: bool
) -> None:
    """Make the builder's live generation live here: only the files this replica
    lacks are downloaded (an incremental generation moves only its new segments),
    each checked against its size and SHA-256, the copy checked as the reindex checks
    (documents, canaries), then swapped live atomically. A failed or interrupted pull
    leaves this replica serving what it served; gunicorn workers follow the swap.

    Exit codes: 0 done (or up to date); 8 the pull failed (with --every: only on a
    bad option; failures are logged and retried).
    """
    while True:
        try:
            report = pull(source, index_dir, token, timeout=timeout)
        except ReplicationError as exc:
            if every is None:
                fail(exc.operator_message(), EXIT_PULL)
            click.echo(f"trialsearch: pull failed: {exc.operator_message()}", err=True)
        else:
            if as_json:
                echo_json(report.to_dict(), line=True)
            elif report.pulled:
                click.echo(
                    f"Pulled generation {report.generation}: {report.downloaded} files "
                    f"downloaded ({report.downloaded_bytes / 1e6:.1f} MB), {report.linked} "
                    f"already here, in {report.seconds:.1f}s."
                )
            elif every is None:
                click.echo(f"Up to date: generation {report.generation}.")
        if every is None:
            return
        time.sleep(every)
