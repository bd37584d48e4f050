"""Fetch the mirror over HTTP into the pages folder, never replacing a good page with a bad one.

The usual cycle is `trialsearch sync … && trialsearch reindex`. Each page is fetched
with a conditional GET (ETag / Last-Modified remembered per page), validated as a
mirror page for the NCT ID its URL names, written to a temp file and renamed.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..atomic import write_bytes_atomic
from ..errors import SyncError
from ..settings import SETTINGS_BY_NAME
from .parse import PageError, decode_page, parse_page
from .values import NCT_ID_ANY_CASE

log = logging.getLogger(__name__)

STATE_FILE = ".sync-state.json"
USER_AGENT = "trialsearch-sync/1 (+https://clinicaltrials.gov mirror reader)"
DEFAULT_MAX_PAGE_BYTES = SETTINGS_BY_NAME["max_page_bytes"].default  # the reindex's limit
# the sitemap protocol's own limit for one file, uncompressed
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_NCT_IN_URL = re.compile(r"(NCT\d{8})(?:\.md)?(?:[?#].*)?$", re.ASCII | re.IGNORECASE)


@dataclass
class SyncReport:
    fetched: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def make_session(retries: int, pool: int) -> requests.Session:
    """A session that retries connection errors and 429/5xx with backoff."""
    retry = Retry(
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


def discover(
    session: requests.Session, base_url: str, list_file: Path | None, timeout: float
) -> list[tuple[str, str]]:
    """(NCT ID, URL) pairs from a list file, or from the sitemap.xml at the base URL."""
    base = base_url.rstrip("/") + "/"
    urls: list[str] = []
    if list_file is not None:
        try:
            lines = list_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SyncError(f"cannot read {list_file}: {exc.strerror}") from exc
        for line in lines:
            item = line.strip()
            if not item or item.startswith("#"):
                continue
            urls.append(
                urljoin(base, f"{item.upper()}.md") if NCT_ID_ANY_CASE.fullmatch(item) else item
            )
    else:
        urls = _sitemap_urls(session, urljoin(base, "sitemap.xml"), base, timeout, depth=0)
    pairs: dict[str, str] = {}
    for url in urls:
        match = _NCT_IN_URL.search(url)
        if not match:
            continue
        nct = match.group(1).upper()
        # only <base><NCT ID>.md: a sitemap must not send the sync anywhere else
        # (cloud metadata addresses, admin URLs with query strings, other hosts)
        if url != urljoin(base, f"{nct}.md"):  # within(url, base) and of that one form
            log.warning("refused %s: only %s<NCT ID>.md is fetched", url, base)
            continue
        pairs.setdefault(nct, url)
    if not pairs:
        raise SyncError("no study pages found to sync (empty list or sitemap)")
    return sorted(pairs.items())


class _TooLarge(Exception):
    pass


class _OutsideBase(Exception):
    pass


MAX_REDIRECTS = 5


def within(url: str, base: str) -> bool:
    """Whether `url` is under the mirror's base URL (same scheme, host, port and path
    prefix) and carries no query or fragment."""
    return url.startswith(base) and "?" not in url and "#" not in url


def fetch_capped(
    session: requests.Session,
    url: str,
    base: str,
    limit: int,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
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
            raise _OutsideBase("redirected outside the mirror's base URL (refused)")
    else:
        raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")
    chunks: list[bytes] = []
    size = 0
    try:
        if resp.status_code == 200:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise _TooLarge(f"body is over the {limit}-byte limit (after decompression)")
                chunks.append(chunk)
    finally:
        resp.close()
    return resp, b"".join(chunks)


def _sitemap_urls(
    session: requests.Session, url: str, base: str, timeout: float, depth: int
) -> list[str]:
    try:
        resp, body = fetch_capped(session, url, base, MAX_SITEMAP_BYTES, timeout=timeout)
    except requests.RequestException as exc:
        raise SyncError(f"cannot fetch {url}: {exc.__class__.__name__}") from exc
    except (_TooLarge, _OutsideBase) as exc:
        raise SyncError(f"cannot use {url}: {exc}") from exc
    if resp.status_code != 200:
        raise SyncError(f"cannot fetch {url}: HTTP {resp.status_code}")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SyncError(f"{url} is not a valid sitemap: {exc}") from exc
    locs = [el.text.strip() for el in root.iter() if el.tag.endswith("loc") and el.text]
    if root.tag.endswith("sitemapindex") and depth == 0:
        nested: list[str] = []
        for loc in locs:
            if not within(loc, base):  # a sitemap index must not send the sync elsewhere
                log.warning("refused sitemap %s: it is not under %s", loc, base)
                continue
            nested += _sitemap_urls(session, loc, base, timeout, depth + 1)
        return nested
    return locs


def _load_state(pages_dir: Path) -> dict[str, dict[str, str]]:
    try:
        return json.loads((pages_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _looks_like_html(resp: requests.Response, body: bytes) -> bool:
    kind = resp.headers.get("Content-Type", "").lower()
    head = body[:200].lstrip().lower()
    return "text/html" in kind or head.startswith((b"<!doctype html", b"<html"))


def fetch_one(
    session: requests.Session,
    nct: str,
    url: str,
    pages_dir: Path,
    state: dict[str, Any],
    timeout: float,
    limiter: RateLimiter,
    max_bytes: int = DEFAULT_MAX_PAGE_BYTES,
) -> tuple[str, str | None, dict[str, str] | None]:
    """Fetch one page: ('fetched'|'unchanged'|'gone'|'failed', reason, new state)."""
    path = pages_dir / f"{nct}.md"
    headers = {}
    known = state.get(nct) or {}
    if path.exists():
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
    limiter.wait()
    try:
        # the targets are <base><NCT ID>.md: the page's folder is the base
        base = url.rsplit("/", 1)[0] + "/"
        # urllib3 raises on a body shorter than its Content-Length
        resp, body = fetch_capped(session, url, base, max_bytes, headers, timeout)
    except requests.RequestException as exc:
        return "failed", f"{exc.__class__.__name__}: {_short(exc)}", None
    except _OutsideBase as exc:
        return "failed", str(exc), None
    except _TooLarge as exc:  # the reindex would skip it: the local copy is kept
        return "failed", f"page {exc}", None
    if resp.status_code == 304:
        return "unchanged", None, known
    if resp.status_code in (404, 410):
        return "gone", f"HTTP {resp.status_code}", None
    if resp.status_code != 200:
        return "failed", f"HTTP {resp.status_code}", None
    if _looks_like_html(resp, body):
        return "failed", "served an HTML page, not a mirror page", None
    try:
        record = parse_page(decode_page(body), expected_id=nct)
    except PageError as exc:
        return "failed", f"not a valid mirror page: {exc}", None
    if record.nct_id != nct:
        return "failed", f"page is for {record.nct_id}, not {nct}", None
    if path.exists() and path.read_bytes() == body:
        status = "unchanged"
    else:
        write_bytes_atomic(path, body)
        status = "fetched"
    new_state = {"url": url}
    if resp.headers.get("ETag"):
        new_state["etag"] = resp.headers["ETag"]
    if resp.headers.get("Last-Modified"):
        new_state["last_modified"] = resp.headers["Last-Modified"]
    return status, None, new_state


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


def sync(
    base_url: str,
    pages_dir: Path | str,
    *,
    list_file: Path | None = None,
    delete: bool = False,
    workers: int = 4,
    rate: float = 10.0,
    timeout: float = 30.0,
    retries: int = 3,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
    on_start: Any = None,
    progress: Any = None,
) -> SyncReport:
    """Bring the pages folder up to date with the mirror at base_url."""
    started = time.perf_counter()
    pages = Path(pages_dir)
    pages.mkdir(parents=True, exist_ok=True)
    session = make_session(retries, workers)
    report = SyncReport()
    try:
        targets = discover(session, base_url, list_file, timeout)
        if on_start:
            on_start(len(targets))
        state = _load_state(pages)
        limiter = RateLimiter(rate)
        new_state = dict(state)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(
                    fetch_one, session, nct, url, pages, state, timeout, limiter, max_page_bytes
                ): (
                    nct,
                    url,
                )
                for nct, url in targets
            }
            for future in futures:
                nct, url = futures[future]
                status, reason, page_state = future.result()
                if status == "fetched":
                    report.fetched.append(nct)
                elif status == "unchanged":
                    report.unchanged += 1
                elif status == "gone":
                    report.gone.append(nct)
                    if delete:
                        (pages / f"{nct}.md").unlink(missing_ok=True)
                        new_state.pop(nct, None)
                        report.deleted.append(nct)
                else:
                    report.failed.append({"nct_id": nct, "url": url, "reason": reason or ""})
                if page_state is not None:
                    new_state[nct] = page_state
                if progress:
                    progress(1)
        write_bytes_atomic(pages / STATE_FILE, json.dumps(new_state, indent=0).encode())
    finally:
        session.close()
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "sync: %d fetched, %d unchanged, %d gone, %d failed",
        len(report.fetched),
        report.unchanged,
        len(report.gone),
        len(report.failed),
    )
    return report
