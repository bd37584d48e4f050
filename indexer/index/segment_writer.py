"""A Whoosh segment writer that spends its time writing, not bookkeeping.

Whoosh's own SegmentWriter is correct but slow at this size, for two reasons
measured with a sampling profiler on a 20,000-page build (bench/README.md):
- its posting pool pickles every posting one call at a time when memory fills,
  then unpickles them one at a time to merge the runs (a quarter of the build);
- while writing postings it asks the per-document reader for a field length
  once per posting, through three layers of Python (another seventh).

`FastSegmentWriter` keeps Whoosh's file formats and commit logic and changes only
those two: runs are sorted lists written with `marshal` in chunks, and lengths are
decoded once per field into a list. Its posting blocks are codec.py's (the W3
layout, contents that decode faster); Whoosh reads the index it writes as one of
its own, posting for posting (tests/test_segment_writer.py compares).
"""

from __future__ import annotations

import heapq
import marshal
import os
import shutil
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from .codec import LeanCodec
from .columns import column_array

Posting = tuple[str, bytes, int, float, bytes | None]
# documents, weights, values: lists as gathered, or arrays once read back from runs
TermPostings = tuple[Sequence[int], Sequence[float], list[bytes]]

# zlib level of Whoosh's posting blocks (its default: 3). Every block is compressed
# once at build time and decompressed on every cold read; the level is recorded per
# block, so segments written at any level read alike.
POSTING_COMPRESSION = 1
# Terms written to a run per marshal call: one call per term cost more than the term.
RUN_CHUNK = 2048
# Postings held in memory before a run is written: ~140 bytes each, ~200 MB.
DEFAULT_POOL_ITEMS = 1_500_000
_LENGTH_OF_BYTE = [byte_to_length(i) for i in range(256)]


class TermPool:
    """Postings grouped by term in memory, spilled as sorted runs of terms when full.

    Documents arrive in increasing number and runs are written in that order, so a
    term's postings are its runs' lists joined in run order: the merge compares
    terms, never single postings (Whoosh's pool heap-merges every posting).
    """

    def __init__(self, folder: Path | str | None = None, max_items: int = DEFAULT_POOL_ITEMS):
        self.max_items = max_items
        self.count = 0
        self.fields: dict[str, dict[bytes, TermPostings]] = {}
        self.runs: list[str] = []
        self.fieldnames: set[str] = set()  # read by Whoosh's merge helpers
        self._parent = str(folder) if folder is not None else None
        self._folder: str | None = None

    def add(self, item: Posting) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        postings = terms.get(tbytes)
        if postings is None:
            postings = terms[tbytes] = ([], [], [])
        postings[0].append(docnum)
        postings[1].append(weight)
        postings[2].append(vbytes or b"")
        self.count += 1
        if self.count >= self.max_items:
            self._spill()

    def add_field(
        self, fieldname: str, docnum: int, items: Iterable[tuple[bytes, int, float, bytes]]
    ) -> int:
        """One document's terms in one field (from `field.index`); returns their count."""
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        length = added = 0
        for tbytes, freq, weight, vbytes in items:
            postings = terms.get(tbytes)
            if postings is None:
                terms[tbytes] = ([docnum], [weight], [vbytes or b""])
            else:
                postings[0].append(docnum)
                postings[1].append(weight)
                postings[2].append(vbytes or b"")
            length += freq
            added += 1
        self.count += added
        if self.count >= self.max_items:
            self._spill()
        return length

    def _sorted_terms(self) -> Iterator[tuple[str, bytes, TermPostings]]:
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            for tbytes in sorted(terms):
                yield fieldname, tbytes, terms[tbytes]

    def _spill(self) -> None:
        """Write the pool as a run: per term, its documents, weights, value lengths
        and values as four byte strings, so that reading a run back creates four
        objects per term rather than three per posting."""
        if not self.count:
            return
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="runs-", dir=self._parent)
        run = len(self.runs)
        path = os.path.join(self._folder, f"{run:05d}.run")
        with open(path, "wb") as f:
            chunk: list[tuple[Any, ...]] = []
            for fieldname, tbytes, (docs, weights, values) in self._sorted_terms():
                # the run's number breaks ties between runs before any bytes are compared
                chunk.append(
                    (
                        fieldname,
                        tbytes,
                        run,
                        array("I", docs).tobytes(),
                        array("d", weights).tobytes(),
                        array("I", map(len, values)).tobytes(),
                        b"".join(values),
                    )
                )
                if len(chunk) == RUN_CHUNK:
                    marshal.dump(chunk, f)
                    chunk = []
            if chunk:
                marshal.dump(chunk, f)
        self.runs.append(path)
        self.fields = {}
        self.count = 0

    @staticmethod
    def _read(path: str) -> Iterator[tuple[Any, ...]]:
        with open(path, "rb") as f:
            while True:
                try:
                    chunk = marshal.load(f)
                except EOFError:
                    return
                yield from chunk

    def terms(self) -> Iterator[tuple[str, bytes, TermPostings]]:
        """Every (field, term, postings) in Whoosh's order: field, then term bytes.

        Documents read back from runs come as an array; from memory alone, as the
        list they were gathered in.
        """
        if not self.runs:
            yield from self._sorted_terms()
            return
        self._spill()
        merged = heapq.merge(*(self._read(path) for path in self.runs))
        key = None
        pieces: list[tuple[Any, ...]] = []
        for item in merged:
            if (item[0], item[1]) != key:
                if key is not None:
                    yield key[0], key[1], _joined(pieces)
                key, pieces = (item[0], item[1]), []
            pieces.append(item)
        if key is not None:
            yield key[0], key[1], _joined(pieces)

    def iter_postings(self) -> Iterator[Posting]:
        """Whoosh's interface: one posting at a time, in order."""
        for fieldname, tbytes, (docs, weights, values) in self.terms():
            for docnum, weight, vbytes in zip(docs, weights, values, strict=True):
                yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        self.fields = {}
        self.count = 0
        self.runs = []
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _joined(pieces: list[tuple[Any, ...]]) -> TermPostings:
    """One term's postings from its pieces in consecutive runs (in document order)."""
    # as the codec buffers them: documents array("I"); weights Python floats (the
    # block's maximum weight is taken before the codec stores them as float32)
    docs = array("I", b"".join(piece[3] for piece in pieces))
    weights = array("d", b"".join(piece[4] for piece in pieces)).tolist()
    data = b"".join(piece[6] for piece in pieces)
    if not data:
        return docs, weights, [b""] * len(docs)
    values = []
    at = 0
    for length in array("I", b"".join(piece[5] for piece in pieces)):
        values.append(data[at : at + length])
        at += length
    return docs, weights, values


