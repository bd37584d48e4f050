"""Reindex after sync: incremental, guarded, locked, crash-safe, and invisible to users."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from indexer.index.build import GuardError, PagesDirError, full_build, reindex
from indexer.index.store import IndexStore, ReindexLocked
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params

from pagemaker import make_page, pages_for, write_pages

CLI = str(Path(sys.executable).with_name("trialsearch"))


def titles(index_dir: Path, q: str = "", **params) -> list[str]:
    ix = SearchIndex(index_dir)
    try:
        args = {"sort": ["nct_id"], "per_page": ["100"], **{k: [v] for k, v in params.items()}}
        if q:
            args["q"] = [q]
        return [h["title"] for h in ix.search(parse_params(args)).results]
    finally:
        ix.close()


def test_incremental_adds_updates_and_removes_exactly(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(10))
    first = reindex(pages, tmp_path / "ix")
    assert (first.mode, first.added, first.generation) == ("full", 10, 1)

    (pages / "NCT00000003.md").write_text(make_page("NCT00000003", "Changed study of asthma"))
    (pages / "NCT00000004.md").unlink()
    write_pages(pages, {"NCT00000011": make_page("NCT00000011", "New study of asthma")})
    report = reindex(pages, tmp_path / "ix")
    assert (report.mode, report.added, report.updated, report.removed, report.unchanged) == (
        "incremental",
        1,
        1,
        1,
        8,
    )
    assert report.generation == 2 and report.documents == 10

    found = titles(tmp_path / "ix", "asthma")
    assert found.count("Changed study of asthma") == 1  # once: no refresh() duplicates
    assert "Study 3 of asthma" not in found and "Study 4 of asthma" not in found
    assert "New study of asthma" in found and len(found) == 10


def test_unchanged_pages_are_not_rewritten(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(5))
    reindex(pages, tmp_path / "ix")
    (pages / "NCT00000002.md").write_text(make_page("NCT00000002", "Edited"))
    os.utime(pages / "NCT00000005.md")  # touched, content unchanged
    report = reindex(pages, tmp_path / "ix")
    assert (report.updated, report.unchanged) == (1, 4)
    manifest = IndexStore(tmp_path / "ix").read_manifest()
    generations = {path: entry["generation"] for path, entry in manifest.items()}
    assert generations == {
        "NCT00000001.md": 1,
        "NCT00000002.md": 2,
        "NCT00000003.md": 1,
        "NCT00000004.md": 1,
        "NCT00000005.md": 1,
    }
    assert manifest["NCT00000005.md"]["mtime_ns"] == (pages / "NCT00000005.md").stat().st_mtime_ns


def test_nothing_changed_makes_no_new_generation(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(3))
    reindex(pages, tmp_path / "ix")
    report = reindex(pages, tmp_path / "ix")
    assert (report.generation, report.unchanged, report.indexed) == (1, 3, 0)


def test_a_page_that_turns_bad_keeps_its_last_good_version(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(3))
    reindex(pages, tmp_path / "ix")
    (pages / "NCT00000002.md").write_text("---\ntitle: [broken\n---\n")
    report = reindex(pages, tmp_path / "ix")
    assert [s["file"] for s in report.skipped] == ["NCT00000002.md"]
    assert "Study 2 of asthma" in titles(tmp_path / "ix", "asthma")


@pytest.mark.parametrize(
    "bad",
    [
        "---\ntitle: [broken\n---\n",  # does not parse
        make_page("NCT00000002", "Huge") + "word " * 30_000,  # over the size limit
    ],
    ids=["unparsable", "oversized"],
)
def test_a_full_rebuild_keeps_what_an_incremental_reindex_kept(tmp_path, bad):
    """The issue's case: a page the reindex refuses replaced a good one; the next full
    rebuild must not drop the study under the removal guard."""
    pages = write_pages(tmp_path / "pages", pages_for(9))
    reindex(pages, tmp_path / "ix", max_page_bytes=100_000)
    (pages / "NCT00000002.md").write_text(bad)
    incremental = reindex(pages, tmp_path / "ix", max_page_bytes=100_000)
    assert incremental.kept_previous == [{"file": "NCT00000002.md", "nct_id": "NCT00000002"}]
    full = reindex(pages, tmp_path / "ix", full=True, max_page_bytes=100_000)
    assert full.mode == "full" and full.documents == 9 and full.removed == 0
    assert [s["file"] for s in full.skipped] == ["NCT00000002.md"]
    assert full.kept_previous == [{"file": "NCT00000002.md", "nct_id": "NCT00000002"}]
    assert "Study 2 of asthma" in titles(tmp_path / "ix", "asthma")
    # fixed, the page is read again and replaces the kept version
    (pages / "NCT00000002.md").write_text(make_page("NCT00000002", "Study 2, mended"))
    mended = reindex(pages, tmp_path / "ix", max_page_bytes=100_000)
    assert mended.updated == 1 and mended.kept_previous == []
    assert "Study 2, mended" in titles(tmp_path / "ix")


def test_a_study_whose_last_good_version_cannot_be_read_counts_against_the_guard(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(4))
    reindex(pages, tmp_path / "ix")
    (pages / "NCT00000002.md").write_text("---\ntitle: [broken\n---\n")
    store = IndexStore(tmp_path / "ix")
    for stored in store.generation_dir(store.current()).glob("*_stored.col"):
        stored.write_bytes(b"damaged")  # the live records are gone with it
    with pytest.raises(GuardError):
        reindex(pages, tmp_path / "ix", full=True, max_remove=0.2)
    report = reindex(pages, tmp_path / "ix", full=True, allow_removals=True)
    assert report.removed == 1 and report.kept_previous == [] and report.documents == 3


def test_a_moved_page_is_not_lost(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(5))
    reindex(pages, tmp_path / "ix")
    (pages / "sub").mkdir()
    (pages / "NCT00000001.md").rename(pages / "sub" / "NCT00000001.md")
    report = reindex(pages, tmp_path / "ix")
    assert report.removed == 0
    assert titles(tmp_path / "ix", "asthma").count("Study 1 of asthma") == 1


def test_full_rebuild_goes_to_a_new_generation_and_old_ones_are_cleaned(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(3))
    for _ in range(4):
        full_build(pages, tmp_path / "ix", procs=1)
    store = IndexStore(tmp_path / "ix")
    assert store.current().generation == 4
    store.cleanup(grace_seconds=0)
    assert sorted(p.name for p in (tmp_path / "ix").glob("gen-*")) == ["gen-000003", "gen-000004"]


def test_guard_rails_refuse_and_change_nothing(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(10))
    reindex(pages, tmp_path / "ix")
    for name in ("NCT00000001.md", "NCT00000002.md", "NCT00000003.md"):
        (pages / name).unlink()
    with pytest.raises(GuardError, match=r"remove 3 of 10 studies \(30%"):
        reindex(pages, tmp_path / "ix")
    with pytest.raises(GuardError):
        reindex(pages, tmp_path / "ix", full=True)
    assert IndexStore(tmp_path / "ix").current().generation == 1
    assert len(titles(tmp_path / "ix")) == 10
    assert reindex(pages, tmp_path / "ix", max_remove=0.5).removed == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PagesDirError, match="no \\*.md pages found"):
        reindex(empty, tmp_path / "ix")
    with pytest.raises(PagesDirError, match="does not exist"):
        reindex(tmp_path / "missing", tmp_path / "ix")


def test_guard_exit_code_and_allow_removals_through_the_cli(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(4))
    reindex(pages, tmp_path / "ix")
    (pages / "NCT00000001.md").unlink()
    (pages / "NCT00000002.md").unlink()
    refused = subprocess.run(
        [CLI, "reindex", "--pages", str(pages), "--index", str(tmp_path / "ix")],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 3 and "--allow-removals" in refused.stderr
    done = subprocess.run(
        [
            CLI,
            "reindex",
            "--pages",
            str(pages),
            "--index",
            str(tmp_path / "ix"),
            "--allow-removals",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["removed"] == 2


def test_one_reindex_at_a_time(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(3))
    store = IndexStore(tmp_path / "ix")
    with store.lock():
        with pytest.raises(ReindexLocked):
            reindex(pages, tmp_path / "ix")
        result = subprocess.run(
            [CLI, "reindex", "--pages", str(pages), "--index", str(tmp_path / "ix")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 4
        assert "another reindex is running" in result.stderr
    assert reindex(pages, tmp_path / "ix").added == 3  # the lock died with its holder


def test_two_concurrent_reindexes_one_wins(tmp_path, sample_pages):
    env = dict(
        os.environ,
        TRIALSEARCH_FAILPOINT="full_writing",
        TRIALSEARCH_FAILPOINT_SECONDS="3",
        TRIALSEARCH_FAILPOINT_FILE=str(tmp_path / "m"),
    )
    args = [CLI, "reindex", "--full", "--pages", str(sample_pages), "--index", str(tmp_path / "ix")]
    first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_file(tmp_path / "m")
    second = subprocess.run(args, capture_output=True, text=True)
    assert second.returncode == 4
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err


def wait_for_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.server
@pytest.mark.parametrize(
    "point, full",
    [
        ("full_writing", True),
        ("incremental_writing", False),
        ("before_swap", True),
        ("before_swap", False),
        ("after_swap", True),
    ],
)
def test_sigkill_at_any_point_leaves_the_service_answering(tmp_path, point, full, start_server):
    pages = write_pages(tmp_path / "pages", pages_for(30))
    reindex(pages, tmp_path / "ix", procs=1)
    write_pages(pages, {"NCT00000001": make_page("NCT00000001", "Renamed study of asthma")})
    server = start_server(tmp_path / "ix")
    try:
        marker = tmp_path / "reached"
        env = dict(os.environ, TRIALSEARCH_FAILPOINT=point, TRIALSEARCH_FAILPOINT_FILE=str(marker))
        cmd = [
            CLI,
            "reindex",
            "--pages",
            str(pages),
            "--index",
            str(tmp_path / "ix"),
            "--procs",
            "1",
        ] + (["--full"] if full else [])
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_file(marker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

        body = server.get("/api/search?q=asthma&per_page=100").json()
        assert body["total"] == 30
        health = server.get("/healthz")
        assert health.status_code == 200

        report = reindex(pages, tmp_path / "ix")
        assert not list((tmp_path / "ix").glob("*.building"))  # leftovers cleaned
        body = server.get("/api/search?q=renamed").json()
        assert [h["title"] for h in body["results"]] == ["Renamed study of asthma"]
        assert server.get("/api/search?q=asthma").json()["total"] == 30
        assert report.documents == 30
    finally:
        server.stop()


def test_a_killed_parallel_build_takes_its_writer_processes_and_lock_with_it(tmp_path):
    """Writer processes share the reindex lock; SIGKILL of the reindex must free it."""
    pages = write_pages(tmp_path / "pages", pages_for(400))
    marker = tmp_path / "reached"
    env = dict(
        os.environ, TRIALSEARCH_FAILPOINT="full_writing", TRIALSEARCH_FAILPOINT_FILE=str(marker)
    )
    cmd = [
        CLI,
        "reindex",
        "--full",
        "--procs",
        "2",
        "--pages",
        str(pages),
        "--index",
        str(tmp_path / "ix"),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_file(marker)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    deadline = time.monotonic() + 10
    while True:  # the writers die with their parent; until then the lock is theirs
        try:
            report = reindex(pages, tmp_path / "ix", procs=2)
            break
        except ReindexLocked:
            assert time.monotonic() < deadline, "writer processes outlived the killed reindex"
            time.sleep(0.2)
    assert report.documents == 400
    assert not list((tmp_path / "ix").glob("*.building"))


@pytest.mark.server
def test_zero_failed_requests_while_reindexing(tmp_path, sample_pages, start_server):
    """Concurrent clients hammer gunicorn while a full rebuild and incremental runs swap."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for page in sample_pages.glob("*.md"):
        (pages / page.name).write_text(page.read_text())
    reindex(pages, tmp_path / "ix", procs=1)
    server = start_server(tmp_path / "ix", workers=2)
    stop = threading.Event()
    failures: list[str] = []
    counts = {"ok": 0}
    queries = [
        "/api/search?q=asthma",
        "/api/search?status=RECRUITING&facet_limit=50",
        "/search?q=heart&phase=PHASE2",
        "/api/search?q=zzzmarker",
        "/healthz",
    ]

    def client(offset: int) -> None:
        session = requests.Session()
        i = offset
        deadline = time.monotonic() + 120  # bounded, whatever happens
        while not stop.is_set() and time.monotonic() < deadline:
            url = server.url + queries[i % len(queries)]
            i += 1
            try:
                resp = session.get(url, timeout=10)
                if resp.status_code != 200:
                    failures.append(f"{url}: HTTP {resp.status_code}")
                else:
                    counts["ok"] += 1
            except requests.RequestException as exc:
                failures.append(f"{url}: {exc}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        reindex(pages, tmp_path / "ix", full=True)
        for round_ in range(3):
            name = f"NCT9{round_:07d}.md"
            text = (
                (pages / name)
                .read_text()
                .replace("## Brief Summary\n\n", "## Brief Summary\n\nzzzmarker ")
            )
            (pages / name).write_text(text)
            reindex(pages, tmp_path / "ix")
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    try:
        assert failures == []
        assert counts["ok"] > 50
        after = server.get("/api/search?q=zzzmarker").json()
        assert after["total"] == 3 and after["index"]["generation"] == 5
    finally:
        server.stop()
