"""Sync by change at scale: a mirror on loopback, its sitemaps dated, a share changed.

    python bench/sync_lastmod.py --pages /tmp/c560 --work /tmp/syncbench [--changed 0.001]

The mirror is a folder of hard links to `--pages` served by Python's own
http.server in a child process (static files, Last-Modified and 304s as a plain
web server gives them), with a sitemap index over gzip sitemaps of 50,000 URLs,
each URL dated by its file's mtime. Steps, each timed:
1. the first sync into an empty folder (every page fetched and checked);
2. `--changed` of the pages rewritten on the mirror (a line added at the end),
   their sitemaps re-dated; then a sync: only those pages are asked for;
3. with `--compare-full`, the same change synced with `--full` (a conditional GET
   of every page), as the sync did before it read lastmod.
Prints the figures and writes bench/results/sync-<pages>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import free_port, machine, write_result  # noqa: E402

from indexer.pages.sync import sync  # noqa: E402

PER_SITEMAP = 50_000  # the protocol's limit


def stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def write_sitemaps(mirror: Path, base: str, names: list[str]) -> None:
    index = []
    for number, start in enumerate(range(0, len(names), PER_SITEMAP)):
        chunk = names[start : start + PER_SITEMAP]
        dates = [(name, (mirror / name).stat().st_mtime) for name in chunk]
        urls = "".join(
            f"<url><loc>{base}/{name}</loc><lastmod>{stamp(at)}</lastmod></url>"
            for name, at in dates
        )
        body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        path = mirror / f"sitemap-{number:03d}.xml.gz"
        path.write_bytes(gzip.compress(body.encode(), compresslevel=5))
        newest = max(at for _, at in dates)
        index.append(
            f"<sitemap><loc>{base}/{path.name}</loc><lastmod>{stamp(newest)}</lastmod></sitemap>"
        )
    (mirror / "sitemap.xml").write_text(
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(index)
        + "</sitemapindex>"
    )


def timed_sync(base: str, local: Path, **kwargs) -> dict:
    began = time.perf_counter()
    report = sync(base, local, workers=4, rate=0, timeout=30, retries=1, **kwargs)
    return {
        "seconds": round(time.perf_counter() - began, 1),
        "fetched": len(report.fetched),
        "unchanged": report.unchanged,
        "not_modified_since": report.not_modified_since,
        "sitemaps_unchanged": len(report.sitemaps_unchanged),
        "failed": len(report.failed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, required=True, help="a folder of mirror pages")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (emptied)")
    parser.add_argument("--changed", type=float, default=0.001, help="share changed (0.001)")
    parser.add_argument("--compare-full", action="store_true", help="also time a --full sync")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    mirror, local = args.work / "mirror", args.work / "local"
    mirror.mkdir(parents=True)
    names = sorted(p.name for p in args.pages.glob("NCT*.md"))
    for name in names:
        os.link(args.pages / name, mirror / name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(mirror),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        write_sitemaps(mirror, base, names)
        result: dict = {"pages": len(names), "changed_share": args.changed, "machine": machine()}
        result["first"] = timed_sync(base, local)
        print(f"first sync of {len(names):,} pages: {result['first']}")
        step = max(1, round(1 / args.changed))
        changed = names[::step]
        time.sleep(1.1)  # a later mtime, to the second
        for name in changed:
            text = (mirror / name).read_text(encoding="utf-8")
            (mirror / name).unlink()  # the mirror's copy only: the link to --pages is cut
            (mirror / name).write_text(text + "\n*Amended.*\n", encoding="utf-8")
        write_sitemaps(mirror, base, names)
        result["changed"] = len(changed)
        result["by_lastmod"] = timed_sync(base, local)
        print(f"{len(changed):,} changed, sync by lastmod: {result['by_lastmod']}")
        if args.compare_full:
            result["full"] = timed_sync(base, local, full=True)
            print(f"the same state, --full (conditional GETs): {result['full']}")
    finally:
        server.terminate()
        server.wait()
    print("wrote", write_result(f"sync-{len(names)}", result))


if __name__ == "__main__":
    main()
