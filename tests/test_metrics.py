"""What an operator watches: /metrics added up over every gunicorn worker, one JSON
access-log line per request, and the reindex's recorded outcomes."""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from indexer.errors import GuardError
from indexer.index.build import reindex
from indexer.index.last_run import read_status
from indexer.pages.sample import write_sample

pytestmark = pytest.mark.server


def scrape(server) -> dict[str, list]:
    """Every sample by metric name: (labels, value)."""
    text = server.get("/metrics").text
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


# what the fixture and the test ask besides the requests counted: the start-up probe, scrapes
NOT_SENT = ("/healthz", "/metrics")


def requests_by_route(samples: dict[str, list]) -> dict[tuple[str, str], float]:
    counted: dict[tuple[str, str], float] = {}
    for labels, value in samples.get("trialsearch_http_requests_total", []):
        if labels["route"] not in NOT_SENT:
            key = (labels["route"], labels["status"])
            counted[key] = counted.get(key, 0) + value
    return counted


@pytest.fixture
def index_dir(tmp_path):
    pages = tmp_path / "pages"
    write_sample(pages, 60, seed=5)
    reindex(pages, tmp_path / "index", procs=1)
    return tmp_path / "index"


def test_metrics_count_every_request_over_all_workers_even_one_killed(
    index_dir, tmp_path, start_server
):
    log = tmp_path / "access.jsonl"
    server = start_server(index_dir, workers=2, env={"TRIALSEARCH_ACCESS_LOG": str(log)})
    sent = {
        ("/api/search", "200"): ["/api/search?q=asthma"] * 30
        + ["/api/search?status=RECRUITING"] * 10,
        ("/api/search", "400"): ["/api/search?age=old"] * 4 + ["/api/search?start_date_from=x"] * 3,
        ("/search", "200"): ["/search?q=diabetes"] * 6,
        ("/api/trials/<nct_id>", "200"): ["/api/trials/NCT90000001"] * 5,
        ("/search.atom", "200"): ["/search.atom?q=asthma"] * 3,
        ("unmatched", "404"): ["/no/such/page"] * 2,
    }
    paths = [path for group in sent.values() for path in group]

    def get(path: str) -> int:
        return requests.get(server.url + path, timeout=30).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(get, paths[: len(paths) // 2]))
        # a worker killed mid-run: what it counted is still counted
        os.kill(sorted(server.worker_pids())[0], signal.SIGKILL)
        time.sleep(1.0)
        statuses += list(pool.map(get, paths[len(paths) // 2 :]))
    assert sorted(statuses) == sorted(int(status) for (_, status), g in sent.items() for _ in g)

    samples = scrape(server)
    assert requests_by_route(samples) == {key: len(group) for key, group in sent.items()}
    refused = {
        labels["code"]: value for labels, value in samples["trialsearch_requests_refused_total"]
    }
    assert refused == {"invalid_age": 4, "invalid_date": 3}
    latency = {
        labels["route"]: value
        for labels, value in samples["trialsearch_http_request_duration_seconds_count"]
    }
    assert latency["/api/search"] == 47
    # one generation gauge per live worker (the killed one is gone), the index as served
    live = {labels["pid"] for labels, _ in samples["trialsearch_worker_index_generation"]}
    assert live <= {str(pid) for pid in server.worker_pids()}
    gauge = {
        name: samples[name][0][1]
        for name in ("trialsearch_index_documents", "trialsearch_index_generation")
    }
    assert gauge == {"trialsearch_index_documents": 60, "trialsearch_index_generation": 1}
    assert samples["trialsearch_index_age_seconds"][0][1] >= 0
    assert samples["trialsearch_reindex_runs_total"] == [({"outcome": "ok"}, 1.0)]

    # the access log: one JSON line per request (from both workers), no query values
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    logged = [line for line in lines if line["path"] not in NOT_SENT]
    assert len(logged) == len(paths)
    assert len({line["worker"] for line in logged}) >= 2
    assert all(line["generation"] == 1 for line in logged if line["status"] == 200)
    asthma = next(
        line for line in logged if line["path"] == "/api/search" and line["params"] == ["q"]
    )
    assert "query" not in asthma and "asthma" not in json.dumps(asthma)
    assert {"time", "method", "route", "status", "ms", "bytes", "worker"} <= set(asthma)


def test_queries_are_logged_only_when_asked(index_dir, tmp_path, start_server):
    log = tmp_path / "access.jsonl"
    env = {"TRIALSEARCH_ACCESS_LOG": str(log), "TRIALSEARCH_LOG_QUERIES": "1"}
    server = start_server(index_dir, workers=1, env=env)
    server.get("/api/search", params={"q": "asthma", "status": "RECRUITING"})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    [line] = [line for line in lines if line["path"] == "/api/search"]
    assert line["query"] == "q=asthma&status=RECRUITING"


def test_metrics_can_be_turned_off(index_dir, start_server):
    server = start_server(index_dir, workers=1, env={"TRIALSEARCH_METRICS": "0"})
    assert server.get("/metrics").status_code == 404
    assert server.get("/api/search").status_code == 200


def test_the_reindex_records_each_outcome_for_the_metrics(index_dir, tmp_path, start_server):
    pages = tmp_path / "pages"
    for page in sorted(pages.glob("*.md"))[:30]:
        page.unlink()  # half the studies gone: the removal guard refuses
    with pytest.raises(GuardError):
        reindex(pages, index_dir, procs=1)
    status = read_status(index_dir)
    assert status["runs"] == {"ok": 1, "removal_guard": 1}
    assert (
        status["last"]["outcome"] == "removal_guard"
        and "would remove 30" in status["last"]["error"]
    )
    server = start_server(index_dir, workers=1)
    samples = scrape(server)
    runs = {labels["outcome"]: value for labels, value in samples["trialsearch_reindex_runs_total"]}
    assert runs == {"ok": 1, "removal_guard": 1}
    assert samples["trialsearch_reindex_last_run_ok"][0][1] == 0
    assert samples["trialsearch_reindex_last_success_timestamp_seconds"][0][1] < time.time()
