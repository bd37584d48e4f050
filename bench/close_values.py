"""Close matches for unknown facet values: the linear scan against the trigram index.

    python bench/close_values.py [--scale 1 10 50] [--repeat 3]

Values are the real corpus's distinct conditions and sponsors; `--scale k` makes k
distinct copies of each list (suffixed " k"), to reach ClinicalTrials.gov's tens of
thousands of sponsors and conditions. Each lookup is a value no study has, the way a
user mistypes one (a dropped letter, a partial name, a word of the value). Prints the
lookup time of the old scan (substring test plus difflib over every value, as
search/matching.py did) and of `CloseValues` (with the one-time index build).
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import CORPUS  # noqa: E402

from indexer.search.close_values import CloseValues  # noqa: E402


def linear(values: list[str], value: str) -> list[str]:
    """The lookup before the trigram index (search/matching.py up to this change)."""
    lowered = value.lower()
    close = [v for v in values if lowered in v.lower()][:10]
    close += [
        v for v in difflib.get_close_matches(value, values, n=10, cutoff=0.6) if v not in close
    ]
    return close[:10]


def real_values() -> dict[str, list[str]]:
    if not CORPUS.exists():
        raise SystemExit(f"{CORPUS} not found: this benchmark needs ../shared/corpus")
    conditions: set[str] = set()
    sponsors: set[str] = set()
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            conditions.update(c for c in record.get("conditions") or [] if c)
            if record.get("lead_sponsor"):
                sponsors.add(record["lead_sponsor"])
    return {"condition": sorted(conditions), "sponsor": sorted(sponsors)}


def typos(values: list[str], rng: random.Random, n: int) -> list[str]:
    """Values no list holds: a letter dropped, the first word only, a lowered prefix."""
    known = set(values)
    out: list[str] = []
    while len(out) < n:
        value = rng.choice(values)
        kind = len(out) % 3
        if kind == 0 and len(value) > 4:
            i = rng.randrange(1, len(value) - 1)
            asked = value[:i] + value[i + 1 :]
        elif kind == 1:
            asked = value.split()[0]
        else:
            asked = value[: max(3, len(value) // 2)].lower()
        if asked not in known:
            out.append(asked)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--lookups", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(7)
    for name, base in real_values().items():
        for scale in args.scale:
            values = sorted(
                base if scale == 1 else [f"{v} {k}" for k in range(scale) for v in base]
            )
            asked = typos(values, rng, args.lookups)
            started = time.perf_counter()
            lookup = CloseValues(values)
            build = time.perf_counter() - started
            old, new, same = [], [], 0
            for value in asked:
                t0 = time.perf_counter()
                before = linear(values, value)
                t1 = time.perf_counter()
                after = lookup.matches(value)
                t2 = time.perf_counter()
                old.append((t1 - t0) * 1000)
                new.append((t2 - t1) * 1000)
                same += bool(set(before[:3]) & set(after)) or before == after == []
            print(
                f"{name:9} {len(values):>8,} values: scan p50 {statistics.median(old):8.1f} ms "
                f"max {max(old):8.1f} | trigram p50 {statistics.median(new):6.2f} ms "
                f"max {max(new):6.2f} (index built once in {build * 1000:,.0f} ms) | "
                f"{same}/{len(asked)} agree with the scan (a top-3 answer shared, or both empty)"
            )


if __name__ == "__main__":
    main()
