"""What users meet right after a reindex publishes a new generation, over HTTP.

    python bench/new_generation.py --work DIR [--share 0.001] [--name NAME]

DIR holds `pages/` and `index/` (a `bench/run.py --work DIR` run leaves them). A real
gunicorn (2 workers) serves the index; the benchmark mix runs once to warm it, then
a share of the pages is changed and `trialsearch reindex` publishes a new generation,
and the mix runs again at once, twice: the first pass after the new generation and
the one after it. Run with TRIALSEARCH_WARM_SWITCH=0 in the environment to see the
generation followed at once (cold), as before 2026-12-08. Each answer's generation
is counted: with the switch wait, the first answers come from the generation before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Gunicorn, machine, percentile, write_result  # noqa: E402
from mix import build_mix  # noqa: E402
from run import change_pages, reindex_cmd, top_values  # noqa: E402

from indexer.search.query import SearchIndex  # noqa: E402


def one_pass(url: str, entries: list[dict]) -> tuple[list[float], dict[int, int]]:
    session = requests.Session()
    ms, generations = [], {}
    for entry in entries:
        started = time.perf_counter()
        resp = session.get(url + "/api/search?" + urlencode(entry["params"], doseq=True))
        ms.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
        generation = resp.json()["index"]["generation"]
        generations[generation] = generations.get(generation, 0) + 1
    return ms, generations


def figures(ms: list[float]) -> dict[str, float]:
    return {f"p{p}_ms": round(percentile(ms, p), 1) for p in (50, 95, 99)} | {
        "max_ms": round(max(ms), 1)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--share", type=float, default=0.001, help="pages changed")
    parser.add_argument("--name", default="new-generation")
    args = parser.parse_args()
    pages, index = args.work / "pages", args.work / "index"
    ours = SearchIndex(index)
    entries = build_mix(top_values(ours))
    ours.close()
    server = Gunicorn(index)
    try:
        server.first_answer()
        one_pass(server.url, entries)  # warm, as a server that has been answering
        warm_ms, _ = one_pass(server.url, entries)
        changed = change_pages(pages, args.share, f"Gen{int(time.time())}.")
        started = time.perf_counter()
        subprocess.run(reindex_cmd(pages, index, full=False), check=True, capture_output=True)
        reindex_s = time.perf_counter() - started
        first_ms, first_gen = one_pass(server.url, entries)
        second_ms, second_gen = one_pass(server.url, entries)
    finally:
        server.stop()
    result = {
        "benchmark": "new-generation",
        "machine": machine(),
        "warm_switch": os.environ.get("TRIALSEARCH_WARM_SWITCH", "default (30 s)"),
        "requests": len(entries),
        "changed_pages": changed,
        "reindex_s": round(reindex_s, 1),
        "warm_before": figures(warm_ms),
        "first_pass_after": {**figures(first_ms), "generations": first_gen},
        "second_pass_after": {**figures(second_ms), "generations": second_gen},
    }
    print(json.dumps(result, indent=1))
    print(f"written to {write_result(args.name, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
