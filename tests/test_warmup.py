"""Warming: a worker opening a generation fills its caches with what will be asked,
between requests, and changes no answer."""

from __future__ import annotations

import json
import time

import pytest

from indexer.index.build import full_build, reindex
from indexer.index.hot_terms import HOT_FIELDS, HOT_TERMS_FILE, load_hot_terms
from indexer.index.store import IndexStore
from indexer.pages.sample import write_sample
from indexer.search.close_values import CACHE_ATTRIBUTE
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params
from indexer.search.warm_memory import memory_path, recall, remember
from indexer.search.warmup import WARM_SHARE, warm, warm_order
from webapp import create_app
from webapp.state import get_index

from pagemaker import make_page, write_pages

QUERIES = ["asthma", "breast cancer", '"heart failure"', "covid vaccine", "pain -opioid", ""]


@pytest.fixture()
def built(tmp_path):
    pages = tmp_path / "pages"
    write_sample(pages, 200)
    full_build(pages, tmp_path / "index", procs=1)
    return pages, tmp_path / "index"


def _generation_dir(index_dir):
    store = IndexStore(index_dir)
    return store.generation_dir(store.current())


def _search(index: SearchIndex, q: str):
    resp = index.search(parse_params({"q": [q]} if q else {})).to_dict()
    resp.pop("took_ms")
    return resp


def _finish_warming(index: SearchIndex) -> None:
    assert index.warming is not None
    index.warming.join(timeout=60)
    assert not index.warming.is_alive()


def test_a_full_build_lists_each_fields_most_frequent_words_and_an_incremental_keeps_them(
    built,
):
    pages, index_dir = built
    folder = _generation_dir(index_dir)
    hot = load_hot_terms(folder)
    assert set(hot) == set(HOT_FIELDS)
    ix = IndexStore(index_dir).open_current()[1]
    with ix.searcher() as searcher:
        reader = searcher.reader()
        for field, words in hot.items():
            assert 0 < len(words) <= HOT_FIELDS[field]
            frequency = [reader.frequency(field, w) for w in words]
            assert frequency == sorted(frequency, reverse=True), field
            assert frequency[0] == max(reader.frequency(field, t) for t in reader.lexicon(field))
    ix.close()
    write_pages(pages, {"NCT99999999": make_page("NCT99999999", "Zebra study")})
    reindex(pages, index_dir)
    newer = _generation_dir(index_dir)
    assert newer != folder
    assert (newer / HOT_TERMS_FILE).stat().st_ino == (folder / HOT_TERMS_FILE).stat().st_ino


def test_a_missing_or_damaged_list_means_nothing_to_warm(tmp_path):
    assert load_hot_terms(tmp_path) == {}
    (tmp_path / HOT_TERMS_FILE).write_text("{not json")
    assert load_hot_terms(tmp_path) == {}
    (tmp_path / HOT_TERMS_FILE).write_text(json.dumps({"body": ["a", 3, "b"], "title": "x"}))
    assert load_hot_terms(tmp_path) == {"body": ["a", "b"]}


def test_the_previous_caches_come_first_then_hot_words_rank_by_rank():
    previous = ([("body", "zebra"), ("body", "asthma")], [("title", "zebra")])
    hot = {"body": ["patient", "asthma"], "title": ["studi"]}
    assert warm_order(previous, hot) == [
        ("postings", "body", "zebra"),
        ("postings", "body", "asthma"),
        ("positions", "title", "zebra"),
        ("postings", "body", "patient"),
        ("postings", "title", "studi"),
        ("positions", "title", "studi"),
    ]


