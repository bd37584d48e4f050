"""When no study has every word: the studies with the most of them, and what they lack.

A keyword search AND-s its words, so a pasted note or one stray word ends at "No
studies match". Then each typed word is looked up alone (the same analysis and
postings as the query), the studies passing the request's filters are ranked by
how many of the words they hold, then by BM25F, and each says which words it
lacks. This runs only for a zero-result keyword search of two or more words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import query

from ..index.schema import BODY
from ..index.textnorm import word_forms
from .text import OPERATORS, plain_words

if TYPE_CHECKING:
    from .matching import Matches
    from .reader import Snapshot

MIN_WORDS = 2


def word_queries(text: str) -> list[tuple[str, query.Query]]:
    """Each distinct plain word of the text and its query in the weighted body."""
    out: list[tuple[str, query.Query]] = []
    seen: set[tuple[str, ...]] = set()
    for word in plain_words(text):
        forms = tuple(f for part in word.split("-") for f in word_forms(part))
        if not forms or forms in seen or word.upper() in OPERATORS:
            continue
        seen.add(forms)
        q = query.Term(BODY, forms[0]) if len(forms) == 1 else query.Phrase(BODY, list(forms))
        out.append((word, q))
    return out


def partial_matches(
    snap: Snapshot, text: str, filters: np.ndarray, k: int
) -> tuple[list[int], dict[int, float], dict[int, list[str]], int, int, int] | None:
    """(the k best documents, their scores, the words each lacks, how many words the
    best hold, of how many, how many studies hold that many), or None when there is
    nothing to offer. `filters`: the documents the request's filters admit."""
    words = word_queries(text)
    if len(words) < MIN_WORDS:
        return None
    held = np.zeros(snap.columns.size, dtype=np.int16)
    score = np.zeros(snap.columns.size, dtype=np.float64)
    masks: list[np.ndarray | None] = []  # None: no admitted study holds the word
    for _, q in words:
        mask, scores = snap.scorer.evaluate(q)
        mask &= filters
        if not mask.any():  # 32 unknown words cost 25 ms of sums over zeros at 560k
            masks.append(None)
            continue
        held += mask
        np.add(score, scores, out=score, where=mask)
        masks.append(mask)
    best = int(held.max()) if len(held) else 0
    if best == 0:
        return None
    candidates = np.flatnonzero(held > 0)
    # most words first, then the score: one float key (scores are far below 10^6)
    key = held[candidates] * 1e6 + score[candidates]
    if len(candidates) > k:
        top = np.argpartition(-key, k - 1)[:k]
        candidates, key = candidates[top], key[top]
    order = candidates[np.lexsort((candidates, -key))].tolist()
    lacking = {
        doc: [w for (w, _), m in zip(words, masks, strict=True) if m is None or not m[doc]]
        for doc in order
    }
    return (
        order,
        {doc: float(score[doc]) for doc in order},
        lacking,
        best,
        len(words),
        int(np.count_nonzero(held == best)),
    )


def offer(
    snap: Snapshot, text: str, matches: Matches, per_page: int, make_hit
) -> dict[str, Any] | None:
    """The `partial` part of a response: the best partial matches as hits."""
    found = partial_matches(snap, text, matches.filtered(), per_page)
    if found is None:
        return None
    docs, scores, lacking, best, of, total = found
    results = []
    for doc in docs:
        hit = make_hit(doc, scores[doc])
        hit["missing"] = lacking[doc]
        results.append(hit)
    return {
        "words": best,
        "of": of,
        "total": total,
        "dropped": lacking[docs[0]],
        "results": results,
    }
