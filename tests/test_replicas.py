"""One builder, two replicas: three real gunicorn servers on loopback. The builder
reindexes, the replicas pull and serve the new generation, and no request fails;
a pull killed at any step, or offered a tampered file, changes nothing."""

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

from indexer.index.build import reindex
from indexer.index.replication import FILE_LIST
from indexer.index.store import IndexStore
from indexer.pages.sample import write_sample

pytestmark = pytest.mark.server

CLI = str(Path(sys.executable).with_name("trialsearch"))
TOKEN = "s3cret-for-tests"


def pull(source, index_dir: Path, token: str = TOKEN, env: dict | None = None, **popen):
    args = [CLI, "pull", "--from", source.url, "--index", str(index_dir), "--json"]
    return subprocess.run(
        args,
        env={**os.environ, "TRIALSEARCH_REPLICATION_TOKEN": token, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def generation(server) -> int:
    return server.get("/healthz").json()["index"]["generation"]


def wait_for_generation(server, number: int) -> None:
    deadline = time.monotonic() + 20
    while generation(server) != number:
        assert time.monotonic() < deadline, f"{server.url} never served generation {number}"
        time.sleep(0.2)


def amend(pages: Path, count: int) -> list[str]:
    changed = []
    for page in sorted(pages.glob("*.md"))[:count]:
        lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
        lines[at] = f'title: "Amended study {page.stem}"\n'
        page.write_text("".join(lines), encoding="utf-8")
        changed.append(page.stem)
    return changed


class Clients:
    """Eight clients asking the servers in turn until stopped; every answer kept."""

    def __init__(self, servers) -> None:
        self.servers, self.statuses, self.errors = servers, [], []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(8)]
        for thread in self.threads:
            thread.start()

    def _run(self, number: int) -> None:
        queries = ["asthma", "diabetes", "cancer", "heart", ""]
        while not self.stop.is_set():
            server = self.servers[number % len(self.servers)]
            try:
                response = server.get("/api/search", params={"q": queries[number % 5]})
                self.statuses.append(response.status_code)
            except requests.RequestException as exc:
                self.errors.append(repr(exc))
            number += 1

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.fixture
def builder(tmp_path, start_server):
    pages = tmp_path / "pages"
    write_sample(pages, 80, seed=9)
    index_dir = tmp_path / "builder"
    reindex(pages, index_dir, procs=1)
    server = start_server(index_dir, workers=1, env={"TRIALSEARCH_REPLICATION_TOKEN": TOKEN})
    return pages, index_dir, server


def test_replicas_pull_each_new_generation_and_no_request_fails(builder, tmp_path, start_server):
    pages, index_dir, source = builder
    replicas = []
    for name in ("r1", "r2"):
        first = pull(source, tmp_path / name)
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        assert report["pulled"] and report["generation"] == 1 and report["linked"] == 0
        replicas.append(start_server(tmp_path / name, workers=1))
    clients = Clients([*replicas, source])
    try:
        time.sleep(1.0)
        changed = amend(pages, 5)
        assert reindex(pages, index_dir, procs=1).mode == "incremental"
        wait_for_generation(source, 2)
        for name, replica in zip(("r1", "r2"), replicas, strict=True):
            done = pull(source, tmp_path / name)
            assert done.returncode == 0, done.stderr
            report = json.loads(done.stdout)
            # an incremental generation moves only its new segments
            assert report["generation"] == 2 and report["linked"] > 0
            assert 0 < report["downloaded"] < report["downloaded"] + report["linked"]
            wait_for_generation(replica, 2)
        time.sleep(1.0)
    finally:
        clients.finish()
    assert not clients.errors and len(clients.statuses) > 50
    assert set(clients.statuses) == {200}
    expected = source.get("/api/search", params={"q": "amended", "fields": "nct_id"}).json()
    for replica in replicas:
        answer = replica.get("/api/search", params={"q": "amended", "fields": "nct_id"}).json()
        assert answer["results"] == expected["results"] and answer["total"] == len(changed)
    again = pull(source, tmp_path / "r1")
    assert json.loads(again.stdout)["pulled"] is False  # up to date: nothing moves


def test_a_pull_killed_at_any_step_or_offered_a_tampered_file_changes_nothing(
    builder, tmp_path, start_server
):
    pages, index_dir, source = builder
    replica_dir = tmp_path / "replica"
    assert pull(source, replica_dir).returncode == 0
    replica = start_server(replica_dir, workers=1)
    amend(pages, 3)
    reindex(pages, index_dir, procs=1)
    marker = tmp_path / "failpoint"
    clients = Clients([replica])
    for point in ("pull_downloading", "pull_verifying", "pull_before_swap"):
        marker.unlink(missing_ok=True)
        env = {"TRIALSEARCH_FAILPOINT": point, "TRIALSEARCH_FAILPOINT_FILE": str(marker)}
        args = [CLI, "pull", "--from", source.url, "--index", str(replica_dir)]
        proc = subprocess.Popen(
            args, env={**os.environ, "TRIALSEARCH_REPLICATION_TOKEN": TOKEN, **env}
        )
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, point
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert generation(replica) == 1, point
        assert replica.get("/api/search", params={"q": "asthma"}).status_code == 200
    clients.finish()
    assert not clients.errors and set(clients.statuses) == {200}  # none failed meanwhile

    # a file that does not match its listing is refused, and the half-copy removed
    store = IndexStore(index_dir)
    folder = store.generation_dir(store.current())
    old = json.loads((store.root / "gen-000001" / FILE_LIST).read_text())["files"]
    new = json.loads((folder / FILE_LIST).read_text())["files"]
    moved = next(n for n, item in new.items() if old.get(n) != item and n.endswith(".pst"))
    original = (folder / moved).read_bytes()
    (folder / moved).write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])
    refused = pull(source, replica_dir)
    assert refused.returncode == 8 and "does not match its listing" in refused.stderr
    assert generation(replica) == 1
    assert not [p for p in replica_dir.iterdir() if p.name.endswith(".building")]
    (folder / moved).write_bytes(original)

    done = pull(source, replica_dir)
    assert done.returncode == 0, done.stderr
    wait_for_generation(replica, 2)


