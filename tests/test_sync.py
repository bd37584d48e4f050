"""`trialsearch sync` against a local mirror on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from indexer.errors import SyncError
from indexer.pages.sync import STATE_FILE, sync

from pagemaker import make_page

CLI = str(Path(sys.executable).with_name("trialsearch"))
IDS = [f"NCT{i:08d}" for i in range(1, 9)]


class Mirror:
    """A mirror whose pages can be told to fail in the ways real servers do."""

    def __init__(self) -> None:
        self.pages = {nct: make_page(nct, f"Study {nct} of asthma").encode() for nct in IDS}
        self.faults: dict[str, str] = {}
        self.extra_locs: list[str] = []
        self.requests: list[tuple[str, dict]] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - the http.server API
                mirror.requests.append((self.path, dict(self.headers)))
                if self.path == "/sitemap.xml":
                    locs = "".join(
                        f"<url><loc>http://127.0.0.1:{mirror.port}/{n}.md</loc></url>" for n in IDS
                    ) + "".join(
                        f"<url><loc>{html.escape(loc)}</loc></url>" for loc in mirror.extra_locs
                    )
                    return self._send(
                        200,
                        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
                        b'schemas/sitemap/0.9">' + locs.encode() + b"</urlset>",
                        "application/xml",
                    )
                nct = self.path.strip("/").removesuffix(".md")
                fault = mirror.faults.get(nct)
                if nct not in mirror.pages or fault == "404":
                    return self._send(404, b"not found", "text/plain")
                body = mirror.pages[nct]
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                if fault == "500":
                    return self._send(500, b"oops", "text/plain")
                if fault == "slow":
                    time.sleep(1.5)
                if fault in ("trickle_body", "trickle_headers"):
                    return self._trickle(body, headers_too=fault == "trickle_headers")
                if fault and fault.startswith("retry_after:"):
                    seconds, _, then = fault.removeprefix("retry_after:").partition(":")
                    if then == "once":  # answer the retry
                        mirror.faults.pop(nct)
                    self.send_response(503)
                    self.send_header("Retry-After", seconds)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if fault == "html":
                    return self._send(200, b"<!DOCTYPE html><html>Service down</html>", "text/html")
                if fault == "truncated":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return None
                if fault and fault.startswith("redirect:"):
                    self.send_response(302)
                    self.send_header("Location", fault.removeprefix("redirect:"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if fault == "bomb":  # 20 KB on the wire, 64 MB unpacked
                    packed = gzip.compress(body + b" " * (64 * 1024 * 1024), compresslevel=9)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/markdown")
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(packed)))
                    self.end_headers()
                    self.wfile.write(packed)
                    return None
                if fault == "wrong_id":
                    body = make_page("NCT99999999", "Someone else").encode()
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, etag)
                return self._send(200, body, "text/markdown; charset=utf-8", etag)

            def _trickle(self, body, headers_too):
                """One byte every 0.25 s for 8 s, each byte well within --timeout."""
                head = (
                    f"HTTP/1.1 200 OK\r\nContent-Type: text/markdown\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                slow, fast = (head + body, b"") if headers_too else (body, b"")
                try:
                    if not headers_too:
                        self.wfile.write(head)
                    for i in range(32):
                        self.wfile.write(slow[i : i + 1])
                        self.wfile.flush()
                        time.sleep(0.25)
                    self.wfile.write(slow[32:] + fast)
                except OSError:
                    pass  # the client gave up: as it should
                return None

            def _send(self, status, body, kind, etag=None):
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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror():
    m = Mirror()
    yield m
    m.close()


def run_sync(mirror, pages, **kwargs):
    return sync(mirror.url, pages, timeout=1.0, retries=1, rate=200, **kwargs)


def test_first_sync_fetches_every_page_from_the_sitemap(mirror, tmp_path):
    report = run_sync(mirror, tmp_path / "pages")
    assert sorted(report.fetched) == IDS and report.failed == []
    assert (tmp_path / "pages" / "NCT00000001.md").read_bytes() == mirror.pages["NCT00000001"]
    state = json.loads((tmp_path / "pages" / STATE_FILE).read_text())
    assert state["NCT00000001"]["etag"].startswith('"')


def test_second_sync_uses_conditional_gets(mirror, tmp_path):
    run_sync(mirror, tmp_path / "pages")
    mirror.pages["NCT00000002"] = make_page("NCT00000002", "Changed asthma study").encode()
    mirror.requests.clear()
    report = run_sync(mirror, tmp_path / "pages")
    assert report.fetched == ["NCT00000002"] and report.unchanged == 7
    conditional = [h for p, h in mirror.requests if p.endswith(".md") and "If-None-Match" in h]
    assert len(conditional) == 8
    assert b"Changed asthma study" in (tmp_path / "pages" / "NCT00000002.md").read_bytes()


def test_faults_never_overwrite_a_good_page(mirror, tmp_path):
    pages = tmp_path / "pages"
    run_sync(mirror, pages)
    good = {n: (pages / f"{n}.md").read_bytes() for n in IDS}
    (pages / STATE_FILE).unlink()  # no ETags: every page is fetched in full again
    for nct in IDS:
        mirror.pages[nct] = make_page(nct, f"Updated {nct}").encode()
    mirror.faults = {
        "NCT00000001": "500",
        "NCT00000002": "slow",
        "NCT00000003": "html",
        "NCT00000004": "truncated",
        "NCT00000005": "wrong_id",
    }
    report = run_sync(mirror, pages)
    reasons = {f["nct_id"]: f["reason"] for f in report.failed}
    assert set(reasons) == {
        "NCT00000001",
        "NCT00000002",
        "NCT00000003",
        "NCT00000004",
        "NCT00000005",
    }
    assert "500" in reasons["NCT00000001"] or "Retry" in reasons["NCT00000001"]
    assert "Timeout" in reasons["NCT00000002"]
    assert reasons["NCT00000003"] == "served an HTML page, not a mirror page"
    assert (
        "ChunkedEncodingError" in reasons["NCT00000004"]
        or "ConnectionError" in reasons["NCT00000004"]
    )
    assert "not a valid mirror page" in reasons["NCT00000005"]
    for nct in reasons:
        assert (pages / f"{nct}.md").read_bytes() == good[nct]
    assert sorted(report.fetched) == ["NCT00000006", "NCT00000007", "NCT00000008"]
    assert not list(pages.glob(".*.tmp"))  # no temp files left behind


def test_pages_gone_upstream_are_deleted_only_when_asked(mirror, tmp_path):
    pages = tmp_path / "pages"
    run_sync(mirror, pages)
    mirror.faults = {"NCT00000008": "404"}
    kept = run_sync(mirror, pages)
    assert kept.gone == ["NCT00000008"] and kept.deleted == []
    assert (pages / "NCT00000008.md").exists()
    removed = run_sync(mirror, pages, delete=True)
    assert removed.deleted == ["NCT00000008"]
    assert not (pages / "NCT00000008.md").exists()


def test_a_list_file_of_ids_and_urls(mirror, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# wanted\nNCT00000003\n{mirror.url}/NCT00000004.md\n\n")
    report = run_sync(mirror, tmp_path / "pages", list_file=listing)
    assert sorted(report.fetched) == ["NCT00000003", "NCT00000004"]


def test_an_unreachable_mirror_changes_nothing(tmp_path):
    with pytest.raises(SyncError, match="cannot fetch"):
        sync("http://127.0.0.1:9", tmp_path / "pages", timeout=0.5, retries=0)


def test_sync_then_reindex_through_the_cli(mirror, tmp_path):
    pages, index = tmp_path / "pages", tmp_path / "ix"
    result = subprocess.run(
        [CLI, "sync", "--from", mirror.url, "--pages", str(pages), "--json", "--timeout", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["fetched"]) == 8
    result = subprocess.run(
        [CLI, "reindex", "--pages", str(pages), "--index", str(index), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(result.stdout)["added"] == 8
    bad = subprocess.run(
        [
            CLI,
            "sync",
            "--from",
            "http://127.0.0.1:9",
            "--pages",
            str(pages),
            "--timeout",
            "0.5",
            "--retries",
            "0",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 6 and "cannot fetch" in bad.stderr


def test_a_decompression_bomb_or_an_oversized_page_is_refused_and_the_rest_synced(mirror, tmp_path):
    pages = tmp_path / "pages"
    run_sync(mirror, pages)
    good = (pages / "NCT00000001.md").read_bytes()
    (pages / STATE_FILE).unlink()
    mirror.faults = {"NCT00000001": "bomb"}
    big = make_page("NCT00000002", "Huge") + "\n" + "word " * 30_000  # 150 KB
    mirror.pages["NCT00000002"] = big.encode()
    mirror.pages["NCT00000003"] = make_page("NCT00000003", "Changed study").encode()
    report = run_sync(mirror, pages, max_page_bytes=100_000)
    reasons = dict((item["nct_id"], item["reason"]) for item in report.failed)
    assert "over the 100000-byte limit" in reasons["NCT00000001"]
    assert "over the 100000-byte limit" in reasons["NCT00000002"]
    assert (pages / "NCT00000001.md").read_bytes() == good
    assert b"Huge" not in (pages / "NCT00000002.md").read_bytes()
    assert b"Changed study" in (pages / "NCT00000003.md").read_bytes()


def test_only_pages_under_the_base_url_are_fetched_and_redirects_stay_inside(mirror, tmp_path):
    mirror.extra_locs = [
        f"http://127.0.0.1:{mirror.port}/latest/meta-data/iam/#NCT00000011",
        f"http://127.0.0.1:{mirror.port}/admin/delete?all=1&NCT00000012",
        "http://169.254.169.254/NCT00000013.md",
    ]
    mirror.faults = {
        "NCT00000001": "redirect:http://localhost:1/NCT00000001.md",
        "NCT00000002": "redirect:http://127.0.0.1:1/NCT00000002.md",
        "NCT00000003": "redirect:/NCT00000004.md",
    }
    mirror.requests.clear()
    report = run_sync(mirror, tmp_path / "pages")
    asked = [path for path, _ in mirror.requests]
    assert not [p for p in asked if "meta-data" in p or "admin" in p]
    reasons = {item["nct_id"]: item["reason"] for item in report.failed}
    assert "outside the mirror" in reasons["NCT00000001"]
    assert "outside the mirror" in reasons["NCT00000002"]
    # a redirect within the base is followed (the page it leads to names another study,
    # which the ID check then refuses)
    assert "NCT00000004" in reasons["NCT00000003"]
    assert not (tmp_path / "pages" / "NCT00000011.md").exists()
    assert sorted(report.fetched) == IDS[3:]


def test_a_trickled_page_fails_at_the_deadline_and_the_rest_sync(mirror, tmp_path):
    """Each byte arrives within --timeout, so only a deadline for the whole page ends it."""
    mirror.faults = {"NCT00000001": "trickle_body", "NCT00000002": "trickle_headers"}
    started = time.monotonic()
    report = run_sync(mirror, tmp_path / "pages", deadline=2.0)
    took = time.monotonic() - started
    reasons = {item["nct_id"]: item["reason"] for item in report.failed}
    assert "2-second deadline" in reasons["NCT00000001"]
    assert "2-second deadline" in reasons["NCT00000002"]
    assert sorted(report.fetched) == IDS[2:]
    assert took < 6, f"the sync took {took:.1f} s; each trickle lasts 8 s"
    assert not (tmp_path / "pages" / "NCT00000001.md").exists()


def test_a_long_retry_after_fails_the_page_now_and_a_short_one_is_waited_for(mirror, tmp_path):
    mirror.faults = {"NCT00000001": "retry_after:86400", "NCT00000002": "retry_after:1:once"}
    started = time.monotonic()
    report = run_sync(mirror, tmp_path / "pages")
    took = time.monotonic() - started
    reasons = {item["nct_id"]: item["reason"] for item in report.failed}
    assert list(reasons) == ["NCT00000001"]
    assert "Retry-After: 86400" in reasons["NCT00000001"]
    assert "NCT00000002" in report.fetched  # after waiting the 1 s it was asked to
    assert 1 <= took < 10


def test_page_list_entries_that_are_not_fetched_are_reported(mirror, tmp_path):
    mirror.extra_locs = [
        f"http://127.0.0.1:{mirror.port}/admin/delete?all=1&NCT00000012",
        f"http://127.0.0.1:{mirror.port}/about.html",
    ]
    report = run_sync(mirror, tmp_path / "pages")
    refused = {item["url"]: item["reason"] for item in report.refused}
    assert "not of the form" in refused[mirror.extra_locs[0]]
    assert refused[mirror.extra_locs[1]] == "no NCT ID in it"
    assert sorted(report.fetched) == IDS
