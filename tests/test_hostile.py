"""A hostile mirror: every bad page is reported, every good one indexed, nothing escapes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import write_hostile

from indexer.index.build import reindex

CLI = str(Path(sys.executable).with_name("trialsearch"))
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr,\n"
    "  'seconds': time.perf_counter() - t,\n"
    "  'max_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n"
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return write_hostile(tmp_path_factory.mktemp("hostile") / "pages")


@pytest.fixture(scope="module")
def hostile_run(hostile, tmp_path_factory, start_server):
    """Reindex the hostile folder once, measuring time and peak memory of the process."""
    index = tmp_path_factory.mktemp("hostile_index")
    # first a clean index of the ordinary pages, served while the hostile reindex runs
    clean = tmp_path_factory.mktemp("clean")
    for page in hostile.root.glob("NCT0100*.md"):
        shutil.copy(page, clean / page.name)
    reindex(clean, index)
    server = start_server(index)
    try:
        before = server.get("/api/search?q=asthma").json()["total"]
        cmd = [
            sys.executable,
            "-c",
            MEASURE,
            CLI,
            "reindex",
            "--pages",
            str(hostile.root),
            "--index",
            str(index),
            "--json",
        ]
        measured = json.loads(
            subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
        )
        after = server.get("/api/search?q=asthma&per_page=100").json()
        health = server.get("/healthz")
    finally:
        server.stop()
    return {
        "index": index,
        "measured": measured,
        "before": before,
        "after": after,
        "health": health,
    }


def test_reindex_finishes_in_normal_time_and_memory(hostile_run):
    m = hostile_run["measured"]
    assert m["rc"] == 0, m["err"]
    print(f"\nhostile reindex: {m['seconds']:.1f} s, peak RSS {m['max_rss_mb']:.0f} MB")
    assert m["seconds"] < 120
    assert m["max_rss_mb"] < 1024


def test_every_bad_page_is_reported_with_its_reason(hostile, hostile_run):
    summary = json.loads(hostile_run["measured"]["out"])
    reasons = {item["file"]: item["reason"] for item in summary["skipped"]}
    reasons.update({d["file"]: "duplicate of " + d["kept"] for d in summary["duplicates"]})
    for name, word in hostile.bad.items():
        assert name in reasons, f"{name} was not reported"
        assert word.lower() in reasons[name].lower(), (name, reasons[name])
    assert set(reasons) == set(hostile.bad)


def test_every_good_page_around_them_is_indexed(hostile, hostile_run):
    summary = json.loads(hostile_run["measured"]["out"])
    assert summary["documents"] == len(hostile.good)
    from indexer.search.query import SearchIndex

    ix = SearchIndex(hostile_run["index"])
    try:
        for nct in hostile.good:
            assert ix.get_record(nct) is not None, nct
    finally:
        ix.close()


def test_no_link_is_followed_out_of_the_pages_folder(hostile_run):
    from indexer.search.query import SearchIndex
    from indexer.search.request import parse_params

    ix = SearchIndex(hostile_run["index"])
    try:
        assert ix.search(parse_params({"q": ["root"]})).total == 0  # /etc/passwd's words
    finally:
        ix.close()


def test_the_served_index_stayed_intact_and_followed(hostile_run):
    assert hostile_run["before"] == 40
    assert hostile_run["health"].status_code == 200
    assert hostile_run["after"]["total"] >= 41  # the ordinary pages plus the XSS one


def test_script_urls_never_reach_the_api(hostile_run):
    from indexer.search.query import SearchIndex

    ix = SearchIndex(hostile_run["index"])
    try:
        record = ix.get_record("NCT02000012")
    finally:
        ix.close()
    assert record["canonical_url"] is None and record["clinicaltrials_gov"] is None
    assert record["extra"]["canonical_url_refused"].startswith("javascript:")


@pytest.mark.browser
def test_no_script_runs_and_no_element_is_injected(browser, hostile_run, start_server):
    server = start_server(hostile_run["index"])
    try:
        for path in (
            "/search?q=asthma&per_page=100",
            "/search?q=pwned",
            "/search?q=%3Cscript%3E",
            "/search?sort=nct_id&per_page=100&facet_limit=500",
        ):
            browser.get(server.url + path)
            assert browser.execute_script("return window.__pwned") is None, path
            injected = browser.execute_script(
                "return document.querySelectorAll('main img, aside img, main script, "
                "aside script, [onerror]').length"
            )
            assert injected == 0, path
            hrefs = browser.execute_script(
                "return Array.from(document.links).map(a => a.getAttribute('href'))"
            )
            assert not [h for h in hrefs if h.lower().startswith("javascript:")], path
        browser.get(server.url + "/search?q=NCT02000012")
        text = browser.find_element("css selector", "[data-nct='NCT02000012'] h3").text
        assert "<script>" in text  # shown as text, as written
    finally:
        server.stop()
