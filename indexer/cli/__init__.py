"""`trialsearch`: the command group, and the one place errors become exit codes.

Each command group is its own module (index: reindex and stats; search: search, suggest
and export; serve: serve and sample; sync; mcp; replica: publish and pull), a thin
wrapper over the indexer's APIs.
A command raises the indexer's errors as they are; `Trialsearch.invoke` reports any
`TrialsearchError` on stderr and exits with its `exit_code`, so the codes listed
in each --help come from one table (`indexer/errors.py`).
"""

from __future__ import annotations

import logging
from typing import Any

import click

from ..errors import TrialsearchError
from .common import fail
from .index import reindex, stats
from .mcp import mcp
from .replica import publish, pull_command
from .search import export, search, suggest
from .serve import sample, serve
from .sync import sync


class Trialsearch(click.Group):
    """The group: runs a command and maps the errors it raises to exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrialsearchError as exc:  # settings read while parsing options, too
            fail(exc.operator_message(), exc.exit_code)


@click.group(cls=Trialsearch, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, step by step.")
def main(verbose: bool) -> None:
    """Faceted full-text search over a mirror of ClinicalTrials.gov study pages."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for _command in (
    reindex,
    stats,
    search,
    suggest,
    export,
    sample,
    serve,
    sync,
    mcp,
    publish,
    pull_command,
):
    main.add_command(_command)
