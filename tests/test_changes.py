"""What changed: the index remembers when each study arrived and last changed, searches
filter and sort by it, and every search has an Atom feed of it."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from indexer.index.build import reindex
from indexer.index.store import MANIFEST, IndexStore
from indexer.search.query import SearchIndex
from indexer.search.request import parse_params

from openapi_check import OpenAPIChecker
from pagemaker import make_page, pages_for, write_pages

ATOM = "{http://www.w3.org/2005/Atom}"


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def next_second() -> str:
    """A time strictly after everything done so far (history is kept to the second)."""
    time.sleep(1.05)
    mark = utc_now()
    time.sleep(1.05)
    return mark


def set_key(page: Path, key: str, value: str) -> str:
    """Give a frontmatter key a new value; the old one is returned."""
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    old = lines[at].split(":", 1)[1].strip()
    lines[at] = f"{key}: {value}\n"
    page.write_text("".join(lines), encoding="utf-8")
    return old


def refetched(page: Path) -> None:
    """As a sync that fetched the page again and found nothing new: only its
    `last_seen_at` moves."""
    set_key(page, "last_seen_at", '"2099-01-01T00:00:00Z"')


def withdrawn(page: Path) -> None:
    """The study's status changed (to WITHDRAWN, or from it to COMPLETED)."""
    if set_key(page, "overall_status", "WITHDRAWN") == "WITHDRAWN":
        set_key(page, "overall_status", "COMPLETED")


def history(index_dir: Path) -> dict[str, tuple[str, str]]:
    """(first_indexed, changed_at) by NCT ID, as the live manifest keeps them."""
    store = IndexStore(index_dir)
    manifest = json.loads((store.generation_dir(store.current()) / MANIFEST).read_text())
    return {e["nct_id"]: (e["first_indexed"], e["changed_at"]) for e in manifest.values()}


def ids(ix: SearchIndex, **params: str) -> list[str]:
    req = parse_params(
        {"per_page": ["100"], "fields": ["nct_id"], **{k: [v] for k, v in params.items()}}
    )
    return [hit["nct_id"] for hit in ix.search(req).results]


@pytest.fixture
def mirror(real_pages, tmp_path) -> tuple[Path, list[Path]]:
    """300 real pages in a mirror of their own, and 5 more held back to be added."""
    pages = sorted(real_pages.glob("*.md"))[:305]
    folder = tmp_path / "mirror"
    folder.mkdir()
    for page in pages[:300]:
        shutil.copy(page, folder / page.name)
    return folder, pages[300:]


