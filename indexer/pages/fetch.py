"""HTTP for the sync, with every limit a hostile or broken mirror needs.

A mirror is untrusted: it may send a gzip bomb, redirect elsewhere, trickle a page
one byte at a time, or ask to be retried tomorrow. Here a GET is bounded in bytes
(after decompression), in where it may go (redirects only within the base), in
time (one deadline for the whole fetch: connecting, redirects, retries, waits and
the body), and in how long a `Retry-After` is honoured. Each refusal is an
exception with a reason a person can read; what to do with a page is sync.py's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "trialsearch-sync/1 (+https://clinicaltrials.gov mirror reader)"
MAX_REDIRECTS = 5
# A Retry-After longer than this is not waited for: the page fails for this run.
MAX_RETRY_AFTER = 60.0
T = TypeVar("T")


class FetchRefused(Exception):
    """A fetch given up on purpose; the message is the reason reported for the page."""


class TooLarge(FetchRefused):
    pass


class OutsideBase(FetchRefused):
    pass


class TooSlow(FetchRefused):
    pass


class RetryTooLate(FetchRefused):
    pass


class RateLimiter:
    """At most `rate` request starts per second, across all download threads."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.lock = threading.Lock()
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            time.sleep(start - now)


class CappedRetry(Retry):
    """urllib3's retries, honouring `Retry-After` only up to MAX_RETRY_AFTER: a server
    that asks for a day (86400) fails the page now instead of holding a thread."""

    def sleep_for_retry(self, response: Any = None) -> bool:
        header = response.headers.get("Retry-After") if response is not None else None
        # read here: urllib3 clips the value it reports (at 6 h)
        after = self.parse_retry_after(header) if header else None
        if after is not None and after > MAX_RETRY_AFTER:
            raise RetryTooLate(
                f"the mirror answered Retry-After: {header.strip()} (more than the "
                f"{MAX_RETRY_AFTER:g} s a run waits); left for the next run"
            )
        return bool(super().sleep_for_retry(response))


def make_session(retries: int, pool: int) -> requests.Session:
    """A session that retries connection errors and 429/5xx with backoff."""
    retry = CappedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=0.3,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=pool, pool_maxsize=pool)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def within(url: str, base: str) -> bool:
    """Whether `url` is under the mirror's base URL (same scheme, host, port and path
    prefix) and carries no query or fragment."""
    return url.startswith(base) and "?" not in url and "#" not in url


def with_deadline(seconds: float, work: Callable[[float], T]) -> T:
    """`work(deadline_at)` within `seconds` in all, or TooSlow.

    `--timeout` bounds each read only, so a server sending a byte every 0.9 s kept a
    page going for minutes. The work runs in a daemon thread that is abandoned at the
    deadline (it stops by itself at its next chunk: `fetch_capped` checks the same
    deadline); the caller gets TooSlow and nothing the late work returns is used.
    """
    box: dict[str, Any] = {}
    done = threading.Event()
    deadline_at = time.monotonic() + seconds

    def run() -> None:
        try:
            box["value"] = work(deadline_at)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="sync-fetch", daemon=True).start()
    if not done.wait(seconds):
        raise TooSlow(f"took longer than the {seconds:g}-second deadline")
    if "error" in box:
        raise box["error"]
    return box["value"]


def fetch_capped(
    session: requests.Session,
    url: str,
    base: str,
    limit: int,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    deadline_at: float | None = None,
) -> tuple[requests.Response, bytes]:
    """GET `url` and its body, following redirects only within `base`, reading the body
    (decoded: gzip, deflate) only up to `limit` bytes — a 1 MB gzip bomb on the wire
    unpacks to 1 GB, and reading it whole killed the sync. The body is read only for a
    200; the connection is always released."""
    for _ in range(MAX_REDIRECTS + 1):
        resp = session.get(
            url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
        )
        if not resp.is_redirect:
            break
        resp.close()
        url = urljoin(url, resp.headers.get("Location", ""))
        if not within(url, base):
            raise OutsideBase("redirected outside the mirror's base URL (refused)")
    else:
        raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")
    chunks: list[bytes] = []
    size = 0
    try:
        if resp.status_code == 200:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"body is over the {limit}-byte limit (after decompression)")
                if deadline_at is not None and time.monotonic() > deadline_at:
                    raise TooSlow("the body was still arriving at the deadline")
                chunks.append(chunk)
    finally:
        resp.close()
    return resp, b"".join(chunks)
