"""The query API: one SearchRequest in, one SearchResponse out.

The JSON view, the HTML view and `trialsearch search` all call `SearchIndex.search`.
Whoosh finds and scores the text matches; filters, facet counts and field sorts are
numpy operations over per-generation columns (see columns.py).
"""

from __future__ import annotations

import contextlib
import difflib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import qparser, query

from ..errors import SearchTimeout
from ..index.columns import MISSING, Columns
from ..index.hot_terms import load_hot_terms
from ..index.schema import (
    AGE_SCALE,
    BODY,
    FACETS,
    FIELD_PREFIXES,
    SEARCHABLE_FIELDS,
    text_analyzer,
    unpack_record,
)
from ..index.store import GenerationInfo, IndexStore, IndexUnavailable
from ..pages.values import date_key
from .request import ENUM_VALUES, ParamError, SearchRequest
from .scoring import FastScorer
from .snippets import best_passage
from .synonyms import ABBREVIATION_BOOST, SYNONYM_BOOST, Expansion, get_table
from .warmup import start_warming, warm_order

_NCT = re.compile(r"\bNCT\s?0*(\d{1,8})\b", re.IGNORECASE)
_BARE_NCT = re.compile(r"(?<![\w-])(\d{8})(?![\w-])")
PROXIMITY_SLOP = 3
# The words of a query standing together in a title or a condition earn a bonus
# (phrase matching costs per field and per document: only short fields are read).
PROXIMITY_FIELDS = (("title", 2.0), ("conditions", 1.5))
# Synonyms name conditions and treatments: they are looked for where those are named
# (short fields, so their phrases are cheap to match), weighted like the body's parts.
SYNONYM_FIELDS = (("conditions", 3.0), ("interventions", 2.5), ("title", 5.0))
_WORD = re.compile(r"\w+", re.UNICODE)
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
FEW_RESULTS = 3
MAX_TERMS = 32
MIN_WILDCARD_PREFIX = 3
MAX_EXPANSIONS = 2000


