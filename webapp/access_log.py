"""One JSON line per request, for log pipelines rather than eyes.

Searches for a condition can say something about the person searching, so by
default a line names the query parameters but not their values; set
TRIALSEARCH_LOG_QUERIES=1 to log the query string too. The path is kept (it
names at most a study). `ms` is the time to the response's first byte: an export
streams on after it.

    {"time": "2026-12-04T18:20:01.123Z", "method": "GET", "path": "/api/search",
     "route": "/api/search", "status": 200, "ms": 12.4, "bytes": 5120,
     "params": ["q", "status"], "generation": 7, "worker": 4242}
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time

from flask import Flask, Response, g, request

from .state import current_info

OFF = ("", "off", "none", "0")


def init_app(app: Flask) -> None:
    """Log every request to TRIALSEARCH_ACCESS_LOG (`-`: standard output; `off`: no log)."""
    settings = app.config["SETTINGS"]
    logger = _logger(app.config.get("ACCESS_LOG", settings.access_log))
    if logger is None:
        return
    with_queries = bool(settings.log_queries)

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("request_started")
        info = current_info()
        line = {
            "time": dt.datetime.now(dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "method": request.method,
            "path": request.path,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "bytes": response.content_length,
            "params": sorted(request.args),
            "generation": info["generation"] if info else None,
            "worker": os.getpid(),
        }
        if with_queries and request.query_string:
            line["query"] = request.query_string.decode("utf-8", "replace")
        logger.info(json.dumps(line, ensure_ascii=False))
        return response


def _logger(destination: str) -> logging.Logger | None:
    if destination.strip().lower() in OFF:
        return None
    logger = logging.getLogger("trialsearch.access")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        if destination == "-":
            handler: logging.Handler = logging.StreamHandler(sys.stdout)
        else:
            handler = logging.FileHandler(destination, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    return logger
