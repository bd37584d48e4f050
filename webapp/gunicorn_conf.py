"""Gunicorn settings for trialsearch; every value can be overridden from the environment."""

import multiprocessing
import os

bind = os.environ.get("TRIALSEARCH_BIND", "127.0.0.1:8000")
# Sync workers, one per core (at least 2): searches are CPU-bound, and each worker
# warms its own posting and position caches, so more workers than cores only means
# more cold caches. At 560,000 studies on 2 cores, 2 workers instead of 4 took HTTP
# p95 from 210 to 82 ms at concurrency 1 and doubled throughput at 4 (bench/README.md).
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
worker_class = "sync"
timeout = int(os.environ.get("TRIALSEARCH_WORKER_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then: closed Whoosh searchers keep file descriptors (WHOOSH.md).
max_requests = int(os.environ.get("TRIALSEARCH_MAX_REQUESTS", 5000))
max_requests_jitter = 500
accesslog = os.environ.get("TRIALSEARCH_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("TRIALSEARCH_LOG_LEVEL", "info")
