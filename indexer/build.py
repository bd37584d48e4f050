"""Build an index generation from a folder of pages, skipping bad pages with reasons."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.query import Term

from .parse import DEFAULT_MAX_PAGE_BYTES, PageError, decode_page, parse_page
from .record import StudyRecord
from .schema import build_schema, record_to_document
from .store import GenerationInfo, IndexStore, utc_now

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class PagesDirError(Exception):
    """The pages folder is missing or unreadable: nothing was touched."""


class GuardError(Exception):
    """The reindex would lose too much of the live index: nothing was changed."""


@dataclass
class ReindexReport:
    """What a reindex did, for people (summary lines) and machines (--json)."""

    indexed: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    generation: int | None = None
    pages_seen: int = 0
    removed: int = 0

    @property
    def docs_per_second(self) -> float:
        return round(self.indexed / self.seconds, 1) if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["docs_per_second"] = self.docs_per_second
        return data


def find_pages(pages_dir: Path) -> tuple[list[Path], list[dict[str, str]]]:
    """Every *.md file under pages_dir, sorted; links leading outside are refused."""
    root = pages_dir.resolve()
    pages: list[Path] = []
    refused: list[dict[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for name in dirnames:
            if name.endswith(".md"):
                refused.append({"file": _rel(base / name, root), "reason": "is a directory"})
        for name in sorted(filenames):
            if not name.endswith(".md"):
                continue
            path = base / name
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    refused.append(
                        {
                            "file": _rel(path, root),
                            "reason": "symlink points outside the pages folder",
                        }
                    )
                    continue
            pages.append(path)
    pages.sort()
    return pages, refused


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def check_pages_dir(pages_dir: Path | str | None) -> Path:
    if pages_dir is None:
        raise PagesDirError("no pages folder given (use --pages or TRIALSEARCH_PAGES_DIR)")
    path = Path(pages_dir)
    if not path.exists():
        raise PagesDirError(f"pages folder {path} does not exist")
    if not path.is_dir():
        raise PagesDirError(f"pages folder {path} is not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise PagesDirError(f"pages folder {path} is not readable")
    return path


@dataclass
class ParsedPage:
    path: str
    record: StudyRecord
    size: int
    mtime_ns: int
    sha1: str


def load_pages(
    pages: list[Path], root: Path, max_bytes: int, report: ReindexReport
) -> Iterator[ParsedPage]:
    """Parse pages in order; bad ones and later duplicates go into the report."""
    first_file: dict[str, str] = {}
    for path in pages:
        rel = _rel(path, root)
        try:
            st = path.stat()
            if st.st_size > max_bytes:
                raise PageError(f"page is {st.st_size} bytes, over the {max_bytes}-byte limit")
            data = path.read_bytes()
            record = parse_page(decode_page(data), expected_id=path.stem)
        except PageError as exc:
            report.skipped.append({"file": rel, "reason": str(exc)})
            continue
        except OSError as exc:
            report.skipped.append({"file": rel, "reason": f"cannot read file: {exc.strerror}"})
            continue
        except Exception as exc:  # a parser bug must not stop the run; report it instead
            log.exception("unexpected error parsing %s", rel)
            report.skipped.append({"file": rel, "reason": f"unexpected error: {exc!r}"})
            continue
        if record.nct_id in first_file:
            report.duplicates.append(
                {"nct_id": record.nct_id, "file": rel, "kept": first_file[record.nct_id]}
            )
            continue
        first_file[record.nct_id] = rel
        yield ParsedPage(rel, record, st.st_size, st.st_mtime_ns, hashlib.sha1(data).hexdigest())


def full_build(
    pages_dir: Path | str | None,
    index_dir: Path | str,
    *,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
    procs: int | None = None,
    max_remove: float = 0.2,
    allow_removals: bool = False,
    on_start: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> ReindexReport:
    """Rebuild the whole index into a new generation and publish it if it checks out."""
    root = check_pages_dir(pages_dir)
    store = IndexStore(index_dir)
    started = time.perf_counter()
    report = ReindexReport()
    with store.lock():
        store.cleanup()
        pages, refused = find_pages(root)
        report.skipped.extend(refused)
        report.pages_seen = len(pages) + len(refused)
        if not pages:
            raise PagesDirError(f"no *.md pages found in {root}")
        if on_start:
            on_start(len(pages))
        live = store.current()
        old_ids = set(_manifest_ids(store.read_manifest(live))) if live else set()

        number, building = store.new_generation_dir()
        ix = whoosh_index.create_in(str(building), build_schema())
        procs = procs or min(2, os.cpu_count() or 1)
        writer_args: dict[str, Any] = {"limitmb": 256}
        if procs > 1:
            writer_args.update(procs=procs, multisegment=True)
        writer = ix.writer(**writer_args)
        manifest: dict[str, Any] = {}
        newest_seen: str | None = None
        try:
            for done, page in enumerate(load_pages(pages, root, max_page_bytes, report), 1):
                writer.add_document(**record_to_document(page.record))
                manifest[page.path] = {
                    "nct_id": page.record.nct_id,
                    "size": page.size,
                    "mtime_ns": page.mtime_ns,
                    "sha1": page.sha1,
                }
                seen = page.record.last_seen_at
                if seen and (newest_seen is None or seen > newest_seen):
                    newest_seen = seen
                report.indexed = done
                if progress and done % 50 == 0:
                    progress(50)
            if progress:
                progress(report.indexed % 50)
            _check_removals(old_ids, manifest, max_remove, allow_removals)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        ix.close()

        _verify(building, manifest, report.indexed)
        from .store import write_json_atomic

        write_json_atomic(building / "manifest.json", manifest)
        report.removed = len(old_ids - set(_manifest_ids(manifest)))
        report.seconds = round(time.perf_counter() - started, 3)
        info = GenerationInfo(
            generation=number,
            directory=building.name,
            built_at=utc_now(),
            documents=report.indexed,
            newest_last_seen_at=newest_seen,
        )
        store.publish(number, building, info)
        report.generation = number
        store.cleanup()
    log.info(
        "generation %s live: %s indexed, %s skipped, %s duplicates in %.1fs",
        number,
        report.indexed,
        len(report.skipped),
        len(report.duplicates),
        report.seconds,
    )
    return report


def _manifest_ids(manifest: dict[str, Any]) -> list[str]:
    return [entry["nct_id"] for entry in manifest.values()]


def _check_removals(
    old_ids: set[str], manifest: dict[str, Any], max_remove: float, allow: bool
) -> None:
    if allow or not old_ids:
        return
    removed = old_ids - set(_manifest_ids(manifest))
    share = len(removed) / len(old_ids)
    if share > max_remove:
        raise GuardError(
            f"this reindex would remove {len(removed)} of {len(old_ids)} studies "
            f"({share:.0%}, over the {max_remove:.0%} limit); nothing was changed. "
            "Check the pages folder, or pass --allow-removals."
        )


def _verify(path: Path, manifest: dict[str, Any], expected: int) -> None:
    """Open the new generation as a reader would and check it before it goes live."""
    ix = whoosh_index.open_dir(str(path))
    try:
        with ix.searcher() as searcher:
            count = searcher.doc_count()
            if count != expected:
                raise RuntimeError(f"new index holds {count} documents, expected {expected}")
            for entry in list(manifest.values())[:3]:
                if searcher.document_number(nct_id=entry["nct_id"]) is None:
                    raise RuntimeError(f"canary {entry['nct_id']} not found in the new index")
                hits = searcher.search(Term("nct_text", entry["nct_id"].lower()), limit=1)
                if len(hits) != 1:
                    raise RuntimeError(f"canary query for {entry['nct_id']} found {len(hits)}")
    finally:
        ix.close()