def test_a_warmed_worker_holds_the_hot_words_and_answers_exactly_as_a_cold_one(built):
    _, index_dir = built
    hot = load_hot_terms(_generation_dir(index_dir))
    warmed, cold = SearchIndex(index_dir, warm=True), SearchIndex(index_dir)
    try:
        first = _search(warmed, "asthma")  # opens the generation and starts warming
        _finish_warming(warmed)
        with warmed.use() as snap:
            postings, positions = snap.scorer.cached()
        for field, words in hot.items():
            assert (field, words[0]) in postings
        assert ("title", hot["title"][0]) in positions
        assert ("conditions", hot["conditions"][0]) in positions
        # a typo and an unknown filter value are answered from what warming made
        assert snap.spelling is not None
        assert getattr(snap.columns.facets["condition"], CACHE_ATTRIBUTE, None) is not None
        assert first == _search(cold, "asthma")
        for q in QUERIES:
            assert _search(warmed, q) == _search(cold, q), q
        assert cold.warming is None
    finally:
        warmed.close()
        cold.close()


def test_a_new_generation_is_warmed_with_the_words_asked_of_the_one_before(built):
    pages, index_dir = built
    index = SearchIndex(index_dir, warm=True)
    try:
        _search(index, "zebra")  # no such study: the word is looked up all the same
        _finish_warming(index)
        write_pages(pages, {"NCT99999999": make_page("NCT99999999", "Zebra study")})
        reindex(pages, index_dir)
        assert _search(index, "zebra")["total"] == 1  # the new generation
        _finish_warming(index)
        with index.use() as snap:
            assert snap.info.generation == 2
            assert ("body", "zebra") in snap.scorer.cached()[0]
    finally:
        index.close()


def test_what_a_worker_had_cached_is_warmed_first_at_the_next_start(built, tmp_path, monkeypatch):
    _, index_dir = built
    monkeypatch.setenv("TRIALSEARCH_CACHE_DIR", str(tmp_path / "cache"))
    first = SearchIndex(index_dir, warm=True)
    try:
        _search(first, "zebra")  # asked, though no study says it: not a hot word
        _finish_warming(first)
        first.remember()
    finally:
        first.close()
    assert ("body", "zebra") in recall(memory_path(index_dir))[0]
    again = SearchIndex(str(index_dir) + "/", warm=True)  # the folder however spelled
    try:
        assert again.prepare(30) is True  # opened and warmed before any request
        assert ("body", "zebra") in again._snap.scorer.cached()[0]
    finally:
        again.close()


def test_a_missing_or_damaged_memory_means_the_hot_words_alone(tmp_path):
    path = tmp_path / "memory.json"
    assert recall(path) is None
    path.write_text("not json")
    assert recall(path) is None
    path.write_text(json.dumps({"postings": [["body", "asthma"], ["x"], [1, 2], "y"]}))
    assert recall(path) == ([("body", "asthma")], [])
    (tmp_path / "file").write_text("")
    remember(tmp_path / "file" / "under-a-file.json", ([], []))  # unwritable: no raise


def test_an_unbuilt_index_is_not_prepared(tmp_path):
    index = SearchIndex(tmp_path / "none", warm=True)
    assert index.prepare(1) is False


