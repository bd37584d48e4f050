"""The performance benchmark: trialsearch and its peers on one corpus, in one run.

    python bench/run.py --n 100000                # make a corpus of that size, then measure
    python bench/run.py --pages DIR               # measure an existing mirror folder
    python bench/run.py --n 2000 --smoke          # a quick run of every step (the test uses it)

Steps (see bench/README.md): full build (seconds, docs/s, size, peak RSS);
incremental reindex after 1% and 0.1% of pages changed; the 132-request mix of
bench/mix.py through the query API and over HTTP against gunicorn (concurrency 1
and 4); worker RSS after the mix and time to the first answer after a cold start;
then the peers (plain Whoosh, SQLite FTS5, tantivy) on the same studies and mix.
Writes bench/results/run-<N>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BIN, Gunicorn, machine, percentile, write_result  # noqa: E402
from make_corpus import make_corpus  # noqa: E402
from mix import build_mix, peer_request  # noqa: E402

from indexer.pages.files import find_pages  # noqa: E402
from indexer.pages.parse import PageError, decode_page, parse_page  # noqa: E402
from indexer.search.query import SearchIndex  # noqa: E402
from indexer.search.request import parse_params  # noqa: E402

MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-3000:],\n"
    "  'seconds': time.perf_counter() - t,\n"
    "  'max_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n"
)


def measured(cmd: list[str]) -> dict[str, Any]:
    """Run a command in a child process; its time and peak RSS (largest process)."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result['err']}")
    return result


def reindex_cmd(pages: Path, index: Path, full: bool) -> list[str]:
    cmd = [str(BIN / "trialsearch"), "reindex", "--json", "--pages", str(pages)]
    return cmd + ["--index", str(index)] + (["--full"] if full else [])


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def change_pages(pages: Path, share: float, tag: str) -> int:
    """Edit a fixed share of the pages (every k-th, by name), as a sync would."""
    files = sorted(pages.glob("*.md"))
    step = max(1, round(1 / share))
    changed = 0
    for path in files[::step]:
        text = path.read_text(encoding="utf-8")
        text = text.replace("## Brief Summary\n\n", f"## Brief Summary\n\n{tag} ", 1)
        path.write_text(text, encoding="utf-8")
        changed += 1
    return changed


def latencies(
    fn, entries: list[dict[str, Any]], repeat: int, warm_up: list[dict[str, Any]] | None = None
) -> list[float]:
    """Milliseconds per request over `repeat` passes of the mix, after one warm-up pass
    (of `warm_up` if given, else of the whole mix)."""
    for entry in entries if warm_up is None else warm_up:
        fn(entry)
    out = []
    for _ in range(repeat):
        for entry in entries:
            started = time.perf_counter()
            fn(entry)
            out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
    }


def by_label(entries: list[dict[str, Any]], ms: list[float], pct: float = 50) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for i, value in enumerate(ms):
        groups.setdefault(entries[i % len(entries)]["label"], []).append(value)
    return {label: round(percentile(values, pct), 1) for label, values in groups.items()}


def http_mix(
    url: str, entries: list[dict[str, Any]], concurrency: int, repeat: int
) -> tuple[list[float], list[float], float]:
    """Milliseconds per request of the warm-up pass and of `repeat` passes after it, and
    the seconds those passes took."""
    urls = [url + "/api/search?" + urlencode(e["params"], doseq=True) for e in entries] * repeat
    local = __import__("threading").local()

    def one(u: str) -> float:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        resp = session.get(u, timeout=120)
        if resp.status_code != 200:
            raise SystemExit(f"{u}: HTTP {resp.status_code} {resp.text[:300]}")
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        first = list(pool.map(one, urls[: len(entries)]))  # warm-up
        started = time.perf_counter()
        ms = list(pool.map(one, urls))
        return first, ms, time.perf_counter() - started


def top_values(index: SearchIndex) -> dict[str, list[str]]:
    stats = index.stats()["facets"]
    return {name: list(values)[:12] or [""] for name, values in stats.items()}


