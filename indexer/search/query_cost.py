"""What a query may cost: refused before anything is read when it has no useful bound.

Every limit here was set from a measured cost at 560,000 studies on 2 cores
(docs/reliability.md): a query may be long, use wildcards and phrases, but not in
shapes whose work grows without bound (a window of a million words, a wildcard
over thousands of words, sixteen words that every study holds).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from whoosh import query

from ..errors import ParamError
from ..index.schema import SEARCHABLE_FIELDS

MAX_TERMS = 32
MIN_WILDCARD_PREFIX = 3
MAX_EXPANSIONS = 2000
# "words"~N: matching a phrase costs more the wider its window, and a study's words
# twenty apart are not "near" any more (ClinicalTrials.gov's own proximity is tighter)
MAX_SLOP = 20
# A sloppy phrase is checked in every study holding all its words, at a cost growing
# with the window: its rarest word's studies × the window may be at most this. At
# 560,000 studies (2 cores) "patients study"~20 (442,000 × 20) took 2.8 s, ~4 0.57 s
# warm and 1.6 s with cold caches; this allows ~2 there (0.36 s warm) and any window
# for words in fewer than 50,000 studies.
MAX_PHRASE_WORK = 1_000_000
# Any phrase reads the positions of its words in every study holding them: at most
# this many (study, word) pairs. "patients study" (442,000 + 486,000) took 1.7 s at
# 560,000 studies with cold caches; "clinical trial" (560,000 pairs) and every phrase
# with a less common word pass.
MAX_PHRASE_POSITIONS = 700_000
# Postings a query reads: the studies of each of its words (synonyms and bonuses
# included). 32 words that most studies hold read 6.7 million at 560,000 studies:
# 0.13 s with warm caches, 1.7 s when other queries had pushed them out. The bound
# refuses 16 such words (4.1 million) and allows any query of ordinary words.
MAX_POSTINGS = 4_000_000
# word^N: a weight beyond this only overflows scores (1e40 gave "score": Infinity)
MAX_BOOST = 100.0


def check_cost(reader: Any, q: query.Query, studies: Callable[[str, str], int]) -> None:
    """Refuse queries whose cost has no useful bound: too many words, too-broad wildcards.
    `studies(field, word)`: how many studies hold the word (the scorer remembers)."""
    words: set[str] = set()
    checked: set[str] = set()
    for leaf in q.leaves():
        if isinstance(leaf, query.Phrase):
            words.update(leaf.words)
        elif hasattr(leaf, "text"):
            words.add(str(leaf.text))
        if isinstance(leaf, query.Wildcard | query.Prefix) and leaf.text not in checked:
            checked.add(leaf.text)
            prefix = (
                re.split(r"[*?]", leaf.text)[0] if isinstance(leaf, query.Wildcard) else leaf.text
            )
            if len(prefix) < MIN_WILDCARD_PREFIX:
                raise ParamError(
                    "wildcard_too_broad",
                    f"a wildcard needs at least {MIN_WILDCARD_PREFIX} letters before * or ? "
                    f"(got '{leaf.text}')",
                    "q",
                )
            for field in SEARCHABLE_FIELDS:
                expansions = 0
                for _ in reader.expand_prefix(field, prefix):
                    expansions += 1
                    if expansions > MAX_EXPANSIONS:
                        raise ParamError(
                            "wildcard_too_broad",
                            f"'{leaf.text}' matches more than {MAX_EXPANSIONS} words; add letters",
                            "q",
                        )
    _check_weights(q)
    _check_phrase_work(studies, q)
    _check_postings(studies, q)
    if len(words) > MAX_TERMS:
        raise ParamError(
            "too_many_terms", f"the query has {len(words)} words; the limit is {MAX_TERMS}", "q"
        )


def _check_postings(studies: Callable[[str, str], int], q: query.Query) -> None:
    """Refuse a query whose words together fill most studies many times over.
    `studies(field, word)`: how many studies hold the word."""
    read: dict[str, int] = {}
    for leaf in q.leaves():
        if isinstance(leaf, query.Phrase):  # its rarest word bounds what is read
            key = " ".join(leaf.words)
            count = min((studies(leaf.fieldname, w) for w in leaf.words), default=0)
        elif isinstance(leaf, query.Term):
            key = str(leaf.text)
            count = studies(leaf.fieldname, key)
        else:
            continue
        read[key] = read.get(key, 0) + count
    total = sum(read.values())
    if total > MAX_POSTINGS:
        commonest = sorted(read, key=lambda word: -read[word])[:3]
        raise ParamError(
            "query_too_costly",
            f"the words of this query are in {total:,} study entries together (the limit "
            f"is {MAX_POSTINGS:,}); drop some of the commonest ({', '.join(commonest)}, "
            "as indexed) or use rarer words",
            "q",
        )


def _check_phrase_work(studies: Callable[[str, str], int], q: query.Query) -> None:
    """Refuse a phrase over words that most studies hold, or a wide window over words
    that many do (MAX_PHRASE_POSITIONS, MAX_PHRASE_WORK)."""
    for leaf in q.leaves():
        if not isinstance(leaf, query.Phrase) or not leaf.words:
            continue
        counts = [studies(leaf.fieldname, word) for word in leaf.words]
        if sum(counts) > MAX_PHRASE_POSITIONS:
            raise ParamError(
                "phrase_too_costly",
                f'the words of the phrase "{" ".join(leaf.words)}" (as indexed) are in '
                f"{sum(counts):,} study entries together, more than {MAX_PHRASE_POSITIONS:,} "
                "a phrase may read; use rarer words or search them without quotes",
                "q",
            )
        if leaf.slop <= 1:
            continue
        rarest = min(counts)
        if rarest * leaf.slop > MAX_PHRASE_WORK:
            widest = max(1, MAX_PHRASE_WORK // max(rarest, 1))
            raise ParamError(
                "phrase_too_costly",
                f"a phrase window of ~{leaf.slop} over words that {rarest:,} studies or more "
                f'hold ("{" ".join(leaf.words)}", as indexed) costs too much: at most ~{widest} '
                "here; narrow it or use rarer words",
                "q",
            )


def _check_weights(q: query.Query) -> None:
    """Refuse a phrase window or a weight whose cost or score has no useful bound."""
    stack = [q]
    while stack:
        node = stack.pop()
        boost = getattr(node, "boost", 1.0)
        if not (0 <= boost <= MAX_BOOST):  # also refuses nan and inf
            raise ParamError("boost_too_large", f"a weight (^) may be at most {MAX_BOOST:g}", "q")
        if isinstance(node, query.Phrase) and node.slop > MAX_SLOP:
            raise ParamError(
                "slop_too_large",
                f'a phrase\'s "…"~N may be at most {MAX_SLOP} (got {node.slop})',
                "q",
            )
        stack.extend(node.children())
