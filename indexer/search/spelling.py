"""Spelling corrections from a per-generation lexicon held in arrays.

Whoosh's corrector walks the spelling field's words of the typed word's first letter
through the reader on every call, merging every segment's term list: at 560,000
studies that was 40-60 ms a word ("diabetis", "astma", "pnemonia"), so a query of
three typos spent 195 ms on "did you mean" alone, longer than any search. The
lexicon is small (44,545 words at 560,000 studies); read once per generation (0.6 s,
in the warm-up thread) with, per word, its length and its letter counts, most words
are ruled out with array arithmetic before any edit distance is computed:

- a word within two edits differs in length by at most two;
- each edit changes the word's letter counts by at most two in total (a substitution
  takes one letter out and puts one in, an insertion or deletion one, a swap none),
  so two edits at most four.

The few words left are measured with Whoosh's own distance (Damerau-Levenshtein,
limit 2) and ranked as Whoosh's ReaderCorrector ranks them (the most frequent first,
then the word later in order), so the suggestions are the ones Whoosh gave.
"""

from __future__ import annotations

import bisect
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh.support.levenshtein import distance

if TYPE_CHECKING:
    from .reader import Snapshot

FIELD = "spell"
MAX_DISTANCE = 2
LETTERS = 26  # a-z counted one by one, every other character in one more bucket

_LOCK = threading.Lock()


class Lexicon:
    """The spelling field's words, sorted, with their frequencies, lengths and letter
    counts as arrays."""

    def __init__(self, reader: Any) -> None:
        frequency: dict[str, int] = {}
        for leaf, _ in reader.leaf_readers():
            for raw, info in leaf.iter_field(FIELD):
                word = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                frequency[word] = frequency.get(word, 0) + int(info.weight())
        self.words = sorted(frequency)
        self.frequency = np.array([frequency[w] for w in self.words], dtype=np.int64)
        self.lengths = np.array([len(w) for w in self.words], dtype=np.int16)
        codes = np.frombuffer("".join(self.words).encode("utf-32-le"), dtype=np.uint32)
        rows = np.repeat(np.arange(len(self.words)), self.lengths)
        self.counts = np.zeros((len(self.words), LETTERS + 1), dtype=np.int16)
        np.add.at(self.counts, (rows, _buckets(codes)), 1)

    def correct(self, text: str, prefix: int = 1) -> str | None:
        """The most frequent word within two edits of `text` that shares its first
        `prefix` characters (what Whoosh's corrector.suggest(limit=1) answers)."""
        lo, hi = self._span(text[:prefix])
        if lo >= hi:
            return None
        lengths = self.lengths[lo:hi]
        near = np.abs(lengths - len(text)) <= MAX_DISTANCE
        changed = np.abs(self.counts[lo:hi] - _letter_counts(text)).sum(axis=1)
        near &= changed <= 2 * MAX_DISTANCE
        best: tuple[int, str] | None = None
        for row in np.flatnonzero(near) + lo:
            word = self.words[row]
            if distance(word, text, limit=MAX_DISTANCE) <= MAX_DISTANCE:
                key = (max(1, int(self.frequency[row])), word)
                if best is None or key > best:
                    best = key
        return best[1] if best else None

    def _span(self, start: str) -> tuple[int, int]:
        """The rows of the words that begin with `start`."""
        if not start:
            return 0, len(self.words)
        lo = bisect.bisect_left(self.words, start)
        hi = bisect.bisect_left(self.words, start[:-1] + chr(ord(start[-1]) + 1))
        return lo, hi


def lexicon(snap: Snapshot, reader: Any = None) -> Lexicon:
    """The generation's lexicon, read once (the warm-up thread usually has, through
    the `reader` of its own searcher: Whoosh's files are not read from two threads
    through one reader; a request reads through the snapshot's)."""
    found = snap.spelling
    if found is None:
        with _LOCK:
            found = snap.spelling
            if found is None:
                found = snap.spelling = Lexicon(reader or snap.searcher.reader())
    return found


def _buckets(codes: np.ndarray) -> np.ndarray:
    """Each character's letter bucket: a-z 0-25, anything else 26."""
    letters = codes.astype(np.int64) - ord("a")
    return np.where((letters >= 0) & (letters < LETTERS), letters, LETTERS)


def _letter_counts(word: str) -> np.ndarray:
    codes = np.frombuffer(word.encode("utf-32-le"), dtype=np.uint32)
    return np.bincount(_buckets(codes), minlength=LETTERS + 1).astype(np.int16)