def run(
    pages: Path, work: Path, args: argparse.Namespace, save: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Every step asked for; `save` is given the figures so far after each (a long run
    that is stopped keeps what it measured)."""
    n_pages = len(list(pages.glob("*.md")))
    result: dict[str, Any] = {"benchmark": "run", "pages": n_pages, "machine": machine()}
    index = work / "index"
    if "build" in args.steps:
        build_steps(pages, index, result, save)
        save(result)
    entries = mix_step(index, args, result)
    save(result)
    if "http" in args.steps:
        http_step(index, entries, args, result)
        save(result)
    result["peers"] = {}
    if args.peers:
        peers_step(pages, work, [e for e in entries if e["peer"]], args, result, save)
    return result


def build_steps(
    pages: Path, index: Path, result: dict[str, Any], save: Callable[[dict[str, Any]], None]
) -> None:
    """1: full build; 2: incremental reindex after 1% and 0.1% of the pages changed."""
    n_pages = result["pages"]
    print(f"[1/5] full build of {n_pages:,} pages", file=sys.stderr)
    build = measured(reindex_cmd(pages, index, full=True))
    report = json.loads(build["out"])
    live = index / json.loads((index / "CURRENT.json").read_text())["directory"]
    result["build"] = {
        "seconds": round(build["seconds"], 1),
        "docs_per_s": round(report["documents"] / build["seconds"], 1),
        "documents": report["documents"],
        "index_mb": round(folder_size(live) / 2**20, 1),
        "peak_rss_mb": round(build["max_rss_mb"], 1),
    }

    save(result)
    print("[2/5] incremental reindex after 1% and 0.1% changed", file=sys.stderr)
    result["incremental"] = {}
    for share, tag in ((0.01, "Revised1."), (0.001, "Revised2.")):
        changed = change_pages(pages, share, tag)
        inc = measured(reindex_cmd(pages, index, full=False))
        rep = json.loads(inc["out"])
        result["incremental"][f"{share:.1%}"] = {
            "changed": changed,
            "updated": rep["updated"],
            "seconds": round(inc["seconds"], 1),
        }


def mix_step(index: Path, args: argparse.Namespace, result: dict[str, Any]) -> list[dict[str, Any]]:
    """3: the mix through the query API, whole and on the peers' subset."""
    print("[3/5] the mix through the query API", file=sys.stderr)
    ours = SearchIndex(index)
    entries = build_mix(top_values(ours))
    result["mix"] = {"requests": len(entries), "entries": entries}
    reqs = {id(e): parse_params(e["params"]) for e in entries}
    layer_ms = latencies(lambda e: ours.search(reqs[id(e)]), entries, args.repeat)
    result["layer"] = {
        **summary(layer_ms),
        "p50_by_kind_ms": by_label(entries, layer_ms),
        "p95_by_kind_ms": by_label(entries, layer_ms, 95),
    }
    peer_entries = [e for e in entries if e["peer"]]
    common_ms = latencies(lambda e: ours.search(reqs[id(e)]), peer_entries, args.repeat)
    result["layer_peer_subset"] = summary(common_ms)
    result["answers"] = [ours.search(reqs[id(e)]).digest() for e in entries]
    ours.close()
    return entries


def http_step(
    index: Path, entries: list[dict[str, Any]], args: argparse.Namespace, result: dict[str, Any]
) -> None:
    """4: over HTTP against gunicorn: cold start, concurrency 1 and 4, worker memory."""
    print("[4/5] over HTTP: cold start, concurrency 1 and 4, worker memory", file=sys.stderr)
    server = Gunicorn(index)
    try:
        result["first_answer_s"] = round(server.first_answer(), 2)
        result["http"] = {}
        for concurrency in (1, 4):
            first, ms, wall = http_mix(server.url, entries, concurrency, args.repeat)
            result["http"][f"c{concurrency}"] = {
                **summary(ms),
                "requests_per_s": round(len(ms) / wall, 1),
            }
            if concurrency == 1:
                # the warm-up pass at concurrency 1 is the workers' first over the mix
                # after the first search: what users meet after a start or a new generation
                result["http"]["c1"]["first_pass"] = summary(first)
        result["worker_rss_mb"] = server.worker_rss_mb()
    finally:
        server.stop()


def peers_step(
    pages: Path,
    work: Path,
    peer_entries: list[dict[str, Any]],
    args: argparse.Namespace,
    result: dict[str, Any],
    save: Callable[[dict[str, Any]], None],
) -> None:
    """5: the peers on the same studies and the requests of the mix they can answer."""
    print("[5/5] peers on the same studies and mix", file=sys.stderr)
    started = time.perf_counter()
    from peers import Fts5, NaiveWhoosh, Tantivy, timed_build

    # parsed on every core, as our own build parses: the peers' build time includes it
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        parsed = pool.map(_peer_study, find_pages(pages)[0], chunksize=500)
        studies = [study for study in parsed if study is not None]
    parse_seconds = time.perf_counter() - started
    result["peers"]["parse_seconds"] = round(parse_seconds, 1)
    makers = {
        "whoosh": lambda: NaiveWhoosh(work / "naive-whoosh"),
        "fts5": lambda: Fts5(work / "fts5.sqlite"),
        "tantivy": lambda: Tantivy(work / "tantivy"),
    }
    peer_reqs = {id(e): peer_request(e) for e in peer_entries}
    for name in args.peers:
        print(f"      {name}", file=sys.stderr)
        peer = makers[name]()
        seconds = timed_build(peer, studies) + parse_seconds
        # a peer with nothing to warm (plain Whoosh: its cost is a Python loop over
        # every match, seconds per request at 560k) warms up on one request per kind
        warm_up = None if peer.caches else list({e["label"]: e for e in peer_entries}.values())
        passes = args.peer_repeat or args.repeat
        ms = latencies(lambda e, p=peer: p.search(peer_reqs[id(e)]), peer_entries, passes, warm_up)
        result["peers"][name] = {
            "build_seconds": round(seconds, 1),
            "docs_per_s": round(len(studies) / seconds, 1),
            "passes": passes,
            "warm_up": "whole mix" if warm_up is None else "one request per kind",
            **summary(ms),
            "p50_by_kind_ms": by_label(peer_entries, ms),
        }
        peer.close()
        save(result)


def _peer_study(path: Path) -> dict[str, Any] | None:
    from peers import study_fields

    try:
        return study_fields(parse_page(decode_page(path.read_bytes()), path.stem))
    except PageError:
        return None


def table(r: dict[str, Any]) -> str:
    """The markdown table of bench/README.md."""
    lines = [
        f"{r['pages']:,} studies · {r['machine']['cpus']} cores ({r['machine']['processor']}) · "
        f"Python {r['machine']['python']}",
        "",
        "| engine | build docs/s | query p50 | query p95 | (same peer subset) p50 / p95 |",
        "| --- | --- | --- | --- | --- |",
        f"| trialsearch | {r['build']['docs_per_s']} | {r['layer']['p50_ms']} ms | "
        f"{r['layer']['p95_ms']} ms | {r['layer_peer_subset']['p50_ms']} / "
        f"{r['layer_peer_subset']['p95_ms']} ms |",
    ]
    ours = r["layer_peer_subset"]
    for name, p in r["peers"].items():
        if not isinstance(p, dict):
            continue
        lines.append(
            f"| {name} | {p['docs_per_s']} ({p['docs_per_s'] / r['build']['docs_per_s']:.2f}×) "
            f"| | | {p['p50_ms']} / {p['p95_ms']} ms "
            f"(theirs ÷ ours at p50: {p['p50_ms'] / ours['p50_ms']:.2f}) |"
        )
    b, inc, h = r["build"], r["incremental"], r["http"]
    lines += [
        "",
        f"- full build: {b['seconds']} s, {b['docs_per_s']} docs/s, index {b['index_mb']} MB, "
        f"peak RSS {b['peak_rss_mb']} MB",
        "- incremental: "
        + "; ".join(
            f"{k} changed ({v['changed']} pages): {v['seconds']} s" for k, v in inc.items()
        ),
        f"- query API, all {r['mix']['requests']} kinds × repeats: p50 {r['layer']['p50_ms']} ms, "
        f"p95 {r['layer']['p95_ms']} ms, p99 {r['layer']['p99_ms']} ms",
        "- p50 by kind: "
        + ", ".join(f"{k} {v} ms" for k, v in r["layer"]["p50_by_kind_ms"].items()),
        "- HTTP: "
        + "; ".join(
            f"concurrency {k[1:]}: p50 {v['p50_ms']} / p95 {v['p95_ms']} / p99 {v['p99_ms']} ms, "
            f"{v['requests_per_s']} req/s"
            for k, v in h.items()
        )
        + (
            "; the first pass after start (c1): "
            "p50 {p50_ms} / p95 {p95_ms} / p99 {p99_ms} ms".format(**h["c1"]["first_pass"])
            if "first_pass" in h.get("c1", {})
            else ""
        ),
        "- worker RSS after the mix (MB, private + mapped index files): "
        + ", ".join(f"{w['private']} + {w['mapped']}" for w in r["worker_rss_mb"])
        + f"; first answer after start: {r['first_answer_s']} s",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--n", type=int, help="make a corpus of N pages (bench/make_corpus.py)")
    source.add_argument("--pages", type=Path, help="an existing mirror folder (copied first)")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the mix")
    parser.add_argument(
        "--peers",
        default="fts5,tantivy,whoosh",
        help="comma-separated, run in this order (plain Whoosh, the slowest, last by default)",
    )
    parser.add_argument(
        "--peer-repeat",
        type=int,
        help="passes over the mix for the peers (default: --repeat); plain Whoosh takes "
        "seconds per request at 560k",
    )
    parser.add_argument("--smoke", action="store_true", help="one pass, for a quick check")
    parser.add_argument("--work", type=Path, help="work folder to keep (default: a temp one)")
    parser.add_argument("--name", help="results file name (default run-<pages>)")
    parser.add_argument(
        "--steps",
        default="build,http",
        help="build (steps 1-2: full build, incremental) and/or http (step 4); the mix (3) and "
        "the peers (5) always run. Without build, the index left in --work is measured",
    )
    args = parser.parse_args()
    args.peers = [p for p in args.peers.split(",") if p]
    args.steps = {step for step in args.steps.split(",") if step}
    if "build" not in args.steps and not (args.work and (args.work / "index").is_dir()):
        parser.error("--steps without build needs --work holding a previous run's index")
    if args.smoke:
        args.repeat = args.peer_repeat = 1
    with tempfile.TemporaryDirectory(prefix="trialsearch-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        pages = work / "pages"
        if args.n:
            if not pages.exists() or len(list(pages.glob("*.md"))) != args.n:
                shutil.rmtree(pages, ignore_errors=True)
                make_corpus(args.n, pages)
        else:
            shutil.rmtree(pages, ignore_errors=True)
            shutil.copytree(args.pages, pages)
        if "build" in args.steps:
            shutil.rmtree(work / "index", ignore_errors=True)
        name = args.name or f"run-{args.n or len(list(pages.glob('*.md')))}"
        result = run(
            pages, work, args, lambda part: write_result(name, {**part, "complete": False})
        )
    result["complete"] = True
    if {"build", "http"} <= args.steps:
        result["table"] = table(result)
    else:  # a partial run: its figures as they are
        figures = {k: v for k, v in result.items() if k in ("layer", "http", "peers")}
        result["table"] = json.dumps(figures, indent=1)
    path = write_result(name, result)
    print(result["table"])
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