def test_replication_needs_the_token_and_is_off_without_one(builder, tmp_path, sample_server):
    _, _, source = builder
    wrong = pull(source, tmp_path / "r", token="guess")
    assert wrong.returncode == 8 and "refused the token" in wrong.stderr
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").iterdir())
    assert source.get("/replication/current").status_code == 401
    listed = source.get("/replication/current", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    name = next(iter(listed["files"]))
    outside = source.get(
        "/replication/generations/1/files/..%2FCURRENT.json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert outside.status_code == 404
    inside = source.get(
        f"/replication/generations/1/files/{name}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert inside.status_code == 200 and len(inside.content) == listed["files"][name]["size"]
    # a server started without a token has no replication routes at all
    assert sample_server.get("/replication/current").status_code == 404


def test_a_generation_from_before_replication_is_listed_by_publish(builder):
    _, index_dir, source = builder
    store = IndexStore(index_dir)
    (store.generation_dir(store.current()) / FILE_LIST).unlink()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = source.get("/replication/current", headers=auth)
    assert before.status_code == 503 and before.json()["error"]["code"] == "not_published"
    done = subprocess.run(
        [CLI, "publish", "--index", str(index_dir)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "Generation 1 (80 documents)" in done.stdout
    listed = source.get("/replication/current", headers=auth).json()
    assert listed["generation"] == 1 and len(listed["canaries"]) == 3
    assert "manifest.json" in listed["files"] and "meta.json" not in listed["files"]


def test_a_replica_pulling_every_second_follows_each_publish(builder, tmp_path, start_server):
    pages, index_dir, source = builder
    replica_dir = tmp_path / "replica"
    assert pull(source, replica_dir).returncode == 0
    replica = start_server(replica_dir, workers=1)
    args = [CLI, "pull", "--from", source.url, "--index", str(replica_dir), "--every", "1"]
    loop = subprocess.Popen(
        args,
        env={**os.environ, "TRIALSEARCH_REPLICATION_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for number in (2, 3):
            amend(pages, number)
            reindex(pages, index_dir, procs=1)
            wait_for_generation(replica, number)
        assert loop.poll() is None  # still pulling
    finally:
        loop.terminate()
        loop.wait(timeout=10)
