"""Relevance on real studies: do the right ones come first for the ways people search?

    python bench/relevance.py [--limit N] [--label NAME] [--synonyms FILE ...] [--exact]
                              [--patients-only | --no-patients] [--latency-index DIR]

Builds query sets from the real records in ../shared/corpus (deterministic with
--seed), indexes their rendered pages in a temp folder (or --index DIR, kept), runs
every query through the query API and prints success@1/@3/@10 and MRR@10 per set
(precision@10 too for condition + intervention). Writes bench/results/relevance-LABEL.json.

The sets:
- nct: an NCT ID as people type it: upper or lower case, zero padding dropped, or
  the 8 digits without the prefix;
- acronym: a trial acronym found in its title (KEYNOTE-189), typed as written, without
  its hyphen, or with a space for the hyphen;
- title: 3-6 of the rarest words of a title, in order;
- cond_interv: a condition and an intervention of one study; relevant = every study
  that has both;
- lay: a synonym of a study's condition from the MeSH-based list that appears nowhere
  in that study's page text; relevant = every study with a condition of that group.

Then the patient sets (bench/patients.py): TREC 2022 and SIGIR 2016 patient
descriptions with judged trials, judged-only NDCG@10 and P@10 for keywords and
patient mode beside a plain BM25 baseline (rank_bm25) computed in the same run.
Synonyms: the built-in default unless --synonyms names lists.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import CORPUS, SHARED, machine, render_real_pages, write_result  # noqa: E402
from patients import (  # noqa: E402
    baseline_text,
    evaluate_patients,
    latency_at_scale,
    print_table,
)

from indexer.index.build import reindex  # noqa: E402
from indexer.search.query import SearchIndex  # noqa: E402
from indexer.search.request import parse_params  # noqa: E402

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]+")
STOP = {
    "the", "and", "for", "with", "of", "in", "on", "a", "an", "to", "or", "by", "at", "as",
    "study", "trial", "phase", "patients", "versus", "vs", "from", "after", "during",
    "randomized", "controlled", "clinical", "effect", "effects", "evaluation", "treatment",
}  # fmt: skip


def _list(value):
    if isinstance(value, list):
        return value
    if not value or value == "None":
        return []
    try:
        import ast

        parsed = ast.literal_eval(value)
        return parsed if isinstance(parsed, list) else []
    except (ValueError, SyntaxError):
        return []


def _text(value) -> str:
    return "" if value in (None, "None") else str(value)


def load_records(limit: int | None) -> list[dict]:
    records = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        for line in handle:
            rec = json.loads(line)
            nct = rec.get("nct_id") or ""
            if re.fullmatch(r"NCT\d{8}", nct):
                records.append(rec)
                if limit and len(records) >= limit:
                    break
    return records


def page_text(rec: dict) -> str:
    parts = [
        _text(rec.get("brief_title")),
        _text(rec.get("official_title")),
        _text(rec.get("brief_summary")),
        _text(rec.get("detailed_description")),
        _text(rec.get("eligibility_criteria")),
        " ".join(_list(rec.get("conditions"))),
        " ".join(i.get("name") or "" for i in _list(rec.get("interventions"))),
        " ".join(a.get("label") or "" for a in _list(rec.get("arms"))),
    ]
    return " ".join(parts).lower()


# --- query sets ----------------------------------------------------------------------------


def nct_queries(records: list[dict], rng: random.Random, n: int) -> list[dict]:
    out = []
    for i, rec in enumerate(rng.sample(records, min(n, len(records)))):
        nct = rec["nct_id"]
        digits = nct[3:]
        forms = [nct, nct.lower(), "NCT" + digits.lstrip("0"), digits]
        out.append({"q": forms[i % len(forms)], "relevant": {nct}})
    return out


def acronym_queries(records: list[dict], rng: random.Random, n: int) -> list[dict]:
    by_acronym: dict[str, set[str]] = defaultdict(set)
    titled = []
    for rec in records:
        acronym = _text(rec.get("acronym")).strip()
        title = _text(rec.get("brief_title")) + " " + _text(rec.get("official_title"))
        if len(acronym) >= 3 and re.search(rf"(?<![\w-]){re.escape(acronym)}(?![\w-])", title):
            titled.append((rec["nct_id"], acronym))
    # every study whose title carries the acronym as a whole token is relevant
    titles = {
        r["nct_id"]: _text(r.get("brief_title")) + " " + _text(r.get("official_title"))
        for r in records
    }
    out = []
    for i, (nct, acronym) in enumerate(rng.sample(titled, min(n, len(titled)))):
        pattern = re.compile(rf"(?<![\w-]){re.escape(acronym)}(?![\w-])", re.IGNORECASE)
        if acronym not in by_acronym:
            by_acronym[acronym] = {k for k, t in titles.items() if pattern.search(t)}
        forms = [acronym]
        if "-" in acronym:
            forms += [acronym.replace("-", ""), acronym.replace("-", " ")]
        out.append({"q": forms[i % len(forms)], "relevant": by_acronym[acronym] | {nct}})
    return out


def title_queries(records: list[dict], rng: random.Random, n: int) -> list[dict]:
    df: Counter[str] = Counter()
    words_of = {}
    for rec in records:
        words = [w for w in _WORD.findall(_text(rec.get("brief_title"))) if w.lower() not in STOP]
        words_of[rec["nct_id"]] = words
        df.update({w.lower() for w in words})
    by_title = defaultdict(set)
    for rec in records:
        by_title[_text(rec.get("brief_title")).lower()].add(rec["nct_id"])
    out = []
    candidates = [r for r in records if len(words_of[r["nct_id"]]) >= 4]
    for rec in rng.sample(candidates, min(n, len(candidates))):
        words = words_of[rec["nct_id"]]
        k = rng.randint(3, min(6, len(words)))
        rare = sorted(range(len(words)), key=lambda j: (df[words[j].lower()], j))[:k]
        q = " ".join(words[j] for j in sorted(rare))
        relevant = by_title[_text(rec.get("brief_title")).lower()] | {rec["nct_id"]}
        out.append({"q": q, "relevant": relevant})
    return out


def cond_interv_queries(records: list[dict], rng: random.Random, n: int) -> list[dict]:
    pairs = defaultdict(set)
    for rec in records:
        for cond in _list(rec.get("conditions")):
            for iv in _list(rec.get("interventions")):
                name = (iv.get("name") or "").strip()
                if (
                    1 <= len(name.split()) <= 3
                    and len(cond.split()) <= 4
                    and "placebo" not in name.lower()
                ):
                    pairs[(cond.lower(), name.lower())].add(rec["nct_id"])
    keys = sorted(pairs)
    out = []
    for cond, name in rng.sample(keys, min(n, len(keys))):
        out.append({"q": f"{cond} {name}", "relevant": pairs[(cond, name)]})
    return out


def load_synonym_groups(path: Path) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            preferred, synonym, source, ident = line.rstrip("\n").split("\t")
            if source.endswith("-abbr") or source.endswith("subconcept"):
                continue
            groups[ident].update({preferred.lower(), synonym.lower()})
    return groups


def lay_queries(records: list[dict], rng: random.Random, n: int) -> list[dict]:
    path = SHARED / "synonyms" / "conditions.tsv"
    if not path.exists():
        return []
    groups = load_synonym_groups(path)
    group_of: dict[str, str] = {}
    for ident, terms in groups.items():
        for term in terms:
            group_of.setdefault(term, ident)
    with_group = defaultdict(set)
    for rec in records:
        for cond in _list(rec.get("conditions")):
            ident = group_of.get(cond.lower())
            if ident:
                with_group[ident].add(rec["nct_id"])
    out = []
    shuffled = records[:]
    rng.shuffle(shuffled)
    for rec in shuffled:
        if len(out) >= n:
            break
        text = page_text(rec)
        for cond in _list(rec.get("conditions")):
            ident = group_of.get(cond.lower())
            if not ident:
                continue
            options = sorted(
                t
                for t in groups[ident]
                if len(t) > 4 and t not in text and " " in t and "," not in t
            )
            if options:
                out.append({"q": rng.choice(options), "relevant": with_group[ident]})
                break
    return out


SETS = {
    "nct": nct_queries,
    "acronym": acronym_queries,
    "title": title_queries,
    "cond_interv": cond_interv_queries,
    "lay": lay_queries,
}


# --- measuring -----------------------------------------------------------------------------


def evaluate(index: SearchIndex, queries: list[dict], exact: bool) -> dict:
    hits = {1: 0, 3: 0, 10: 0}
    rr = 0.0
    precision = 0.0
    misses = []
    took = []
    expanded = narrowed = 0
    for item in queries:
        params = {"q": [item["q"]], "per_page": ["10"]}
        if exact:
            params["exact"] = ["true"]
        started = time.perf_counter()
        resp = index.search(parse_params(params))
        took.append((time.perf_counter() - started) * 1000)
        if resp.expansions and not exact:  # does exact=true search less, as it says?
            expanded += 1
            alone = index.search(parse_params({**params, "exact": ["true"], "facets": ["none"]}))
            narrowed += alone.total < resp.total
        ranked = [h["nct_id"] for h in resp.results]
        first = next((i for i, nct in enumerate(ranked) if nct in item["relevant"]), None)
        for k in hits:
            hits[k] += first is not None and first < k
        rr += 1 / (first + 1) if first is not None else 0.0
        relevant_in_top = sum(nct in item["relevant"] for nct in ranked)
        precision += relevant_in_top / min(10, len(item["relevant"]))
        if first is None or first >= 3:
            misses.append({"q": item["q"], "rank": None if first is None else first + 1})
    count = len(queries) or 1
    took.sort()
    return {
        "queries": len(queries),
        "success@1": round(hits[1] / count, 3),
        "success@3": round(hits[3] / count, 3),
        "success@10": round(hits[10] / count, 3),
        "mrr@10": round(rr / count, 3),
        "precision@10": round(precision / count, 3),
        "p50_ms": round(took[len(took) // 2], 1) if took else None,
        "expanded": expanded,
        "narrowed_by_exact": round(narrowed / expanded, 3) if expanded else None,
        "misses": misses[:15],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="records to use (0: all)")
    parser.add_argument("--per-set", type=int, default=200, help="queries per set")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="current")
    parser.add_argument("--index", type=Path, help="index folder to build once and reuse")
    parser.add_argument("--exact", action="store_true", help="search with exact=true")
    parser.add_argument(
        "--synonyms",
        nargs="*",
        type=Path,
        help="synonym TSV files for TRIALSEARCH_SYNONYMS (default: none set, the built-in lists)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--patients-only", action="store_true", help="only the patient sets")
    which.add_argument("--no-patients", action="store_true", help="only the known-item sets")
    parser.add_argument(
        "--latency-index",
        type=Path,
        help="also time every patient topic on this index (e.g. 560,000 studies from "
        "bench/make_corpus.py): p50/p95 per pass, cold then warm",
    )
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"{CORPUS} not found: this benchmark needs ../shared/corpus", file=sys.stderr)
        return 2
    synonyms = args.synonyms or []
    if synonyms:
        os.environ["TRIALSEARCH_SYNONYMS"] = os.pathsep.join(str(p) for p in synonyms)
    else:
        os.environ.pop("TRIALSEARCH_SYNONYMS", None)

    records = load_records(args.limit or None)
    rng = random.Random(args.seed)
    sets = (
        {}
        if args.patients_only
        else {name: make(records, rng, args.per_set) for name, make in SETS.items()}
    )

    with tempfile.TemporaryDirectory(prefix="trialsearch-relevance-") as tmp:
        index_dir = args.index or Path(tmp) / "index"
        if not (index_dir / "CURRENT.json").exists():
            pages = render_real_pages(Path(tmp) / "pages", len(records))
            report = reindex(pages, index_dir, full=True)
            print(f"indexed {report.documents} studies in {report.seconds:.0f} s")
        index = SearchIndex(index_dir)
        results = {name: evaluate(index, queries, args.exact) for name, queries in sets.items()}
        patients = {}
        if not args.no_patients:
            patients = evaluate_patients(
                index, records, parse_params, lambda rec: baseline_text(rec, _list)
            )
        index.close()
    at_scale = None
    if args.latency_index:
        at_scale = latency_at_scale(args.latency_index, parse_params, SearchIndex)
        print(f"patient queries on {args.latency_index}: {at_scale}")

    scored = [r for name, r in results.items() if name != "cond_interv" and r["queries"]]
    overall = sum(r["mrr@10"] * r["queries"] for r in scored) / max(
        1, sum(r["queries"] for r in scored)
    )
    data = {
        "benchmark": "relevance",
        "label": args.label,
        "exact": args.exact,
        "records": len(records),
        "seed": args.seed,
        "synonyms": [str(p) for p in synonyms] or "built-in default",
        "machine": machine(),
        "sets": results,
        "overall_mrr@10": round(overall, 3),
        "patients": patients,
        "patient_latency_at_scale": at_scale,
    }
    path = write_result(f"relevance-{args.label}", data)
    print(
        f"\n{'set':<12} {'n':>4} {'s@1':>6} {'s@3':>6} {'s@10':>6} {'MRR@10':>7} {'P@10':>6}"
        "  expanded (exact narrows)"
    )
    for name, r in results.items():
        print(
            f"{name:<12} {r['queries']:>4} {r['success@1']:>6.3f} {r['success@3']:>6.3f} "
            f"{r['success@10']:>6.3f} {r['mrr@10']:>7.3f} {r['precision@10']:>6.3f}"
            f"  {r['expanded']:>4} ({r['narrowed_by_exact']})"
        )
    print(f"overall MRR@10 (all sets but cond_interv): {overall:.3f}")
    if patients:
        print_table(patients)
    print(f"written to {path}")
    for name, r in results.items():
        for miss in r["misses"][:5]:
            print(f"  miss [{name}] rank {miss['rank']}: {miss['q']!r}")
    return 0 if math.isfinite(overall) else 1


if __name__ == "__main__":
    sys.exit(main())
