"""Patient-to-trial relevance: TREC 2022 and SIGIR 2016 topics over the real corpus.

Used by bench/relevance.py (`--patients`). Scoring follows ../shared/trec/SOURCES.md:
a run is ranked over the whole corpus, then unjudged studies are dropped from it
("condensed lists", Sakai 2007) and judged-only NDCG@10 (gains 0/1/2) and P@10 are
taken over what remains; topics with no study judged 1 or 2 in the corpus are left
out. The plain BM25 baseline is computed in the same run: rank_bm25's BM25Okapi over
title, official title, conditions, keywords, summary and eligibility criteria, lower-
case alphanumeric tokens, a short stop list.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from harness import SHARED

from indexer.errors import ParamError

TREC = SHARED / "trec"
SETS = {"trec2022": "trec2022", "sigir2016": "sigir2016"}
BASELINE_STOP = set(
    "a an and are as at be but by for from has have he her his in is it its of on or she "
    "that the their this to was were which who with".split()
)
_ALNUM = re.compile(r"[a-z0-9]+")
# how deep a run is read to find ten judged studies in it
DEPTH = 1000
KEYWORD_WORDS = 32  # the most words a keyword query may have


def load_set(name: str, corpus_ids: set[str]) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """Topics with at least one study judged 1 or 2 in the corpus, and their judgments
    restricted to the corpus."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(TREC / f"{name}-qrels.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            topic, nct, score = line.rstrip("\n").split("\t")
            if nct in corpus_ids:
                qrels[topic][nct] = int(score)
    topics = []
    with open(TREC / f"{name}-topics.jsonl", encoding="utf-8") as handle:
        for line in handle:
            topic = json.loads(line)
            if any(score > 0 for score in qrels.get(topic["_id"], {}).values()):
                topics.append({"id": topic["_id"], "text": topic["text"].strip()})
    return topics, qrels