@dataclass
class SearchResponse:
    """The one result shape, rendered as JSON, HTML and terminal text."""

    query: dict[str, Any]
    total: int
    page: int
    per_page: int
    results: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]
    suggestion: str | None
    index: dict[str, Any]
    took_ms: float
    pinned: list[str] = field(default_factory=list)
    expansions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        """The response as JSON-ready data. Its parts are built for this response alone,
        so they are handed over as they are (`asdict` deep-copied every hit and facet
        value on every request)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Snapshot:
    """One opened generation: its searcher and columns; closed when retired and unused."""

    def __init__(self, info: GenerationInfo, ix: Any, directory: Path | None = None) -> None:
        self.info = info
        self.ix = ix
        self.searcher = ix.searcher()
        self.columns = Columns(self.searcher, directory)
        self.scorer = FastScorer(self.searcher)
        self.lock = threading.RLock()
        self.users = 0
        self.retired = False
        self.files = None  # set by SearchIndex: the files_stamp it was opened on

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.searcher.close()
        with contextlib.suppress(Exception):
            self.ix.close()

    def index_info(self) -> dict[str, Any]:
        return {
            "generation": self.info.generation,
            "documents": self.columns.documents,
            "built_at": self.info.built_at,
            "newest_last_seen_at": self.info.newest_last_seen_at,
        }


class SearchIndex:
    """The live index of one folder, reopened when a reindex publishes a new generation.

    Never `Searcher.refresh()`: it shows updated documents twice (shared/WHOOSH.md).
    A new searcher is opened instead; requests in flight finish on the old one.
    """

    def __init__(self, index_dir: Path | str, *, warm: bool = False) -> None:
        """`warm`: warm each opened generation's caches in the background
        (warmup.py) — for long-lived servers, not for a one-off CLI search."""
        self.store = IndexStore(index_dir)
        self.warm = warm
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._stamp: tuple[int, int] | None = None
        self.warming: threading.Thread | None = None

    def _current(self) -> Snapshot:
        stamp = self.store.pointer_stamp()
        with self._lock:
            snap = self._snap
            if (
                snap is not None
                and stamp == self._stamp
                and self.store.files_stamp(snap.info) == snap.files
            ):
                return snap
            if stamp is None:
                raise IndexUnavailable(f"no index has been built in {self.store.root}")
            info, ix = self.store.open_current()
            try:
                files = self.store.files_stamp(info)
                snap = Snapshot(info, ix, self.store.generation_dir(info))
                snap.files = files
            except Exception as exc:
                with contextlib.suppress(Exception):
                    ix.close()
                raise IndexUnavailable(f"cannot read index {info.directory}: {exc}") from exc
            old, self._snap, self._stamp = self._snap, snap, stamp
            if self.warm:
                hot = load_hot_terms(self.store.generation_dir(info))
                keys = warm_order(old.scorer.cached() if old is not None else None, hot)
                self.warming = start_warming(snap, keys)
            if old is not None:
                old.retired = True
                if old.users == 0:
                    old.close()
            return snap

    @contextlib.contextmanager
    def use(self) -> Iterator[Snapshot]:
        """The current snapshot, kept open until the caller is done with it."""
        snap = self._current()
        with self._lock:
            snap.users += 1
        try:
            yield snap
        finally:
            with self._lock:
                snap.users -= 1
                if snap.retired and snap.users == 0:
                    snap.close()

    def info(self) -> dict[str, Any]:
        with self.use() as snap:
            return snap.index_info()

    def open_info(self) -> dict[str, Any] | None:
        """Info of the snapshot already open, if any (never opens or reopens)."""
        snap = self._snap
        return snap.index_info() if snap is not None else None

    def search(self, req: SearchRequest) -> SearchResponse:
        with self._reading() as snap:
            return run_search(snap, req)

    def get_record(self, nct_id: str) -> dict[str, Any] | None:
        with self._reading() as snap:
            fields = snap.searcher.document(nct_id=nct_id.upper())
            return unpack_record(fields["record"]) if fields else None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Snapshot]:
        """Use the snapshot; a failure inside Whoosh means damage, answered as unavailable."""
        with self.use() as snap, snap.lock:
            try:
                yield snap
            except (ParamError, SearchTimeout, IndexUnavailable):
                raise
            except Exception as exc:
                with self._lock:
                    if self._snap is snap:
                        self._stamp = None  # reopen from disk on the next request
                raise IndexUnavailable(
                    f"the index could not be read ({exc.__class__.__name__})"
                ) from exc

    def check(self) -> dict[str, Any]:
        """Open the live generation afresh and query it: what /healthz trusts."""
        info, ix = self.store.open_current()
        try:
            with ix.searcher() as searcher:
                documents = searcher.doc_count()
                searcher.search(query.Term("nct_text", "nct00000000"), limit=1)
                if documents != info.documents:
                    raise IndexUnavailable(
                        f"generation {info.generation} holds {documents} documents, "
                        f"expected {info.documents}"
                    )
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise IndexUnavailable(
                f"generation {info.generation} cannot be read ({exc.__class__.__name__})"
            ) from exc
        finally:
            ix.close()
        return self.info()

    def stats(self) -> dict[str, Any]:
        """Documents and the count of every facet value over the whole index."""
        with self.use() as snap, snap.lock:
            cols = snap.columns
            facets = {}
            for spec in FACETS:
                column = cols.facets[spec.name]
                counts = column.counts(cols.live)
                facets[spec.name] = {
                    column.values[i]: int(counts[i])
                    for i in np.argsort(-counts, kind="stable")
                    if counts[i] > 0
                }
            return {"index": snap.index_info(), "documents": cols.documents, "facets": facets}

    def close(self) -> None:
        with self._lock:
            if self._snap is not None:
                self._snap.close()
                self._snap = None


# --- text --------------------------------------------------------------------------------


def _parser() -> qparser.QueryParser:
    """Words go to the weighted `body` field; `prefix:` words to the part fields."""
    parser = qparser.QueryParser(BODY, schema=None, group=qparser.AndGroup)
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    # `-word` excludes, but the hyphen in T-cell or KEYNOTE-189 joins: +/- only after a space
    parser.add_plugin(qparser.PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
    # Only text fields may be named; internal fields (record, f_*) stay out of reach.
    names_re = "|".join(SEARCHABLE_FIELDS)
    parser.replace_plugin(qparser.FieldsPlugin(expr=rf"(?P<text>{names_re}):"))
    return parser


_PARSER_LOCK = threading.Lock()


class _Text:
    """The text part of a request: pinned NCT IDs, the Whoosh query, its terms, expansions."""

    def __init__(self, snap: Snapshot, q: str, exact: bool = False) -> None:
        self.pinned: list[str] = []
        rest = q
        for match in _NCT.finditer(q):
            self._pin("NCT" + match.group(1).zfill(8))
        rest = _NCT.sub(" ", rest)
        # eight bare digits are an NCT ID when such a study exists (IDs from letters)
        for match in _BARE_NCT.finditer(rest):
            if snap.searcher.document_number(nct_id="NCT" + match.group(1)) is not None:
                self._pin("NCT" + match.group(1))
                rest = rest.replace(match.group(0), " ", 1)
        rest = rest.strip()
        self.rest = rest
        self.query: query.Query | None = None
        self.expansions: list[Expansion] = []
        if rest and _WORD.search(rest):
            self.query, self.expansions = _parse_text(snap, rest, exact)
        elif self.pinned:
            # studies that mention the ID: the analyzer splits NCT01234567 into nct·01234567
            self.query = query.Or([query.Phrase(BODY, ["nct", nct[3:]]) for nct in self.pinned])
        self.terms: set[str] = set()
        if self.query is not None:
            for _, text in self.query.iter_all_terms():
                self.terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)

    def _pin(self, nct: str) -> None:
        if nct not in self.pinned:
            self.pinned.append(nct)


def _parse_text(snap: Snapshot, text: str, exact: bool) -> tuple[query.Query, list[Expansion]]:
    """Whoosh syntax when it parses cleanly, plain AND-ed words when it does not; then
    synonyms OR-ed in at a lower weight, and a bonus for the words standing together."""
    schema = snap.ix.schema
    with _PARSER_LOCK:
        parser = _parser()
        parser.schema = schema
        try:
            parsed = parser.parse(_prefix_to_field(_balance(text)))
        except Exception:  # noqa: BLE001 - any parser failure means "read it as words"
            parsed = None
        if parsed is None or not _is_sane(parsed):
            text = " ".join(w for w in _WORD.findall(text) if w.upper() not in _OPERATORS)
            parsed = parser.parse(text or "")
        _check_cost(snap, parsed)  # on the words as typed: expansions are ours to bound
        expansions: list[Expansion] = []
        if not exact:
            rewritten, expansions = _with_synonyms(text)
            if expansions:
                try:
                    expanded = parser.parse(_prefix_to_field(_balance(rewritten)))
                except Exception:  # noqa: BLE001 - keep the unexpanded query
                    expanded = None
                if expanded is not None and _is_sane(expanded):
                    parsed = expanded
                else:
                    expansions = []
        acronyms = [w for w in text.split() if _ACRONYM_WORD.match(w) and w not in _OPERATORS]
        if acronyms:
            named = parser.parse(
                " OR ".join(f"acronym:{_acronym_query(w)}^{ACRONYM_BONUS:g}" for w in acronyms)
            )
            if _is_sane(named):
                parsed = query.AndMaybe(parsed, named)
        words = _plain_words(text)
        if 2 <= len(words) <= 8 and len(words) == len(text.split()):
            phrase = '"' + " ".join(words) + f'"~{PROXIMITY_SLOP}'
            near = parser.parse(
                " OR ".join(f"{name}:{phrase}^{weight:g}" for name, weight in PROXIMITY_FIELDS)
            )
            if _is_sane(near):
                parsed = query.AndMaybe(parsed, near)
    return parsed, expansions


_UNQUOTE = re.compile(r'["\\]')
# A word typed with two or more capitals (SPRINT, DAPA-HF, KEYNOTE189, NeoIMLung) may
# be a trial's acronym: studies carrying exactly it (unstemmed) earn a bonus.
_ACRONYM_WORD = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z0-9][A-Za-z0-9-]{2,}$")
ACRONYM_BONUS = 3.0


def _acronym_query(word: str) -> str:
    joined = "".join(ch for ch in word if ch.isalnum())
    return f'"{word}"' if joined == word else f'("{word}" OR {joined})'


_TOKEN = re.compile(r'"[^"]*"|\S+')
_PLAIN = re.compile(r"^[^\W_][\w'’.-]*$")


def _plain_words(text: str) -> list[str]:
    return [t for t in text.split() if _PLAIN.match(t) and t not in _OPERATORS]


def _with_synonyms(text: str) -> tuple[str, list[Expansion]]:
    """The query text with every known phrase of plain words OR-ed with its synonyms.

    Only runs of plain words are read: quoted phrases, `field:` words, operators and
    the word after NOT or a minus stay exactly as typed.
    """
    table = get_table()
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    found: list[Expansion] = []
    run: list[str] = []

    def flush() -> None:
        spans = table.expand(run) if run else []
        i = 0
        for start, end, expansion in spans:
            if (
                expansion.kind == "abbreviation"
                and len(run[start]) <= 3
                and not run[start].isupper()
            ):
                continue  # two- and three-letter abbreviations only when typed in capitals
            out.extend(run[i:start])
            boost = ABBREVIATION_BOOST if expansion.kind == "abbreviation" else SYNONYM_BOOST
            alternatives = " OR ".join(
                f'{name}:"{_UNQUOTE.sub(" ", alt)}"^{boost * weight:g}'
                for alt in expansion.alternatives
                for name, weight in SYNONYM_FIELDS
            )
            # OR binds tighter than the implicit AND: the words as typed need their own group
            out.append(f"(({' '.join(run[start:end])}) OR {alternatives})")
            found.append(expansion)
            i = end
        out.extend(run[i:])
        run.clear()

    negate_next = False
    for token in tokens:
        plain = bool(_PLAIN.match(token)) and token not in _OPERATORS
        if plain and not negate_next:
            run.append(token)
        else:
            flush()
            out.append(token)
        negate_next = token in ("NOT", "ANDNOT")
    flush()
    return " ".join(out), found


def _check_cost(snap: Snapshot, q: query.Query) -> None:
    """Refuse queries whose cost has no useful bound: too many words, too-broad wildcards."""
    words: set[str] = set()
    reader = snap.searcher.reader()
    checked: set[str] = set()
    for leaf in q.leaves():
        if isinstance(leaf, query.Phrase):
            words.update(leaf.words)
        elif hasattr(leaf, "text"):
            words.add(str(leaf.text))
        if isinstance(leaf, query.Wildcard | query.Prefix) and leaf.text not in checked:
            checked.add(leaf.text)
            prefix = (
                re.split(r"[*?]", leaf.text)[0] if isinstance(leaf, query.Wildcard) else leaf.text
            )
            if len(prefix) < MIN_WILDCARD_PREFIX:
                raise ParamError(
                    "wildcard_too_broad",
                    f"a wildcard needs at least {MIN_WILDCARD_PREFIX} letters before * or ? "
                    f"(got '{leaf.text}')",
                    "q",
                )
            for field in SEARCHABLE_FIELDS:
                expansions = 0
                for _ in reader.expand_prefix(field, prefix):
                    expansions += 1
                    if expansions > MAX_EXPANSIONS:
                        raise ParamError(
                            "wildcard_too_broad",
                            f"'{leaf.text}' matches more than {MAX_EXPANSIONS} words; add letters",
                            "q",
                        )
    if len(words) > MAX_TERMS:
        raise ParamError(
            "too_many_terms", f"the query has {len(words)} words; the limit is {MAX_TERMS}", "q"
        )


def _balance(text: str) -> str:
    """Drop quotes or parentheses that do not pair up, so they read as plain words."""
    if text.count('"') % 2:
        text = text.replace('"', " ")
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("(", " ").replace(")", " ")
    return text


def _prefix_to_field(text: str) -> str:
    """`condition:asthma` -> a group over the text fields that prefix searches."""

    def repl(match: re.Match[str]) -> str:
        fields = FIELD_PREFIXES[match.group(1).lower()]
        value = match.group(2)
        if len(fields) == 1:
            return f"{fields[0]}:{value}"
        return "(" + " OR ".join(f"{f}:{value}" for f in fields) + ")"

    pattern = "|".join(FIELD_PREFIXES)
    return re.sub(rf"(?i)\b({pattern}):(\"[^\"]*\"|\([^)]*\)|\S+)", repl, text)


def _is_sane(q: query.Query) -> bool:
    if q is None or q is query.NullQuery:
        return False
    for sub in q.leaves():
        if isinstance(sub, query.Every):
            return False
    return True


# --- the search --------------------------------------------------------------------------


def _selected_values(cols: Columns, req: SearchRequest) -> None:
    """Refuse filter values the index has never seen (for open-ended facets)."""
    for name, values in req.filters.items():
        if name in ENUM_VALUES:
            continue
        column = cols.facets[name]
        for value in values:
            if value not in column.index:
                lowered = value.lower()
                close = [v for v in column.values if lowered in v.lower()][:10]
                close += [
                    v
                    for v in difflib.get_close_matches(value, column.values, n=10, cutoff=0.6)
                    if v not in close
                ]
                close = close[:10]
                raise ParamError(
                    "unknown_value",
                    f"no study has {name} '{value}'"
                    + (f"; close values: {', '.join(close)}" if close else ""),
                    name,
                    allowed=close,
                )


def _range_masks(cols: Columns, req: SearchRequest) -> np.ndarray:
    mask = cols.live.copy()
    for name, low, high in (
        ("start_date", req.start_date_from, req.start_date_to),
        ("last_update", req.last_update_from, req.last_update_to),
    ):
        if low or high:
            mask &= cols.range_mask(name, date_key(low), _date_upper(high), keep_missing=False)
    if req.enrollment_min is not None or req.enrollment_max is not None:
        mask &= cols.range_mask("enrollment", req.enrollment_min, req.enrollment_max, False)
    if req.age is not None:
        age = round(req.age * AGE_SCALE)
        mask &= cols.range_mask("min_age_years", None, age, keep_missing=True)
        mask &= cols.range_mask("max_age_years", age, None, keep_missing=True)
    return mask


def _date_upper(text: str | None) -> int | None:
    """'2020-05' as an upper bound means the whole of May."""
    if not text:
        return None
    key = date_key(text)
    return key + 30 if key is not None and len(text) == 7 else key


def _facet_lists(
    cols: Columns,
    base: np.ndarray,
    facet_masks: dict[str, np.ndarray],
    final: np.ndarray,
    req: SearchRequest,
) -> dict[str, list[dict[str, Any]]]:
    """Disjunctive counts: each facet counted with every filter applied except its own.

    A facet without a filter of its own counts the final matches (`final`), so
    those are listed once for all of them.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    final_docs: np.ndarray | None = None
    for spec in FACETS:
        column = cols.facets[spec.name]
        if spec.name in facet_masks:
            mask = base.copy()
            for name, fmask in facet_masks.items():
                if name != spec.name:
                    mask &= fmask
            counts = column.counts(mask)
        else:
            if final_docs is None:
                final_docs = np.flatnonzero(final)
            counts = column.counts(final, final_docs)
        selected = req.filters.get(spec.name, [])
        items = [
            {
                "value": column.values[i],
                "count": int(counts[i]),
                "selected": column.values[i] in selected,
            }
            for i in _commonest(counts, req.facet_limit)
        ]
        shown = {item["value"] for item in items}
        for value in selected:
            if value not in shown:
                code = column.index.get(value)
                count = int(counts[code]) if code is not None else 0
                items.append({"value": value, "count": count, "selected": True})
        items.sort(key=lambda item: (-item["count"], item["value"]))
        out[spec.name] = items
    return out


