"""Fetch the mirror over HTTP into the pages folder, never replacing a good page with a bad one.

The usual cycle is `trialsearch sync … && trialsearch reindex`. Each page is fetched
with a conditional GET (ETag / Last-Modified remembered per page), validated as a
mirror page for the NCT ID its URL names, written to a temp file and renamed.
"""

from __future__ import annotations

import json
import logging
import re
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from ..atomic import write_bytes_atomic
from ..errors import SyncError
from ..settings import SETTINGS_BY_NAME
from .fetch import (
    FetchRefused,
    RateLimiter,
    TooLarge,
    fetch_capped,
    make_session,
    with_deadline,
    within,
)
from .parse import PageError, decode_page, parse_page
from .values import NCT_ID_ANY_CASE

log = logging.getLogger(__name__)

STATE_FILE = ".sync-state.json"
DEFAULT_MAX_PAGE_BYTES = SETTINGS_BY_NAME["max_page_bytes"].default  # the reindex's limit
# the sitemap protocol's own limit for one file, uncompressed
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
DEFAULT_DEADLINE = 120.0  # seconds one page may take in all (a sitemap: ten times this)
SITEMAP_DEADLINES = 10
_NCT_IN_URL = re.compile(r"(NCT\d{8})(?:\.md)?(?:[?#].*)?$", re.ASCII | re.IGNORECASE)


@dataclass
class SyncReport:
    fetched: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # page list entries not fetched: not <base>/<NCT ID>.md, or a sitemap elsewhere
    refused: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def discover(
    session: requests.Session,
    base_url: str,
    list_file: Path | None,
    timeout: float,
    deadline: float = DEFAULT_DEADLINE,
    refused: list[dict[str, str]] | None = None,
) -> list[tuple[str, str]]:
    """(NCT ID, URL) pairs from a list file, or from the sitemap.xml at the base URL;
    entries that are not fetched are added to `refused` with the reason."""
    base = base_url.rstrip("/") + "/"
    refused = [] if refused is None else refused
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
        sitemap = urljoin(base, "sitemap.xml")
        urls = _sitemap_urls(session, sitemap, base, timeout, deadline, refused, depth=0)
    pairs: dict[str, str] = {}
    for url in urls:
        match = _NCT_IN_URL.search(url)
        if not match:
            refused.append({"url": url, "reason": "no NCT ID in it"})
            continue
        nct = match.group(1).upper()
        # only <base><NCT ID>.md: a sitemap must not send the sync anywhere else
        # (cloud metadata addresses, admin URLs with query strings, other hosts)
        if url != urljoin(base, f"{nct}.md"):  # within(url, base) and of that one form
            log.warning("refused %s: only %s<NCT ID>.md is fetched", url, base)
            refused.append({"url": url, "reason": f"not of the form {base}<NCT ID>.md"})
            continue
        pairs.setdefault(nct, url)
    if not pairs:
        raise SyncError("no study pages found to sync (empty list or sitemap)")
    return sorted(pairs.items())


def _sitemap_urls(
    session: requests.Session,
    url: str,
    base: str,
    timeout: float,
    deadline: float,
    refused: list[dict[str, str]],
    depth: int,
) -> list[str]:
    try:
        resp, body = with_deadline(
            deadline * SITEMAP_DEADLINES,
            lambda at: fetch_capped(
                session, url, base, MAX_SITEMAP_BYTES, timeout=timeout, deadline_at=at
            ),
        )
    except requests.RequestException as exc:
        raise SyncError(f"cannot fetch {url}: {exc.__class__.__name__}") from exc
    except FetchRefused as exc:
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
                refused.append({"url": loc, "reason": f"a sitemap not under {base}"})
                continue
            nested += _sitemap_urls(session, loc, base, timeout, deadline, refused, depth + 1)
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
    deadline: float = DEFAULT_DEADLINE,
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
        resp, body = with_deadline(
            deadline,
            lambda at: fetch_capped(session, url, base, max_bytes, headers, timeout, at),
        )
    except requests.RequestException as exc:
        return "failed", f"{exc.__class__.__name__}: {_short(exc)}", None
    except TooLarge as exc:  # the reindex would skip it: the local copy is kept
        return "failed", f"page {exc}", None
    except FetchRefused as exc:  # outside the base, too slow, Retry-After too long
        return "failed", str(exc), None
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
    deadline: float = DEFAULT_DEADLINE,
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
        targets = discover(session, base_url, list_file, timeout, deadline, report.refused)
        if on_start:
            on_start(len(targets))
        state = _load_state(pages)
        limiter = RateLimiter(rate)
        new_state = dict(state)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(
                    fetch_one,
                    session,
                    nct,
                    url,
                    pages,
                    state,
                    timeout,
                    limiter,
                    max_page_bytes,
                    deadline,
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
