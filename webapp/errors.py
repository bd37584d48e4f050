"""Errors in the caller's format: JSON under /api, /healthz and for feeds (read by
programs), a friendly page elsewhere.

No stack trace or file path ever reaches a response; the log keeps the details.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.search.query import IndexUnavailable, ParamError, TrialsearchError

from .metrics import count_refusal


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/replication/")) or request.path in (
        "/healthz",
        "/search.atom",
    )


def json_error(
    status: int, code: str, message: str, param: str | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message, "param": param}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify({"error": body})
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(TrialsearchError)
    def trialsearch_error(exc: TrialsearchError):
        """Every deliberate error, answered with the status and message it carries."""
        status = exc.http_status
        count_refusal(exc.code)
        if status >= 500:  # the operator's story (paths, cause) goes to the log only
            log = app.logger.error if isinstance(exc, IndexUnavailable) else app.logger.warning
            log("%s on %s: %s", exc.code, request.full_path, exc.operator_message())
        if wants_json():
            response = jsonify({"error": exc.to_dict()})
            response.status_code = status
            return response
        allowed = exc.allowed if isinstance(exc, ParamError) else None
        page = render_template(
            "error.html", status=status, message=exc.public_message(), allowed=allowed
        )
        return page, status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            return json_error(exc.code or 500, code, exc.description or exc.name)
        return render_template("error.html", status=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        message = "Something went wrong on our side; the error was logged."
        if wants_json():
            return json_error(500, "internal_error", message)
        return render_template("error.html", status=500, message=message), 500

    @app.after_request
    def index_headers(response: Response) -> Response:
        """Every JSON answer says which index generation produced it."""
        from .state import current_info

        if wants_json():
            info = current_info()
            if info:
                response.headers["X-Index-Generation"] = str(info["generation"])
                response.headers["X-Index-Documents"] = str(info["documents"])
                response.headers["X-Index-Built-At"] = info["built_at"]
                if info.get("newest_last_seen_at"):
                    response.headers["X-Index-Newest-Last-Seen-At"] = info["newest_last_seen_at"]
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
