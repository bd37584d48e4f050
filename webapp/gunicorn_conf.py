"""Gunicorn settings for trialsearch, from the one settings table (indexer/settings.py)."""

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
accesslog = _settings.access_log
errorlog = "-"
loglevel = _settings.log_level
