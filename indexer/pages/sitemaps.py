"""The mirror's page list: its sitemap (or a list file), read as untrusted input.

A sitemap says when each page last changed (`<lastmod>`), and a sitemap index when
each of its sitemaps did, so a sync needs to fetch only what changed since the
last one: at 560,000 pages and a polite 5 requests/s, asking for every page is 31
hours, while 0.1% changed is minutes. What was read is kept in the sync state by
sync.py; this module only reads lists.

Sitemaps are parsed with defusedxml (no DTDs, so no entity expansion and no
external entities), capped at the protocol's 50 MB uncompressed, gzip (`.xml.gz`)
included, and only URLs of the form `<base>/<NCT ID>.md` are kept: the rest is
reported as refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from ..errors import SyncError
from .fetch import FetchRefused, fetch_capped, with_deadline, within
from .values import NCT_ID_ANY_CASE

log = logging.getLogger(__name__)

# the sitemap protocol's own limit for one file, uncompressed
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
SITEMAP_DEADLINES = 10  # a sitemap may take ten times a page's deadline
_NCT_IN_URL = re.compile(r"(NCT\d{8})(?:\.md)?(?:[?#].*)?$", re.ASCII | re.IGNORECASE)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Target:
    """One page to bring up to date: its NCT ID, URL, and the sitemap's word on when it
    last changed (Unix time; None when the list does not say)."""

    nct: str
    url: str
    lastmod: float | None = None
    sitemap: str | None = None  # the nested sitemap that listed it


@dataclass
class PageList:
    targets: list[Target]
    # nested sitemaps read this run, with their lastmod (to remember if all goes well)
    sitemaps: dict[str, float] = field(default_factory=dict)
    # nested sitemaps not read: their lastmod is not newer than at the last sync
    unchanged_sitemaps: list[str] = field(default_factory=list)


def read_lastmod(text: str | None) -> float | None:
    """A W3C datetime (2026-11-27, 2026-11-27T09:30Z, …+01:00) as Unix time; None for
    none or what cannot be read (such a page is then asked conditionally)."""
    if not text:
        return None
    text = text.strip()
    if re.fullmatch(r"\d{4}(-\d{2})?", text, re.ASCII):
        text = (text + "-01-01")[:10] if len(text) == 4 else text + "-01"
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def discover(
    session: requests.Session,
    base_url: str,
    list_file: Path | None,
    timeout: float,
    deadline: float,
    refused: list[dict[str, str]],
    known_sitemaps: dict[str, float] | None = None,
) -> PageList:
    """The pages to sync, from a list file or the sitemap.xml at the base URL. A nested
    sitemap whose lastmod is not newer than in `known_sitemaps` is not read (None:
    read every one). Entries not fetched are added to `refused` with the reason."""
    base = base_url.rstrip("/") + "/"
    found = PageList(targets=[])
    entries: list[tuple[str, float | None, str | None]] = []
    if list_file is not None:
        try:
            lines = list_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SyncError(f"cannot read {list_file}: {exc.strerror}") from exc
        for line in lines:
            item = line.strip()
            if item and not item.startswith("#"):
                url = (
                    urljoin(base, f"{item.upper()}.md") if NCT_ID_ANY_CASE.fullmatch(item) else item
                )
                entries.append((url, None, None))
    else:
        reader = _Reader(session, base, timeout, deadline, refused, known_sitemaps, found)
        entries = reader.read(urljoin(base, "sitemap.xml"), nested=False)
    pairs: dict[str, Target] = {}
    for url, lastmod, sitemap in entries:
        match = _NCT_IN_URL.search(url)
        if not match:
            refused.append({"url": url, "reason": "no NCT ID in it"})
            continue
        nct = match.group(1).upper()
        # only <base><NCT ID>.md: a sitemap must not send the sync anywhere else
        # (cloud metadata addresses, admin URLs with query strings, other hosts)
        if url != urljoin(base, f"{nct}.md"):
            log.warning("refused %s: only %s<NCT ID>.md is fetched", url, base)
            refused.append({"url": url, "reason": f"not of the form {base}<NCT ID>.md"})
            continue
        pairs.setdefault(nct, Target(nct, url, lastmod, sitemap))
    if not pairs and not found.unchanged_sitemaps:
        raise SyncError("no study pages found to sync (empty list or sitemap)")
    found.targets = sorted(pairs.values(), key=lambda target: target.nct)
    return found


@dataclass
class _Reader:
    session: requests.Session
    base: str
    timeout: float
    deadline: float
    refused: list[dict[str, str]]
    known: dict[str, float] | None
    found: PageList

    def read(self, url: str, nested: bool) -> list[tuple[str, float | None, str | None]]:
        """(page URL, lastmod, nested sitemap) of every page the sitemap lists."""
        root = _parse(url, self._fetch(url))
        kind = root.tag.rsplit("}", 1)[-1]
        entries = [_entry(element) for element in root if element.tag.endswith(("url", "sitemap"))]
        if kind != "sitemapindex":
            return [(loc, lastmod, url if nested else None) for loc, lastmod in entries if loc]
        if nested:
            self.refused.append({"url": url, "reason": "a sitemap index in a sitemap index"})
            return []
        pages: list[tuple[str, float | None, str | None]] = []
        for loc, lastmod in entries:
            if not loc:
                continue
            if not within(loc, self.base):  # a sitemap index must not send the sync elsewhere
                log.warning("refused sitemap %s: it is not under %s", loc, self.base)
                self.refused.append({"url": loc, "reason": f"a sitemap not under {self.base}"})
                continue
            before = (self.known or {}).get(loc)
            if self.known is not None and lastmod is not None and before is not None:
                if lastmod <= before:
                    self.found.unchanged_sitemaps.append(loc)
                    continue
            if lastmod is not None:
                self.found.sitemaps[loc] = lastmod
            pages += self.read(loc, nested=True)
        return pages

    def _fetch(self, url: str) -> bytes:
        try:
            resp, body = with_deadline(
                self.deadline * SITEMAP_DEADLINES,
                lambda at: fetch_capped(
                    self.session,
                    url,
                    self.base,
                    MAX_SITEMAP_BYTES,
                    timeout=self.timeout,
                    deadline_at=at,
                ),
            )
        except requests.RequestException as exc:
            raise SyncError(f"cannot fetch {url}: {exc.__class__.__name__}") from exc
        except FetchRefused as exc:
            raise SyncError(f"cannot use {url}: {exc}") from exc
        if resp.status_code != 200:
            raise SyncError(f"cannot fetch {url}: HTTP {resp.status_code}")
        return _gunzipped(url, body) if body[:2] == _GZIP_MAGIC else body


def _gunzipped(url: str, body: bytes) -> bytes:
    """A gzip sitemap file (`.xml.gz`), unpacked to at most MAX_SITEMAP_BYTES."""
    unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = unpacker.decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise SyncError(f"{url} is not valid gzip: {exc}") from exc
    if len(data) > MAX_SITEMAP_BYTES or unpacker.unconsumed_tail:
        raise SyncError(f"{url} unpacks to over {MAX_SITEMAP_BYTES} bytes (refused)")
    return data


def _parse(url: str, body: bytes):
    try:
        return fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SyncError(f"{url} refused: {exc} (a sitemap needs no DTD or entities)") from exc
    except ParseError as exc:
        raise SyncError(f"{url} is not a valid sitemap: {exc}") from exc


def _entry(element) -> tuple[str | None, float | None]:
    loc = lastmod = None
    for child in element:
        name = child.tag.rsplit("}", 1)[-1]
        if name == "loc" and child.text:
            loc = child.text.strip()
        elif name == "lastmod":
            lastmod = read_lastmod(child.text)
    return loc, lastmod
