"""A corrected query for a search that finds little: "did you mean …"."""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict
from typing import TYPE_CHECKING

from ..errors import ParamError
from ..pages.values import NCT_IN_TEXT
from .matching import match
from .request import SearchRequest
from .text import OPERATORS, WORD, parse_text

if TYPE_CHECKING:
    from .reader import Snapshot

FEW_RESULTS = 3  # fewer hits than this and a correction is looked for


def suggest(snap: Snapshot, req: SearchRequest, total: int) -> str | None:
    """A corrected query from the index's own (unstemmed) words, if it finds more."""
    searcher = snap.searcher
    reader = searcher.reader()
    corrector = searcher.corrector("spell")
    changed = False
    out = []
    for token in re.split(r"(\s+)", req.q):
        word = token.lower()
        if (
            token.strip()
            and WORD.fullmatch(token)
            and token not in OPERATORS
            and len(word) >= 3
            and not word.isdigit()
            and not NCT_IN_TEXT.fullmatch(token)
            and reader.doc_frequency("spell", word) == 0
        ):
            options = corrector.suggest(word, limit=1, maxdist=2)
            if options:
                out.append(options[0])
                changed = True
                continue
        out.append(token)
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
    return match(snap, req, parse_text(snap, req.q, req.exact)).total