def _commonest(counts: np.ndarray, limit: int) -> list[int]:
    """Codes of the `limit` largest non-zero counts, largest first, ties by value order.

    A facet such as condition has tens of thousands of values: only the few that
    can make the list are sorted.
    """
    codes = np.flatnonzero(counts)
    if len(codes) > limit > 0:
        kth = np.partition(counts[codes], len(codes) - limit)[len(codes) - limit]
        codes = codes[counts[codes] >= kth]
    return codes[np.argsort(-counts[codes], kind="stable")][:limit].tolist()


def _sorted_docs(
    cols: Columns, docs: np.ndarray, sort: str, desc: bool, limit: int | None = None
) -> np.ndarray:
    """Order documents by a column; missing values last either way; ties by NCT ID.

    With `limit`, only the first `limit` are returned, found by partition: a page
    needs twenty documents, and sorting all 560,000 was most of a browse request.
    """
    rank = np.minimum(cols.nct_rank[docs], 2**27 - 1)  # NCT + 8 digits: below 2**27
    if sort == "nct_id":
        composite = -rank if desc else rank
    else:
        values = cols.numbers[sort][docs]
        missing = values == MISSING
        key = np.where(missing, 0, -values if desc else values)
        # one int64 ordering as (missing, key, NCT rank): 1 + 32 + 27 bits
        composite = (missing.astype(np.int64) << 60) | ((key + 2**31) << 27) | rank
    if limit is not None and limit < len(docs):
        if limit <= 0:
            return docs[:0]
        kth = np.partition(composite, limit - 1)[limit - 1]
        docs, composite = docs[composite <= kth], composite[composite <= kth]
    return docs[np.argsort(composite, kind="stable")][:limit]


