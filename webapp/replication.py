"""The builder's side of replication: its live generation's file list, and the files.

Off unless TRIALSEARCH_REPLICATION_TOKEN is set (the routes then do not exist);
every request must carry it as `Authorization: Bearer <token>`. Read-only: a
replica can only read files a generation lists (indexer/index/replication.py).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, current_app, jsonify, request, send_file

from indexer.search.query import published_file, published_listing

from .errors import json_error

bp = Blueprint("replication", __name__, url_prefix="/replication")


def init_app(app: Flask) -> None:
    if app.config["SETTINGS"].replication_token:
        app.register_blueprint(bp)


@bp.before_request
def _authorised():
    token = current_app.config["SETTINGS"].replication_token
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return json_error(401, "unauthorized", "replication needs the shared token")
    return None


@bp.get("/current")
def current():
    listing = published_listing(current_app.config["INDEX_DIR"])
    if listing is None:
        return json_error(
            503, "not_published", "no live generation with a file list: run trialsearch publish"
        )
    return jsonify(listing)


@bp.get("/generations/<int:generation>/files/<name>")
def file(generation: int, name: str):
    path = published_file(current_app.config["INDEX_DIR"], generation, name)
    if path is None:
        return json_error(404, "not_found", f"generation {generation} lists no file {name}")
    return send_file(path, mimetype="application/octet-stream", conditional=False, etag=False)
