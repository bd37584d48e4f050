"""JSON endpoints for agents: search, one study, health, and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from indexer.failpoints import reached as failpoint
from indexer.search.query import NCT_ID_ANY_CASE, IndexUnavailable, parse_params, time_budget

from .errors import json_error
from .openapi import openapi_document
from .state import get_index

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search():
    req = parse_params(request.args.to_dict(flat=False))
    failpoint("search_request")
    with time_budget(float(current_app.config["REQUEST_BUDGET"])):
        resp = get_index().search(req)
    return jsonify(resp.to_dict())


@bp.get("/api/trials/<nct_id>")
def trial(nct_id: str):
    if not NCT_ID_ANY_CASE.fullmatch(nct_id):
        return json_error(
            400,
            "invalid_nct_id",
            "an NCT ID is NCT followed by 8 digits, e.g. NCT04554719",
            "nct_id",
        )
    record = get_index().get_record(nct_id)
    if record is None:
        return json_error(404, "not_found", f"no study {nct_id.upper()} in the index", "nct_id")
    return jsonify(record)


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["SETTINGS"].public_url.rstrip("/")))


@bp.get("/healthz")
def healthz():
    try:
        info = get_index().check()
    except IndexUnavailable as exc:
        reason = str(exc).replace(str(get_index().store.root), "<index folder>")
        return jsonify({"status": "unavailable", "reason": reason}), 503
    return jsonify({"status": "ok", "index": info})
