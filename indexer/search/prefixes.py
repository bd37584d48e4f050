"""Which facet values have a word starting with some text, by bisection.

Autocomplete asks this on every keystroke, and `facet_prefix` on every request that
names one. Scanning every value (tens of thousands of conditions or sponsors at
560,000 studies) costs milliseconds each time; a sorted list of every place a word
starts in every value, made once per generation and facet on first use, answers
in microseconds whatever the number of values.

A word starts at the beginning of a value and after a space, "(", "-" or "/"
("(NCI)", "Non-Small"). Matching ignores case and accents: "hopitaux" finds
"Hôpitaux", "cancer" finds "Breast Cancer", "breast can" finds it too.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Any

import numpy as np

SEPARATORS = " (-/"
KEY_CHARS = 24  # each word start keeps this much of the value: enough to bisect on
_AFTER_EVERYTHING = "\U0010ffff"
_WORD_START = re.compile(r"(?:^|(?<=[ (/-]))(?=.)", re.DOTALL)


def folded(text: str) -> str:
    """Lowered, accents dropped: "Hôpitaux" and "hopitaux" meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class WordStarts:
    """Every word start of every value of one facet column, sorted."""

    def __init__(self, values: list[str]) -> None:
        self.folded = [folded(value) for value in values]
        keys: list[str] = []
        codes: list[int] = []
        for code, text in enumerate(self.folded):
            for found in _WORD_START.finditer(text):
                keys.append(text[found.start() : found.start() + KEY_CHARS])
                codes.append(code)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.codes = np.array(codes, dtype=np.int64)[np.array(order, dtype=np.int64)]

    def codes_for(self, prefix: str) -> np.ndarray:
        """Codes (ascending) of the values with a word starting with `prefix`."""
        wanted = folded(prefix).strip()
        if not wanted:
            return np.arange(len(self.folded), dtype=np.int64)
        key = wanted[:KEY_CHARS]
        low = bisect.bisect_left(self.keys, key)
        high = bisect.bisect_left(self.keys, key + _AFTER_EVERYTHING, low)
        codes = np.unique(self.codes[low:high])
        if len(wanted) > KEY_CHARS:  # the keys were cut short: check the rest in full
            codes = np.array(
                [c for c in codes.tolist() if _has_word_start(self.folded[c], wanted)],
                dtype=np.int64,
            )
        return codes


def _has_word_start(text: str, wanted: str) -> bool:
    at = text.find(wanted)
    while at >= 0:
        if at == 0 or text[at - 1] in SEPARATORS:
            return True
        at = text.find(wanted, at + 1)
    return False


def prefix_codes(column: Any, prefix: str) -> np.ndarray:
    """Codes of `column`'s values with a word starting with `prefix`. The word-start
    list is kept on the column, so it is made once per generation."""
    starts = getattr(column, "word_starts", None)
    if starts is None:
        starts = WordStarts(column.values)
        column.word_starts = starts
    return starts.codes_for(prefix)
