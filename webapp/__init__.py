"""The HTTP face of trialsearch: an app factory with a JSON API and a search page.

Nothing is opened at import time; the index is opened by the first request that
needs it, and followed to every new generation a reindex publishes.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from indexer.settings import load_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app over the index that the settings name; `test_config` overrides any key."""
    app = Flask(__name__)
    settings = load_settings()
    app.config.from_mapping(
        SETTINGS=settings,
        INDEX_DIR=str(settings.index_dir),
        JSON_SORT_KEYS=False,
        # seconds a request may search before it is stopped (gunicorn's timeout is 30)
        REQUEST_BUDGET=settings.request_budget,
        # warm each worker's caches when it opens a generation (TRIALSEARCH_WARM=0: off)
        WARM=settings.warm,
        # seconds the generation before answers while a new one warms (0: switch at once)
        WARM_SWITCH=settings.warm_switch,
        # a POST /api/search body is a few parameters: 1 MiB is generous (413 beyond)
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False
    if settings.proxies:  # the client, scheme and host as the trusted proxies say
        n = settings.proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from . import access_log, api, errors, feeds, metrics, pages, ratelimit, replication, state

    _log_through_gunicorn()
    state.init_app(app)
    errors.init_app(app)
    metrics.init_app(app)
    ratelimit.init_app(app)
    access_log.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(feeds.bp)
    replication.init_app(app)
    return app


def _log_through_gunicorn() -> None:
    """Under gunicorn, the indexer's messages (a worker's cache warming, an index it
    could not read) go to gunicorn's error log at its level; otherwise nowhere."""
    gunicorn_log = logging.getLogger("gunicorn.error")
    ours = logging.getLogger("indexer")
    if gunicorn_log.handlers and not ours.handlers:
        ours.handlers = list(gunicorn_log.handlers)
        ours.setLevel(gunicorn_log.level)
        ours.propagate = False
