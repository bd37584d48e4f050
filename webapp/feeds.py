"""Every search as an Atom feed (RFC 4287): `/search.atom?` and the page's parameters.

Feed readers poll, so the answer carries an ETag (the index generation and the
search) and Last-Modified (the newest change listed), and a poll that has them
gets 304 without a body. Entry ids are the study's ClinicalTrials.gov address: one
study is one entry, and a later change updates it (a newer `updated`) rather than
adding another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, request
from lxml import etree

from indexer.search.query import (
    FEED_ENTRIES,
    FEED_IGNORES,
    SearchRequest,
    SearchResponse,
    entry_summary,
    feed_request,
    is_new,
    parse_params,
    time_budget,
    to_epoch,
)

from .state import get_index

bp = Blueprint("feeds", __name__)
ATOM = "application/atom+xml; charset=utf-8"
ATOM_NS = "http://www.w3.org/2005/Atom"
POLL_SECONDS = 900  # how long a reader may keep the feed before asking again


@bp.get("/search.atom")
def search_feed() -> Response:
    """The newest new-or-changed studies matching the search, newest first."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in FEED_IGNORES}
    req = parse_params(args)
    with time_budget(float(current_app.config["REQUEST_BUDGET"])):
        resp = get_index().search(feed_request(req))
    params = req.to_params()
    base = (current_app.config["SETTINGS"].public_url or request.host_url).rstrip("/")
    updated = _newest(resp)
    response = Response(content_type=ATOM)
    tag = f"{resp.index['generation']}:{resp.index['built_at']}:{urlencode(params)}"
    response.set_etag(hashlib.sha1(tag.encode("utf-8")).hexdigest())
    response.last_modified = updated
    response.cache_control.public = True
    response.cache_control.max_age = POLL_SECONDS
    response = response.make_conditional(request)
    if response.status_code == 304:
        return response
    response.set_data(_atom(req, resp, params, base, updated))
    return response


def _atom(
    req: SearchRequest,
    resp: SearchResponse,
    params: list[tuple[str, str]],
    base: str,
    updated: dt.datetime,
) -> bytes:
    query = "?" + urlencode(params) if params else ""
    feed = FeedGenerator()
    feed.id(f"{base}/search.atom{query}")
    feed.title(f"trialsearch: {_described(req)}")
    feed.subtitle(
        f"The {FEED_ENTRIES} studies matching this search that were most recently new "
        f"to the index or changed ({resp.total:,} match in all)."
    )
    feed.author({"name": "trialsearch"})
    feed.link(href=f"{base}/search.atom{query}", rel="self", type="application/atom+xml")
    feed.link(href=f"{base}/search{query}", rel="alternate", type="text/html")
    feed.generator("trialsearch")
    feed.updated(updated)
    for hit in resp.results:
        entry = feed.add_entry(order="append")
        entry.id(f"https://clinicaltrials.gov/study/{hit['nct_id']}")
        entry.title(f"{'New' if is_new(hit) else 'Changed'}: {hit['title']} ({hit['nct_id']})")
        entry.updated(_when(hit.get("changed_at")) or updated)
        if hit.get("first_indexed"):
            entry.published(_when(hit["first_indexed"]))
        entry.summary(entry_summary(hit))
        # feedgen 1.0 writes an entry link's href only (lkiesow/python-feedgen#135):
        # a link without rel is the alternate one (RFC 4287, 4.2.7.2), the canonical
        # page; the ClinicalTrials.gov record is added as rel="related" below
        page = hit.get("canonical_url") or f"{base}/api/trials/{hit['nct_id']}.md"
        entry.link(href=page)
        if hit.get("overall_status"):
            entry.category(term=hit["overall_status"], label="Status")
    related = {
        f"https://clinicaltrials.gov/study/{hit['nct_id']}": hit["clinicaltrials_gov"]
        for hit in resp.results
        if hit.get("clinicaltrials_gov")
    }
    return _with_related(feed.atom_str(pretty=True), related)


def _with_related(document: bytes, related: dict[str, str]) -> bytes:
    """The feed with a rel="related" link to each entry's ClinicalTrials.gov record."""
    root = etree.fromstring(document)
    for entry in root.iterfind(f"{{{ATOM_NS}}}entry"):
        href = related.get(entry.findtext(f"{{{ATOM_NS}}}id") or "")
        if href:
            link = etree.SubElement(entry, f"{{{ATOM_NS}}}link")
            link.attrib.update({"href": href, "rel": "related", "title": "ClinicalTrials.gov"})
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _described(req: SearchRequest) -> str:
    """The search in a few words, for the feed's title: what XML 1.0 cannot hold (a
    query's control characters) left out, as the URL keeps it."""
    parts = [f"“{req.q}”"] if req.q else []
    parts += [f"{name} {', '.join(values)}" for name, values in req.filters.items()]
    if req.near is not None:
        parts.append(f"near {req.near.query}")
    return _NOT_XML.sub("", "; ".join(parts)) or "all studies"


# characters XML 1.0 does not allow (lxml refuses them: the feed was a 500)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _when(text: str | None) -> dt.datetime | None:
    epoch = to_epoch(text)
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC)


def _newest(resp: SearchResponse) -> dt.datetime:
    """The feed's time: its newest entry's, or when the index was built if none."""
    times = [t for hit in resp.results if (t := _when(hit.get("changed_at")))]
    if times:
        return max(times)
    return _when(resp.index["built_at"]) or dt.datetime.now(dt.UTC)
