"""What every benchmark here shares: corpora in temp folders, a real gunicorn, percentiles.

Benchmarks print their figures and write them to bench/results/; nothing here is
imported by the service.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRIALSEARCH_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "ctgov_real.jsonl.gz"
RENDER = SHARED / "tools" / "render_pages.py"
RESULTS = Path(os.environ.get("TRIALSEARCH_BENCH_RESULTS") or ROOT / "bench" / "results")
BIN = Path(sys.executable).parent


def render_real_pages(out: Path, limit: int | None = None) -> Path:
    """Render the shared real records as mirror pages (never into the project)."""
    if not CORPUS.exists():
        raise SystemExit(f"{CORPUS} not found: this benchmark needs ../shared/corpus")
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(RENDER), str(CORPUS), str(out)]
    if limit:
        cmd += ["--limit", str(limit)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(index_dir: Path, workers: int = 2) -> Iterator[str]:
    """A real gunicorn over index_dir on a free loopback port; yields its base URL."""
    port = free_port()
    env = dict(
        os.environ,
        TRIALSEARCH_INDEX_DIR=str(index_dir),
        WEB_CONCURRENCY=str(workers),
        TRIALSEARCH_ACCESS_LOG="/dev/null",
    )
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "webapp:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/healthz", timeout=5)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is one that was seen)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": _cpu_model(),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1))
    return path
