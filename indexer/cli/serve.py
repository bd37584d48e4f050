"""`trialsearch serve` and `trialsearch sample`: running the service, and its sample corpus."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..index.build import ensure_index
from ..pages.sample import write_sample
from .common import index_option, pages_option


@click.command()
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


@click.command()
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
    """Serve the web page and JSON API with gunicorn (config: webapp/gunicorn_conf.py).

    Exit codes (when the first index cannot be built): 2 pages folder missing,
    unreadable or empty; 3 the removal guard refused; 4 another reindex is running.
    """
    if build_missing:
        ensure_index(index_dir, pages_dir, say=lambda line: click.echo(line, err=True))
    env = dict(os.environ, TRIALSEARCH_INDEX_DIR=str(Path(index_dir).resolve()))
    args = ["gunicorn", "-c", "python:webapp.gunicorn_conf", "--bind", f"{host}:{port}"]
    if workers:
        args += ["--workers", str(workers)]
    args.append("webapp:create_app()")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    os.execve(str(gunicorn), args, env)
