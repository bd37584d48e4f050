"""`/metrics` in Prometheus' text format, counted across every gunicorn worker.

Each worker counts its own requests into files under PROMETHEUS_MULTIPROC_DIR
(gunicorn_conf.py makes and cleans that folder), and whichever worker is scraped
adds every worker's files up: a scrape sees all the traffic, not one worker's
share. Without that variable (the Flask test client, `flask run`) the counts are
this process's own. What describes the index rather than the traffic — its
generation, size and age, the last reindex — is read from the index folder at
scrape time, so it is right even when no request has opened the index.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from indexer.search.query import index_status, to_epoch

from .state import current_info

bp = Blueprint("metrics", __name__)

REQUESTS = Counter(
    "trialsearch_http_requests",
    "HTTP requests answered, by route (the URL rule, not the path), method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "trialsearch_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REFUSED = Counter(
    "trialsearch_requests_refused",
    "Requests answered with an error the API documents, by its code (invalid_date, "
    "query_too_costly, timeout, ...)",
    ["code"],
)
WORKER_GENERATION = Gauge(
    "trialsearch_worker_index_generation",
    "The index generation each live worker has open (label pid)",
    multiprocess_mode="liveall",
)


def count_refusal(code: str) -> None:
    REFUSED.labels(code=code).inc()


class IndexCollector(Collector):
    """The served index and the last reindex, read from the index folder."""

    def __init__(self, index_dir: str) -> None:
        self.index_dir = index_dir

    def collect(self) -> Iterator[Any]:
        now = time.time()
        status = index_status(self.index_dir)
        info = status["live"]
        yield _gauge("trialsearch_index_up", "1 when a live generation exists", info is not None)
        if info is not None:
            yield _gauge("trialsearch_index_generation", "The live generation", info["generation"])
            yield _gauge("trialsearch_index_documents", "Studies in it", info["documents"])
            built = to_epoch(info["built_at"])
            if built is not None:
                yield _gauge(
                    "trialsearch_index_age_seconds", "Seconds since it was built", now - built
                )
            seen = to_epoch(info.get("newest_last_seen_at"))
            if seen is not None:
                yield _gauge(
                    "trialsearch_data_age_seconds",
                    "Seconds since the newest last_seen_at of its pages: how stale the data is",
                    now - seen,
                )
        yield from _reindex(status["reindex"])


def _reindex(status: dict[str, Any]) -> Iterator[Any]:
    runs = CounterMetricFamily(
        "trialsearch_reindex_runs",
        "Reindex runs recorded beside this index, by outcome (ok or the error's code)",
        labels=["outcome"],
    )
    for outcome, count in (status.get("runs") or {}).items():
        runs.add_metric([outcome], count)
    yield runs
    last, good = status.get("last") or {}, status.get("last_success") or {}
    if "finished_at" in last:
        yield _gauge(
            "trialsearch_reindex_last_run_timestamp_seconds",
            "When the last reindex ended (Unix time), whatever its outcome",
            last["finished_at"],
        )
        yield _gauge(
            "trialsearch_reindex_last_run_ok",
            "1 if the last reindex succeeded",
            last.get("outcome") == "ok",
        )
    if "finished_at" in good:
        yield _gauge(
            "trialsearch_reindex_last_success_timestamp_seconds",
            "When the last successful reindex ended (Unix time)",
            good["finished_at"],
        )
        for key in ("seconds", "added", "updated", "removed", "skipped"):
            yield _gauge(
                f"trialsearch_reindex_last_success_{key}",
                f"The last successful reindex: {key}",
                good.get(key) or 0,
            )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], float(value))
    return family


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def init_app(app: Flask) -> None:
    """Count every request; serve /metrics unless TRIALSEARCH_METRICS=0."""

    @app.before_request
    def _started() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _counted(response: Response) -> Response:
        started = g.get("request_started")
        route = _route()
        if started is not None:
            LATENCY.labels(route=route).observe(time.perf_counter() - started)
        REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
        info = current_info()
        if info is not None:
            WORKER_GENERATION.set(info["generation"])
        return response

    if app.config["SETTINGS"].metrics:
        app.register_blueprint(bp)


@bp.get("/metrics")
def metrics() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY, REFUSED, WORKER_GENERATION):
            registry.register(collector)
    registry.register(IndexCollector(current_app.config["INDEX_DIR"]))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
