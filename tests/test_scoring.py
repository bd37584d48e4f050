"""The numpy scorer matches what Whoosh itself matches, and scores terms as it does."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import query

from indexer.index.build import reindex
from indexer.index.store import IndexStore
from indexer.index.textnorm import word_forms
from indexer.search.scoring import FastScorer

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
    theirs, _ = scorer.by_whoosh(q)
    assert theirs.any() or text == "cancer breast"
    assert np.array_equal(np.flatnonzero(ours), np.flatnonzero(theirs))


@pytest.mark.parametrize("word", ["cancer", "asthma", "placebo", "pediatr", "insulin"])
def test_term_scores_are_whooshs_bm25f(scorer, word):
    q = query.Term("body", word_forms(word)[0])
    ours_mask, ours = scorer.evaluate(q)
    theirs_mask, theirs = scorer.by_whoosh(q)
    assert ours_mask.sum() > 0
    assert np.array_equal(ours_mask, theirs_mask)
    assert np.allclose(ours[ours_mask], theirs[theirs_mask], rtol=1e-5)


def _t(word: str, boost: float = 1.0) -> query.Term:
    return query.Term("body", word_forms(word)[0], boost=boost)


COMPOUNDS = [
    query.Or([query.And([_t("breast"), _t("cancer")]), _t("asthma")]),
    query.And([query.Or([_t("insulin"), _t("diabetes", 2.0)]), _t("children")]),
    query.AndMaybe(_t("cancer"), _t("placebo")),
    query.Or([query.AndMaybe(_t("asthma"), _t("children")), _t("pain")]),
]


@pytest.mark.parametrize("q", COMPOUNDS, ids=str)
def test_compound_queries_match_and_score_as_whoosh_does(scorer, q):
    """A document scores only through the parts it matches: a sum over an And the
    document fails, or over the optional part of an AndMaybe it fails, never leaks
    into an Or above."""
    ours_mask, ours = scorer.evaluate(q)
    theirs_mask, theirs = scorer.by_whoosh(q)
    assert ours_mask.sum() > 0
    assert np.array_equal(ours_mask, theirs_mask)
    assert np.allclose(ours[ours_mask], theirs[theirs_mask], rtol=1e-5)
    assert not ours[~ours_mask].any()


@pytest.mark.parametrize("words", [("cancer", "placebo"), ("pain", "opioid")])
def test_and_not_drops_every_document_of_the_excluded_part(scorer, words):
    """Compared with Whoosh's term matchers, not its AndNotMatcher: that one keeps the
    first document of the kept part when the excluded part starts before it and also
    holds it (seen with pain ANDNOT opioid on the real sample)."""
    keep, drop = (_t(word) for word in words)
    mask, scores = scorer.evaluate(query.AndNot(keep, drop))
    keep_mask, keep_scores = scorer.by_whoosh(keep)
    drop_mask, _ = scorer.by_whoosh(drop)
    assert (keep_mask & drop_mask).any() and mask.any()
    assert np.array_equal(mask, keep_mask & ~drop_mask)
    assert np.allclose(scores[mask], keep_scores[mask], rtol=1e-5)
    assert not scores[~mask].any()


def test_phrase_scores_are_the_words_scores_where_the_phrase_matches(scorer):
    q = _phrase("body", "breast cancer")
    mask, scores = scorer.evaluate(q)
    words = [scorer.evaluate(query.Term("body", w))[1] for w in q.words]
    assert mask.sum() > 0 and not scores[~mask].any()
    assert np.allclose(scores[mask], sum(w[mask] for w in words), rtol=1e-5)


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
            theirs, theirs_scores = fast.by_whoosh(q)
            assert ours.any()
            assert np.array_equal(ours, theirs), q
            if isinstance(q, query.Term):
                assert np.allclose(ours_scores[ours], theirs_scores[theirs], rtol=1e-5)
    ix.close()
