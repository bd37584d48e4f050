"""BM25F over whole posting lists with numpy: every match scored at once.

Whoosh scores a query one document at a time through a tree of Python matchers;
at ClinicalTrials.gov scale a common word matches a third of the studies, and the
loop takes seconds. Here each term's posting list is read a block at a time into
arrays (and cached per searcher), scored with the same BM25F formula Whoosh uses,
and And/Or/AndNot/AndMaybe become array operations. Phrases over fields with packed
positions are followed in numpy too; leaves this module does not know (wildcards,
phrases over other fields) are matched by Whoosh itself and joined in. Match sets
equal Whoosh's, and so do scores (tests/test_scoring.py) — except where Whoosh's
AndNotMatcher wrongly keeps a document, which this module drops.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from math import log
from typing import Any

import numpy as np
from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from ..index.codec import PackedValues
from ..index.columns import column_array, posting_blocks, raw_postings, read_postings
from ..index.schema import POSITION_DTYPE, PackedPositions
from .concepts import ListedStudies

B = 0.75
K1 = 1.2
# Term postings (int32 documents, float32 weights) kept per worker: at 560,000
# studies the mix's words with their synonyms fit (64 MB of int64 ids did not).
CACHE_BYTES = 128 * 2**20
# Positions of the words phrases ask for (int64 keys, document << 32 | position):
# a common word's are megabytes, read and decoded once per worker, not per phrase.
POSITION_CACHE_BYTES = 128 * 2**20
# words whose study counts are remembered (a few MB); past it the memory starts over
MAX_FREQUENCIES = 100_000
_BYTE_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)

# (bool mask, float32 scores), both of index size, scores 0 outside the mask; every
# evaluation returns arrays of its own, which the caller may change in place
Scored = tuple[np.ndarray, np.ndarray]


class _Postings(OrderedDict):
    """An LRU of posting arrays bounded by their size in bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.bytes = 0
        self.lock = threading.Lock()

    def get_arrays(self, key: tuple[str, str]) -> tuple[np.ndarray, np.ndarray] | None:
        with self.lock:
            value = self.get(key)
            if value is not None:
                self.move_to_end(key)
            return value

    def recent(self) -> list[tuple[str, str]]:
        """The keys held, the most recently used first."""
        with self.lock:
            return list(reversed(self.keys()))

    def put(self, key: tuple[str, str], value: tuple[np.ndarray, ...]) -> None:
        size = sum(array.nbytes for array in value)
        with self.lock:
            if key in self or size > self.limit:
                return
            self[key] = value
            self.bytes += size
            while self.bytes > self.limit:
                _, dropped = self.popitem(last=False)
                self.bytes -= sum(array.nbytes for array in dropped)


