"""Gunicorn settings for trialsearch, from the one settings table (indexer/settings.py)."""

import contextlib
import os as _os
import shutil as _shutil
import tempfile as _tempfile
import time as _time

from indexer.settings import load_settings

_settings = load_settings()
bind = _settings.bind
# Sync workers, one per core (at least 2): searches are CPU-bound, and each worker
# warms its own posting and position caches, so more workers than cores only means
# more cold caches. At 560,000 studies on 2 cores, 2 workers instead of 4 took HTTP
# p95 from 210 to 82 ms at concurrency 1 and doubled throughput at 4 (bench/README.md).
workers = _settings.workers
# the sync worker, answering in JSON what gunicorn refuses itself under /api/ (414, 431)
worker_class = "webapp.gunicorn_worker.JsonErrorWorker"
timeout = _settings.worker_timeout
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then: closed Whoosh searchers keep file descriptors (WHOOSH.md).
max_requests = _settings.max_requests
max_requests_jitter = 500
# the app writes one JSON line per request itself (webapp/access_log.py)
accesslog = None
errorlog = "-"
loglevel = _settings.log_level

# /metrics adds up every worker's counts from files in one folder (webapp/metrics.py).
# The folder must be named before any worker imports prometheus_client, so the
# master names it here and the workers inherit it; one this config made is emptied
# at start and removed at exit. An operator's own PROMETHEUS_MULTIPROC_DIR is used
# as it is (emptied at start, as prometheus_client asks, and kept).
_made_metrics_dir = None
if _settings.metrics and not _os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _made_metrics_dir = _tempfile.mkdtemp(prefix="trialsearch-metrics-")
    _os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir


# The rate limits' shared counters (webapp/ratelimit.py): one file every worker maps.
_made_rate_file = None
if _settings.rate_limit and not _os.environ.get("TRIALSEARCH_RATE_LIMIT_FILE"):
    _handle, _made_rate_file = _tempfile.mkstemp(prefix="trialsearch-ratelimit-")
    _os.close(_handle)
    _os.environ["TRIALSEARCH_RATE_LIMIT_FILE"] = _made_rate_file


def on_starting(server):
    # the gazetteer for near=: compiled here once per machine (10 s the first time; a
    # replica that only pulls indexes never parsed a page to compile it) and opened
    # before the workers fork, so they share it and no request waits for it,
    from indexer.search.query import open_gazetteer

    # and the names an unknown place is compared with (0.5 s to list, once for all)
    open_gazetteer().common_names("")
    folder = _os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if _settings.metrics and folder and _os.path.isdir(folder):
        for name in _os.listdir(folder):
            if name.endswith(".db"):
                _os.remove(_os.path.join(folder, name))


def post_worker_init(worker):
    """Warm before taking traffic: the worker opens the index and waits (at most
    TRIALSEARCH_WARM_WAIT seconds, telling the master it lives) while its caches fill
    with what the last run's workers had cached, then the generation's commonest
    words. Meanwhile the other workers, or the listen queue, hold the requests."""
    if not _settings.warm or _settings.warm_wait <= 0:
        return
    from webapp.state import prepare

    started = _time.monotonic()
    warm = prepare(worker.wsgi, worker.notify, _settings.warm_wait)
    worker.log.info(
        "worker %s: index opened and caches %s in %.1f s",
        worker.pid,
        "warmed" if warm else "warming (continues in the background)",
        _time.monotonic() - started,
    )


def worker_exit(server, worker):
    """Keep what this worker had cached, for the next start to warm (warm_memory.py)."""
    wsgi = getattr(worker, "wsgi", None)
    if wsgi is not None and _settings.warm:
        from webapp.state import remember

        remember(wsgi)


def child_exit(server, worker):
    """A worker gone (recycled or killed): its live gauges must not be reported."""
    if _os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        _shutil.rmtree(_made_metrics_dir, ignore_errors=True)
    if _made_rate_file:
        with contextlib.suppress(OSError):
            _os.remove(_made_rate_file)
