"""Hostile requests against a real gunicorn, and what a normal client sees meanwhile.

    python bench/hostile_load.py --index DIR [--seconds 30] [--name NAME]
    python bench/hostile_load.py --n 10000 [--work DIR]    (builds a corpus first)

Three phases, loopback only, bounded in time:
1. a normal client alone (the baseline: p50 / p95 of an everyday mix);
2. each hostile request once, on an idle server: its status and time;
3. two hostile clients looping over the hostile set while the normal client runs
   again: its p50 / p95 then, and the slowest hostile answer;
4. (the control) the same two clients against a second server over the same index
   whose processes all run at nice 19: what the normal client loses then is the
   machine's shared hardware, the floor no scheduling in the server can go below.
Every hostile request must be answered 200 or refused with a 4xx within the time
budget; any 5xx or connection failure is listed and makes the exit code 1. Figures
are printed and written to bench/results/NAME.json (docs/reliability.md quotes them).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BIN, EVERYDAY, ROOT, gunicorn, machine, percentile, write_result  # noqa: E402

from indexer.settings import load_settings  # noqa: E402

NORMAL = [*EVERYDAY, "/api/search?q=breast+cancer+chemotherapy"]


def _words(rng: random.Random, n: int, length: int = 12) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=length)) for _ in range(n))


def hostile_set() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, path, params): the issue's hostile requests and the costliest allowed."""
    rng = random.Random(20)
    common = ("patients study treatment disease clinical trial therapy group health care "
              "risk effect dose safety efficacy outcome women children adults years week "
              "month day quality life pain blood cancer heart drug test").split()  # fmt: skip
    return [
        ("slop 999999999", "/api/search", {"q": '"heart failure"~999999999'}),
        ("slop 1000000", "/api/search", {"q": '"heart failure"~1000000'}),
        ("slop 10000, common words", "/api/search", {"q": '"patients study"~10000'}),
        ("slop 20, common words", "/api/search", {"q": '"patients study"~20'}),
        ("slop 2, common words", "/api/search", {"q": '"patients study"~2'}),
        ("phrase of the commonest words", "/api/search", {"q": '"patients study"'}),
        ("phrase of common words (allowed)", "/api/search", {"q": '"clinical trial"'}),
        ("slop 19, rarer words", "/api/search", {"q": '"heart failure"~19'}),
        ("32 random 12-letter words", "/api/search", {"q": _words(rng, 32)}),
        (
            "32 random 12-letter words (keywords)",
            "/api/search",
            {"q": _words(rng, 32), "mode": "keywords"},
        ),
        ("3 random 12-letter words", "/api/search", {"q": _words(rng, 3)}),
        ("32 common words", "/api/search", {"q": " ".join(common[:32])}),
        ("12 common words", "/api/search", {"q": " ".join(common[:12])}),
        ("c × 250 (500 characters)", "/api/search", {"q": "c " * 250}),
        ("the × 125", "/api/search", {"q": " ".join(["the"] * 125)}),
        ("the × 125 (keywords)", "/api/search", {"q": " ".join(["the"] * 125), "mode": "keywords"}),
        (
            "3,500-character description of common words (a URL's limit)",
            "/api/search",
            {"q": ((" ".join(common) + ". ") * 40)[:3500], "mode": "patient"},
        ),
        (
            "patient mode, 300 distinct random words",
            "/api/search",
            {"q": _words(rng, 300, 6), "mode": "patient"},
        ),
        ("asthma^ and 40 nines", "/api/search", {"q": "asthma^" + "9" * 40}),
        ("wildcard a*", "/api/search", {"q": "a*"}),
        ("page facet_limit=500", "/search", {"facet_limit": "500"}),
        ("API facet_limit=500", "/api/search", {"facet_limit": "500"}),
        ("unknown sponsor (close values)", "/api/search", {"sponsor": "Pfizr Inc"}),
        ("unknown condition (close values)", "/api/search", {"condition": "Diabetis Melitus"}),
        ("50 status values", "/api/search", {"status": ["RECRUITING"] * 50}),
        ("deepest page", "/api/search", {"page": "500", "per_page": "20"}),
        ("9,000-character URL", "/api/search", {"q": "a" * 9000}),
    ]


def _get(session: requests.Session, url: str, params: Any = None) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        status = session.get(url, params=params, timeout=60).status_code
    except requests.RequestException:  # reported as status -1: a failure
        return -1, (time.perf_counter() - started) * 1000
    return status, (time.perf_counter() - started) * 1000


def normal_client(url: str, seconds: float) -> dict[str, Any]:
    session = requests.Session()
    latencies, failures = [], []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        path = NORMAL[i % len(NORMAL)]
        status, ms = _get(session, url + path)
        latencies.append(ms)
        if status != 200:
            failures.append(f"{path}: {status}")
        i += 1
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1),
        "failures": failures,
    }


def attacker(url: str, offset: int, stop: Any, answers: Any) -> None:
    """A hostile client: the hostile set in a loop until told to stop; its (label,
    status, ms) go back through the queue."""
    os.nice(19)
    hostile = hostile_set()
    own = requests.Session()
    seen = []
    i = offset
    while not stop.is_set():
        label, path, params = hostile[i % len(hostile)]
        status, ms = _get(own, url + path, params)
        seen.append((label, status, ms))
        i += 1
    answers.put(seen)