def run_search(snap: Snapshot, req: SearchRequest) -> SearchResponse:
    started = time.perf_counter()
    cols = snap.columns
    searcher = snap.searcher
    _selected_values(cols, req)
    text = _Text(snap, req.q, req.exact) if req.q.strip() else None

    match = cols.live.copy()
    pinned_docs: list[int] = []
    scores: dict[int, float] = {}
    if text is not None:
        match[:] = False
        if text.query is not None:
            matched, relevance = snap.scorer.evaluate(text.query)
            match |= matched
        for nct in text.pinned:
            doc = searcher.document_number(nct_id=nct)
            if doc is not None:
                pinned_docs.append(doc)
                match[doc] = True
    base = match & _range_masks(cols, req) & cols.live  # counts assume live documents
    facet_masks = {
        name: cols.facets[name].mask_for(values, cols.size) for name, values in req.filters.items()
    }
    final = base.copy()
    for fmask in facet_masks.values():
        final &= fmask
    total = int(final.sum())
    sort, desc = req.effective_sort()
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    pinned_here = [d for d in pinned_docs if final[d]]

    if sort == "relevance" and text is not None and text.query is not None:
        rest_mask = final.copy()
        rest_mask[pinned_here] = False
        need = max(0, stop - len(pinned_here))
        ranked: list[int] = list(pinned_here)
        if need and rest_mask.any():
            for doc in _top(np.flatnonzero(rest_mask), relevance, need):
                ranked.append(doc)
                scores[doc] = float(relevance[doc])
        page_docs = ranked[start:stop]
    else:
        if sort == "relevance":
            sort, desc = "last_update", True
        others = final.copy()
        others[pinned_here] = False
        need = max(0, stop - len(pinned_here))
        ordered = _sorted_docs(cols, np.flatnonzero(others), sort, desc, limit=need)
        page_docs = (pinned_here + ordered.tolist())[start:stop]

    analyzer = _SNIPPET_ANALYZER
    results = [
        _hit(searcher, doc, scores.get(doc), text.terms if text else set(), analyzer)
        for doc in page_docs
    ]
    facets = _facet_lists(cols, base, facet_masks, final, req)
    suggestion = None
    if text is not None and total < FEW_RESULTS:
        suggestion = _suggest(snap, req, text, total)
    return SearchResponse(
        query=req.to_dict(),
        total=total,
        page=req.page,
        per_page=req.per_page,
        results=results,
        facets=facets,
        suggestion=suggestion,
        index=snap.index_info(),
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        pinned=[_nct_of(searcher, d) for d in pinned_here],
        expansions=[e.to_dict() for e in text.expansions] if text else [],
    )


