"""`trialsearch search`: the query API from a terminal, with an option per parameter.

The options are generated from the one table of search parameters
(`indexer/search/params.py`): every parameter the JSON API takes is an option here
(`q` is the positional QUERY), with the same names, values and errors, because the
values go to the same `parse_params` as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_USAGE
from ..search.query import (
    EXPORT_FORMATS,
    PARAMS,
    Param,
    SearchIndex,
    SearchResponse,
    exported_lines,
    listed_note,
    near_line,
    parse_params,
    parse_suggest,
    reading_line,
    search_markdown,
    site_line,
    time_budget,
)
from ..settings import read_setting
from .common import echo_json, fail, filter_option, index_option, json_option

_OPTIONAL_PARAMS = tuple(param for param in PARAMS if param.name != "q")


_METAVARS = {
    "facet": "VALUE",
    "date": "DATE",
    "moment": "TIME",
    "integer": "N",
    "decimal": "NUMBER",
    "sort": "FIELD",
}


def _help(param: Param) -> str:
    text = param.description
    if param.kind == "facet" and param.values:
        text += f" One of: {', '.join(param.values)}."
    return text + f"  [e.g. {param.example}]"


def _option(param: Param) -> Callable[[Any], Any]:
    if param.kind == "boolean":
        return click.option(
            param.cli_option, param.name, flag_value="true", default=None, help=_help(param)
        )
    return click.option(
        param.cli_option,
        param.name,
        multiple=param.repeatable,
        default=None,
        metavar=_METAVARS.get(param.kind) or "|".join(param.values or ()),
        help=_help(param),
    )


def _parameter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for param in reversed(_OPTIONAL_PARAMS):
        command = _option(param)(command)
    return command


def _raw_params(
    query: tuple[str, ...], options: dict[str, Any], filters: tuple[str, ...]
) -> dict[str, list[str]]:
    """The command line as the API's parameters: name -> list of string values."""
    params: dict[str, list[str]] = {}
    if query:
        params["q"] = [" ".join(query)]
    for param in _OPTIONAL_PARAMS:
        value = options.get(param.name)
        if param.repeatable and value:
            params[param.name] = list(value)
        elif not param.repeatable and value is not None:
            params[param.name] = [value]
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"--filter takes NAME=VALUE, got {item!r}", EXIT_USAGE)
        params.setdefault(name, []).append(value)
    return params


@click.command()
@click.argument("query", nargs=-1)
@index_option
@json_option
@filter_option
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds the search may run before it is stopped (exit 7); 0: no budget.  "
    "[default: TRIALSEARCH_REQUEST_BUDGET, 10]",
)
@click.option(
    "--patient",
    "patient",
    is_flag=True,
    help="Read QUERY as a patient description (the same as --mode patient).",
)
@click.option(
    "--patient-file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Read the patient description from this file (- for standard input).",
)
@_parameter_options
def search(
    query: tuple[str, ...],
    index_dir: Path,
    as_json: bool,
    filters: tuple[str, ...],
    budget: float | None,
    patient: bool,
    patient_file: Any,
    **options: Any,
) -> None:
    """Search the index from the terminal (the same query API as the web and JSON).

    QUERY is the `q` parameter; every other parameter of GET /api/search is an
    option below (repeat a facet option for OR within it). A patient description
    ("A 45-year-old man with …") is read as one by --patient or --patient-file.

    Exit codes: 0 done; 2 a bad parameter; 5 no index could be read; 7 the search
    ran past its time budget.
    """
    if patient_file is not None:
        query = (*query, patient_file.read())
    if patient or patient_file is not None:
        if options.get("mode") not in (None, "patient"):
            fail("--patient reads QUERY as a description: leave out --mode", EXIT_USAGE)
        options["mode"] = "patient"
    req = parse_params(_raw_params(query, options, filters))
    seconds = read_setting("request_budget") if budget is None else budget
    index = SearchIndex(index_dir)
    index.info()  # open the index first: the budget is the search's, as on the web
    with time_budget(seconds):
        resp = index.search(req)
    if as_json:
        echo_json(resp.to_dict())
    elif req.format == "md":
        click.echo(search_markdown(req, resp), nl=False)
    else:
        _print(resp)