def judged_scores(ranking: list[str], judged: dict[str, int]) -> tuple[float, float, float]:
    """(NDCG@10, P@10 with eligible = 2, P@10 with judged 1 or 2) over the condensed list."""
    condensed = [judged[nct] for nct in ranking if nct in judged][:10]
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(condensed))
    ideal = sorted(judged.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    ndcg = dcg / idcg if idcg else 0.0
    return ndcg, sum(g == 2 for g in condensed) / 10, sum(g >= 1 for g in condensed) / 10


def _tokens(text: str) -> list[str]:
    return [t for t in _ALNUM.findall(text.lower()) if t not in BASELINE_STOP]


def bm25_baseline(records: list[dict], topics: list[dict], text_of) -> dict[str, list[str]]:
    """rank_bm25's BM25Okapi ranking (DEPTH deep) for each topic."""
    from rank_bm25 import BM25Okapi

    ids = [rec["nct_id"] for rec in records]
    model = BM25Okapi([_tokens(text_of(rec)) for rec in records])
    runs = {}
    for topic in topics:
        scores = model.get_scores(_tokens(topic["text"]))
        order = sorted(range(len(ids)), key=lambda i: -scores[i])[:DEPTH]
        runs[topic["id"]] = [ids[i] for i in order]
    return runs


def trialsearch_run(index, topics: list[dict], mode: str, parse_params) -> tuple[dict, list]:
    """Each topic through the query API: its ranking (DEPTH deep, nct_id only) and the
    time of the first page as a person or agent would ask it (20 hits, every facet).
    Keywords get the topic's first 32 words, the most a keyword query may have."""
    runs, took = {}, []
    for topic in topics:
        text = topic["text"]
        if mode == "keywords":  # as a keyword search must take it: its first 32 words
            text = _first_words(text, KEYWORD_WORDS)
        first = {"q": [text], "mode": [mode]}
        started = time.perf_counter()
        try:
            resp = index.search(parse_params(first))
        except ParamError:
            runs[topic["id"]] = []  # refused: counted as a topic with no answer
            continue
        took.append((time.perf_counter() - started) * 1000)
        ranking: list[str] = []
        for page in range(1, DEPTH // 100 + 1):
            params = {**first, "per_page": ["100"], "page": [str(page)], "fields": ["nct_id"]}
            params["facets"] = ["none"]
            resp = index.search(parse_params(params))
            ranking += [hit["nct_id"] for hit in resp.results]
            if len(resp.results) < 100:
                break
        runs[topic["id"]] = ranking
    return runs, took


def _first_words(text: str, limit: int) -> str:
    """The longest start of `text` with at most `limit` words as the query counts them
    (19-year-old is three)."""
    kept: list[str] = []
    for token in text.split():
        if len(re.findall(r"\w+", " ".join([*kept, token]))) > limit:
            break
        kept.append(token)
    return " ".join(kept)


def score_runs(runs: dict[str, list[str]], topics, qrels) -> dict:
    rows = [judged_scores(runs.get(t["id"], []), qrels[t["id"]]) for t in topics]
    n = len(rows) or 1
    return {
        "topics": len(rows),
        "ndcg@10": round(sum(r[0] for r in rows) / n, 3),
        "p@10_eligible": round(sum(r[1] for r in rows) / n, 3),
        "p@10_judged_relevant": round(sum(r[2] for r in rows) / n, 3),
        "zero_result_topics": sum(1 for t in topics if not runs.get(t["id"])),
    }


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def evaluate_patients(index, records, parse_params, text_of) -> dict:
    """Every patient set: BM25 baseline, keywords and patient mode, side by side."""
    corpus_ids = {rec["nct_id"] for rec in records}
    out = {}
    for name in SETS:
        if not (TREC / f"{name}-topics.jsonl").exists():
            continue
        topics, qrels = load_set(name, corpus_ids)
        result = {
            "baseline_bm25": score_runs(bm25_baseline(records, topics, text_of), topics, qrels)
        }
        for mode in ("keywords", "patient"):
            runs, took = trialsearch_run(index, topics, mode, parse_params)
            result[mode] = score_runs(runs, topics, qrels)
            result[mode]["p50_ms"] = percentile(took, 0.5)
            result[mode]["p95_ms"] = percentile(took, 0.95)
        out[name] = result
    return out


def baseline_text(rec: dict, listed) -> str:
    parts = [
        rec.get("brief_title"),
        rec.get("official_title"),
        " ".join(listed(rec.get("conditions"))),
        " ".join(listed(rec.get("keywords"))),
        rec.get("brief_summary"),
        rec.get("eligibility_criteria"),
    ]
    return " ".join(str(p) for p in parts if p not in (None, "None"))


def print_table(results: dict) -> None:
    print(f"\n{'set':<10} {'run':<14} {'topics':>6} {'NDCG@10':>8} {'P@10(2)':>8} {'P@10(1+)':>9}")
    for name, runs in results.items():
        for run, r in runs.items():
            print(
                f"{name:<10} {run:<14} {r['topics']:>6} {r['ndcg@10']:>8.3f} "
                f"{r['p@10_eligible']:>8.3f} {r['p@10_judged_relevant']:>9.3f}"
                + f"  no answer: {r['zero_result_topics']}"
                + (f"  p50 {r['p50_ms']} ms p95 {r['p95_ms']} ms" if "p50_ms" in r else "")
            )


def latency_at_scale(index_dir: Path, parse_params, search_index, passes: int = 3) -> dict:
    """Every patient topic of both sets as a first page (20 hits, every facet) on
    another index — the 560,000-study one — `passes` times: the first pass meets cold
    caches, the others are warm. Then as a server restarts: the caches' words kept
    (warm_memory.py, in a temp cache folder), a fresh index warmed with them before
    its first request, one pass. Relevance is not scored there (the judged studies
    are the real corpus's); only time."""
    texts = []
    for name in SETS:
        with open(TREC / f"{name}-topics.jsonl", encoding="utf-8") as handle:
            texts += [json.loads(line)["text"].strip() for line in handle]

    def one_pass(index) -> dict[str, float]:
        took = []
        for text in texts:
            started = time.perf_counter()
            index.search(parse_params({"q": [text], "mode": ["patient"]}))
            took.append((time.perf_counter() - started) * 1000)
        return {
            "p50_ms": percentile(took, 0.5),
            "p95_ms": percentile(took, 0.95),
            "max_ms": round(max(took), 1),
        }

    with tempfile.TemporaryDirectory(prefix="trialsearch-warm-") as cache:
        previous = os.environ.get("TRIALSEARCH_CACHE_DIR")
        os.environ["TRIALSEARCH_CACHE_DIR"] = cache
        try:
            index = search_index(index_dir)
            out = {"topics": len(texts), "documents": index.info()["documents"]}
            for number in range(1, passes + 1):
                out[f"pass{number}"] = one_pass(index)
            index.close()
            learner = search_index(index_dir, warm=True)  # what a server's worker keeps
            learner.prepare(120)
            one_pass(learner)
            learner.remember()
            learner.close()
            restarted = search_index(index_dir, warm=True)
            started = time.perf_counter()
            restarted.prepare(120)
            out["after_restart"] = {
                **one_pass(restarted),
                "warming_s": round(time.perf_counter() - started, 1),
            }
            restarted.close()
        finally:
            if previous is None:
                os.environ.pop("TRIALSEARCH_CACHE_DIR", None)
            else:
                os.environ["TRIALSEARCH_CACHE_DIR"] = previous
    return out
