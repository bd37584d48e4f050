"""Per-client rate limits, shared by every gunicorn worker, for a public endpoint.

Off unless TRIALSEARCH_RATE_LIMIT is set (e.g. `60/minute`). Each client (its
address; behind a proxy, the one TRIALSEARCH_PROXIES trusted proxies name) may send
that many requests at once and then one per period ÷ count (the generic cell rate
algorithm: one number per client, its "theoretical arrival time"). The counters
live in a small file mapped into every worker (`gunicorn_conf.py` names it before
the workers start), one 16-byte slot per client hash, each slot locked with a byte
range lock while it is read and written, so the limit holds across workers and a
worker killed mid-request holds no lock. Loopback clients are not limited unless
TRIALSEARCH_RATE_LIMIT_LOOPBACK=1 (health checks, the replicas' pulls, a local
proxy that did not say whom it forwards).

Answers carry `RateLimit-Policy`, `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (IETF draft); a refusal is 429 with `Retry-After`, JSON under
/api/ and a page elsewhere. /healthz, /metrics, /replication/ and static files are
never limited.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import re
import struct
import tempfile
import time
from dataclasses import dataclass

from flask import Flask, Response, render_template, request

from .errors import json_error, wants_json
from .metrics import count_refusal

ENV_FILE = "TRIALSEARCH_RATE_LIMIT_FILE"
SLOTS = 65536
SLOT = struct.Struct("<qd")  # client hash, theoretical arrival time
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
NOT_LIMITED = ("/healthz", "/metrics", "/replication/", "/static/")
LOOPBACK = ("127.", "::1", "::ffff:127.")


@dataclass(frozen=True)
class Policy:
    count: int
    period: float

    @property
    def interval(self) -> float:
        return self.period / self.count


def parse_policy(text: str) -> Policy | None:
    """`60/minute`, `10/second`, `1000/hour` or `5000/day` (as the settings checked
    it); empty: None."""
    match = re.fullmatch(r"([0-9]+)\s*/\s*(second|minute|hour|day)s?", text.strip().lower())
    if not match or int(match.group(1)) == 0:
        return None
    return Policy(int(match.group(1)), PERIODS[match.group(2)])


def counter_file() -> str:
    """The counters' file: the one gunicorn's master named for every worker, or one
    of this process's own (the Flask test client, `flask run`)."""
    path = os.environ.get(ENV_FILE)
    if not path:
        handle, path = tempfile.mkstemp(prefix="trialsearch-ratelimit-")
        os.close(handle)
        os.environ[ENV_FILE] = path
    return path


class Counters:
    """Slots in a shared file, each read and written under its own byte-range lock."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self.fd).st_size < SLOTS * SLOT.size:
            os.ftruncate(self.fd, SLOTS * SLOT.size)
        self.map = mmap.mmap(self.fd, SLOTS * SLOT.size)

    def take(self, client: str, policy: Policy, now: float) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until a request is allowed again at full)."""
        key = int.from_bytes(
            hashlib.blake2b(client.encode(), digest_size=8).digest(), "little", signed=True
        )
        slot = (key & 0x7FFFFFFFFFFFFFFF) % SLOTS
        offset = slot * SLOT.size
        fcntl.lockf(self.fd, fcntl.LOCK_EX, SLOT.size, offset)
        try:
            owner, tat = SLOT.unpack_from(self.map, offset)
            if owner != key:  # a new client here (or one whose turn long passed)
                tat = 0.0
            tat = max(tat, now)
            allowed = tat - now <= policy.period - policy.interval
            if allowed:
                tat += policy.interval
                SLOT.pack_into(self.map, offset, key, tat)
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, SLOT.size, offset)
        remaining = max(0, math.floor((policy.period - (tat - now)) / policy.interval))
        return allowed, remaining, tat - now


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    policy = parse_policy(app.config.get("RATE_LIMIT", settings.rate_limit))
    if policy is None:
        return
    counters: list[Counters] = []  # opened in each worker on its first request
    loopback_too = bool(settings.rate_limit_loopback)

    @app.before_request
    def _limit():
        if request.path.startswith(NOT_LIMITED):
            return None
        client = request.remote_addr or "unknown"
        if client.startswith(LOOPBACK) and not loopback_too:
            return None
        if not counters:
            counters.append(Counters(counter_file()))
        allowed, remaining, reset = counters[0].take(client, policy, time.time())
        request.environ["trialsearch.ratelimit"] = (remaining, reset)
        if allowed:
            return None
        count_refusal("rate_limited")
        wait = math.ceil(reset - (policy.period - policy.interval))
        message = (
            f"too many requests: at most {policy.count} per {int(policy.period)} s; "
            f"retry in {max(1, wait)} s"
        )
        if wants_json():
            response = json_error(429, "rate_limited", message)
        else:
            response = Response(render_template("error.html", status=429, message=message), 429)
        response.headers["Retry-After"] = str(max(1, wait))
        return response

    @app.after_request
    def _headers(response: Response) -> Response:
        said = request.environ.get("trialsearch.ratelimit")
        if said is not None:
            remaining, reset = said
            response.headers["RateLimit-Policy"] = f"{policy.count};w={int(policy.period)}"
            response.headers["RateLimit-Limit"] = str(policy.count)
            response.headers["RateLimit-Remaining"] = str(remaining)
            response.headers["RateLimit-Reset"] = str(max(0, math.ceil(reset)))
        return response
