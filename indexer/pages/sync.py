"""Fetch the mirror over HTTP into the pages folder, never replacing a good page with a bad one.

The usual cycle is `trialsearch sync … && trialsearch reindex`. A page the sitemap
dates (`<lastmod>`) no later than when the last successful sync fetched it is not
asked for at all (sitemaps.py; `full=True` asks for everything); any other page
is fetched with a conditional GET (ETag / Last-Modified remembered per page),
validated as a mirror page for the NCT ID its URL names, written to a temp file
and renamed. What was learnt is written to the state file only at the end, so an
interrupted sync is redone, never trusted.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from ..atomic import read_json_object, write_bytes_atomic
from ..settings import SETTINGS_BY_NAME
from .fetch import (
    FetchRefused,
    RateLimiter,
    TooLarge,
    fetch_capped,
    make_session,
    with_deadline,
)
from .parse import PageError, decode_page, parse_page
from .sitemaps import MAX_SITEMAP_BYTES, SITEMAP_DEADLINES, Target, discover  # noqa: F401

log = logging.getLogger(__name__)

STATE_FILE = ".sync-state.json"
SITEMAPS_KEY = "_sitemaps"  # in the state: each nested sitemap's lastmod when last read
DEFAULT_MAX_PAGE_BYTES = SETTINGS_BY_NAME["max_page_bytes"].default  # the reindex's limit
DEFAULT_DEADLINE = 120.0  # seconds one page may take in all (a sitemap: ten times this)


@dataclass
class SyncReport:
    fetched: list[str] = field(default_factory=list)
    unchanged: int = 0
    # not asked for: the sitemap dates them no later than the last sync that fetched them
    not_modified_since: int = 0
    # nested sitemaps not read: not newer than at the last sync
    sitemaps_unchanged: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # page list entries not fetched: not <base>/<NCT ID>.md, or a sitemap elsewhere
    refused: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _load_state(pages_dir: Path) -> dict[str, Any]:
    return read_json_object(pages_dir / STATE_FILE)


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
    full: bool = False,
    workers: int = 4,
    rate: float = 10.0,
    timeout: float = 30.0,
    retries: int = 3,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
    deadline: float = DEFAULT_DEADLINE,
    on_start: Any = None,
    progress: Any = None,
) -> SyncReport:
    """Bring the pages folder up to date with the mirror at base_url; `full`: ask for
    every page (conditionally), whatever the sitemap's lastmod says."""
    started = time.perf_counter()
    pages = Path(pages_dir)
    pages.mkdir(parents=True, exist_ok=True)
    session = make_session(retries, workers)
    report = SyncReport()
    try:
        state = _load_state(pages)
        known_sitemaps = {} if full else dict(state.get(SITEMAPS_KEY) or {})
        listed = discover(
            session, base_url, list_file, timeout, deadline, report.refused, known_sitemaps
        )
        report.sitemaps_unchanged = listed.unchanged_sitemaps
        targets = []
        for target in listed.targets:
            if not full and _dated_unchanged(target, state.get(target.nct), pages):
                report.not_modified_since += 1
            else:
                targets.append(target)
        if on_start:
            on_start(len(targets))
        limiter = RateLimiter(rate)
        new_state = dict(state)
        failed_in: set[str | None] = set()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(
                    fetch_one,
                    session,
                    target.nct,
                    target.url,
                    pages,
                    state,
                    timeout,
                    limiter,
                    max_page_bytes,
                    deadline,
                ): target
                for target in targets
            }
            for future, target in futures.items():
                nct = target.nct
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
                    report.failed.append({"nct_id": nct, "url": target.url, "reason": reason or ""})
                    failed_in.add(target.sitemap)
                if page_state is not None:
                    if target.lastmod is not None:
                        page_state = {**page_state, "lastmod": target.lastmod}
                    new_state[nct] = page_state
                if progress:
                    progress(1)
        # a sitemap is taken as read only if every page it listed came through
        sitemaps = dict(state.get(SITEMAPS_KEY) or {})
        sitemaps.update({url: at for url, at in listed.sitemaps.items() if url not in failed_in})
        new_state[SITEMAPS_KEY] = sitemaps
        write_bytes_atomic(pages / STATE_FILE, json.dumps(new_state, indent=0).encode())
    finally:
        session.close()
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "sync: %d fetched, %d unchanged, %d not modified since the last sync, %d gone, %d failed",
        len(report.fetched),
        report.unchanged,
        report.not_modified_since,
        len(report.gone),
        len(report.failed),
    )
    return report


def _dated_unchanged(target: Target, known: dict[str, Any] | None, pages: Path) -> bool:
    """The sitemap dates the page no later than when it was last fetched, and the local
    copy is there: nothing to ask."""
    if target.lastmod is None or not known or known.get("lastmod") is None:
        return False
    return target.lastmod <= float(known["lastmod"]) and (pages / f"{target.nct}.md").exists()
