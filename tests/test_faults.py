"""Faults the service survives: a worker killed mid-request, a damaged index, a full disk."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from indexer.index.build import reindex
from indexer.index.store import IndexStore

from pagemaker import make_page, pages_for, write_pages

pytestmark = pytest.mark.server
CLI = str(Path(sys.executable).with_name("trialsearch"))


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)


def live_dir(index: Path) -> Path:
    store = IndexStore(index)
    return store.generation_dir(store.current())


@pytest.fixture
def small_index(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(30))
    reindex(pages, tmp_path / "ix", procs=1)
    return pages, tmp_path / "ix"


def test_a_worker_killed_mid_request_is_replaced_and_others_are_unaffected(
    tmp_path, small_index, start_server
):
    _, index = small_index
    marker = tmp_path / "in-request"
    server = start_server(
        index,
        workers=2,
        env={"TRIALSEARCH_FAILPOINT": "search_request", "TRIALSEARCH_FAILPOINT_FILE": str(marker)},
    )
    try:
        before = server.worker_pids()
        assert len(before) == 2
        outcome: dict[str, object] = {}

        def stuck_request() -> None:
            try:
                outcome["status"] = server.get("/api/search?q=asthma").status_code
            except requests.RequestException as exc:
                outcome["error"] = exc

        stuck = threading.Thread(target=stuck_request)
        stuck.start()
        victim = int(
            wait_for(lambda: marker.exists() and marker.read_text(), what="request").split()[1]
        )
        assert victim in before
        os.kill(victim, signal.SIGKILL)
        # other requests go on being answered while the master replaces the worker
        for _ in range(20):
            assert server.get("/api/trials/NCT00000007").json()["nct_id"] == "NCT00000007"
            assert server.get("/healthz").status_code == 200
        stuck.join(timeout=30)
        assert not stuck.is_alive()
        assert "error" in outcome or outcome.get("status") == 502  # the lost request fails fast

        def replaced() -> set[int] | None:
            pids = server.worker_pids()
            return pids if len(pids) == 2 and victim not in pids else None

        after = wait_for(replaced, what="worker replacement")
        assert len(after - before) == 1
        assert server.get("/healthz").json()["index"]["documents"] == 30
    finally:
        server.stop()


def _corrupt_segments(index: Path) -> None:
    """Zero the terms and postings of every segment (and any compound segment file)."""
    damaged = 0
    for pattern in ("*.trm", "*.pst", "*.seg"):
        for segment in live_dir(index).glob(pattern):
            segment.write_bytes(b"\0" * segment.stat().st_size)
            damaged += 1
    assert damaged


def _remove_live_folder(index: Path) -> None:
    shutil.rmtree(live_dir(index))


@pytest.mark.parametrize("damage", [_corrupt_segments, _remove_live_folder])
def test_a_damaged_index_answers_503_with_a_reason_and_a_reindex_repairs_it(
    small_index, damage, start_server
):
    pages, index = small_index
    server = start_server(index, workers=2)
    try:
        for _ in range(4):  # every worker has the index open before the damage
            assert server.get("/api/search?q=asthma").json()["total"] == 30
        damage(index)

        health = server.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable" and health.json()["reason"]
        assert str(index) not in health.text  # no paths leak
        for _ in range(4):  # whichever worker answers, it notices the damage
            search = server.get("/api/search?q=asthma")
            assert search.status_code == 503
            assert search.json()["error"]["code"] == "index_unavailable"
        page = server.get("/?q=asthma")
        assert page.status_code == 503 and "not available right now" in page.text

        result = subprocess.run(
            [CLI, "reindex", "--pages", str(pages), "--index", str(index), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "rebuilding in full" in result.stderr
        assert server.get("/healthz").status_code == 200
        for _ in range(4):
            assert server.get("/api/search?q=asthma").json()["total"] == 30
    finally:
        server.stop()


def _served_titles(server) -> list[str]:
    body = server.get("/api/search?q=asthma&per_page=100&sort=nct_id").json()
    return [hit["title"] for hit in body["results"]]


@pytest.mark.parametrize("point", ["full_writing", "before_swap"])
def test_a_full_disk_fails_the_reindex_clearly_and_leaves_the_served_index(
    small_index, point, start_server
):
    """ENOSPC raised where the disk would raise it (the real thing is the next test)."""
    pages, index = small_index
    write_pages(pages, {"NCT00000001": make_page("NCT00000001", "Renamed study of asthma")})
    server = start_server(index, workers=1)
    try:
        before = _served_titles(server)
        env = dict(os.environ, TRIALSEARCH_FAILPOINT=point, TRIALSEARCH_FAILPOINT_ERROR="ENOSPC")
        result = subprocess.run(
            [CLI, "reindex", "--full", "--pages", str(pages), "--index", str(index)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == 5
        assert "No space left on device" in result.stderr
        assert "the live index is unchanged" in result.stderr
        assert "Traceback" not in result.stderr
        assert _served_titles(server) == before
        assert server.get("/healthz").status_code == 200

        report = reindex(pages, index, full=True)  # space is back: the next one succeeds
        assert not list(index.glob("*.building"))
        assert "Renamed study of asthma" in _served_titles(server)
        assert report.documents == 30
    finally:
        server.stop()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB tmpfs: a real filesystem that fills up (needs root, as in CI)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        reason = "mounting a small tmpfs needs root: " + result.stderr.decode().strip()
        if os.environ.get("CI", "").lower() == "true" and os.geteuid() == 0:
            pytest.fail(reason)
        pytest.skip(reason)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_fails_the_reindex_and_keeps_the_served_index(
    tmp_path, tiny_disk, start_server
):
    pages = write_pages(tmp_path / "pages", pages_for(30))
    index = tiny_disk / "ix"
    reindex(pages, index, procs=1)
    server = start_server(index, workers=1)
    try:
        before = _served_titles(server)
        # 400 pages with long summaries: their index cannot fit in what is left
        big = "Lorem " + " ".join(f"word{i}" for i in range(3000))
        write_pages(
            pages,
            {
                f"NCT{i:08d}": make_page(f"NCT{i:08d}", f"Study {i} of asthma", summary=big)
                for i in range(100, 500)
            },
        )
        result = subprocess.run(
            [CLI, "reindex", "--full", "--allow-removals", "--procs", "1"]
            + ["--pages", str(pages), "--index", str(index)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 5, result.stderr[-2000:]
        assert "No space left on device" in result.stderr
        assert "Traceback" not in result.stderr
        assert _served_titles(server) == before
        assert server.get("/healthz").status_code == 200
        shutil.rmtree(pages)  # the operator frees room: back to the small mirror
        write_pages(pages, pages_for(31))
        report = reindex(pages, index, procs=1)
        assert report.documents == 31
        assert not list(index.glob("*.building"))
        assert server.get("/api/search?q=asthma").json()["total"] == 31
    finally:
        server.stop()
