"""Per-client rate limits for a public endpoint: one budget per client across every
gunicorn worker, 429 with Retry-After past it, the standard RateLimit headers."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from indexer.errors import SettingError
from indexer.settings import load_settings

LIMITED = {"TRIALSEARCH_RATE_LIMIT": "10/minute", "TRIALSEARCH_RATE_LIMIT_LOOPBACK": "1"}


@pytest.mark.server
def test_one_budget_per_client_across_all_workers(sample_index, start_server, tmp_path):
    log = tmp_path / "access.jsonl"
    server = start_server(
        sample_index, workers=2, env={**LIMITED, "TRIALSEARCH_ACCESS_LOG": str(log)}
    )

    def get(_: int) -> requests.Response:
        return requests.get(server.url + "/api/search?q=asthma&fields=nct_id", timeout=30)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(get, range(16)))
    assert sorted(a.status_code for a in answers) == [200] * 10 + [429] * 6
    served = {json.loads(line)["worker"] for line in log.read_text().splitlines()}
    assert len(served) == 2  # both workers answered, and the budget was one
    for answer in answers:
        assert answer.headers["RateLimit-Limit"] == "10"
        assert answer.headers["RateLimit-Policy"] == "10;w=60"
        assert 0 <= int(answer.headers["RateLimit-Remaining"]) <= 9
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 6  # one request per 6 s refills
    assert refused.headers["RateLimit-Remaining"] == "0"
    # the page says it in words; health checks are never limited
    page = server.get("/search?q=asthma")
    assert page.status_code == 429 and "too many requests" in page.text
    assert page.headers["Content-Type"].startswith("text/html")
    assert server.get("/healthz").status_code == 200


@pytest.mark.server
def test_behind_a_proxy_each_forwarded_client_has_its_own_budget(sample_index, start_server):
    env = {**LIMITED, "TRIALSEARCH_RATE_LIMIT": "3/minute", "TRIALSEARCH_PROXIES": "1"}
    server = start_server(sample_index, workers=2, env=env)

    def statuses(client: str) -> list[int]:
        headers = {"X-Forwarded-For": client}
        return [server.get("/api/search", headers=headers).status_code for _ in range(4)]

    assert statuses("198.51.100.7") == [200, 200, 200, 429]
    assert statuses("198.51.100.8") == [200, 200, 200, 429]


@pytest.mark.server
def test_without_a_limit_nothing_is_limited_or_said(sample_server):
    answers = [sample_server.get("/api/search?fields=nct_id") for _ in range(30)]
    assert {a.status_code for a in answers} == {200}
    assert not any("RateLimit-Limit" in a.headers for a in answers)


def test_loopback_clients_are_not_limited_unless_asked(sample_index):
    from webapp import create_app

    app = create_app(
        {
            "INDEX_DIR": str(sample_index),
            "WARM": False,
            "RATE_LIMIT": "2/minute",
            "ACCESS_LOG": "off",
        }
    )
    client = app.test_client()
    assert {client.get("/api/search").status_code for _ in range(5)} == {200}
    remote = {"REMOTE_ADDR": "203.0.113.5"}
    assert [client.get("/api/search", environ_base=remote).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


@pytest.mark.parametrize("bad", ["lots", "10/fortnight", "0/minute", "-5/second", "10 per minute"])
def test_a_rate_limit_that_does_not_parse_names_the_variable(bad):
    with pytest.raises(SettingError, match="TRIALSEARCH_RATE_LIMIT"):
        load_settings({"TRIALSEARCH_RATE_LIMIT": bad})
