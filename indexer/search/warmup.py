"""Warming a worker's posting caches when it opens a generation.

A word's postings are decoded from Whoosh's pickled, compressed blocks the first
time a worker meets them: at 560,000 studies a common word costs 100–400 ms cold
and well under a millisecond warm. Workers live long, but each start and each new
generation begins cold, and users met that as spikes at p95 (bench/README.md). So
a worker warms its caches in a background thread with a searcher of its own,
using the time between requests:

1. the words the previous generation's caches held, the most recent first — what
   users asked lately (Solr's autowarming does the same);
2. the index's most frequent words per field, listed by the reindex in
   `hot_terms.json` — they cost the most to decode, and common words are what most
   people type. Title and condition words get their positions too: every query of
   two words or more looks for them standing together there.

Before those, the word-start lists of the facets the search box completes
(prefixes.py): a third of a second each to make, once per generation; and patient
mode's dictionary of the generation's condition and intervention names
(patient_query.index_vocabulary), which studies list which synonym group
(concepts.listed_concepts), the spelling lexicon "did you mean" corrects from
(spelling.py: 0.6 s at 560,000 studies, after which a word costs 1 ms, not 50) and
the trigram indexes that find close values for a facet value no study has
(close_values.py: 90 ms for the conditions).

Warming fills each cache to half its size at most, leaving the rest to the words
requests bring; what is never asked for is the first to go (the caches are LRUs).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from ..index.schema import FACETS
from .close_values import lookup as close_values_lookup
from .concepts import listed_concepts
from .params import SUGGEST_FIELDS_DEFAULT
from .patient_query import index_vocabulary
from .prefixes import prefix_codes
from .scoring import FastScorer
from .spelling import lexicon
from .synonyms import get_table

log = logging.getLogger(__name__)

POSITION_FIELDS = ("title", "conditions")
# warming stops filling a cache at this share of its size
WARM_SHARE = 0.5
IDLE_POLL_SECONDS = 0.005
START_DELAY_SECONDS = 0.05

Key = tuple[str, str, str]  # ("postings" | "positions", field, word)


def warm_order(
    previous: tuple[list[tuple[str, str]], list[tuple[str, str]]] | None,
    hot: dict[str, list[str]],
) -> list[Key]:
    """What to warm, in order: the previous caches' words (most recent first), then the
    hot words rank by rank across fields, so a budget cut short leaves each field its
    commonest words."""
    keys: list[Key] = []
    if previous is not None:
        postings, positions = previous
        keys += [("postings", field, word) for field, word in postings]
        keys += [("positions", field, word) for field, word in positions]
    longest = max((len(words) for words in hot.values()), default=0)
    for rank in range(longest):
        for field, words in hot.items():
            if rank < len(words):
                keys.append(("postings", field, words[rank]))
                if field in POSITION_FIELDS:
                    keys.append(("positions", field, words[rank]))
    seen: set[Key] = set()
    return [k for k in keys if not (k in seen or seen.add(k))]


def warm(
    scorer: FastScorer,
    keys: list[Key],
    *,
    stop: Callable[[], bool] = lambda: False,
    busy: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """Read `keys` into `scorer`'s caches until each is filled to WARM_SHARE; before
    each word, wait while `busy()` (a request is being answered); give up on `stop()`.
    Returns what was done, for the log."""
    started = time.perf_counter()
    done = {"postings": 0, "positions": 0}
    schema = scorer.searcher.schema

    def idle() -> bool:
        while busy() and not stop():
            time.sleep(IDLE_POLL_SECONDS)
        return not stop()

    for field in sorted({field for _, field, _ in keys if field in schema}):
        if not idle():
            break
        scorer.lengths(field)
    for kind, field, word in keys:
        if not idle():
            break
        postings_fill, positions_fill = scorer.cache_fill()
        if postings_fill >= WARM_SHARE and positions_fill >= WARM_SHARE:
            break
        if field not in schema:
            continue
        if kind == "postings" and postings_fill < WARM_SHARE:
            scorer.postings(field, word)
            done[kind] += 1
        elif kind == "positions" and positions_fill < WARM_SHARE and scorer.packed(field):
            scorer.position_keys(field, word)
            done[kind] += 1
    postings_fill, positions_fill = scorer.cache_fill()
    return {
        **done,
        "seconds": round(time.perf_counter() - started, 2),
        "postings_mb": round(postings_fill * scorer.cache_limits()[0] / 2**20, 1),
        "positions_mb": round(positions_fill * scorer.cache_limits()[1] / 2**20, 1),
    }


def start_warming(
    snap: Any, keys: list[Key], busy: Callable[[], bool] | None = None
) -> threading.Thread:
    """Warm `snap`'s caches in a daemon thread through a searcher of its own, pausing
    while `busy()` (default: while a request reads `snap`)."""
    busy = busy or (lambda: snap.users > 0)

    def run() -> None:
        # the request that opened the generation is about to be marked as running
        time.sleep(START_DELAY_SECONDS)
        while busy() and not snap.retired:
            time.sleep(IDLE_POLL_SECONDS)
        try:
            searcher = snap.ix.searcher()
        except Exception as exc:  # noqa: BLE001 - warming is an optimisation only
            log.warning("cache warming skipped: %s", exc)
            return
        try:
            # each made once per generation, the next only while no request runs
            facets = snap.columns.facets
            steps: list[Callable[[], object]] = [
                # the word starts of the facets the search box completes
                *(partial(prefix_codes, facets[name], "") for name in SUGGEST_FIELDS_DEFAULT),
                partial(index_vocabulary, snap),  # patient mode's names of the index
                partial(listed_concepts, snap, get_table()),  # who lists which group
                # "did you mean"'s words, read through this thread's own searcher
                partial(lexicon, snap, searcher.reader()),
                # close values for a value of an open facet no study has
                *(
                    partial(close_values_lookup, facets[facet.name])
                    for facet in FACETS
                    if facet.values is None
                ),
            ]
            for step in steps:
                while busy() and not snap.retired:
                    time.sleep(IDLE_POLL_SECONDS)
                if snap.retired:
                    return
                step()
            report = warm(
                snap.scorer.sharing_caches(searcher),
                keys,
                stop=lambda: snap.retired,
                busy=busy,
            )
            log.info(
                "generation %s: warmed %d posting lists and %d position lists "
                "(caches %.1f + %.1f MB) in %.2f s",
                snap.info.generation,
                report["postings"],
                report["positions"],
                report["postings_mb"],
                report["positions_mb"],
                report["seconds"],
            )
        except Exception as exc:  # noqa: BLE001 - e.g. the generation was deleted meanwhile
            log.warning("cache warming stopped: %s", exc)
        finally:
            searcher.close()

    thread = threading.Thread(target=run, name=f"warm-gen-{snap.info.generation}", daemon=True)
    thread.start()
    return thread


def _text(word: Any) -> str:
    return word.decode("utf-8") if isinstance(word, bytes) else str(word)
