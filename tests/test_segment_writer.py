"""The fast writer writes the index Whoosh's own writer would, and the parallel build
keeps page order's rule for duplicates across its writer processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from indexer.index.build import full_build
from indexer.index.schema import build_schema, record_to_document
from indexer.index.segment_writer import FastSegmentWriter, TermPool
from indexer.index.store import IndexStore
from indexer.pages.parse import decode_page, parse_page

from pagemaker import make_page, pages_for, write_pages


def _documents(pages: Path) -> list[dict]:
    return [
        record_to_document(parse_page(decode_page(path.read_bytes()), expected_id=path.stem))
        for path in sorted(pages.glob("*.md"))
    ]


def _write(folder: Path, docs: list[dict], writer_class, **kwargs) -> None:
    ix = whoosh_index.create_in(str(folder), build_schema())
    writer = writer_class(ix, compound=False, **kwargs)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    ix.close()


def _everything(folder: Path) -> tuple[list, list]:
    """Every posting (field, term, doc, weight, value bytes), field length, stored
    field and column value."""
    ix = whoosh_index.open_dir(str(folder))
    with ix.reader() as reader:
        postings = []
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)
            while matcher.is_active():
                postings.append((fieldname, text, matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
        docs = range(reader.doc_count_all())
        lengths = [
            (docnum, name, reader.doc_field_length(docnum, name))
            for docnum in docs
            for name in reader.schema.scorable_names()
        ]
        stored = [reader.stored_fields(docnum) for docnum in docs]
        columns = {
            name: list(reader.column_reader(name))
            for name, field in reader.schema.items()
            if field.column_type is not None
        }
    ix.close()
    return postings, lengths, stored, columns


@pytest.mark.parametrize("pool_items", [10_000_000, 2_000], ids=["in memory", "spilled runs"])
def test_the_fast_writer_writes_what_whoosh_writes(tmp_path, real_pages, pool_items):
    pages = tmp_path / "pages"
    pages.mkdir()
    for path in sorted(real_pages.glob("*.md"))[:150]:
        (pages / path.name).write_bytes(path.read_bytes())
    docs = _documents(pages)
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "fast").mkdir()
    _write(tmp_path / "whoosh", docs, SegmentWriter)
    _write(tmp_path / "fast", docs, FastSegmentWriter, pool_items=pool_items)

    theirs, ours = _everything(tmp_path / "whoosh"), _everything(tmp_path / "fast")
    assert len(theirs[0]) > 10_000  # enough postings that a 2,000 pool spills many runs
    assert ours == theirs
    assert not list((tmp_path / "fast").glob("runs-*")), "run files are removed"


def test_spilled_runs_join_a_terms_postings_in_document_order(tmp_path):
    pool = TermPool(tmp_path, max_items=2)
    for docnum in range(5):
        pool.add(("body", b"asthma", docnum, 1.0, None))
        pool.add(("body", b"zzz" if docnum % 2 else b"copd", docnum, 2.0, b"v"))
    assert len(pool.runs) == 5
    joined = [(f, t, (list(d), list(w), list(v))) for f, t, (d, w, v) in pool.terms()]
    assert joined == [
        ("body", b"asthma", ([0, 1, 2, 3, 4], [1.0] * 5, [b""] * 5)),
        ("body", b"copd", ([0, 2, 4], [2.0] * 3, [b"v"] * 3)),
        ("body", b"zzz", ([1, 3], [2.0] * 2, [b"v"] * 2)),
    ]
    pool.cleanup()
    assert not list(tmp_path.iterdir())


def test_parallel_build_keeps_the_first_page_of_a_duplicated_id_across_processes(tmp_path):
    """Pages are dealt out to two processes in turn, so a duplicate lands in the other one."""
    pages = write_pages(tmp_path / "pages", pages_for(9))
    copy = make_page("NCT00000001", "The same study again, filed twice")
    write_pages(pages / "zz", {"NCT00000001": copy})  # sorts last: the copy loses
    report = full_build(pages, tmp_path / "ix", procs=2)
    assert report.indexed == 9
    assert report.duplicates == [
        {"nct_id": "NCT00000001", "file": "zz/NCT00000001.md", "kept": "NCT00000001.md"}
    ]
    info, ix = IndexStore(tmp_path / "ix").open_current()
    with ix.searcher() as searcher:
        assert searcher.doc_count() == 9
        assert len(list(ix.reader().leaf_readers())) == 2  # one segment per process
    ix.close()
    assert info.documents == 9
