"""Gunicorn settings for trialsearch; every value can be overridden from the environment."""

import multiprocessing
import os

bind = os.environ.get("TRIALSEARCH_BIND", "127.0.0.1:8000")
# Sync workers: a Whoosh searcher is a per-thread snapshot, and searches are CPU-bound.
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
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