class FieldLengths:
    """Per-document field lengths of one new segment, each field decoded once."""

    def __init__(self, perdoc: Any, count: int) -> None:
        self._perdoc = perdoc
        self._count = count
        self._by_field: dict[str, list[int]] = {}

    def of(self, fieldname: str) -> list[int]:
        lengths = self._by_field.get(fieldname)
        if lengths is None:
            column = self._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            if column is None:  # not a scorable field: Whoosh records no lengths
                lengths = [0] * self._count
            else:
                table = _LENGTH_OF_BYTE
                lengths = [table[b] for b in column_array(column, self._count).tolist()]
            self._by_field[fieldname] = lengths
        return lengths


class FastSegmentWriter(SegmentWriter):
    """Whoosh's SegmentWriter with the TermPool and the decoded lengths above."""

    def __init__(self, ix: Any, *, pool_items: int = DEFAULT_POOL_ITEMS, **kwargs: Any) -> None:
        kwargs.setdefault("codec", LeanCodec(compression=POSTING_COMPRESSION))
        super().__init__(ix, **kwargs)
        # run files sit next to the index (a /tmp on tmpfs would hold them in memory)
        self.pool = TermPool(self.storage.folder, max_items=pool_items)

    def add_document(self, **fields: Any) -> None:
        """SegmentWriter.add_document for schemas like ours: no boosts, term vectors,
        separate spelling or custom stored values; terms go to the pool a field at a time."""
        self._check_state()
        perdoc = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    length = self.pool.add_field(name, docnum, field.index(value))
                    if not field.scorable:
                        length = 0
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type is not None:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        """Whoosh's FieldWriter.add_postings, fed a term at a time."""
        self.perdocwriter.close()
        perdoc = self.per_document_reader()
        lengths = FieldLengths(perdoc, self.docnum)
        writer = self.fieldwriter
        try:
            current = None
            for fieldname, tbytes, (docs, weights, values) in self.pool.terms():
                if fieldname != current:
                    if current is not None:
                        writer.finish_field()
                    writer.start_field(fieldname, self.schema[fieldname])
                    current = fieldname
                    field_lengths = lengths.of(fieldname)
                writer.start_term(tbytes)
                _add_block_wise(writer._postwriter, docs, weights, values, field_lengths)
                writer.finish_term()
            if current is not None:
                writer.finish_field()
            writer.close()
        finally:
            perdoc.close()


def _add_block_wise(
    postings: Any,
    docs: Sequence[int],
    weights: Sequence[float],
    values: list[bytes],
    lengths: list[int],
) -> None:
    """W3PostingsWriter.add_posting for a whole term, a block's worth per step.

    The same buffers, statistics and block boundaries as one call per posting
    (tests/test_segment_writer.py compares the files), with list operations
    instead of a Python call and four type checks per posting.
    """
    limit = postings._blocklimit
    start, end = 0, len(docs)
    while start < end:
        if len(postings._ids) >= limit:
            postings._write_block()
        stop = min(end, start + limit - len(postings._ids))
        postings._ids.extend(docs[start:stop])
        chunk_weights = weights[start:stop]
        postings._weights.extend(chunk_weights)
        postings._values.extend([v for v in values[start:stop] if v])
        heaviest = max(chunk_weights)
        if heaviest > postings._maxweight:
            postings._maxweight = heaviest
        present = [n for n in map(lengths.__getitem__, docs[start:stop]) if n]
        if present:
            shortest, longest = min(present), max(present)
            if postings._minlength is None or shortest < postings._minlength:
                postings._minlength = shortest
            if longest > postings._maxlength:
                postings._maxlength = longest
        start = stop
