"""Lean posting blocks: what Whoosh's reader expects of a block, in fewer objects."""

from __future__ import annotations

import pickle
from array import array
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from indexer.index.codec import PackedValues
from indexer.index.schema import build_schema, record_to_document
from indexer.index.segment_writer import FastSegmentWriter
from indexer.pages.parse import decode_page, parse_page
from indexer.pages.sample import write_sample
from indexer.search.scoring import FastScorer

VALUES = [b"\x01\x00\x00\x00", b"\x02\x00\x00\x00\x09\x00\x00\x00", b"\x07\x00\x00\x00"]


def test_packed_values_read_like_the_tuple_they_replace():
    packed = PackedValues.pack(VALUES)
    assert len(packed) == 3 and list(packed) == VALUES
    assert packed[1] == VALUES[1] and packed[-1] == VALUES[-1]
    assert packed[0:2] == tuple(VALUES[0:2]) and packed[::-1] == tuple(reversed(VALUES))
    with pytest.raises(IndexError):
        packed[3]
    with pytest.raises(IndexError):
        packed[-4]
    assert packed.offsets().tolist() == [4, 12, 16]
    assert pickle.loads(pickle.dumps(packed, protocol=5)) == packed
    assert len(PackedValues.pack([])) == 0


def _index(folder: Path, docs: list[dict], writer_class) -> whoosh_index.Index:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), build_schema())
    writer = writer_class(ix, compound=False)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return whoosh_index.open_dir(str(folder))


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory):
    root = tmp_path_factory.mktemp("codec")
    write_sample(root / "pages", 150)
    docs = [
        record_to_document(parse_page(decode_page(p.read_bytes()), expected_id=p.stem))
        for p in sorted((root / "pages").glob("*.md"))
    ]
    whooshs = _index(root / "whoosh", docs, SegmentWriter)
    ours = _index(root / "ours", docs, FastSegmentWriter)
    yield whooshs, ours
    whooshs.close()
    ours.close()


def test_our_blocks_hold_arrays_and_one_buffer_of_positions(two_indexes):
    _, ours = two_indexes
    with ours.reader() as reader:
        word = max(reader.lexicon("body"), key=lambda w: reader.doc_frequency("body", w))
        matcher = reader.postings("body", word)
        matcher._read_data()
        gaps, weights, values = matcher._data
        assert isinstance(gaps, array) and gaps.typecode == "I"
        assert weights is None or isinstance(weights, float | array)
        assert isinstance(values, PackedValues) and len(values) == len(gaps)
        facet_matcher = reader.postings("f_status", next(iter(reader.lexicon("f_status"))))
        facet_matcher._read_data()
        assert isinstance(facet_matcher._data[0], array)


def test_the_scorer_reads_the_same_postings_and_positions_from_either_kind_of_block(two_indexes):
    """Whoosh-written segments (tuples) and ours (arrays, buffers) give equal arrays."""
    whooshs, ours = two_indexes
    with whooshs.searcher() as theirs_s, ours.searcher() as ours_s:
        theirs, mine = FastScorer(theirs_s), FastScorer(ours_s)
        words = list(ours_s.reader().lexicon("body"))
        assert len(words) > 200
        for word in [w.decode() if isinstance(w, bytes) else w for w in words]:
            expected, got = theirs.postings("body", word), mine.postings("body", word)
            assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True)), word
            assert np.array_equal(
                theirs.position_keys("body", word), mine.position_keys("body", word)
            ), word
            assert np.array_equal(
                theirs.position_keys("title", word), mine.position_keys("title", word)
            ), word