def _top(candidates: np.ndarray, relevance: np.ndarray, k: int) -> list[int]:
    """The k best-scoring candidates, best first; equal scores in document order."""
    scores = relevance[candidates]
    if len(candidates) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[keep].min()
        # every candidate tied with the k-th must be considered for a stable order
        keep = np.flatnonzero(scores >= threshold)
        candidates, scores = candidates[keep], scores[keep]
    order = np.lexsort((candidates, -scores))[:k]
    return candidates[order].tolist()


# one analyzer for every request's snippets, so its cache of analysed words lasts
_SNIPPET_ANALYZER = text_analyzer()


def _nct_of(searcher: Any, doc: int) -> str:
    return searcher.stored_fields(doc)["nct_id"]


def _hit(
    searcher: Any, doc: int, score: float | None, terms: set[str], analyzer: Any
) -> dict[str, Any]:
    record = unpack_record(searcher.stored_fields(doc)["record"])
    snippet = best_passage(_snippet_sources(record), terms, analyzer)
    return {
        "nct_id": record["nct_id"],
        "title": record["title"],
        "overall_status": record.get("overall_status"),
        "phases": record.get("phases") or [],
        "study_type": record.get("study_type"),
        "sponsor": record.get("sponsor"),
        "conditions": record.get("conditions") or [],
        "countries": record.get("countries") or [],
        "enrollment": record.get("enrollment"),
        "start_date": record.get("start_date"),
        "last_update": record.get("last_update"),
        "canonical_url": record.get("canonical_url"),
        "clinicaltrials_gov": record.get("clinicaltrials_gov"),
        "score": round(score, 4) if score is not None else None,
        "snippet": snippet,
    }


