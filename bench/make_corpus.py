"""Write a benchmark mirror of any size: realistic pages in the exact mirror format.

    python bench/make_corpus.py --n 560000 --out /tmp/corpus-560k [--seed 1] [--procs 2]

With ../shared/corpus present, each page resamples a real study and recombines it
with another: the sponsor, conditions, interventions, countries, status, phases
and eligibility of one real study (so their long-tailed distributions and
co-occurrences stay real), its title and texts spliced with a second one's, dates
shifted by up to three years, and a new NCT ID (NCT9xxxxxxx, never a real one).
Pages are rendered by ../shared/tools/render_pages.py itself. Without the shared
corpus, the project's own sample generator writes them. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import multiprocessing
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import CORPUS, RENDER  # noqa: E402

from indexer.pages.sample import render_sample_page  # noqa: E402

FIRST_ID = 90_000_000
_RECORDS: list[dict] = []
_RENDER = None


def _load() -> None:
    global _RENDER
    if _RECORDS or not CORPUS.exists():
        return
    spec = importlib.util.spec_from_file_location("render_pages", RENDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _RENDER = module.render
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        for line in handle:
            rec = json.loads(line)
            if re.fullmatch(r"NCT\d{8}", rec.get("nct_id") or ""):
                _RECORDS.append(rec)


def _splice(a: str | None, b: str | None, rng: random.Random, unit: str) -> str | None:
    """The first part of `a` and the last part of `b`, cut at words or sentences."""
    if not a or not b:
        return a or b
    sep = " " if unit == "word" else ". "
    left, right = a.split(sep), b.split(sep)
    cut_a = max(1, round(len(left) * rng.uniform(0.4, 0.8)))
    cut_b = min(len(right) - 1, round(len(right) * rng.uniform(0.3, 0.7)))
    return sep.join(left[:cut_a] + right[cut_b:])


def _shift(date: str | None, years: int) -> str | None:
    if not date or not re.match(r"^\d{4}", date):
        return date
    year = min(2030, max(1990, int(date[:4]) + years))
    return f"{year}{date[4:]}".replace("-02-29", "-02-28")


def synthetic_record(i: int, seed: int) -> dict:
    rng = random.Random(seed * 1_000_003 + i)
    base = _RECORDS[rng.randrange(len(_RECORDS))]
    donor = _RECORDS[rng.randrange(len(_RECORDS))]
    rec = dict(base)
    rec["nct_id"] = f"NCT{FIRST_ID + i:08d}"
    rec["brief_title"] = _splice(base.get("brief_title"), donor.get("brief_title"), rng, "word")
    rec["official_title"] = _splice(
        base.get("official_title"), donor.get("official_title"), rng, "word"
    )
    rec["brief_summary"] = _splice(
        base.get("brief_summary"), donor.get("brief_summary"), rng, "sentence"
    )
    rec["detailed_description"] = (base if rng.random() < 0.5 else donor).get(
        "detailed_description"
    )
    years = rng.randint(-3, 3)
    for key in ("start_date", "primary_completion_date", "completion_date", "first_post_date"):
        rec[key] = _shift(rec.get(key), years)
    rec["last_update_post_date"] = _shift(rec.get("last_update_post_date"), min(years, 0))
    if rec.get("enrollment") not in (None, "None"):
        try:
            rec["enrollment"] = max(1, round(int(rec["enrollment"]) * rng.uniform(0.7, 1.3)))
        except (TypeError, ValueError):
            pass
    return rec


def _write_range(args: tuple[int, int, str, int]) -> int:
    start, stop, out, seed = args
    _load()
    folder = Path(out)
    for i in range(start, stop):
        if _RECORDS:
            rec = synthetic_record(i, seed)
            text = _RENDER(rec, random.Random(seed + i))
            name = rec["nct_id"]
        else:
            name, text = render_sample_page(i, random.Random(seed * 1_000_003 + i))
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return stop - start


def make_corpus(n: int, out: Path, seed: int = 1, procs: int = 2) -> int:
    out.mkdir(parents=True, exist_ok=True)
    chunk = 5000
    jobs = [(s, min(n, s + chunk), str(out), seed) for s in range(0, n, chunk)]
    written = 0
    started = time.perf_counter()
    with multiprocessing.Pool(procs) as pool:
        for count in pool.imap_unordered(_write_range, jobs):
            written += count
            rate = written / (time.perf_counter() - started)
            print(f"\r{written:,}/{n:,} pages ({rate:,.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, required=True, help="number of pages")
    parser.add_argument("--out", type=Path, required=True, help="folder to write them into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    source = "real records recombined" if CORPUS.exists() else "built-in generator"
    started = time.perf_counter()
    written = make_corpus(args.n, args.out, args.seed, args.procs)
    seconds = time.perf_counter() - started
    print(f"wrote {written:,} pages ({source}) to {args.out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