class FastScorer:
    """Scores Whoosh queries for one searcher snapshot (thread-safe, read-only)."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = self.reader.doc_count_all()
        self._leaves = list(self.reader.leaf_readers())
        self._lengths: dict[str, np.ndarray] = {}
        self._avg: dict[str, float] = {}
        self._postings = _Postings(CACHE_BYTES)
        self._positions = _Postings(POSITION_CACHE_BYTES)
        self._lock = threading.Lock()
        self._frequencies: dict[tuple[str, str], int] = {}

    def sharing_caches(self, searcher: Any) -> FastScorer:
        """A scorer over another searcher of the same generation whose reads fill this
        scorer's caches: a warming thread reads through a searcher of its own, never
        through the one requests use."""
        other = FastScorer(searcher)
        other._postings, other._positions = self._postings, self._positions
        other._lengths, other._avg, other._lock = self._lengths, self._avg, self._lock
        other._frequencies = self._frequencies
        return other

    def cached(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The (field, word) keys whose postings and whose positions are cached, the
        most recently used first."""
        return self._postings.recent(), self._positions.recent()

    def cache_fill(self) -> tuple[float, float]:
        """How full the posting and the position caches are (0 to 1)."""
        return (
            self._postings.bytes / self._postings.limit,
            self._positions.bytes / self._positions.limit,
        )

    def cache_limits(self) -> tuple[int, int]:
        return self._postings.limit, self._positions.limit

    def packed(self, field: str) -> bool:
        """Whether the field's positions are PackedPositions (followed in numpy here)."""
        schema = self.searcher.schema
        return field in schema and isinstance(schema[field].format, PackedPositions)

    # -- reading ---------------------------------------------------------------------------

    def lengths(self, field: str) -> np.ndarray:
        """Every document's length in `field`, as Whoosh stores it (one byte, lossy)."""
        with self._lock:
            if field not in self._lengths:
                out = np.zeros(self.size, dtype=np.float32)
                for sub, offset in self._leaves:
                    count = sub.doc_count_all()
                    out[offset : offset + count] = _leaf_lengths(sub, field, count)
                self._lengths[field] = out
                self._avg[field] = self.searcher.avg_field_length(field) or 1.0
            return self._lengths[field]

    def postings(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and term weights of one term, over all segments."""
        key = (field, text)
        cached = self._postings.get_arrays(key)
        if cached is not None:
            return cached
        ids_parts, weight_parts = [], []
        for sub, offset in self._leaves:
            if (field, text) not in sub:
                continue
            ids, weights = read_postings(*raw_postings(sub, field, text))
            ids_parts.append(ids + offset)
            weight_parts.append(weights)
        if ids_parts:
            # 4-byte document numbers: the cache holds half as many words again
            ids = np.concatenate(ids_parts).astype(np.int32)
            value = (ids, np.concatenate(weight_parts).astype(np.float32, copy=False))
        else:
            value = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
        self._postings.put(key, value)
        return value

    def doc_frequency(self, field: str, text: str) -> int:
        """How many studies hold a word (deleted ones too, as Whoosh counts): asked per
        segment by Whoosh — 13 look-ups a word after a dozen incremental reindexes, a
        tenth of a warm request's time at 560,000 studies — so remembered here."""
        key = (field, text)
        count = self._frequencies.get(key)
        if count is None:
            if len(self._frequencies) > MAX_FREQUENCIES:
                self._frequencies.clear()
            count = self._frequencies[key] = self.reader.doc_frequency(field, text)
        return count

    # -- scoring ---------------------------------------------------------------------------

    def evaluate(self, q: query.Query) -> Scored:
        """The documents `q` matches and their scores."""
        if isinstance(q, query.Term):
            return self._term(q)
        if isinstance(q, query.AndNot):
            mask, scores = self.evaluate(q.a)
            if q.b is not None:
                excluded, _ = self.evaluate(q.b)
                mask &= ~excluded
                scores *= mask
            return mask, _boosted(scores, q.boost)
        if isinstance(q, query.AndMaybe):
            mask, scores = self.evaluate(q.a)
            _, extra = self.evaluate(q.b)
            scores += extra
            scores *= mask
            return mask, _boosted(scores, q.boost)
        if type(q) in (query.And, query.Or) and q.subqueries:
            conjunction = isinstance(q, query.And)
            mask, scores = self.evaluate(q.subqueries[0])
            for sub in q.subqueries[1:]:
                if not conjunction and self._add_term(sub, mask, scores):
                    continue
                sub_mask, sub_scores = self.evaluate(sub)
                if conjunction:
                    mask &= sub_mask
                else:
                    mask |= sub_mask
                scores += sub_scores  # 0 outside each part's mask: a sum needs no where
            if conjunction:
                scores *= mask
            return mask, _boosted(scores, q.boost)
        if isinstance(q, query.Phrase) and len(q.words) > 1:
            return self._phrase(q)
        if isinstance(q, ListedStudies):
            mask = np.zeros(self.size, dtype=bool)
            mask[q.docs] = True
            return mask, mask * np.float32(q.score * q.boost)
        if q is query.NullQuery or isinstance(q, query.NullQuery.__class__):
            return np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float32)
        return self.by_whoosh(q)

    def _term(self, q: query.Term) -> Scored:
        mask = np.zeros(self.size, dtype=bool)
        scores = np.zeros(self.size, dtype=np.float32)
        if not self._add_term(q, mask, scores):
            return self.by_whoosh(q)
        return mask, scores

    def _add_term(self, q: query.Query, mask: np.ndarray, scores: np.ndarray) -> bool:
        """A term's matches and scores added into the arrays in place: an `Or` adds its
        terms so (the same sums as adding each one's full-size arrays, zeros elsewhere,
        without making them — a patient description is an `Or` of dozens of terms).
        False: not a term of a scorable field (Whoosh must score it)."""
        if not isinstance(q, query.Term):
            return False
        field, text = q.fieldname, q.text
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if field not in self.searcher.schema or not self.searcher.schema[field].scorable:
            return False
        ids, weights = self.postings(field, text)
        if len(ids):
            mask[ids] = True
            scores[ids] += (self._bm25(field, text, ids, weights) * q.boost).astype(np.float32)
        return True

    def _bm25(self, field: str, text: str, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Whoosh's BM25F of one term in the given documents (its postings' weights)."""
        lengths = self.lengths(field)[ids]
        # Whoosh's idf counts postings of deleted documents too (until a merge drops them)
        idf = log(self.size / (self.doc_frequency(field, text) + 1)) + 1
        norm = K1 * ((1 - B) + B * lengths / self._avg[field])
        return idf * (weights * (K1 + 1)) / (weights + norm)

    def _phrase(self, q: query.Phrase) -> Scored:
        """Words in order, each 1..slop positions after the one before (as SpanNear2).

        The documents holding every word come from the cached posting arrays (the
        shortest list looked up in the others); each word's cached position keys
        are then followed over those only. The score is the words' summed, computed
        for the matches alone: a query holds dozens of phrases (synonyms, proximity),
        mostly matching few documents.
        """
        field = q.fieldname
        if not self.packed(field):
            return self.by_whoosh(q)  # positions as Whoosh stores them: its own matcher
        words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in q.words]
        postings = [self.postings(field, w) for w in words]
        mask = np.zeros(self.size, dtype=bool)
        scores = np.zeros(self.size, dtype=np.float32)
        docs = min(postings, key=lambda p: len(p[0]))[0]
        for ids, _ in postings:
            if len(docs) == 0:
                return mask, scores
            docs = docs[_members(docs, ids)]
        mask[docs] = True
        found = self._packed_phrase_hits(field, words, mask, q.slop)
        mask[docs] = False
        if len(found):
            mask[found] = True
            total = np.zeros(len(found), dtype=np.float32)
            at = found.astype(np.int32)
            for word, (ids, weights) in zip(words, postings, strict=True):
                total += self._bm25(field, word, found, weights[np.searchsorted(ids, at)])
            scores[found] = total * q.boost
        return mask, scores

    def position_keys(self, field: str, word: str) -> np.ndarray:
        """Every position of a word in a field over all segments, sorted, as int64 keys:
        document << 32 | position (PackedPositions fields only)."""
        key = (field, word)
        cached = self._positions.get_arrays(key)
        if cached is not None:
            return cached[0]
        parts = [
            _position_keys(*raw_postings(sub, field, word), offset)
            for sub, offset in self._leaves
            if (field, word) in sub
        ]
        keys = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        self._positions.put(key, (keys,))
        return keys

    def _packed_phrase_hits(
        self, field: str, words: list[str], candidates: np.ndarray, slop: int
    ) -> np.ndarray:
        """The candidates holding the words in order, each 1..slop after the one before.

        A word continues the phrase where its key minus 1..slop is a key still reached;
        keys stay sorted throughout, so membership is a binary search.
        """
        reach: np.ndarray | None = None
        for word in words:
            keys = self.position_keys(field, word)
            keys = keys[candidates[keys >> 32]]
            if reach is None:
                reach = keys
            else:
                steps = [keys[_members(keys - step, reach)] for step in range(1, max(slop, 1) + 1)]
                reach = steps[0] if len(steps) == 1 else np.unique(np.concatenate(steps))
            if not len(reach):
                return np.zeros(0, dtype=np.int64)
        assert reach is not None
        return _distinct_sorted(reach >> 32)

    def by_whoosh(self, q: query.Query) -> Scored:
        """A leaf we do not model (phrase, wildcard…): Whoosh matches and scores it."""
        mask = np.zeros(self.size, dtype=bool)
        scores = np.zeros(self.size, dtype=np.float32)
        matcher = q.matcher(self.searcher)
        ids: list[int] = []
        values: list[float] = []
        while matcher.is_active():
            ids.append(matcher.id())
            values.append(matcher.score())
            matcher.next()
        if ids:
            mask[ids] = True
            scores[ids] = values
        return mask, scores


def _boosted(scores: np.ndarray, boost: float) -> np.ndarray:
    if boost != 1:
        scores *= boost
    return scores


def _position_keys(matcher: Any, deleted: np.ndarray | None, offset: int) -> np.ndarray:
    """(offset + document) << 32 | position, for every posting of one segment's term."""
    doc_parts: list[np.ndarray] = []
    count_parts: list[np.ndarray] = []
    blobs: list[bytes] = []
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):
        for ids, _, block_values in posting_blocks(matcher):
            doc_parts.append(ids)
            if isinstance(block_values, PackedValues):  # codec.py's blocks: one buffer
                count_parts.append(np.diff(block_values.offsets(), prepend=0) >> 2)
                blobs.append(block_values.blob)
            else:  # Whoosh's blocks: a bytes object per posting
                count_parts.append(_value_counts(block_values))
                blobs.append(b"".join(block_values))
    else:  # pragma: no cover - other codecs
        while matcher.is_active():
            value = matcher.value()
            doc_parts.append(np.array([matcher.id()], dtype=np.int64))
            count_parts.append(_value_counts([value]))
            blobs.append(value)
            matcher.next()
    if not doc_parts:
        return np.zeros(0, dtype=np.int64)
    docs = np.concatenate(doc_parts)
    counts = np.concatenate(count_parts)
    positions = np.frombuffer(b"".join(blobs), dtype=POSITION_DTYPE).astype(np.int64)
    docs = np.repeat(docs, counts)
    keys = ((docs + offset) << 32) | positions
    return keys[~deleted[docs]] if deleted is not None else keys


def _value_counts(values: Sequence[bytes]) -> np.ndarray:
    """Positions per posting (4 bytes each)."""
    return np.fromiter((len(v) >> 2 for v in values), dtype=np.int64, count=len(values))


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """np.unique for an array already sorted: one pass instead of hashing."""
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _members(keys: np.ndarray, sorted_reference: np.ndarray) -> np.ndarray:
    """Which of `keys` are in `sorted_reference` (a binary search each, in C)."""
    if not len(sorted_reference):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_reference, keys), len(sorted_reference) - 1)
    return sorted_reference[at] == keys


def _leaf_lengths(sub: Any, field: str, count: int) -> np.ndarray:
    """One segment's length bytes, decoded as Whoosh decodes them."""
    perdoc = getattr(sub, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:  # pragma: no cover - other codecs
        return np.array([sub.doc_field_length(i, field) for i in range(count)], dtype=np.float32)
    raw = column_array(column, count)
    return _BYTE_LENGTHS[raw.astype(np.int64)]
