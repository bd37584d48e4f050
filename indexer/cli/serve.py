"""`trialsearch serve` and `trialsearch sample`: running the service, and its sample corpus."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..index.build import ensure_index
from ..pages.sample import write_sample
from ..settings import read_setting
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
@click.option(
    "--host", default=None, help="Address to listen on [default: TRIALSEARCH_BIND's, 127.0.0.1]."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on [default: TRIALSEARCH_BIND's, 8000].",
)
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
    host: str | None,
    port: int | None,
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
    gunicorn = Path(sys.executable).with_name("gunicorn")
    os.execve(str(gunicorn), gunicorn_args(host, port, workers, read_setting("bind")), env)


def gunicorn_args(host: str | None, port: int | None, workers: int | None, bind: str) -> list[str]:
    """gunicorn's command line: --host/--port where given, else TRIALSEARCH_BIND's (`bind`,
    which gunicorn_conf.py applies itself when neither is given)."""
    args = ["gunicorn", "-c", "python:webapp.gunicorn_conf"]
    if host is not None or port is not None:
        default_host, _, default_port = (
            ("", "", "") if bind.startswith(("unix:", "fd://")) else bind.rpartition(":")
        )
        chosen_host = host if host is not None else default_host or "127.0.0.1"
        chosen_port = port if port is not None else default_port or "8000"
        if ":" in chosen_host and not chosen_host.startswith("["):
            chosen_host = f"[{chosen_host}]"  # an IPv6 address, as gunicorn reads it
        args += ["--bind", f"{chosen_host}:{chosen_port}"]
    if workers:
        args += ["--workers", str(workers)]
    args.append("webapp:create_app()")
    return args
