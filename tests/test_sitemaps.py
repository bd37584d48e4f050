"""Sync by change: the sitemap's lastmod decides what is asked for, and hostile
sitemaps (entity bombs, external entities, gzip bombs, endless streams) are refused."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from indexer.errors import SyncError
from indexer.pages.sitemaps import MAX_SITEMAP_BYTES, read_lastmod
from indexer.pages.sync import STATE_FILE, sync

from pagemaker import make_page

GROUPS = {"a": [f"NCT{i:08d}" for i in range(1, 21)], "b": [f"NCT{i:08d}" for i in range(21, 41)]}


class DatedMirror:
    """Pages in two sitemaps under a sitemap index, each dated with <lastmod>."""

    def __init__(self) -> None:
        self.pages = {n: make_page(n, f"Study {n}").encode() for g in GROUPS.values() for n in g}
        self.dates = dict.fromkeys(self.pages, "2026-11-01T08:00:00Z")
        self.sitemap_dates = dict.fromkeys(GROUPS, "2026-11-01")
        self.undated: set[str] = set()
        self.failing: set[str] = set()
        self.index_body: bytes | None = None  # replaces the sitemap index when set
        self.stream_forever = False
        self.asked: list[str] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - the http.server API
                mirror.asked.append(self.path)
                base = f"http://127.0.0.1:{mirror.port}"
                if self.path == "/sitemap.xml":
                    if mirror.stream_forever:
                        return self._endless()
                    if mirror.index_body is not None:
                        return self._send(200, mirror.index_body)
                    items = "".join(
                        f"<sitemap><loc>{base}/sitemap-{g}.xml.gz</loc>"
                        f"<lastmod>{mirror.sitemap_dates[g]}</lastmod></sitemap>"
                        for g in GROUPS
                    )
                    return self._send(200, _xml("sitemapindex", items))
                for group, ids in GROUPS.items():
                    if self.path == f"/sitemap-{group}.xml.gz":
                        urls = "".join(
                            f"<url><loc>{base}/{n}.md</loc>"
                            + (
                                ""
                                if n in mirror.undated
                                else f"<lastmod>{mirror.dates[n]}</lastmod>"
                            )
                            + "</url>"
                            for n in ids
                        )
                        return self._send(
                            200, gzip.compress(_xml("urlset", urls)), "application/gzip"
                        )
                nct = self.path.strip("/").removesuffix(".md")
                if nct in mirror.failing:
                    return self._send(500, b"oops", "text/plain")
                if nct not in mirror.pages:
                    return self._send(404, b"", "text/plain")
                etag = f'"{hash(mirror.pages[nct])}"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, etag)
                return self._send(200, mirror.pages[nct], "text/markdown", etag)

            def _endless(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.end_headers()
                chunk = b"<urlset>" + b" " * (1024 * 1024)
                try:
                    for _ in range(1024):  # a gigabyte, if the client reads it all
                        self.wfile.write(chunk)
                except OSError:
                    pass

            def _send(self, status, body, kind="application/xml", etag=None):
                self.send_response(status)
                if kind:
                    self.send_header("Content-Type", kind)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def change(self, nct: str, when: str) -> None:
        self.pages[nct] = make_page(nct, f"Study {nct}, amended {when}").encode()
        self.dates[nct] = when
        group = next(g for g, ids in GROUPS.items() if nct in ids)
        self.sitemap_dates[group] = max(self.sitemap_dates[group], when)

    def pages_asked(self) -> list[str]:
        asked = [p.strip("/").removesuffix(".md") for p in self.asked if p.endswith(".md")]
        self.asked.clear()
        return sorted(asked)


def _xml(root: str, items: str) -> bytes:
    return (
        f'<?xml version="1.0"?><{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{items}</{root}>"
    ).encode()


@pytest.fixture
def mirror():
    m = DatedMirror()
    yield m
    m.server.shutdown()
    m.server.server_close()


def run(mirror, pages, **kwargs):
    return sync(mirror.url, pages, timeout=2.0, retries=0, rate=1000, **kwargs)


def test_only_the_pages_dated_after_the_last_sync_are_asked_for(mirror, tmp_path):
    pages = tmp_path / "pages"
    first = run(mirror, pages)
    assert len(first.fetched) == 40 and mirror.pages_asked() == sorted(mirror.pages)
    changed = ["NCT00000003", "NCT00000007", "NCT00000011"]
    for nct in changed:
        mirror.change(nct, "2026-11-20T10:00:00Z")
    second = run(mirror, pages)
    assert sorted(second.fetched) == changed
    assert mirror.pages_asked() == changed  # nothing else was asked for
    assert second.not_modified_since == 17
    # the other sitemap's lastmod did not move: it was not even read
    assert second.sitemaps_unchanged == [f"{mirror.url}/sitemap-b.xml.gz"]
    assert "/sitemap-b.xml.gz" not in mirror.asked
    for nct in changed:
        assert "amended" in (pages / f"{nct}.md").read_text()
    third = run(mirror, pages)
    assert third.fetched == [] and mirror.pages_asked() == []


def test_undated_pages_are_asked_conditionally_and_full_asks_for_everything(mirror, tmp_path):
    pages = tmp_path / "pages"
    mirror.undated = {"NCT00000002", "NCT00000030"}
    run(mirror, pages)
    mirror.pages_asked()
    mirror.sitemap_dates["b"] = "2026-11-02"  # read again: its undated page is asked
    again = run(mirror, pages)
    assert mirror.pages_asked() == ["NCT00000030"] and again.unchanged == 1
    full = run(mirror, pages, full=True)
    assert mirror.pages_asked() == sorted(mirror.pages)
    assert full.unchanged == 40 and full.fetched == []


def test_a_page_that_failed_is_asked_again_by_the_next_sync(mirror, tmp_path):
    pages = tmp_path / "pages"
    run(mirror, pages)
    mirror.pages_asked()
    mirror.change("NCT00000005", "2026-11-21")
    mirror.change("NCT00000006", "2026-11-21")
    mirror.failing = {"NCT00000005"}
    report = run(mirror, pages)
    assert report.fetched == ["NCT00000006"] and [f["nct_id"] for f in report.failed] == [
        "NCT00000005"
    ]
    mirror.pages_asked()
    mirror.failing = set()
    retried = run(mirror, pages)  # its sitemap is read again, though its lastmod did not move
    assert retried.fetched == ["NCT00000005"] and mirror.pages_asked() == ["NCT00000005"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<urlset><url><loc>&lol3;</loc></url></urlset>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>&xxe;</loc></url></urlset>"""


