"""`trialsearch mcp`: the MCP server for AI agents, over stdio or Streamable HTTP.

The server itself is webapp/mcp_server.py (a surface, like the web app); this command
only starts it in this process's place, as `serve` starts gunicorn, so the indexer
never imports the web layer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .common import index_option


@click.command()
@index_option
@click.option("--http", "over_http", is_flag=True, help="Serve Streamable HTTP at /mcp.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --http.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8001, show_default=True, help="With --http."
)
def mcp(index_dir: Path, over_http: bool, host: str, port: int) -> None:
    """Serve the search as MCP tools: search_trials, count_trials, list_facet_values,
    get_trial, explain_query.

    Over stdio by default (what a desktop agent launches); --http serves Streamable
    HTTP at http://HOST:PORT/mcp, accepting only loopback Host headers unless
    TRIALSEARCH_MCP_ALLOWED_HOSTS names others. It reads the same index generations
    as the web workers and follows a new one the same way.
    """
    args = [sys.executable, "-m", "webapp.mcp_server", "--index", str(Path(index_dir).resolve())]
    if over_http:
        args += ["--http", "--host", host, "--port", str(port)]
    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    )
    os.execve(sys.executable, args, env)