def _snippet_sources(record: dict[str, Any]) -> list[str | None]:
    """Texts a snippet may come from, best first; the title is shown anyway."""

    def described(items: list[dict[str, Any]], name: str) -> str:
        return "; ".join(
            f"{item.get(name)}" + (f": {item['description']}" if item.get("description") else "")
            for item in items
        )

    return [
        record.get("brief_summary"),
        record.get("detailed_description"),
        "Conditions: " + "; ".join(record.get("conditions") or []),
        "Interventions: " + described(record.get("interventions") or [], "name"),
        "Arms: " + described(record.get("arms") or [], "label"),
        "Outcomes: " + described(record.get("primary_outcomes") or [], "measure"),
        (record.get("eligibility") or {}).get("criteria"),
        "Sponsor: " + (record.get("sponsor") or ""),
        "Locations: " + "; ".join(loc.get("text") or "" for loc in record.get("locations") or []),
    ]


def _suggest(snap: Snapshot, req: SearchRequest, text: _Text, total: int) -> str | None:
    """A corrected query from the index's own (unstemmed) words, if it finds more."""
    searcher = snap.searcher
    reader = searcher.reader()
    corrector = searcher.corrector("spell")
    changed = False
    out = []
    for token in re.split(r"(\s+)", req.q):
        word = token.lower()
        if (
            token.strip()
            and _WORD.fullmatch(token)
            and token not in _OPERATORS
            and len(word) >= 3
            and not word.isdigit()
            and not _NCT.fullmatch(token)
            and reader.doc_frequency("spell", word) == 0
        ):
            options = corrector.suggest(word, limit=1, maxdist=2)
            if options:
                out.append(options[0])
                changed = True
                continue
        out.append(token)
    if not changed:
        return None
    corrected = "".join(out)
    alt = SearchRequest(**{**asdict(req), "q": corrected, "page": 1, "per_page": 1})
    with contextlib.suppress(ParamError):
        if run_search_count(snap, alt) > total:
            return corrected
    return None


def run_search_count(snap: Snapshot, req: SearchRequest) -> int:
    """The total a request would get, without building hits or facets."""
    cols = snap.columns
    mask = cols.live.copy()
    text = _Text(snap, req.q, req.exact) if req.q.strip() else None
    if text is not None:
        mask[:] = False
        if text.query is not None:
            mask |= snap.scorer.evaluate(text.query)[0]
    mask &= _range_masks(cols, req)
    for name, values in req.filters.items():
        mask &= cols.facets[name].mask_for(values, cols.size)
    return int(mask.sum())
