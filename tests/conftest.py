"""Shared fixtures: temp indexes built for real, the shared corpus, a live gunicorn server."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from indexer.index.build import full_build
from indexer.pages.sample import write_sample

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRIALSEARCH_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "ctgov_real.jsonl.gz"
RENDER = SHARED / "tools" / "render_pages.py"
EXAMPLE = SHARED / "examples" / "NCT04554719.md"
REAL_SAMPLE_SIZE = 2000


def pytest_configure(config):
    """Synonym lists compile into a cache folder: the run's own, never the user's home
    (servers the tests start inherit it)."""
    if "TRIALSEARCH_CACHE_DIR" not in os.environ:
        import tempfile

        made = tempfile.mkdtemp(prefix="trialsearch-test-cache-")
        os.environ["TRIALSEARCH_CACHE_DIR"] = config._trialsearch_cache = made


def pytest_unconfigure(config):
    made = getattr(config, "_trialsearch_cache", None)
    if made:
        import shutil

        shutil.rmtree(made, ignore_errors=True)


def require_shared(path: Path) -> None:
    """Skip where ../shared is absent (a user's machine); fail under CI, where it must be."""
    if path.exists():
        return
    message = f"{path} not found: these tests need the shared corpus next to the checkout"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def example_page() -> Path:
    require_shared(EXAMPLE)
    return EXAMPLE


@pytest.fixture(scope="session")
def real_records() -> dict[str, dict]:
    """The first REAL_SAMPLE_SIZE records (with valid IDs), as render_pages.py takes them."""
    require_shared(CORPUS)
    records: dict[str, dict] = {}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            rec = json.loads(line)
            nct = rec.get("nct_id") or ""
            if len(nct) == 11 and nct.startswith("NCT") and nct[3:].isdigit():
                records[nct] = rec
                if len(records) >= REAL_SAMPLE_SIZE:
                    break
    return records


@pytest.fixture(scope="session")
def real_pages(tmp_path_factory, real_records) -> Path:
    require_shared(RENDER)
    out = tmp_path_factory.mktemp("real_pages")
    subprocess.run(
        [sys.executable, str(RENDER), str(CORPUS), str(out), "--limit", str(REAL_SAMPLE_SIZE)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, real_pages) -> Path:
    index_dir = tmp_path_factory.mktemp("real_index")
    report = full_build(real_pages, index_dir)
    assert report.indexed == REAL_SAMPLE_SIZE, report.skipped[:5]
    return index_dir


@pytest.fixture(scope="session")
def sample_pages(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample_pages")
    write_sample(out, 300)
    return out


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, sample_pages) -> Path:
    index_dir = tmp_path_factory.mktemp("sample_index")
    full_build(sample_pages, index_dir, procs=1)
    return index_dir


@pytest.fixture
def app(sample_index):
    """The Flask app over the sample index, as Flask's tutorial sets it up for tests."""
    from webapp import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "WARM": False})


@pytest.fixture
def client(app):
    """A test client for HTTP contract tests that need no real server."""
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real gunicorn serving an index folder on a free loopback port."""

    def __init__(
        self, index_dir: Path, workers: int = 2, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "TRIALSEARCH_INDEX_DIR": str(index_dir),
            "WEB_CONCURRENCY": str(workers),
            "TRIALSEARCH_ACCESS_LOG": "off",
            # workers take requests at once (as before warming first): a test that
            # counts on every worker answering must not meet one still warming;
            # tests/test_warmup.py turns it on
            "TRIALSEARCH_WARM_WAIT": "0",
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--bind",
                f"127.0.0.1:{self.port}",
                "webapp:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.proc.stdout.read().decode()[-2000:]}")
            try:
                answered = requests.get(self.url + "/healthz", timeout=2).status_code
                # every worker forked, not only the one that answered first
                if answered in (200, 503) and len(self.worker_pids()) >= workers:
                    return
                time.sleep(0.05)
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer within 30 s")

    def worker_pids(self) -> set[int]:
        """The gunicorn workers now running under this master."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is not None and (self.proc.stdout is None or self.proc.stdout.closed):
            return  # stopped already
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def start_server():
    """Start a real gunicorn: `start_server(index_dir, workers=2, env=None)` → Server.
    Every server it started is stopped at the end, even when a test failed early."""
    started: list[Server] = []

    def start(index_dir: Path, workers: int = 2, env: dict[str, str] | None = None) -> Server:
        server = Server(index_dir, workers=workers, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def sample_server(sample_index, start_server):
    server = start_server(sample_index)
    yield server
    server.stop()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_browser() -> None:
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    message = (
        "Debian's chromium and chromium-driver are needed (apt-get install chromium "
        "chromium-driver; .ci/run installs them)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
