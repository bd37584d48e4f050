"""What every `trialsearch` command shares: the common options, one error-to-exit
mapping, and progress bars. Commands live in their own modules and import from here.

Nothing here reads the environment at import time: option defaults are read when a
command runs, so a bad setting is reported as a usage error, not an import crash.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from ..settings import SETTINGS_BY_NAME, read_setting


def from_setting(name: str) -> dict[str, Any]:
    """An option's default and shown default, from the settings table: read when the
    command runs, shown in --help as the README's table shows it."""
    default: Callable[[], Any] = lambda: read_setting(name)  # noqa: E731
    return {"default": default, "show_default": SETTINGS_BY_NAME[name].shown_default.strip("`")}


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
    **from_setting("index_dir"),
    help="Index folder (generations and the live pointer).",
)
filter_option = click.option(
    "--filter",
    "-f",
    "filters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any API parameter as NAME=VALUE, e.g. -f status=RECRUITING (repeatable).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"trialsearch: {message}", err=True)
    sys.exit(code)


def echo_json(data: Any, line: bool = False) -> None:
    """JSON on standard output; `line`: one line, so a cron job's reports append to a
    JSON Lines log (`reindex --json >> reindex.jsonl`)."""
    click.echo(json.dumps(data, indent=None if line else 2, ensure_ascii=False))


class Progress:
    """A progress bar on stderr when a person watches, silent otherwise (pipes, --json)."""

    def __init__(self, label: str, enabled: bool, eta: bool = False) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.eta = eta
        self._bar: Any = None

    def start(self, total: int) -> None:
        if self.enabled:
            self._bar = click.progressbar(
                length=total, label=self.label, file=sys.stderr, show_pos=True, show_eta=self.eta
            )
            self._bar.__enter__()

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    @contextmanager
    def shown(self) -> Iterator[Progress]:
        try:
            yield self
        finally:
            if self._bar is not None:
                self._bar.__exit__(None, None, None)