def _poll(index: SearchIndex, q: str, total: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while _search(index, q)["total"] != total:
        assert time.monotonic() < deadline, f"{q!r} never found {total}"
        time.sleep(0.02)


def test_a_large_index_answers_from_the_generation_before_until_the_new_one_is_warm(
    built, monkeypatch
):
    from indexer.search import reader

    monkeypatch.setattr(reader, "DEFER_FROM_DOCUMENTS", 0)  # as for 50,000 studies
    pages, index_dir = built
    index = SearchIndex(index_dir, warm=True, switch_wait=30)
    try:
        assert _search(index, "zebra")["total"] == 0
        _finish_warming(index)
        write_pages(pages, {"NCT99999999": make_page("NCT99999999", "Zebra study")})
        reindex(pages, index_dir)
        assert _search(index, "zebra")["total"] == 0  # published, not yet warm
        _poll(index, "zebra", 1)
        with index.use() as snap:
            assert snap.info.generation == 2
            # warmed before it answered, with the words asked of the one before
            assert ("body", "zebra") in snap.scorer.cached()[0]
        # a generation published twice before the first was followed: the newest wins
        write_pages(pages, {"NCT99999998": make_page("NCT99999998", "Second zebra study")})
        reindex(pages, index_dir)
        assert _search(index, "zebra")["total"] == 1
        write_pages(pages, {"NCT99999997": make_page("NCT99999997", "Third zebra study")})
        reindex(pages, index_dir)
        _poll(index, "zebra", 3)
        with index.use() as snap:
            assert snap.info.generation == 4
    finally:
        index.close()


def test_a_new_generation_slow_to_warm_is_followed_after_the_switch_wait(built, monkeypatch):
    from indexer.search import reader, warmup

    monkeypatch.setattr(reader, "DEFER_FROM_DOCUMENTS", 0)
    pages, index_dir = built
    index = SearchIndex(index_dir, warm=True, switch_wait=0.2)
    try:
        assert _search(index, "zebra")["total"] == 0
        _finish_warming(index)
        monkeypatch.setattr(warmup, "START_DELAY_SECONDS", 30)  # warming never ends here
        write_pages(pages, {"NCT99999999": make_page("NCT99999999", "Zebra study")})
        reindex(pages, index_dir)
        _poll(index, "zebra", 1, seconds=5)  # followed cold after 0.2 s
    finally:
        index.close()


def _scorer_of(index: SearchIndex):
    index.search(parse_params({}))
    return index._snap.scorer


def test_warming_stops_when_told_and_waits_while_a_request_runs(built):
    _, index_dir = built
    keys = warm_order(None, load_hot_terms(_generation_dir(index_dir)))
    index = SearchIndex(index_dir)
    try:
        scorer = _scorer_of(index)
        report = warm(scorer, keys, stop=lambda: True)
        assert (report["postings"], report["positions"]) == (0, 0)
        assert scorer.cached() == ([], [])
        polled = []
        report = warm(scorer, keys[:4], busy=lambda: len(polled) < 5 and not polled.append(1))
        assert len(polled) == 5 and report["postings"] + report["positions"] == 4
    finally:
        index.close()


def test_warming_fills_each_cache_to_half_its_size_at_most(built):
    _, index_dir = built
    keys = warm_order(None, load_hot_terms(_generation_dir(index_dir)))
    everything, bounded = SearchIndex(index_dir), SearchIndex(index_dir)
    try:
        whole = _scorer_of(everything)
        report = warm(whole, keys)
        assert report["postings"] + report["positions"] == len(keys)
        needed = (whole._postings.bytes, whole._positions.bytes)
        scorer = _scorer_of(bounded)
        scorer._postings.limit, scorer._positions.limit = needed  # warming may fill half
        report = warm(scorer, keys)
        assert report["postings"] + report["positions"] < len(keys)
        assert min(scorer.cache_fill()) >= WARM_SHARE  # stopped because both were full
        assert len(scorer.cached()[0]) < len(whole.cached()[0])
    finally:
        everything.close()
        bounded.close()


def test_servers_warm_unless_told_not_to(built, monkeypatch):
    _, index_dir = built
    monkeypatch.setenv("TRIALSEARCH_INDEX_DIR", str(index_dir))
    with create_app().app_context():
        assert get_index().warm is True
    monkeypatch.setenv("TRIALSEARCH_WARM", "0")
    with create_app().app_context():
        assert get_index().warm is False


@pytest.mark.server
def test_a_gunicorn_worker_warms_the_generation_it_opens_and_logs_what_it_did(built, start_server):
    _, index_dir = built
    server = start_server(index_dir, workers=1, env={"TRIALSEARCH_WARM_WAIT": "60"})
    try:
        assert server.get("/api/search?q=asthma").status_code == 200
        time.sleep(1.0)  # 200 studies warm in milliseconds
        assert server.get("/api/search?q=asthma").json()["total"] > 0
    finally:
        server.proc.terminate()
        out = server.proc.communicate(timeout=15)[0].decode()
    assert "[INFO] generation 1: warmed " in out, out[-2000:]
    # the worker warmed before taking traffic, and left what it had cached for the next
    assert "index opened and caches warmed in" in out, out[-2000:]
    assert ("body", "asthma") in recall(memory_path(index_dir))[0]
