"""Each field's most frequent words, listed beside a generation when it is built.

Written by the reindex (index side), read by the workers that warm their caches
(`indexer.search.warmup`): the commonest words cost the most to decode cold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic

HOT_TERMS_FILE = "hot_terms.json"
# the most frequent words listed per field: queries go to body; every query of two
# words or more is also matched as a phrase in title and conditions (proximity bonus),
# and synonyms as phrases in conditions, interventions and title
HOT_FIELDS = {"body": 48, "title": 32, "conditions": 32, "interventions": 16}


def save_hot_terms(searcher: Any, folder: Path) -> None:
    """List each field's most frequent words beside a new generation.

    An incremental generation keeps the list it was linked with: 1% of the studies
    changed hardly moves the commonest words, and listing them again costs seconds
    at 560,000 studies (a Python step per word of the lexicon). A full build lists
    them afresh.
    """
    path = folder / HOT_TERMS_FILE
    if path.exists():
        return
    reader = searcher.reader()
    hot: dict[str, list[str]] = {}
    for field, count in HOT_FIELDS.items():
        if field not in searcher.schema:
            continue
        # each segment's commonest, ranked by their frequency over the index: Whoosh's
        # most_frequent_terms over all segments merges their lexicons in Python, 5× slower
        candidates = {
            word
            for sub, _ in reader.leaf_readers()
            for _, word in sub.most_frequent_terms(field, count)
        }
        ranked = sorted(candidates, key=lambda word: (-reader.frequency(field, word), word))
        hot[field] = [_text(word) for word in ranked[:count]]
    write_json_atomic(path, hot)


def load_hot_terms(folder: Path) -> dict[str, list[str]]:
    """The generation's list, or none if it has none or it cannot be read."""
    try:
        data = json.loads((folder / HOT_TERMS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(field): [w for w in words if isinstance(w, str)]
        for field, words in data.items()
        if isinstance(words, list)
    }


def _text(word: Any) -> str:
    return word.decode("utf-8") if isinstance(word, bytes) else str(word)
