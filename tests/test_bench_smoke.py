"""The benchmark harness runs end to end on a small corpus (its figures are not checked:
speed is measured by bench/run.py, never asserted in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.server
def test_the_benchmark_runs_every_step_and_every_peer(tmp_path):
    env = dict(os.environ, TRIALSEARCH_BENCH_RESULTS=str(tmp_path / "results"))
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--n", "400", "--smoke", "--name", "smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "results" / "smoke.json").read_text())
    assert data["pages"] == 400 and data["build"]["documents"] == 400
    assert data["incremental"]["1.0%"]["updated"] == data["incremental"]["1.0%"]["changed"] == 4
    assert data["mix"]["requests"] >= 100
    assert data["layer"]["n"] == data["mix"]["requests"]
    assert set(data["http"]) == {"c1", "c4"} and data["worker_rss_mb"]
    assert set(data["peers"]) >= {"whoosh", "fts5", "tantivy"}
    for name in ("whoosh", "fts5", "tantivy"):
        assert data["peers"][name]["docs_per_s"] > 0 and data["peers"][name]["p50_ms"] > 0
    assert "| trialsearch |" in result.stdout