@pytest.mark.parametrize(
    "hostile, said",
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL_ENTITY, "DTD"),
        (gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 1024)), "unpacks to over"),
        (b"<urlset><url><loc>never closed", "not a valid sitemap"),
        (None, "over the"),  # an endless stream
    ],
    ids=["billion-laughs", "external-entity", "gzip-bomb", "malformed", "1-GB-stream"],
)
def test_a_hostile_sitemap_is_refused_with_a_reason_and_nothing_changes(
    mirror, tmp_path, hostile, said
):
    pages = tmp_path / "pages"
    run(mirror, pages)
    before = {p.name: p.read_bytes() for p in pages.iterdir()}
    mirror.pages_asked()
    if hostile is None:
        mirror.stream_forever = True
    else:
        mirror.index_body = hostile
    with pytest.raises(SyncError) as info:
        run(mirror, pages)
    assert said in str(info.value)
    assert {p.name: p.read_bytes() for p in pages.iterdir()} == before
    assert mirror.pages_asked() == []
    assert json.loads((pages / STATE_FILE).read_text())  # the state is the last good one


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-27", "2026-11-27T00:00:00+00:00"),
        ("2026-11", "2026-11-01T00:00:00+00:00"),
        ("2026", "2026-01-01T00:00:00+00:00"),
        ("2026-11-27T09:30Z", "2026-11-27T09:30:00+00:00"),
        ("2026-11-27T10:30:00+01:00", "2026-11-27T09:30:00+00:00"),
        (" 2026-11-27T09:30:00.5Z ", "2026-11-27T09:30:00.500000+00:00"),
    ],
)
def test_lastmod_reads_the_w3c_datetime_forms(text, expected):
    import datetime as dt

    assert read_lastmod(text) == dt.datetime.fromisoformat(expected).timestamp()


@pytest.mark.parametrize("text", [None, "", "yesterday", "2026-13-01", "٢٠٢٦-11-01"])
def test_an_unreadable_lastmod_is_none(text):
    assert read_lastmod(text) is None
