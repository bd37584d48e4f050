"""Load while the index is rebuilt: N clients against gunicorn while full rebuilds swap.

    python bench/load_during_reindex.py [--clients 8] [--seconds 60] [--pages N]

Loopback only, bounded in time, stops by itself. Reports requests/s, latency
percentiles and every failed request; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BIN, EVERYDAY, gunicorn, machine, percentile, render_real_pages, write_result  # noqa: E402

MIX = [*EVERYDAY, "/healthz"]


def full_reindex(pages: Path, index: Path) -> dict:
    """The operator's command, in its own process (as in production, and off our GIL)."""
    result = subprocess.run(
        [str(BIN / "trialsearch"), "reindex", "--full", "--json"]
        + ["--pages", str(pages), "--index", str(index)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def run(pages: Path, index: Path, clients: int, seconds: float) -> dict:
    first = full_reindex(pages, index)
    latencies: list[float] = []
    failures: list[str] = []
    generations: set[int] = set()
    stop = threading.Event()
    lock = threading.Lock()

    with gunicorn(index, workers=2) as url:

        def client(offset: int) -> None:
            session = requests.Session()
            i = offset
            while not stop.is_set():
                path = MIX[i % len(MIX)]
                i += 1
                started = time.perf_counter()
                try:
                    resp = session.get(url + path, timeout=30)
                    ok = resp.status_code == 200
                    gen = resp.headers.get("X-Index-Generation")
                except requests.RequestException as exc:
                    ok, gen, resp = False, None, exc
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if ok:
                        latencies.append(elapsed)
                        if gen:
                            generations.add(int(gen))
                    else:
                        failures.append(f"{path}: {getattr(resp, 'status_code', resp)}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        rebuilds: list[float] = []
        try:
            while time.monotonic() - started < seconds:
                rebuilds.append(full_reindex(pages, index)["seconds"])
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        wall = time.monotonic() - started
    return {
        "benchmark": "load_during_reindex",
        "machine": machine(),
        "pages": first["documents"],
        "clients": clients,
        "workers": 2,
        "seconds": round(wall, 1),
        "requests": len(latencies) + len(failures),
        "errors": len(failures),
        "failures": failures[:20],
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "full_rebuilds_swapped": len(rebuilds),
        "rebuild_seconds_mean": round(sum(rebuilds) / len(rebuilds), 1) if rebuilds else None,
        "generations_served": sorted(generations),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pages", type=int, default=2000, help="real pages to render (0: all)")
    parser.add_argument("--pages-dir", type=Path, help="use this mirror folder instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trialsearch-load-") as tmp:
        pages = args.pages_dir or render_real_pages(Path(tmp) / "pages", args.pages or None)
        result = run(pages, Path(tmp) / "index", args.clients, args.seconds)
    path = write_result("load_during_reindex", result)
    for key, value in result.items():
        if key not in ("machine", "failures"):
            print(f"{key:>24}: {value}")
    for failure in result["failures"]:
        print("  failed:", failure)
    print(f"written to {path}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