def _under_attack(
    normal_url: str, hostile_url: str, seconds: float
) -> tuple[dict[str, Any], list[tuple[str, int, float]]]:
    """The normal client at normal_url while two hostile clients loop at hostile_url.

    Each hostile client is a process of its own at nice 19, as if it ran on another
    machine: on this 2-core loopback, client threads beside the normal one shared its
    interpreter lock (p95 124 ms where processes give 95), and a client's own CPU is
    the server's; neither is what a server meets from clients elsewhere."""
    context = multiprocessing.get_context("spawn")
    stop, answers = context.Event(), context.Queue()
    attackers = [
        context.Process(target=attacker, args=(hostile_url, k * 7, stop, answers)) for k in range(2)
    ]
    for process in attackers:
        process.start()
    try:
        time.sleep(1.0)  # both clients sending before the normal client starts
        normal = normal_client(normal_url, seconds)
    finally:
        stop.set()
        seen = [item for _ in attackers for item in answers.get(timeout=120)]
        for process in attackers:
            process.join()
    return normal, seen


def run(
    index: Path, seconds: float, workers: int | None = None, control: bool = True
) -> dict[str, Any]:
    hostile = hostile_set()
    result: dict[str, Any] = {"machine": machine(), "index": str(index), "seconds": seconds}
    result["workers"] = workers or load_settings().workers
    with gunicorn(index, workers=workers) as url:
        session = requests.Session()
        for path in NORMAL:  # one pass to open the generation in both workers
            _get(session, url + path)
            _get(session, url + path)
        result["alone"] = normal_client(url, seconds)
        once = []
        for label, path, params in hostile:
            status, ms = _get(session, url + path, params)
            once.append({"request": label, "status": status, "ms": round(ms, 1)})
        result["hostile_once"] = once

        normal, seen = _under_attack(url, url, seconds)
        result["with_two_hostile_clients"] = normal
        statuses: dict[str, int] = {}
        for _, status, _ in seen:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        slowest = max(seen, key=lambda item: item[2]) if seen else ("", 0, 0.0)
        result["hostile_clients"] = {
            "requests": len(seen),
            "statuses": statuses,
            "p95_ms": round(percentile([ms for _, _, ms in seen], 95), 1),
            "slowest": {"request": slowest[0], "status": slowest[1], "ms": round(slowest[2], 1)},
        }
        if control:
            # The machine's floor: the same attack on a second server whose every
            # process runs at nice 19, so it only ever gets the CPU the normal
            # client's server leaves; what the normal client still loses then is
            # the hardware both share (caches, memory), not this server's doing.
            with gunicorn(index, workers=workers, nice=19) as elsewhere:
                result["with_two_hostile_clients_elsewhere_nice19"], _ = _under_attack(
                    url, elsewhere, seconds
                )
    bad = [item for item in once if not (item["status"] == 200 or 400 <= item["status"] < 500)]
    bad += [{"request": label, "status": s} for label, s, _ in seen if not 200 <= s < 500]
    bad += [{"normal": f} for f in result["alone"]["failures"]]
    bad += [{"normal": f} for f in result["with_two_hostile_clients"]["failures"]]
    result["failures"] = bad
    return result


def build(n: int, work: Path) -> Path:
    pages, index = work / "pages", work / "index"
    if not pages.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "make_corpus.py"), "--n", str(n)]
            + ["--out", str(pages)],
            check=True,
        )
    subprocess.run(
        [str(BIN / "trialsearch"), "reindex", "--pages", str(pages), "--index", str(index)],
        check=True,
    )
    return index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an index folder to serve")
    parser.add_argument("--n", type=int, help="or build a corpus of N studies first")
    parser.add_argument("--work", type=Path, default=Path("/tmp/trialsearch-hostile"))
    parser.add_argument("--seconds", type=float, default=30.0, help="each client phase")
    parser.add_argument("--name", default=None, help="result file name (bench/results/)")
    parser.add_argument(
        "--no-control",
        action="store_true",
        help="skip phase 4 (the same attack on a second server at nice 19)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: the service's)"
    )
    args = parser.parse_args()
    if args.index is None and args.n is None:
        parser.error("give --index DIR or --n N")
    index = args.index or build(args.n, args.work / str(args.n))
    result = run(index, args.seconds, args.workers, control=not args.no_control)
    alone, loaded = result["alone"], result["with_two_hostile_clients"]
    print(f"normal client alone:            p50 {alone['p50_ms']} ms, p95 {alone['p95_ms']} ms")
    print(f"with two hostile clients:       p50 {loaded['p50_ms']} ms, p95 {loaded['p95_ms']} ms")
    floor = result.get("with_two_hostile_clients_elsewhere_nice19")
    if floor:
        print(
            f"attack on a nice-19 server beside: p50 {floor['p50_ms']} ms, p95 {floor['p95_ms']} ms"
        )
    for item in result["hostile_once"]:
        print(f"  {item['status']:>4}  {item['ms']:>8.1f} ms  {item['request']}")
    attack = result["hostile_clients"]
    print(
        f"hostile clients: {attack['requests']} requests {attack['statuses']}, p95 "
        f"{attack['p95_ms']} ms, slowest {attack['slowest']}"
    )
    if args.name:
        print(f"written to {write_result(args.name, result)}")
    for item in result["failures"]:
        print(f"FAILED: {json.dumps(item)}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
