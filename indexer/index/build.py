"""Reindex: build a new index generation from the pages folder and make it live atomically.

Two modes share one page reader and one publish step:
- incremental (default): the live generation is hard-linked into a new folder (Whoosh
  never rewrites a segment file; deletions live in the new TOC), then only new,
  changed and vanished pages are written there;
- full: every page is indexed into an empty folder.
Either way the new generation is checked before the pointer moves, so readers
never see a half-built index, and a reindex killed at any moment leaves the live
one untouched.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from .. import failpoints
from ..atomic import write_json_atomic
from ..errors import GuardError, PageError, PagesDirError, TrialsearchError
from ..pages.files import (
    check_pages_dir,
    read_page,
    scan_pages,
)
from ..pages.files import relative_name as _rel
from ..pages.record import StudyRecord
from ..pages.sample import write_sample
from .history import by_study, dated, with_history
from .keep import add_records, last_good_records
from .last_run import record_run
from .parallel import BuildResult, build_segments
from .publish import link_generation, publish
from .report import Options, ParsedPage, ReindexReport
from .schema import SCHEMA_VERSION, build_schema, record_to_document
from .segment_writer import FastSegmentWriter
from .store import MANIFEST, GenerationInfo, IndexStore, IndexUnavailable, utc_now

log = logging.getLogger(__name__)


def read_one(path: Path, rel: str, max_bytes: int, report: ReindexReport) -> ParsedPage | None:
    """Parse one page; a bad one goes into the report and gives None."""
    page = try_page(path, rel, max_bytes)
    if isinstance(page, str):
        report.skipped.append({"file": rel, "reason": page})
        return None
    return page


def try_page(path: Path, rel: str, max_bytes: int) -> ParsedPage | str:
    """The page, or why it cannot be indexed: the writer processes send back either."""
    try:
        page = read_page(path, max_bytes)
    except PageError as exc:
        return str(exc)
    except Exception as exc:  # a parser bug must not stop the run; report it instead
        log.exception("unexpected error parsing %s", rel)
        return f"unexpected error: {exc!r}"
    return ParsedPage(rel, page.record, page.manifest_entry())


def reindex(
    pages_dir: Path | str | None, index_dir: Path | str, *, full: bool = False, **options: Any
) -> ReindexReport:
    """Bring the index up to date with the pages folder (incremental unless `full`);
    the outcome is recorded beside the index either way (last_run.py)."""
    started = time.perf_counter()
    try:
        report = _reindex(pages_dir, index_dir, full, options)
    except BaseException as exc:
        code = exc.code if isinstance(exc, TrialsearchError) else type(exc).__name__
        seconds = round(time.perf_counter() - started, 3)
        record_run(index_dir, code, {"seconds": seconds, "error": str(exc)[:500]})
        raise
    summary = {key: getattr(report, key) for key in RUN_SUMMARY}
    record_run(index_dir, "ok", {**summary, "skipped": len(report.skipped)})
    return report


# what the status file keeps of a successful run (with the count of skipped pages)
RUN_SUMMARY = ("mode", "seconds", "generation", "documents", "added", "updated", "removed")


def _reindex(
    pages_dir: Path | str | None, index_dir: Path | str, full: bool, options: dict[str, Any]
) -> ReindexReport:
    opts = Options(**options)
    root = check_pages_dir(pages_dir)
    store = IndexStore(index_dir)
    started = time.perf_counter()
    with store.lock():
        store.cleanup()
        names, refused = scan_pages(root)
        if not names:
            raise PagesDirError(f"no *.md pages found in {root}; nothing was changed")
        try:
            live = store.current()
        except IndexUnavailable as exc:
            log.warning("live pointer unreadable (%s): rebuilding in full", exc)
            live = None
        manifest = store.read_manifest(live) if live else {}
        problem = store.probe(live) if live and not full else None
        if problem:
            log.warning("live generation unreadable (%s): rebuilding in full", problem)
        outdated = live is not None and live.schema_version != SCHEMA_VERSION
        if outdated and not full:
            log.warning(
                "live generation has index schema %s, this version writes %s: rebuilding in full",
                live.schema_version,
                SCHEMA_VERSION,
            )
        try:
            if full or live is None or problem or outdated or not manifest and live.documents:
                report = _full(store, root, [root / n for n in names], opts, live, manifest)
            else:
                report = _incremental(store, root, names, opts, live, manifest)
        except BaseException:
            store.cleanup()  # we hold the lock: the half-built folder is ours to remove
            raise
        if problem:
            report.note = f"live index was unreadable ({problem}); rebuilt in full"
        elif outdated and not full:
            report.note = "the index schema changed; rebuilt in full"
        report.skipped[:0] = refused
        report.pages_seen = len(names) + len(refused)
        report.seconds = round(time.perf_counter() - started, 3)
        store.cleanup()
    log.info(
        "%s reindex: generation %s, %s added, %s updated, %s removed, %s unchanged, "
        "%s skipped in %.1fs",
        report.mode,
        report.generation,
        report.added,
        report.updated,
        report.removed,
        report.unchanged,
        len(report.skipped),
        report.seconds,
    )
    return report


def full_build(
    pages_dir: Path | str | None, index_dir: Path | str, **options: Any
) -> ReindexReport:
    """Rebuild the whole index into a new generation and publish it if it checks out."""
    return reindex(pages_dir, index_dir, full=True, **options)


def _full(
    store: IndexStore,
    root: Path,
    pages: list[Path],
    opts: Options,
    live: GenerationInfo | None,
    old_manifest: dict[str, Any],
) -> ReindexReport:
    report = ReindexReport(mode="full")
    if opts.on_start:
        opts.on_start(len(pages))
    number, building = store.new_generation_dir()
    whoosh_index.create_in(str(building), build_schema()).close()
    procs = opts.procs or min(2, os.cpu_count() or 1)
    named = [(path, _rel(path, root)) for path in pages]
    half = len(pages) // 2
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        if opts.progress and n:
            opts.progress(n)
        if done < max(half, 1) <= done + n:
            failpoints.reached("full_writing")
        done += n

    old_ids = {e["nct_id"] for e in old_manifest.values()}
    kept: dict[str, StudyRecord] = {}  # file -> the live version of its study

    def check(result: BuildResult) -> None:
        built = {entry["nct_id"] for _, entry in result.documents}
        lost = {  # studies an incremental reindex would go on serving
            rel: old_manifest[rel]["nct_id"]
            for rel in (named[page][1] for page, _ in result.skipped)
            if rel in old_manifest and old_manifest[rel]["nct_id"] not in built
        }
        if lost and live is not None:
            kept.update(last_good_records(store.generation_dir(live), lost))
        _guard(len(old_ids - built - {r.nct_id for r in kept.values()}), len(old_ids), opts)

    result = build_segments(
        building,
        named,
        partial(try_page, max_bytes=opts.max_page_bytes),
        procs,
        tick,
        before_commit=check,
    )
    if kept:
        add_records(building, kept.values())
    now, before = utc_now(), by_study(old_manifest)
    manifest = {
        named[page][1]: {
            **with_history(entry, before.get(entry["nct_id"]), now),
            "generation": number,
        }
        for page, entry in result.documents
    }
    manifest.update(
        {
            rel: {**with_history(old_manifest[rel], old_manifest[rel], now), "generation": number}
            for rel in kept
        }
    )
    report.skipped = [{"file": named[page][1], "reason": reason} for page, reason in result.skipped]
    report.kept_previous = [{"file": rel, "nct_id": rec.nct_id} for rel, rec in kept.items()]
    report.duplicates = [
        {"nct_id": nct, "file": named[page][1], "kept": named[kept_page][1]}
        for page, kept_page, nct in result.duplicates
    ]
    fresh = {entry["nct_id"] for _, entry in result.documents}
    owner = fresh | {rec.nct_id for rec in kept.values()}
    report.indexed = report.added = len(fresh)
    report.removed = len(old_ids - owner)
    _publish(store, number, building, manifest, report, expect=owner)
    return report


def _incremental(
    store: IndexStore,
    root: Path,
    names: list[str],
    opts: Options,
    live: GenerationInfo,
    old: dict[str, Any],
) -> ReindexReport:
    """`names`: the pages relative to `root` (scan_pages): a page is stat-ed, and read
    only when its size or modification time moved."""
    report = ReindexReport(mode="incremental")
    manifest: dict[str, Any] = {}
    changed: list[ParsedPage] = []
    now = utc_now()
    current = set(names)
    owner = {entry["nct_id"]: rel for rel, entry in old.items() if rel in current}
    base = str(root) + os.sep
    if opts.on_start:
        opts.on_start(len(names))
    for count, rel in enumerate(names, 1):
        entry = old.get(rel)
        if entry is not None and _same_stat(base + rel, entry):
            manifest[rel] = dated(entry, now)
            report.unchanged += 1
        else:
            page = read_one(Path(base + rel), rel, opts.max_page_bytes, report)
            if page is None:
                if entry is not None:
                    manifest[rel] = dated(entry, now)  # keep serving the last good version
                    report.kept_previous.append({"file": rel, "nct_id": entry["nct_id"]})
            elif entry is not None and page.entry["sha1"] == entry["sha1"]:
                manifest[rel] = {**dated(entry, now), "mtime_ns": page.entry["mtime_ns"]}
                report.unchanged += 1
            else:
                nct = page.record.nct_id
                holder = owner.get(nct)
                if holder is not None and holder != rel:
                    report.duplicates.append({"nct_id": nct, "file": rel, "kept": holder})
                    if entry is not None:
                        manifest[rel] = dated(entry, now)
                else:
                    owner[nct] = rel
                    changed.append(page)
        if opts.progress and count % 50 == 0:
            opts.progress(50)
    if opts.progress:
        opts.progress(len(names) % 50)

    old_ids = {e["nct_id"] for e in old.values()}
    kept_ids = {e["nct_id"] for e in manifest.values()} | {p.record.nct_id for p in changed}
    gone = old_ids - kept_ids
    _guard(len(gone), len(old_ids), opts)
    if not changed and not gone:
        if manifest != old:  # only mtimes moved: remember them, no new generation needed
            write_json_atomic(store.generation_dir(live) / MANIFEST, manifest)
        report.generation = live.generation
        report.documents = live.documents
        return report

    number, building = store.new_generation_dir()
    link_generation(store.generation_dir(live), building)
    ix = whoosh_index.open_dir(str(building))
    writer = FastSegmentWriter(ix, compound=False)
    try:
        for nct in sorted(gone):
            writer.delete_by_term("nct_id", nct)
        before = by_study(old)
        for page in changed:
            writer.update_document(**record_to_document(page.record))
            history = with_history(page.entry, before.get(page.record.nct_id), now)
            manifest[page.path] = {**history, "generation": number}
            if page.record.nct_id in old_ids:
                report.updated += 1
            else:
                report.added += 1
        failpoints.reached("incremental_writing")
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        ix.close()
    report.removed = len(gone)
    report.indexed = len(changed)
    _publish(
        store,
        number,
        building,
        manifest,
        report,
        expect=kept_ids,
        canaries=[p.record.nct_id for p in changed[:5]],
    )
    return report


def _publish(
    store: IndexStore,
    number: int,
    building: Path,
    manifest: dict[str, Any],
    report: ReindexReport,
    expect: set[str],
    canaries: list[str] | None = None,
) -> None:
    info = publish(store, number, building, manifest, expect, canaries)
    report.generation = info.generation
    report.documents = info.documents
    report.sites = info.sites


def _same_stat(path: str, entry: dict[str, Any]) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_size == entry.get("size") and st.st_mtime_ns == entry.get("mtime_ns")


def _guard(removing: int, total: int, opts: Options) -> None:
    if opts.allow_removals or not total:
        return
    share = removing / total
    if share > opts.max_remove:
        raise GuardError(
            f"this reindex would remove {removing} of {total} studies "
            f"({share:.0%}, over the {opts.max_remove:.0%} limit); nothing was changed. "
            "Check the pages folder, or pass --allow-removals."
        )


def ensure_index(
    index_dir: Path | str, pages_dir: Path | str | None, say: Callable[[str], None]
) -> None:
    """Build an index if none is live: from the mirror if configured, else the sample
    (so `make run` serves something on a fresh machine)."""
    if IndexStore(index_dir).current() is not None:
        return
    if pages_dir is None:
        pages_dir = Path(index_dir) / "sample_pages"
        write_sample(pages_dir)
        say(
            f"No mirror configured (TRIALSEARCH_PAGES_DIR): using the built-in sample "
            f"in {pages_dir}"
        )
    report = reindex(pages_dir, index_dir)
    say(f"Built generation {report.generation}: {report.indexed} studies")
