"""The numpy scorer matches what Whoosh itself matches, and scores terms as it does."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import query

from indexer.build import reindex
from indexer.scoring import FastScorer
from indexer.store import IndexStore
from indexer.textnorm import word_forms

from pagemaker import make_page, pages_for, write_pages


@pytest.fixture(scope="module")
def scorer(real_index):
    _, ix = IndexStore(real_index).open_current()
    searcher = ix.searcher()
    yield FastScorer(searcher)
    searcher.close()
    ix.close()


def _phrase(field: str, text: str, slop: int = 1) -> query.Phrase:
    words = [form for raw in text.split() for form in word_forms(raw)]
    return query.Phrase(field, words, slop=slop)


PHRASES = [
    ("body", "breast cancer"),
    ("body", "type 2 diabetes"),
    ("body", "non small cell lung cancer"),
    ("body", "healthy volunteers"),
    ("body", "quality of life"),  # a stop word inside: positions skip it
    ("body", "cancer breast"),  # reversed: far fewer
    ("title", "randomized controlled trial"),
    ("conditions", "heart failure"),
    ("interventions", "placebo drug"),
]


@pytest.mark.parametrize("field, text", PHRASES)
@pytest.mark.parametrize("slop", [1, 3])
def test_phrases_match_the_documents_whoosh_matches(scorer, field, text, slop):
    q = _phrase(field, text, slop)
    ours, _ = scorer.evaluate(q)
    theirs, _ = scorer._by_whoosh(q)
    assert theirs.any() or text == "cancer breast"
    assert np.array_equal(np.flatnonzero(ours), np.flatnonzero(theirs))


@pytest.mark.parametrize("word", ["cancer", "asthma", "placebo", "pediatr", "insulin"])
def test_term_scores_are_whooshs_bm25f(scorer, word):
    q = query.Term("body", word_forms(word)[0])
    ours_mask, ours = scorer.evaluate(q)
    theirs_mask, theirs = scorer._by_whoosh(q)
    assert ours_mask.sum() > 0
    assert np.array_equal(ours_mask, theirs_mask)
    assert np.allclose(ours[ours_mask], theirs[theirs_mask], rtol=1e-5)


def test_documents_deleted_by_an_incremental_reindex_never_match(tmp_path):
    """Old segments keep deleted postings; the block readers must drop them as Whoosh does."""
    pages = write_pages(tmp_path / "pages", pages_for(40))
    reindex(pages, tmp_path / "ix", procs=1)
    changed = {
        f"NCT{n:08d}": make_page(f"NCT{n:08d}", "Revised study of asthma attacks")
        for n in (3, 7, 11)
    }
    write_pages(pages, changed)
    assert reindex(pages, tmp_path / "ix").updated == 3
    _, ix = IndexStore(tmp_path / "ix").open_current()
    with ix.searcher() as searcher:
        assert any(sub.has_deletions() for sub, _ in searcher.reader().leaf_readers())
        fast = FastScorer(searcher)
        for q in (
            query.Term("body", "asthma"),
            query.Term("title", "asthma"),
            _phrase("body", "study of asthma"),
            _phrase("title", "asthma attacks"),
        ):
            ours, ours_scores = fast.evaluate(q)
            theirs, theirs_scores = fast._by_whoosh(q)
            assert ours.any()
            assert np.array_equal(ours, theirs), q
            if isinstance(q, query.Term):
                assert np.allclose(ours_scores[ours], theirs_scores[theirs], rtol=1e-5)
    ix.close()