def _print(resp: SearchResponse) -> None:
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
            f"{listed_note(expansion.get('listed', 0))} (--exact to turn off)"
        )
    if resp.suggestion:
        click.echo(f"Did you mean: {resp.suggestion}")
    if resp.patient is not None:
        click.echo(reading_line(resp.patient))
    if resp.near is not None:
        click.echo(near_line(resp.near))
    for hit in resp.results:
        phases = "/".join(hit["phases"]) or "-"
        click.echo(f"\n{hit['nct_id']}  {click.style(hit['title'], bold=True)}")
        click.echo(
            f"  {hit['overall_status']} · {phases} · {hit['sponsor'] or '-'} · "
            f"updated {hit['last_update'] or '-'}"
        )
        click.echo(f"  {hit['canonical_url'] or hit['clinicaltrials_gov'] or ''}")
        if "why" in hit:
            click.echo(f"  {_why_line(hit['why'])}")
        site = site_line(hit)
        if site:
            click.echo(f"  {site}")


def _why_line(why: dict[str, Any]) -> str:
    said = {True: "ok", False: "EXCLUDES the patient", None: "not known"}
    matched = ", ".join(why["concepts"]) or "other words only"
    return f"age {said[why['age_ok']]} · sex {said[why['sex_ok']]} · matched: {matched}"


@click.command()
@click.argument("query", nargs=-1)
@index_option
@click.option(
    "--to",
    "kind",
    type=click.Choice(sorted(EXPORT_FORMATS)),
    default="csv",
    show_default=True,
    help="csv (a spreadsheet; UTF-8 with BOM), jsonl (full records) or ris (references).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@filter_option
@_parameter_options
def export(
    query: tuple[str, ...],
    index_dir: Path,
    kind: str,
    out_file: Path | None,
    filters: tuple[str, ...],
    **options: Any,
) -> None:
    """Every study a search matches (at most 50,000), in its order, as CSV, JSON Lines
    or RIS — the same rows as GET /api/search.csv, .jsonl or .ris.

    Exit codes: 0 done; 2 a bad parameter or more matches than an export holds;
    5 no index could be read.
    """
    req = parse_params(_raw_params(query, options, filters))
    rows = SearchIndex(index_dir).export(req)
    lines = exported_lines(kind, req, rows)
    if out_file is None:
        for line in lines:
            click.echo(line, nl=False)
    else:
        with out_file.open("w", encoding="utf-8", newline="") as out:
            out.writelines(lines)
        click.echo(f"Wrote {len(rows)} studies to {out_file}", err=True)


@click.command()
@click.argument("prefix")
@index_option
@json_option
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="FACET",
    help="Facet to complete (repeatable); default condition, intervention and sponsor.",
)
@click.option("--limit", default=None, metavar="N", help="Suggestions per field (1-50; 10).")
@filter_option
def suggest(
    prefix: str,
    index_dir: Path,
    as_json: bool,
    fields: tuple[str, ...],
    limit: str | None,
    filters: tuple[str, ...],
) -> None:
    """Facet values with a word starting with PREFIX, and how many studies each gives
    under the --filter parameters: GET /api/suggest from a terminal.

    Exit codes: 0 done; 2 a bad parameter; 5 no index could be read.
    """
    params = _raw_params((), {}, filters)
    params["prefix"] = [prefix]
    if fields:
        params["field"] = list(fields)
    if limit is not None:
        params["limit"] = [limit]
    answer = SearchIndex(index_dir).suggest(parse_suggest(params))
    if as_json:
        echo_json(answer)
        return
    if not answer["suggestions"]:
        click.echo(f"No value of {', '.join(answer['fields'])} has a word starting {prefix!r}")
    for item in answer["suggestions"]:
        click.echo(f"{item['count']:>8}  {item['field']:<12}  {item['value']}")
