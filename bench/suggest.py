"""Autocomplete latency: `SearchIndex.suggest` as the search box and facet boxes call it.

    python bench/suggest.py --index /tmp/bench560/index [--n 200] [--repeat 3]

What people type: the first 2 to 6 letters of a word of a real value of the
condition, intervention or sponsor facet (drawn at random, seeded, in proportion to
the studies having the value), a letter at a time, asked from the second letter as
the page asks (webapp/static/app.js); the first letter alone, which the API also
answers, is timed apart (`one letter`, each cold). Each word is typed four ways:
the three default fields with no filter (the search box on an empty page), the same
under a filter (status=RECRUITING), under a text query (q=cancer), and one field
under two filters (the facet box). Under filters the first letter matches and
counts (`first`, at two letters); the next letters reuse the filter's documents
(`next`): the snapshot's cache of them is emptied before each word, so every first
request is a cold one.
The first call of a generation builds each field's word-start table; it is timed
apart (`build_ms`), as the worker's warm-up does it before the first request
(search/warmup.py). Prints p50/p95/p99 per way and overall, and writes
bench/results/suggest-<documents>.json.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine, percentile, write_result  # noqa: E402

from indexer.search.prefixes import SEPARATORS  # noqa: E402
from indexer.search.query import SearchIndex, parse_suggest  # noqa: E402

WAYS = {
    "box": {},
    "box+status": {"status": ["RECRUITING"]},
    "box+q": {"q": ["cancer"]},
    "facet+2 filters": {"field": ["condition"], "status": ["RECRUITING"], "phase": ["PHASE2"]},
}


def prefixes(ix: SearchIndex, n: int, seed: int) -> list[str]:
    """n prefixes of words of real values, commoner values more often."""
    rng = random.Random(seed)
    with ix.use() as snap:
        words: list[str] = []
        weights: list[int] = []
        for name in ("condition", "intervention", "sponsor"):
            column = snap.columns.facets[name]
            totals = column.counts(snap.columns.live)
            for value, count in zip(column.values, totals, strict=True):
                if count:
                    split = value
                    for sep in SEPARATORS:
                        split = split.replace(sep, " ")
                    for word in split.split():
                        if word[:1].isalpha():
                            words.append(word)
                            weights.append(int(count))
    chosen = rng.choices(words, weights=weights, k=n)
    chosen = [word for word in chosen if len(word) >= 2]
    return [word[: rng.randint(2, min(6, len(word)))] for word in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an index folder")
    parser.add_argument("--n", type=int, default=200, help="prefixes (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="measured passes (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    ix = SearchIndex(args.index)
    started = time.perf_counter()
    ix.suggest(parse_suggest({"prefix": ["a"]}))  # opens the generation, builds the tables
    build_ms = (time.perf_counter() - started) * 1000
    documents = ix.check()["documents"]
    typed = prefixes(ix, args.n, args.seed)

    def asked(prefix: str, params: dict, cold: bool) -> float:
        if cold:
            with ix.use() as snap:
                snap.suggest_filters.clear()
        began = time.perf_counter()
        ix.suggest(parse_suggest({"prefix": [prefix], **params}))
        return (time.perf_counter() - began) * 1000

    def typing(word: str, params: dict, into: dict[str, list[float]] | None) -> None:
        """As the page asks: from the second letter on; one letter alone (the API
        allows it) is timed apart, cold."""
        took = {"one letter": [asked(word[:1], params, True)]}
        took["first"] = [asked(word[:2], params, True)]
        took["next"] = [asked(word[:n], params, False) for n in range(3, len(word) + 1)]
        if into is not None:
            for part, values in took.items():
                into[part].extend(values)

    for word in typed:  # warm-up pass
        for params in WAYS.values():
            typing(word, params, None)
    timings = {way: {"one letter": [], "first": [], "next": []} for way in WAYS}
    for _ in range(args.repeat):
        for word in typed:
            for way, params in WAYS.items():
                typing(word, params, timings[way])
    ix.close()

    def figures(values: list[float]) -> dict[str, float]:
        return {f"p{p}": round(percentile(values, p), 2) for p in (50, 95, 99)}

    # what the page asks (from two letters); the one-letter requests are reported apart
    every = [t for parts in timings.values() for t in [*parts["first"], *parts["next"]]]
    firsts = [t for parts in timings.values() for t in parts["first"]]
    result = {
        "documents": documents,
        "words": args.n,
        "requests": len(every),
        "repeat": args.repeat,
        "build_ms": round(build_ms, 1),
        "ways": {
            way: {part: figures(values) for part, values in parts.items() if values}
            for way, parts in timings.items()
        },
        "every_first_request": figures(firsts),
        "all_as_the_page_asks": figures(every),
        "machine": machine(),
    }
    print(
        f"{documents:,} studies · {args.n} words typed a letter at a time × {len(WAYS)} ways × "
        f"{args.repeat} passes ({len(every):,} requests)"
    )
    print(f"first call (opens the generation, builds word starts): {build_ms:.0f} ms")
    rows = [
        (f"{way} {part}", v) for way, parts in result["ways"].items() for part, v in parts.items()
    ]
    rows += [
        ("every first request", result["every_first_request"]),
        ("all, as the page asks", result["all_as_the_page_asks"]),
    ]
    for name, values in rows:
        p50, p95, p99 = values["p50"], values["p95"], values["p99"]
        print(f"  {name:<27} p50 {p50:6.2f} ms  p95 {p95:6.2f}  p99 {p99:6.2f}")
    print("wrote", write_result(f"suggest-{documents}", result))


if __name__ == "__main__":
    main()
