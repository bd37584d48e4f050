"""Did-you-mean corrections from the per-generation lexicon (indexer/search/spelling.py)."""

from __future__ import annotations

import random
import string

from whoosh import index as whoosh_index

from indexer.index.store import IndexStore
from indexer.search.query import SearchIndex
from indexer.search.request import SearchRequest
from indexer.search.spelling import Lexicon


def _typos(words: list[str], n: int) -> list[str]:
    """Real words with one to three random edits (substitution, deletion, insertion,
    swap), some with a character outside a-z."""
    rng = random.Random(7)
    out = []
    for _ in range(n):
        word = rng.choice(words)
        for _ in range(rng.choice([1, 1, 2, 3])):
            i = rng.randrange(1, len(word))
            edit = rng.choice("sdit")
            if edit == "s":
                word = word[:i] + rng.choice(string.ascii_lowercase + "é1") + word[i + 1 :]
            elif edit == "d" and len(word) > 3:
                word = word[:i] + word[i + 1 :]
            elif edit == "i":
                word = word[:i] + rng.choice(string.ascii_lowercase) + word[i:]
            elif i < len(word) - 1:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        out.append(word)
    return out


def test_the_lexicon_corrects_exactly_as_whoosh_s_corrector_does(real_index):
    info = IndexStore(real_index).current()
    ix = whoosh_index.open_dir(str(real_index / info.directory))
    with ix.searcher() as searcher:
        lexicon = Lexicon(searcher.reader())
        corrector = searcher.corrector("spell")
        assert len(lexicon.words) > 10_000
        typed = ["diabetis", "astma", "alzhiemer", "pnemonia", "qwzxkvbnmtrp", "x2y", "ésophage"]
        typed += _typos([w for w in lexicon.words if len(w) >= 4], 300)
        for word in typed:
            whoosh = corrector.suggest(word, limit=1, maxdist=2, prefix=1)
            assert lexicon.correct(word, prefix=1) == (whoosh[0] if whoosh else None), word
    ix.close()


def test_a_query_of_typos_is_corrected_word_by_word(real_index):
    ix = SearchIndex(real_index)
    try:
        resp = ix.search(SearchRequest(q="astma childrn", mode="keywords"))
        assert resp.suggestion == "asthma children"
    finally:
        ix.close()
