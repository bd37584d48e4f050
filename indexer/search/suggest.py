"""A corrected query for a search that finds little: "did you mean …"."""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import asdict
from typing import TYPE_CHECKING

from ..errors import ParamError
from ..pages.values import NCT_IN_TEXT
from .matching import match
from .request import SearchRequest
from .spelling import lexicon
from .text import OPERATORS, WORD, parse_text

if TYPE_CHECKING:
    from .reader import Snapshot

FEW_RESULTS = 3  # fewer hits than this and a correction is looked for
MAX_UNKNOWN_WORDS = 3  # more unknown words than this are not typos
SUGGEST_SECONDS = 0.3  # the most a request spends correcting words
# Corrections keep the word's first letter: fewer words to compare, and the same
# corrections for real typos (diabetis, astma, alzhiemer, pnemonia …; when Whoosh
# walked its lexicon this made a word 645 → 31 ms at 10,000 studies).
SUGGEST_PREFIX = 1


def suggest(snap: Snapshot, req: SearchRequest, total: int) -> str | None:
    """A corrected query from the index's own (unstemmed) words, if it finds more.

    Correcting a word compares it with the generation's spelling lexicon (spelling.py:
    about 1 ms a word at 560,000 studies), and the work is bounded: a query with more than
    MAX_UNKNOWN_WORDS unknown words gets no suggestion (it is not a typo), each
    distinct word is corrected once, and correcting stops after SUGGEST_SECONDS.
    """
    searcher = snap.searcher
    reader = searcher.reader()
    tokens = re.split(r"(\s+)", req.q)
    eligible = {
        token
        for token in tokens
        if token.strip()
        and WORD.fullmatch(token)
        and token not in OPERATORS
        and len(token) >= 3
        and not token.isdigit()
        and not NCT_IN_TEXT.fullmatch(token)
        and reader.doc_frequency("spell", token.lower()) == 0
    }
    unknown = list(dict.fromkeys(token.lower() for token in tokens if token in eligible))
    if not unknown or len(unknown) > MAX_UNKNOWN_WORDS:
        return None
    words = lexicon(snap)
    deadline = time.monotonic() + SUGGEST_SECONDS
    fixes: dict[str, str] = {}
    for word in unknown:
        if time.monotonic() > deadline:
            break
        fixed = words.correct(word, prefix=SUGGEST_PREFIX)
        if fixed:
            fixes[word] = fixed
    changed = bool(fixes)
    out = [fixes.get(token.lower(), token) if token in eligible else token for token in tokens]
    if not changed:
        return None
    corrected = "".join(out)
    alt = SearchRequest(**{**asdict(req), "q": corrected, "page": 1, "per_page": 1})
    with contextlib.suppress(ParamError):
        if count(snap, alt) > total:
            return corrected
    return None


def count(snap: Snapshot, req: SearchRequest) -> int:
    """The total a request would get, without building hits or facets."""
    return match(snap, req, parse_text(snap, req.q, req.exact, req.mode)).total
