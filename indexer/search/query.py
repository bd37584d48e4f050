"""The query API: one `SearchRequest` in, one `SearchResponse` out.

The JSON view, the HTML view and `trialsearch search` all call `SearchIndex.search`
(reader.py), which runs the recipe in answer.py. Whoosh finds and scores the text
matches; filters, facet counts and field sorts are numpy operations over the
generation's columns (indexer/index/columns.py). This module is the front door:
callers import from here and need not know how the steps are split.
"""

from __future__ import annotations

from ..errors import (
    API_ERROR_CODES,
    IndexUnavailable,
    ParamError,
    SearchTimeout,
    TrialsearchError,
)
from ..index.history import to_epoch
from ..index.last_run import index_status
from ..index.replication import published_file, published_listing
from ..index.schema import FACETS, FACETS_BY_NAME, FacetSpec
from ..pages.values import NCT_ID_ANY_CASE
from ..places.gazetteer import gazetteer as open_gazetteer
from .answer import SearchResponse, run_search
from .autocomplete import SuggestRequest, parse_suggest
from .budget import time_budget
from .export import FORMATS as EXPORT_FORMATS
from .export import MAX_EXPORT, exported_lines
from .facets import FacetList, commonest_values
from .feeds import FEED_ENTRIES, FEED_IGNORES, entry_summary, feed_request, is_new
from .markdown import (
    listed_note,
    near_line,
    reading_line,
    search_markdown,
    site_line,
    study_markdown,
)
from .ordering import sorted_docs
from .params import (
    MAX_RESULT_WINDOW,
    PARAMS,
    PARAMS_BY_NAME,
    RANGE_PARAMS,
    SUGGEST_PARAMS,
    Param,
)
from .reader import SearchIndex, Snapshot
from .request import SearchRequest, parse_params
from .suggest import count as run_search_count

__all__ = [
    "to_epoch",
    "published_file",
    "published_listing",
    "index_status",
    "FEED_ENTRIES",
    "FEED_IGNORES",
    "entry_summary",
    "feed_request",
    "is_new",
    "EXPORT_FORMATS",
    "exported_lines",
    "MAX_EXPORT",
    "API_ERROR_CODES",
    "FACETS",
    "FACETS_BY_NAME",
    "FacetSpec",
    "MAX_RESULT_WINDOW",
    "NCT_ID_ANY_CASE",
    "PARAMS",
    "PARAMS_BY_NAME",
    "Param",
    "RANGE_PARAMS",
    "TrialsearchError",
    "time_budget",
    "search_markdown",
    "reading_line",
    "open_gazetteer",
    "listed_note",
    "near_line",
    "site_line",
    "study_markdown",
    "FacetList",
    "IndexUnavailable",
    "ParamError",
    "SearchIndex",
    "SearchRequest",
    "SearchResponse",
    "SearchTimeout",
    "Snapshot",
    "parse_params",
    "parse_suggest",
    "SuggestRequest",
    "SUGGEST_PARAMS",
    "run_search",
    "run_search_count",
    "commonest_values",
    "sorted_docs",
]
