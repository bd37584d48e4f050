"""Reader lifecycle: which generation a worker reads, and when it moves to a newer one.

A `Snapshot` is one opened generation (searcher, columns, scorer); `SearchIndex` holds
the current one for a folder, opens the next when a reindex publishes it, and closes
the old one once the requests still reading it are done. No query logic lives here:
`SearchIndex.search` hands the snapshot to `answer.run_search`.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import IndexUnavailable, ParamError, SearchTimeout, StudyNotFound
from ..index.columns import Columns
from ..index.hot_terms import load_hot_terms
from ..index.schema import FACETS, unpack_record
from ..index.store import GenerationInfo, IndexStore
from ..pages.values import NCT_ID_ANY_CASE
from .hits import SNIPPET_ANALYZER
from .request import SearchRequest
from .scoring import FastScorer
from .warm_memory import memory_path, recall, remember
from .warmup import start_warming, warm_order

if TYPE_CHECKING:
    from .answer import SearchResponse
    from .autocomplete import SuggestRequest


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
        # autocomplete's recent filter sets: their documents and counts (autocomplete.py)
        self.suggest_filters: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        # patient mode's dictionary of this generation's names (patient_query.py)
        self.patient_vocabulary: dict[str, Any] | None = None
        # which studies list which synonym group, per set of lists (concepts.py)
        self.listed_concepts: dict[int, Any] = {}
        # the spelling field's words for "did you mean", read once (spelling.py)
        self.spelling: Any = None

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


class ExportRows:
    """The records of an export, read in batches; `close()` (which WSGI servers call
    on a response body, and iteration calls at its end) lets the generation go."""

    BATCH = 200

    def __init__(self, snap: Snapshot, docs: list[int], release: Any) -> None:
        self.snap, self.docs, self._release = snap, docs, release
        self._batch: list[dict[str, Any]] = []
        self._next = 0

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self) -> ExportRows:
        return self

    def __next__(self) -> dict[str, Any]:
        if not self._batch:
            if self._next >= len(self.docs):
                self.close()
                raise StopIteration
            chunk = self.docs[self._next : self._next + self.BATCH]
            self._next += len(chunk)
            with self.snap.lock:
                stored = [self.snap.searcher.stored_fields(doc)["record"] for doc in chunk]
            self._batch = [unpack_record(blob) for blob in reversed(stored)]
        return self._batch.pop()

    def close(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None


# Below this many studies a generation opens and warms in well under a second: it is
# followed at once, so a reindex's change shows in the next answer. At 560,000 opening
# takes 1.2 s and warming 4–5 s, which requests would otherwise meet cold.
DEFER_FROM_DOCUMENTS = 50_000


class _Pending:
    """A new generation being opened and warmed while the one before still answers."""

    def __init__(self, stamp: tuple[int, int]) -> None:
        self.stamp = stamp
        self.started = time.monotonic()
        self.snap: Snapshot | None = None
        self.failed = False
        self.warmed = threading.Event()
        self.dropped = False  # a newer generation came first: close it when done


class SearchIndex:
    """The live index of one folder, reopened when a reindex publishes a new generation.

    Never `Searcher.refresh()`: it shows updated documents twice (shared/WHOOSH.md).
    A new searcher is opened instead; requests in flight finish on the old one.
    """

    def __init__(
        self, index_dir: Path | str, *, warm: bool = False, switch_wait: float = 0.0
    ) -> None:
        """`warm`: warm each opened generation's caches in the background
        (warmup.py) — for long-lived servers, not for a one-off CLI search.
        `switch_wait`: with `warm`, a new generation is opened and warmed in the
        background while the one before answers, for at most this many seconds."""
        self.store = IndexStore(index_dir)
        self.warm = warm
        self.switch_wait = switch_wait if warm else 0.0
        self._pending: _Pending | None = None
        # what this folder's workers had cached when they last left (warm_memory.py)
        self.memory = memory_path(Path(index_dir)) if warm else None
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
            if (
                snap is not None
                and stamp != self._stamp
                and self.switch_wait > 0
                and snap.columns.documents >= DEFER_FROM_DOCUMENTS
            ):
                ready = self._prepared(stamp, snap)
                if ready is None:
                    return snap  # the generation before answers while the new one warms
                if ready is not False:
                    self._follow(ready, stamp)
                    return ready
            snap = self._open()
            old = self._follow(snap, stamp)
            if self.warm:
                previous = old.scorer.cached() if old is not None else None
                if previous is None and self.memory is not None:
                    previous = recall(self.memory)
                self.warming = start_warming(snap, self._warm_keys(snap, previous))
            return snap

    def _open(self) -> Snapshot:
        info, ix = self.store.open_current()
        try:
            files = self.store.files_stamp(info)
            snap = Snapshot(info, ix, self.store.generation_dir(info))
            snap.files = files
        except Exception as exc:
            with contextlib.suppress(Exception):
                ix.close()
            raise IndexUnavailable(f"cannot read index {info.directory}: {exc}") from exc
        return snap

    def _warm_keys(self, snap: Snapshot, previous: Any) -> list:
        return warm_order(previous, load_hot_terms(self.store.generation_dir(snap.info)))

    def _follow(self, snap: Snapshot, stamp: tuple[int, int] | None) -> Snapshot | None:
        """Make `snap` the one requests read; the one before closes once unused."""
        old, self._snap, self._stamp = self._snap, snap, stamp
        if old is not None:
            old.retired = True
            if old.users == 0:
                old.close()
        return old

    def _prepared(self, stamp: tuple[int, int], old: Snapshot) -> Snapshot | bool | None:
        """The new generation once warm (or after `switch_wait`), None while it is not,
        False when it could not be opened (the caller opens it and says why)."""
        pending = self._pending
        if pending is None or pending.stamp != stamp:
            if pending is not None:
                self._drop(pending)
            pending = self._pending = _Pending(stamp)
            previous = old.scorer.cached()
            threading.Thread(
                target=self._prepare_pending, args=(pending, previous), daemon=True
            ).start()
            return None
        if pending.failed:
            self._pending = None
            return False
        waited = time.monotonic() - pending.started
        if pending.snap is None or not (pending.warmed.is_set() or waited >= self.switch_wait):
            return None
        self._pending = None
        return pending.snap

    def _prepare_pending(self, pending: _Pending, previous: Any) -> None:
        try:
            snap = self._open()
        except Exception:  # noqa: BLE001 - the request path opens it again and says why
            pending.failed = True
            return
        pending.snap = snap
        # paused while a request reads whichever generation answers
        self.warming = start_warming(
            snap,
            self._warm_keys(snap, previous),
            busy=lambda: self._snap is not None and self._snap.users > 0,
        )
        self.warming.join()
        pending.warmed.set()
        if pending.dropped:
            self._drop(pending)

    def _drop(self, pending: _Pending) -> None:
        pending.dropped = True
        snap = pending.snap
        if snap is not None and snap is not self._snap:
            snap.retired = True  # stops its warming
            if pending.warmed.is_set() and snap.users == 0:
                snap.close()

    def prepare(self, seconds: float, notify: Callable[[], None] = lambda: None) -> bool:
        """Open the current generation and wait up to `seconds` for its caches to warm,
        calling `notify` every second (gunicorn's heartbeat): a worker then takes its
        first request warm. False: no index yet, or warming was cut short."""
        try:
            self._current()
        except IndexUnavailable:
            return False
        thread = self.warming
        deadline = time.monotonic() + seconds
        while thread is not None and thread.is_alive() and time.monotonic() < deadline:
            thread.join(min(1.0, max(0.0, deadline - time.monotonic())))
            notify()
        return thread is None or not thread.is_alive()

    def remember(self) -> None:
        """Keep what the caches hold for the next start (warm_memory.py)."""
        snap = self._snap
        if snap is not None and self.memory is not None:
            remember(self.memory, snap.scorer.cached())

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
        from .answer import run_search  # the answer builder reads snapshots: import late

        with self._reading() as snap:
            return run_search(snap, req)

    def suggest(self, sreq: SuggestRequest) -> dict[str, Any]:
        """Facet values with a word starting with the typed text, with the study count
        each would give under the request's filters (autocomplete.py)."""
        from .autocomplete import run_suggest  # reads snapshots: import late

        with self._reading() as snap:
            return run_suggest(snap, sreq)

    def export(self, req: SearchRequest) -> ExportRows:
        """Every study the request matches, in its order, as full records read as
        they are consumed from one pinned generation. A bad request or too many
        matches raise here, before the first row."""
        from .export import export_order  # the exporter reads snapshots: import late

        stack = contextlib.ExitStack()
        snap = stack.enter_context(self.use())
        try:
            with snap.lock:
                docs = export_order(snap, req)
        except BaseException:
            stack.close()
            raise
        return ExportRows(snap, docs, stack.close)

    def explain(self, req: SearchRequest) -> dict[str, Any]:
        """How the request's text is read: the words searched (stemmed, synonyms
        added), the query as the index runs it, and the words left out (too common to
        search); what `explain_query` shows an agent."""
        from .text import parse_text  # the text reader reads snapshots: import late

        with self._reading() as snap:
            text = parse_text(snap, req.q, req.exact, req.mode)
        if text is None:
            return {"words": [], "query": None, "ignored": []}
        analyzer = SNIPPET_ANALYZER  # the stemmed analyzer, its word cache shared
        typed = [w for w in re.findall(r"[^\W_]+", text.rest) if w not in ("AND", "OR", "NOT")]
        ignored = [w for w in dict.fromkeys(typed) if not list(analyzer(w.lower()))]
        return {
            "words": sorted(text.terms),
            "query": str(text.query) if text.query is not None else None,
            "ignored": ignored,
        }

    def study(self, nct_id: str) -> dict[str, Any]:
        """One study's record by NCT ID in any case, or the error every surface reports:
        ParamError `invalid_nct_id`, StudyNotFound. Nothing is trimmed: the API
        refuses "NCT…%0A" (a newline is not part of an ID)."""
        if not NCT_ID_ANY_CASE.fullmatch(nct_id):
            raise ParamError(
                "invalid_nct_id",
                "an NCT ID is NCT followed by 8 digits, e.g. NCT04554719",
                "nct_id",
            )
        record = self.get_record(nct_id)
        if record is None:
            raise StudyNotFound(f"no study {nct_id.upper()} in the index")
        return record

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
        info = self.store.current()
        if info is None:
            raise IndexUnavailable(f"no index has been built in {self.store.root}")
        problem = self.store.probe(info)
        if problem:
            raise IndexUnavailable(f"generation {info.generation} cannot be read ({problem})")
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
            return {
                "index": snap.index_info(),
                "documents": cols.documents,
                "sites": cols.site_report,
                "facets": facets,
            }

    def close(self) -> None:
        with self._lock:
            if self._pending is not None:
                self._drop(self._pending)
                self._pending = None
            if self._snap is not None:
                self._snap.close()
                self._snap = None
