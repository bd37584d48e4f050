"""How many listed sites the offline gazetteer places, measured on a folder of pages.

    python bench/geo_coverage.py --pages DIR [--sample 100] [--seed 15] [--top 40]

Parses every page as the reindex does (so the site line is read exactly as indexed),
places each site that names a city, and prints: sites listed, sites naming a city,
the share placed, the commonest unplaced (city, state, country), and a random sample
of placed sites beside the place chosen, for checking by hand (docs/geo.md).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.pages.parse import parse_page  # noqa: E402
from indexer.places.gazetteer import gazetteer  # noqa: E402
from indexer.places.locate import SiteLocator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    started = time.perf_counter()
    g = gazetteer()
    opened = time.perf_counter() - started
    locate = SiteLocator(g)
    listed = named = placed = 0
    unplaced: Counter = Counter()
    sites: list[tuple[str, str | None, str | None, str | None, int]] = []
    started = time.perf_counter()
    for path in sorted(args.pages.glob("*.md")):
        record = parse_page(path.read_text(encoding="utf-8"))
        for loc in record.locations:
            listed += 1
            if not loc.city:
                continue
            named += 1
            number = locate(loc.city, loc.state, loc.country)
            if number is None:
                unplaced[(loc.city, loc.state, loc.country)] += 1
            else:
                placed += 1
                sites.append((loc.text, loc.city, loc.state, loc.country, number))
    seconds = time.perf_counter() - started
    share = placed / named if named else 0.0
    print(f"gazetteer opened in {opened:.2f}s; {len(locate._known):,} distinct cities")
    print(f"{listed:,} sites listed, {named:,} name a city, {placed:,} placed ({share:.2%}), "
          f"{named - placed:,} unplaced; parsed and placed in {seconds:.1f}s")  # fmt: skip
    print(f"\nCommonest unplaced (of {len(unplaced):,} distinct):")
    for (city, state, country), count in unplaced.most_common(args.top):
        print(f"  {count:>5}  {city} | {state or '-'} | {country or '-'}")
    random.seed(args.seed)
    print(f"\nA random sample of {args.sample} placed sites (site line => place):")
    for text, _, _, _, number in random.sample(sites, min(args.sample, len(sites))):
        print(f"  {text}  =>  {g.place(number).label()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "listed": listed,
                    "named": named,
                    "placed": placed,
                    "share": round(share, 4),
                    "seconds": round(seconds, 1),
                    "unplaced_top": [[*k, v] for k, v in unplaced.most_common(args.top)],
                },
                indent=1,
                ensure_ascii=False,
            )  # fmt: skip
        )


if __name__ == "__main__":
    main()
