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


# An everyday client's requests, for the load benchmarks (their mix, in turn).
EVERYDAY = [
    "/api/search?q=cancer",
    "/api/search?q=heart+failure&status=RECRUITING",
    "/api/search?status=COMPLETED&status=RECRUITING&phase=PHASE3",
    "/api/search?q=%22type+2+diabetes%22&sort=-start_date",
    "/api/search?age=70&sex=FEMALE&facet_limit=100",
    "/search?q=asthma&phase=PHASE2",
    "/api/search?q=pain&page=3&per_page=50",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn over the index with the project's own config (workers as in production)."""

    def __init__(self, index: Path, workers: int | None = None, nice: int = 0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, TRIALSEARCH_INDEX_DIR=str(index), TRIALSEARCH_ACCESS_LOG="/dev/null")
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "webapp:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # a server that only gets the CPU others leave (a control, hostile_load.py)
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )

    def first_answer(self) -> float:
        """Seconds from start to the first answered search."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/search?q=cancer", timeout=60).status_code == 200:
                    return time.perf_counter() - self.started
            except requests.ConnectionError:
                time.sleep(0.02)
        raise SystemExit("gunicorn gave no answer in 120 s")

    def worker_rss_mb(self) -> list[dict[str, float]]:
        """Each worker's resident memory: its own (anonymous) and the index files it has
        mapped (file-backed: the page cache, shared by every worker and the OS)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        sizes = []
        for pid in children:
            fields = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("VmRSS", "RssAnon", "RssFile"):
                    fields[name] = round(int(value.split()[0]) / 1024, 1)
            sizes.append(
                {"rss": fields["VmRSS"], "private": fields["RssAnon"], "mapped": fields["RssFile"]}
            )
        return sizes

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@contextlib.contextmanager
def gunicorn(index_dir: Path, workers: int | None = 2, nice: int = 0) -> Iterator[str]:
    """A real gunicorn over index_dir on a free loopback port; yields its base URL."""
    server = Gunicorn(index_dir, workers, nice)
    try:
        server.first_answer()
        yield server.url
    finally:
        server.stop()


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
