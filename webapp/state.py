"""The app's one SearchIndex, created lazily and shared by the requests of a worker."""

from __future__ import annotations

from flask import Flask, current_app

from indexer.search.query import SearchIndex

_KEY = "trialsearch.index"


def get_index() -> SearchIndex:
    """The worker's SearchIndex; it reopens by itself when a new generation goes live."""
    index = current_app.extensions.get(_KEY)
    if index is None:
        index = SearchIndex(
            current_app.config["INDEX_DIR"],
            warm=bool(current_app.config["WARM"]),
            switch_wait=float(current_app.config.get("WARM_SWITCH", 0.0)),
        )
        current_app.extensions[_KEY] = index
    return index


def prepare(app: Flask, notify, seconds: float) -> bool:
    """Open the index and warm its caches before the worker takes traffic (gunicorn's
    post_worker_init): the first requests after a start meet warm caches."""
    with app.app_context():
        return get_index().prepare(seconds, notify)


def remember(app: Flask) -> None:
    """On the way out (gunicorn's worker_exit): keep the cached words for the next start."""
    index = app.extensions.get(_KEY)
    if index is not None:
        index.remember()


def current_info() -> dict | None:
    """The open generation's info, without opening an index just to report it."""
    index = current_app.extensions.get(_KEY)
    return index.open_info() if index is not None else None


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = None
