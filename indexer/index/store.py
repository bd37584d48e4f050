"""Index generations on disk: build beside the live one, then swap a pointer atomically.

Layout of the index folder:
    CURRENT.json        which generation is live (replaced with os.replace, never edited)
    gen-000007/         a complete Whoosh index, its meta.json and manifest.json
    .reindex.lock       held (fcntl) by the one reindex allowed at a time

Readers only ever follow CURRENT.json, so they see the old index or the new one,
never a half-built one — even if a reindex is killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.query import Term

from ..atomic import read_json_object, write_json_atomic
from ..errors import IndexUnavailable, ReindexLocked

MANIFEST = "manifest.json"  # each generation's pages: file -> size, mtime, hash, NCT ID
POINTER = "CURRENT.json"
LOCK = ".reindex.lock"
GEN_PREFIX = "gen-"
BUILDING_SUFFIX = ".building"
GRACE_SECONDS = 120.0


def _published_at(path: Path) -> float:
    """When a generation was published (its meta.json is written just before the swap)."""
    try:
        return (path / "meta.json").stat().st_mtime
    except OSError:
        return 0.0


# The files a search reads terms and postings from (or a whole compound segment):
# stamped on every request, so only these few, not every column file of a segment.
_STAMPED = (".toc", ".trm", ".pst", ".seg")


def _is_index_file(name: str) -> bool:
    return name.endswith(_STAMPED)


@dataclass
class GenerationInfo:
    """What CURRENT.json says about the live index."""

    generation: int
    directory: str
    built_at: str
    documents: int
    newest_last_seen_at: str | None = None
    schema_version: int = 1  # generations from before versioning were version 1
    # listed sites, those naming a city, and those the gazetteer placed (index/sites.py)
    sites: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class IndexStore:
    """The index folder: its live generation, new generations, and the reindex lock."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def pointer_path(self) -> Path:
        return self.root / POINTER

    def current(self) -> GenerationInfo | None:
        """The live generation, or None when no index was ever published here."""
        try:
            data = json.loads(self.pointer_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"cannot read {self.pointer_path}: {exc}") from exc
        try:
            return GenerationInfo(**data)
        except TypeError as exc:
            raise IndexUnavailable(f"{self.pointer_path} is not a generation pointer") from exc

    def pointer_stamp(self) -> tuple[int, int] | None:
        """A cheap per-request check of whether the live generation may have changed."""
        try:
            st = self.pointer_path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def files_stamp(self, info: GenerationInfo) -> frozenset[tuple[str, int, int]] | None:
        """Name, size and mtime of the generation's index files (None if it cannot be listed).

        Whoosh never rewrites a segment or TOC file once written, so any change here
        means the files were damaged or replaced under a reader that has them open;
        mmapped readers would otherwise answer from the damage without an error.
        """
        try:
            with os.scandir(self.generation_dir(info)) as entries:
                return frozenset(
                    (e.name, st.st_size, st.st_mtime_ns)
                    for e in entries
                    if _is_index_file(e.name) and (st := e.stat())
                )
        except OSError:
            return None

    def generation_dir(self, info: GenerationInfo) -> Path:
        return self.root / info.directory

    def open_current(self) -> tuple[GenerationInfo, Any]:
        """Open the live Whoosh index; IndexUnavailable explains why it cannot be."""
        info = self.current()
        if info is None:
            raise IndexUnavailable(f"no index has been built in {self.root}")
        path = self.generation_dir(info)
        try:
            return info, whoosh_index.open_dir(str(path))
        except Exception as exc:  # Whoosh raises many kinds for a damaged index
            raise IndexUnavailable(f"cannot open index generation {info.directory}: {exc}") from exc

    def probe(self, info: GenerationInfo) -> str | None:
        """Why a generation cannot be trusted, or None when it reads fine.

        Opened afresh (no cached reader), its documents counted against its pointer
        and one term query run: /healthz asks this before it says "ok", and a
        reindex before it builds on the live generation's files.
        """
        try:
            ix = whoosh_index.open_dir(str(self.generation_dir(info)))
            try:
                with ix.searcher() as searcher:
                    count = searcher.doc_count()
                    searcher.search(Term("nct_text", "nct00000000"), limit=1)
            finally:
                ix.close()
        except Exception as exc:  # Whoosh raises many kinds for a damaged index
            return f"{exc.__class__.__name__}: {exc}"
        if count != info.documents:
            return f"it holds {count} documents, its pointer says {info.documents}"
        return None

    def read_manifest(self, info: GenerationInfo | None = None) -> dict[str, Any]:
        info = info or self.current()
        if info is None:
            return {}
        return read_json_object(self.generation_dir(info) / MANIFEST)

    def new_generation_dir(self) -> tuple[int, Path]:
        """A fresh, empty folder for the next generation (marked as building)."""
        self.root.mkdir(parents=True, exist_ok=True)
        current = self.current()
        numbers = [current.generation if current else 0]
        for child in self.root.iterdir():
            name = child.name.removesuffix(BUILDING_SUFFIX)
            if name.startswith(GEN_PREFIX) and name[len(GEN_PREFIX) :].isdigit():
                numbers.append(int(name[len(GEN_PREFIX) :]))
        number = max(numbers) + 1
        path = self.root / f"{GEN_PREFIX}{number:06d}{BUILDING_SUFFIX}"
        path.mkdir()
        return number, path

    def publish(self, number: int, building_dir: Path, info: GenerationInfo) -> GenerationInfo:
        """Make a finished generation live: rename its folder, then swap the pointer."""
        final = self.root / f"{GEN_PREFIX}{number:06d}"
        os.replace(building_dir, final)
        info.directory = final.name
        write_json_atomic(final / "meta.json", info.to_dict())
        write_json_atomic(self.pointer_path, info.to_dict())
        return info

    def bump(self, info: GenerationInfo) -> GenerationInfo:
        """Announce new content in the same folder (an incremental commit) to the workers."""
        write_json_atomic(self.generation_dir(info) / "meta.json", info.to_dict())
        write_json_atomic(self.pointer_path, info.to_dict())
        return info

    def cleanup(self, keep: int = 2, grace_seconds: float = GRACE_SECONDS) -> list[str]:
        """Remove half-built folders, and old generations past their grace period.

        Call it only while holding the lock: a `.building` folder is then always the
        leftover of a dead reindex. The newest `keep` generations stay, and so does
        any generation replaced less than `grace_seconds` ago, so that workers still
        reading it can finish their requests.
        """
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        live = self.current()
        finished = sorted(
            p
            for p in self.root.iterdir()
            if p.is_dir() and p.name.startswith(GEN_PREFIX) and not p.name.endswith(BUILDING_SUFFIX)
        )
        stale = [p for p in self.root.iterdir() if p.name.endswith(BUILDING_SUFFIX)]
        now = time.time()
        # a generation went out of service when its successor was published
        retired = {
            p.name: _published_at(nxt) for p, nxt in zip(finished[:-1], finished[1:], strict=True)
        }
        candidates = finished[:-keep] if keep else finished
        old = [
            p
            for p in candidates
            if (not live or p.name != live.directory)
            and now - retired.get(p.name, now) >= grace_seconds
        ]
        for path in stale + old:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the reindex lock; a second reindex gets ReindexLocked at once.

        An fcntl lock dies with its process, so a SIGKILLed reindex leaves no stale lock.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK, "a+")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise ReindexLocked(
                        f"another reindex is running on {self.root} (lock {LOCK} is held)"
                    ) from exc
                raise
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            handle.close()
