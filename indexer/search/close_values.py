"""Close matches for a facet value no study has ("Korea" → "Korea, Republic of").

A refused value is answered with the values the user probably meant. Comparing the
value with every value of the facet is linear: tens of thousands of sponsors and
conditions at ClinicalTrials.gov's size. Here each facet's values get a trigram
index (built once per generation, the first time a value is refused), so a lookup
scores only the values sharing a trigram with what was typed, and then ranks a few
hundred candidates as before: values containing the text first, then the closest
spellings. It knows nothing of requests or of the index files.
"""

from __future__ import annotations

import difflib
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

CANDIDATES = 300  # values ranked exactly, of those sharing the most trigrams
SHOWN = 10


def trigrams(text: str) -> set[str]:
    """The three-letter pieces of `text`, lowered and padded so word starts count."""
    padded = f"  {text.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class CloseValues:
    """A trigram index over one facet's values (sorted, as the column holds them)."""

    def __init__(self, values: Sequence[str]) -> None:
        self.values = list(values)
        self.lowered = [value.lower() for value in self.values]
        postings: dict[str, list[int]] = defaultdict(list)
        sizes = []
        for code, value in enumerate(self.values):
            grams = trigrams(value)
            sizes.append(len(grams))
            for gram in grams:
                postings[gram].append(code)
        self.sizes = np.array(sizes, dtype=np.float64)
        self.postings = {gram: np.array(codes, dtype=np.int32) for gram, codes in postings.items()}

    def matches(self, value: str, n: int = SHOWN) -> list[str]:
        """Up to `n` values close to `value`: containing it first, then spelled alike."""
        asked = trigrams(value)
        lists = [self.postings[g] for g in asked if g in self.postings]
        if not lists:
            return []
        shared = np.bincount(np.concatenate(lists), minlength=len(self.values))
        # Jaccard similarity of the trigram sets: long values share many trigrams
        # with anything, so a raw count would rank them first
        similarity = shared / (self.sizes + len(asked) - shared)
        ranked = np.argsort(-similarity, kind="stable")[:CANDIDATES]
        candidates = sorted(int(code) for code in ranked if shared[code] > 0)
        lowered = value.lower()
        close = [self.values[c] for c in candidates if lowered in self.lowered[c]][:n]
        spelled = difflib.get_close_matches(
            value, [self.values[c] for c in candidates], n=n, cutoff=0.6
        )
        close += [v for v in spelled if v not in close]
        return close[:n]


_cache_lock = threading.Lock()
# where a column keeps its lookup: it lives and dies with the generation's columns
CACHE_ATTRIBUTE = "close_values_lookup"


def close_values(column: Any, value: str) -> list[str]:
    """Values of a facet column close to `value`."""
    return lookup(column).matches(value)


def lookup(column: Any) -> CloseValues:
    """The column's trigram index, built the first time (the warm-up thread builds
    it before any request asks: 90 ms for the conditions at 560,000 studies). It is
    kept on the column, so it lives as long as the generation that holds it."""
    found = getattr(column, CACHE_ATTRIBUTE, None)
    if found is None:
        with _cache_lock:
            found = getattr(column, CACHE_ATTRIBUTE, None)
            if found is None:
                found = CloseValues(column.values)
                setattr(column, CACHE_ATTRIBUTE, found)
    return found
