"""Full builds on every core: each process reads, parses and writes its own segment.

Whoosh's multiprocessing writer parses nothing itself: the parent reads every page,
builds every document, pickles it to a file for a child to unpickle and index. On
two cores that parent is a third busy process. Here the pages are dealt out to
`procs` children (page i to child i % procs), each parses its pages and writes one
segment with FastSegmentWriter, and the parent only waits, reports progress and
writes the table of contents that makes the segments one index.

Page order still decides which file wins when two hold the same NCT ID: the
parent keeps the first and marks the others deleted before the index is published.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import TOC, clean_files

from .schema import record_to_document
from .segment_writer import DEFAULT_POOL_ITEMS, FastSegmentWriter

log = logging.getLogger(__name__)

# read_page(path, rel) -> a parsed page (.record, .entry) or why it was skipped
ReadPage = Callable[[Path, str], Any]
_TICK = 50  # pages between progress reports


@dataclass(frozen=True)
class BuildJob:
    """What every writer process shares: where, which pages, and how to read one."""

    folder: Path
    pages: list[tuple[Path, str]]
    read_page: ReadPage
    parts: int
    pool_items: int = DEFAULT_POOL_ITEMS


@dataclass
class PartResult:
    """What one writer process did: its segment and, per document, the page it came from."""

    segment: Any = None
    pages: list[int] = field(default_factory=list)  # page index of each document, in order
    entries: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class BuildResult:
    documents: list[tuple[int, dict[str, Any]]]  # (page index, manifest entry), duplicates out
    duplicates: list[tuple[int, int, str]]  # (page index dropped, page index kept, NCT ID)
    skipped: list[tuple[int, str]]


def build_segments(
    folder: Path,
    pages: list[tuple[Path, str]],
    read_page: ReadPage,
    procs: int,
    tick: Callable[[int], None],
    before_commit: Callable[[BuildResult], None] = lambda result: None,
    pool_items: int = DEFAULT_POOL_ITEMS,
) -> BuildResult:
    """Index `pages` into the empty Whoosh index in `folder` and commit it.

    `tick(n)` is called in this process as pages are done; `before_commit` may raise
    to abandon the build (the caller removes the folder).
    """
    job = BuildJob(folder, pages, read_page, max(1, min(procs, len(pages))), pool_items)
    if job.parts == 1:
        results = [_write_part(job, 0, tick)]
    else:
        results = _in_children(job, tick)
    result = _combine(results)
    before_commit(result)
    _commit(folder, results)
    return result


def _write_part(job: BuildJob, part: int, tick: Callable[[int], None]) -> PartResult:
    ix = whoosh_index.open_dir(str(job.folder))
    writer = FastSegmentWriter(ix, _lk=False, compound=False, pool_items=job.pool_items)
    result = PartResult()
    done = 0
    try:
        for index in range(part, len(job.pages), job.parts):
            got = job.read_page(*job.pages[index])
            if isinstance(got, str):
                result.skipped.append((index, got))
            else:
                writer.add_document(**record_to_document(got.record))
                result.pages.append(index)
                result.entries.append(got.entry)
            done += 1
            if done == _TICK:
                tick(done)
                done = 0
        tick(done)
        if result.pages:
            result.segment = writer._finalize_segment()
        else:
            writer._close_segment()
    except BaseException:
        writer._close_segment()
        raise
    finally:
        ix.close()
    return result


def _in_children(job: BuildJob, tick: Callable[[int], None]) -> list[PartResult]:
    ctx = get_context("fork")  # children share the page list and reader without pickling
    counter = ctx.Value("q", 0)
    children = []
    for part in range(job.parts):
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(
            target=_child,
            args=(send, job, part, counter, os.getpid()),
            name=f"trialsearch-writer-{part}",
            daemon=True,
        )
        child.start()
        send.close()
        children.append((child, receive))
    results: dict[int, PartResult] = {}
    reported = 0
    try:
        waiting = {receive: part for part, (_, receive) in enumerate(children)}
        while waiting:
            for conn in wait(list(waiting), timeout=0.2):
                part = waiting.pop(conn)
                try:
                    outcome = conn.recv()
                except EOFError:
                    child = children[part][0]
                    child.join(5)
                    raise RuntimeError(
                        f"index writer process {part} died (exit code {child.exitcode})"
                    ) from None
                if isinstance(outcome, BaseException):
                    raise outcome
                results[part] = outcome
            now = counter.value
            if now > reported:
                tick(now - reported)
                reported = now
        for child, _ in children:
            child.join()
    finally:
        for child, receive in children:
            if child.is_alive():
                child.kill()
                child.join()
            receive.close()
    return [results[part] for part in range(job.parts)]


def _child(send: Any, job: BuildJob, part: int, counter: Any, parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle

    def tick(n: int) -> None:
        with counter.get_lock():
            counter.value += n

    try:
        outcome: Any = _write_part(job, part, tick)
    except BaseException as exc:  # handed to the parent, which raises it
        log.debug("writer process %s failed:\n%s", part, traceback.format_exc())
        outcome = exc
    try:
        send.send(outcome)
    except Exception as exc:  # e.g. an exception that cannot be pickled
        send.send(RuntimeError(f"index writer process {part} failed: {outcome!r} ({exc})"))
    send.close()


def _die_with_parent(parent: int) -> None:
    """Linux: a SIGKILLed reindex takes its writers with it (they hold its lock)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def _combine(results: list[PartResult]) -> BuildResult:
    """The documents in page order; a later page with an NCT ID already seen is dropped."""
    found = sorted(
        (page, part, docnum, entry)
        for part, result in enumerate(results)
        for docnum, (page, entry) in enumerate(zip(result.pages, result.entries, strict=True))
    )
    first: dict[str, int] = {}
    documents, duplicates = [], []
    for page, part, docnum, entry in found:
        kept = first.setdefault(entry["nct_id"], page)
        if kept == page:
            documents.append((page, entry))
        else:
            duplicates.append((page, kept, entry["nct_id"]))
            results[part].segment.delete_document(docnum)
    skipped = sorted(item for result in results for item in result.skipped)
    return BuildResult(documents, duplicates, skipped)


def _commit(folder: Path, results: list[PartResult]) -> None:
    """One table of contents over every process's segment: the index now exists."""
    ix = whoosh_index.open_dir(str(folder))
    try:
        generation = ix.latest_generation() + 1
        segments = [r.segment for r in results if r.segment is not None]
        TOC(ix.schema, segments, generation).write(ix.storage, ix.indexname)
        clean_files(ix.storage, ix.indexname, generation, segments)
    finally:
        ix.close()
    for leftover in folder.glob("*.tmp"):  # the writers' shared scratch folder
        if leftover.is_dir():
            for item in leftover.iterdir():
                item.unlink()
            leftover.rmdir()