@pytest.mark.server
def test_after_adding_5_and_changing_3_the_filters_sort_and_feed_name_exactly_those(
    mirror, tmp_path, start_server
):
    folder, held_back = mirror
    index_dir = tmp_path / "index"
    reindex(folder, index_dir, procs=1)
    server = start_server(index_dir, workers=1)
    api = OpenAPIChecker(server.get("/api/openapi.json").json())
    since = next_second()

    for page in held_back:
        shutil.copy(page, folder / page.name)
    changed = sorted(folder.glob("*.md"))[10:13]
    for page in changed:
        withdrawn(page)
    # a sync that refetched a page without any change but its last_seen_at
    untouched = sorted(folder.glob("*.md"))[20]
    refetched(untouched)
    report = reindex(folder, index_dir, procs=1)
    assert (report.mode, report.added, report.updated) == ("incremental", 5, 4)

    added = {page.stem for page in held_back}
    amended = {page.stem for page in changed}
    deadline = time.monotonic() + 20
    while server.get("/api/search", params={"per_page": 1}).json()["total"] != 305:
        assert time.monotonic() < deadline, "the server did not follow the new generation"
        time.sleep(0.2)

    def found(**params: str) -> list[dict]:
        response = server.get("/api/search", params={"per_page": 100, **params})
        assert response.status_code == 200, response.text
        api.validate("/api/search", 200, response.json())
        return response.json()["results"]

    new = found(new_since=since)
    assert {hit["nct_id"] for hit in new} == added
    assert all(hit["first_indexed"] == hit["changed_at"] >= since for hit in new)
    new_or_changed = found(changed_since=since)
    assert {hit["nct_id"] for hit in new_or_changed} == added | amended
    assert untouched.stem not in {hit["nct_id"] for hit in new_or_changed}
    for hit in new_or_changed:
        if hit["nct_id"] in amended:
            assert hit["first_indexed"] < since <= hit["changed_at"]
            assert hit["overall_status"] in ("WITHDRAWN", "COMPLETED")
    # a date (midnight UTC) or a time with an offset reads the same way
    assert len(found(changed_since=since.replace("Z", "+00:00"))) == 8
    assert found(new_since="2000-01-01", per_page=1)

    newest = found(sort="changed", per_page=8)
    assert {hit["nct_id"] for hit in newest} == added | amended
    times = [hit["changed_at"] for hit in found(sort="changed", per_page=50)]
    assert times == sorted(times, reverse=True)
    oldest = found(sort="changed", order="asc", per_page=1)[0]
    assert oldest["changed_at"] < since

    # the feed: valid Atom, its newest entries those 8, newest first
    response = server.get("/search.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == 50
    first = [entry.id.rsplit("/", 1)[1] for entry in feed.entries[:8]]
    assert set(first) == added | amended
    by_id = {entry.id.rsplit("/", 1)[1]: entry for entry in feed.entries}
    for nct in added:
        assert by_id[nct].title.startswith("New: ")
    for nct in amended:
        assert by_id[nct].title.startswith("Changed: ")
    # filtered like the search it follows
    narrowed = server.get("/search.atom", params={"changed_since": since, "status": "RECRUITING"})
    expected = {h["nct_id"] for h in found(changed_since=since, status="RECRUITING")}
    entries = feedparser.parse(narrowed.content).entries
    assert {entry.id.rsplit("/", 1)[1] for entry in entries} == expected


def test_a_feed_has_what_rfc_4287_requires_and_links_out(client):
    response = client.get("/search.atom?q=asthma&status=RECRUITING&sort=-enrollment&page=3")
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    self_link = root.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link.endswith("/search.atom?q=asthma&status=RECRUITING")  # order and page ignored
    assert (
        root.find(f"{ATOM}link[@rel='alternate']")
        .get("href")
        .endswith("/search?q=asthma&status=RECRUITING")
    )
    entries = root.findall(f"{ATOM}entry")
    body = client.get("/api/search?q=asthma&status=RECRUITING&per_page=1").get_json()
    assert len(entries) == min(50, body["total"]) > 0
    for entry in entries:
        for required in ("id", "title", "updated", "summary"):
            assert (entry.findtext(f"{ATOM}{required}") or "").strip(), required
        nct = entry.findtext(f"{ATOM}id").rsplit("/", 1)[1]
        assert entry.findtext(f"{ATOM}id") == f"https://clinicaltrials.gov/study/{nct}"
        links = entry.findall(f"{ATOM}link")
        alternate = [link for link in links if link.get("rel", "alternate") == "alternate"]
        related = [link for link in links if link.get("rel") == "related"]
        assert len(alternate) == 1 and alternate[0].get("href").startswith("https://")
        assert [link.get("href") for link in related] == [f"https://clinicaltrials.gov/study/{nct}"]
        assert "Recruiting" in entry.findtext(f"{ATOM}summary")
    feed = feedparser.parse(response.data)
    assert not feed.bozo and feed.version == "atom10"


def test_a_feed_answers_304_to_a_reader_that_has_it(client):
    first = client.get("/search.atom?q=asthma")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get("/search.atom?q=asthma", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(
        "/search.atom?q=asthma", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert since.status_code == 304
    other = client.get("/search.atom?q=diabetes", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize(
    "query, code",
    [
        ("new_since=last+week", "invalid_date"),
        ("changed_since=2026-02-30", "invalid_date"),
        ("changed_since=2026-11-01&changed_since=2026-11-02", "repeated_parameter"),
        ("status=SOON", "unknown_value"),
        ("colour=red", "unknown_parameter"),
    ],
)
def test_a_bad_feed_or_since_parameter_is_a_400_that_says_why(client, query, code):
    for path in ("/search.atom", "/api/search"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == code


def test_the_history_survives_full_rebuilds_moves_and_syncs_that_change_nothing(tmp_path):
    pages = write_pages(tmp_path / "pages", pages_for(6))
    index_dir = tmp_path / "index"
    reindex(pages, index_dir, procs=1)
    before = history(index_dir)
    next_second()
    # a full rebuild, a study moved to another file, another refetched unchanged
    (pages / "NCT00000002.md").rename(pages / "moved-NCT00000002.md")
    refetched(pages / "NCT00000003.md")
    reindex(pages, index_dir, full=True, procs=1)
    assert history(index_dir) == before
    mark = next_second()
    write_pages(pages, {"NCT00000004": make_page("NCT00000004", "Now different")})
    reindex(pages, index_dir, procs=1)
    after = history(index_dir)
    assert after["NCT00000004"][0] == before["NCT00000004"][0]
    assert after["NCT00000004"][1] >= mark
    assert {k: v for k, v in after.items() if k != "NCT00000004"} == {
        k: v for k, v in before.items() if k != "NCT00000004"
    }


def test_an_index_without_history_answers_and_gains_it_at_the_next_reindex(tmp_path):
    """A generation written before history existed: its hits say null, nothing fails;
    the next reindex starts every study's history there."""
    pages = write_pages(tmp_path / "pages", pages_for(4))
    index_dir = tmp_path / "index"
    reindex(pages, index_dir, procs=1)
    store = IndexStore(index_dir)
    folder = store.generation_dir(store.current())
    manifest = json.loads((folder / MANIFEST).read_text())
    for entry in manifest.values():
        for key in ("first_indexed", "changed_at", "content"):
            entry.pop(key)
    (folder / MANIFEST).write_text(json.dumps(manifest))
    (folder / "columns.npz").unlink()
    ix = SearchIndex(index_dir)
    try:
        hit = ix.search(parse_params({})).results[0]
        assert hit["first_indexed"] is None and hit["changed_at"] is None
        assert ids(ix, changed_since="2000-01-01") == []
    finally:
        ix.close()
    mark = utc_now()
    write_pages(pages, {"NCT00000001": make_page("NCT00000001", "Changed")})
    reindex(pages, index_dir, procs=1)
    assert all(first >= mark for first, _ in history(index_dir).values())


def test_outcome_location_and_eligibility_prefixes_search_those_parts_alone(real_index):
    ix = SearchIndex(real_index)
    try:
        for prefix, part, word in (
            ("outcome", "primary_outcomes", "survival"),
            ("location", "locations", "boston"),
            ("eligibility", "eligibility", "pregnant"),
        ):
            hits = ix.search(parse_params({"q": [f"{prefix}:{word}"], "per_page": ["50"]}))
            anywhere = ix.search(parse_params({"q": [word], "per_page": ["1"]})).total
            assert 0 < hits.total < anywhere, prefix
            for hit in hits.results:
                record = ix.study(hit["nct_id"])
                text = json.dumps(record[part]).lower()
                assert word in text, (prefix, hit["nct_id"])
        phrase = ix.search(parse_params({"q": ['location:"mayo clinic"'], "per_page": ["20"]}))
        assert phrase.total > 0
        for hit in phrase.results:
            sites = " ".join(loc["text"] for loc in ix.study(hit["nct_id"])["locations"])
            assert "mayo clinic" in sites.lower()
    finally:
        ix.close()


def test_the_page_marks_what_changed_and_links_the_feed(client):
    page = client.get("/search?q=asthma&sort=changed").get_data(as_text=True)
    assert 'type="application/atom+xml"' in page and "/search.atom?q=asthma" in page
    assert 'class="badge">New ' in page
    assert "What changed:" in page  # the sample's pages carry Recent Field Changes
    plain = client.get("/search?q=asthma").get_data(as_text=True)
    assert 'class="badge"' not in plain
    chip = client.get("/search?changed_since=2026-11-01").get_data(as_text=True)
    assert "Changed since: 2026-11-01" in chip
    assert 'name="changed_since" value="2026-11-01"' in chip
