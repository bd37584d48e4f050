"""The package layout: an index written before `indexer/` was split into packages opens
with today's code and answers as it did (Whoosh pickled the old class paths into it)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from indexer.index.build import reindex
from indexer.pages.sample import write_sample
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def old_index(tmp_path: Path) -> Path:
    with tarfile.open(DATA / "index-before-layout.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "index"


def test_an_index_built_before_the_move_answers_as_it_did(old_index):
    expected = json.loads((DATA / "index-before-layout.expected.json").read_text())
    ix = SearchIndex(old_index)
    try:
        for q, answer in expected.items():
            digest = ix.search(parse_params({"q": [q]})).digest()
            # recorded before `suggestion` was part of a digest and before the age_group
            # facet (derived when opened): compare what was recorded
            digest["facets"] = {name: digest["facets"][name] for name in answer["facets"]}
            assert {key: digest[key] for key in answer} == answer, q
        assert ix.check()["documents"] == 12
    finally:
        ix.close()


def test_an_index_built_before_the_move_is_rebuilt_by_the_next_reindex(old_index, tmp_path):
    """It was written at index schema 4; today's schema has more fields, so the next
    reindex rebuilds it in full rather than add documents it cannot hold."""
    pages = tmp_path / "pages"
    write_sample(pages, n=12, seed=7)
    changed = sorted(pages.glob("*.md"))[0]
    changed.write_text(changed.read_text().replace('title: "', 'title: "Amended: ', 1))
    report = reindex(pages, old_index)
    assert report.mode == "full"
    assert report.indexed == 12
    ix = SearchIndex(old_index)
    try:
        assert ix.search(parse_params({"q": ["amended"]})).total == 1
        assert ix.search(parse_params({"q": [""]})).total == 12
    finally:
        ix.close()
