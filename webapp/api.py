"""Endpoints for agents: search (GET or POST, JSON or Markdown), one study, health,
the OpenAPI document and llms.txt."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from indexer.failpoints import reached as failpoint
from indexer.search.query import (
    EXPORT_FORMATS,
    IndexUnavailable,
    ParamError,
    SearchRequest,
    exported_lines,
    parse_params,
    parse_suggest,
    search_markdown,
    study_markdown,
    time_budget,
)

from .errors import json_error
from .llms import llms_txt
from .openapi import openapi_document
from .state import get_index

bp = Blueprint("api", __name__)
MARKDOWN = "text/markdown; charset=utf-8"
BODY_EXAMPLE = '{"q": "asthma", "status": ["RECRUITING"], "age": 40}'


@bp.get("/api/search")
def search():
    return _answer(parse_params(request.args.to_dict(flat=False)))


@bp.post("/api/search")
def search_post():
    """The same search with the parameters in a JSON body: for long queries, and for
    clients that would rather not build URLs."""
    return _answer(parse_params(body_params(request.get_json(force=True, silent=True))))


def body_params(body: Any) -> dict[str, list[str]]:
    """A JSON body as URL-style parameters: a list for repeated values; strings,
    numbers and true/false as their text."""
    if not isinstance(body, dict):
        raise ParamError(
            "invalid_body",
            f"the body must be a JSON object of search parameters, e.g. {BODY_EXAMPLE}",
        )
    params: dict[str, list[str]] = {}
    for name, value in body.items():
        values = value if isinstance(value, list) else [value]
        texts = []
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                texts.append("true" if item else "false")
            elif isinstance(item, int | float) and math.isfinite(item):
                texts.append(str(item))
            elif isinstance(item, str):
                texts.append(item)
            else:
                raise ParamError(
                    "invalid_value",
                    f"'{name}' takes a string, a number, true/false or a list of them",
                    str(name),
                )
        params[str(name)] = texts
    return params


def _answer(req: SearchRequest) -> Response:
    failpoint("search_request")
    with time_budget(float(current_app.config["REQUEST_BUDGET"])):
        resp = get_index().search(req)
    if _markdown_wanted(req):
        return Response(search_markdown(req, resp), content_type=MARKDOWN)
    return jsonify(resp.to_dict())


def _markdown_wanted(req: SearchRequest) -> bool:
    """`format=md`, or an Accept header preferring Markdown when no format is given."""
    if "format" in request.args or req.format != "json":
        return req.format == "md"
    best = request.accept_mimetypes.best_match(["application/json", "text/markdown"])
    return best == "text/markdown"


@bp.get("/api/suggest")
def suggest():
    """Facet values as one types, with the studies each would give."""
    sreq = parse_suggest(request.args.to_dict(flat=False))
    with time_budget(float(current_app.config["REQUEST_BUDGET"])):
        return jsonify(get_index().suggest(sreq))


@bp.get("/api/search.<kind>")
def export(kind: str):
    """Every matching study (up to MAX_EXPORT) as CSV, JSON Lines or RIS, streamed."""
    if kind not in EXPORT_FORMATS:
        return json_error(404, "not_found", f"no export as .{kind}; use .csv, .jsonl or .ris", None)
    req = parse_params(request.args.to_dict(flat=False))
    rows = get_index().export(req)
    name = f"trialsearch-{len(rows)}-studies.{kind}"
    body = stream_with_context(exported_lines(kind, req, rows))
    response = Response(body, content_type=EXPORT_FORMATS[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Total-Count"] = str(len(rows))
    response.call_on_close(rows.close)
    return response


@bp.get("/api/trials/<nct_id>")
def trial(nct_id: str):
    """One study: JSON, or Markdown as `/api/trials/<NCT ID>.md` (a mirror page)."""
    as_markdown = nct_id.lower().endswith(".md")
    nct_id = nct_id[:-3] if as_markdown else nct_id
    record = get_index().study(nct_id)
    if as_markdown:
        return Response(study_markdown(record), content_type=MARKDOWN)
    return jsonify(record)


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["SETTINGS"].public_url.rstrip("/")))


@bp.get("/llms.txt")
def llms():
    text = llms_txt(current_app.config["SETTINGS"].public_url.rstrip("/"))
    return Response(text, content_type=MARKDOWN)


@bp.get("/healthz")
def healthz():
    try:
        info = get_index().check()
    except IndexUnavailable as exc:
        reason = str(exc).replace(str(get_index().store.root), "<index folder>")
        return jsonify({"status": "unavailable", "reason": reason}), 503
    return jsonify({"status": "ok", "index": info})
