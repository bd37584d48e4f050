"""Copies of one generation on many machines: what a replica pulls, and how.

Users outgrow one machine in queries per second and availability, not in data: so
one machine builds (sync, reindex) and any number serve identical copies of its
generations behind a load balancer. A generation is immutable once published
(Whoosh never rewrites a segment; an incremental generation hard-links the
previous one's segments and adds its own), which makes copying simple:

- at publish, every file of the generation is listed with its size and SHA-256 in
  `files.json` (a file hard-linked from the previous generation keeps its digest,
  so an incremental reindex hashes only its new files), with three canary NCT IDs;
- a replica asks the builder's app for the live generation's list (webapp's
  /replication routes, off unless a token is configured), links every file it
  already has with the same digest from its own live generation, downloads only
  the others, checks each size and digest, opens the result and checks it as the
  reindex does (document count, each canary found once), and only then swaps its
  pointer (store.publish). Killed or failing at any point, the replica keeps
  serving what it served; the half-built folder is removed by the next pull.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests
from whoosh import index as whoosh_index
from whoosh.query import Term

from .. import failpoints
from ..atomic import read_json_object, write_json_atomic
from ..errors import ReplicationError
from .store import BUILDING_SUFFIX, GEN_PREFIX, GenerationInfo, IndexStore

FILE_LIST = "files.json"
NOT_COPIED = {"meta.json", FILE_LIST}  # each copy writes its own
CHUNK = 1024 * 1024
log = logging.getLogger(__name__)


def write_file_list(folder: Path, previous: Path | None, canaries: list[str]) -> dict[str, Any]:
    """List the generation's files with their size and SHA-256 in files.json. A file
    hard-linked from `previous` (same inode) takes its digest from there."""
    known: dict[int, dict[str, Any]] = {}
    if previous is not None:
        before = read_file_list(previous).get("files", {})
        for name, item in before.items():
            try:
                known[os.stat(previous / name).st_ino] = item
            except OSError:
                continue
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name in NOT_COPIED or "LOCK" in path.name:
            continue
        st = path.stat()
        item = known.get(st.st_ino)
        if item is None or item.get("size") != st.st_size:
            item = {"size": st.st_size, "sha256": file_digest(path)}
        files[path.name] = item
    listing = {"files": files, "canaries": canaries}
    write_json_atomic(folder / FILE_LIST, listing)
    return listing


def read_file_list(folder: Path) -> dict[str, Any]:
    return read_json_object(folder / FILE_LIST)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class PullReport:
    """What a pull did: `generation` is the one now live here."""

    generation: int | None = None
    pulled: bool = False  # False: it was up to date
    downloaded: int = 0
    downloaded_bytes: int = 0
    linked: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pull(source: str, index_dir: Path | str, token: str, timeout: float = 30.0) -> PullReport:
    """Make the source's live generation live here too, if it is not already."""
    started = time.perf_counter()
    store = IndexStore(index_dir)
    report = PullReport()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = source.rstrip("/") + "/replication"
    try:
        remote = _get_json(session, f"{base}/current", timeout)
        number = int(remote["generation"])
        with store.lock():
            store.cleanup()
            local = store.current()
            if local is not None and local.generation == number:
                report.generation = number
                return report
            if (store.root / f"{GEN_PREFIX}{number:06d}").exists():
                raise ReplicationError(
                    f"generation {number} exists here but is not live; remove it to pull it again"
                )
            building = store.root / f"{GEN_PREFIX}{number:06d}{BUILDING_SUFFIX}"
            building.mkdir(parents=True)
            try:
                have = _local_files(store, local)
                _fill(session, base, store, remote, building, have, report, timeout)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            store.cleanup()
    except requests.RequestException as exc:
        raise ReplicationError(f"cannot reach {source}: {exc.__class__.__name__}: {exc}") from exc
    finally:
        session.close()
    report.generation, report.pulled = number, True
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "pulled generation %s: %s files downloaded (%s bytes), %s linked, in %.1fs",
        number,
        report.downloaded,
        report.downloaded_bytes,
        report.linked,
        report.seconds,
    )
    return report


def _fill(
    session: requests.Session,
    base: str,
    store: IndexStore,
    remote: dict[str, Any],
    building: Path,
    have: dict[tuple[str, int], Path],
    report: PullReport,
    timeout: float,
) -> None:
    """Link or download every listed file into `building`, check it, and swap it live."""
    for name, item in sorted(remote["files"].items()):
        _check_name(name)
        mine = have.get((item["sha256"], item["size"]))
        if mine is not None:
            os.link(mine, building / name)
            report.linked += 1
            continue
        url = f"{base}/generations/{remote['generation']}/files/{name}"
        _download(session, url, building / name, item, timeout)
        report.downloaded += 1
        report.downloaded_bytes += item["size"]
        failpoints.reached("pull_downloading")
    failpoints.reached("pull_verifying")
    canaries = remote.get("canaries") or []
    _verify(building, int(remote["documents"]), canaries)
    write_json_atomic(building / FILE_LIST, {"files": remote["files"], "canaries": canaries})
    failpoints.reached("pull_before_swap")
    number = int(remote["generation"])
    info = GenerationInfo(
        generation=number,
        directory=building.name,
        built_at=remote["built_at"],
        documents=int(remote["documents"]),
        newest_last_seen_at=remote.get("newest_last_seen_at"),
        schema_version=int(remote.get("schema_version", 1)),
    )
    store.publish(number, building, info)


def _get_json(session: requests.Session, url: str, timeout: float) -> dict[str, Any]:
    resp = session.get(url, timeout=timeout)
    if resp.status_code in (401, 403):
        raise ReplicationError(f"{url} refused the token (HTTP {resp.status_code})")
    if resp.status_code == 404:
        raise ReplicationError(f"{url} not found: is replication turned on at the source?")
    if resp.status_code != 200:
        raise ReplicationError(f"{url}: HTTP {resp.status_code}")
    try:
        data = resp.json()
        if not isinstance(data.get("files"), dict) or "generation" not in data:
            raise ValueError("no generation or file list")
    except ValueError as exc:
        raise ReplicationError(
            f"{url} did not answer with a generation's file list: {exc}"
        ) from exc
    return data


def _check_name(name: str) -> None:
    """A file name from the source, kept inside the generation folder."""
    if not name or "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise ReplicationError(f"the source lists a file named {name!r}: refused")


def _local_files(store: IndexStore, local: GenerationInfo | None) -> dict[tuple[str, int], Path]:
    """This replica's live files by (digest, size), as its own file list records them."""
    if local is None:
        return {}
    folder = store.generation_dir(local)
    have = {}
    for name, item in (read_file_list(folder).get("files") or {}).items():
        path = folder / name
        try:
            if path.stat().st_size == item["size"]:
                have[(item["sha256"], item["size"])] = path
        except (OSError, KeyError, TypeError):
            continue
    return have


def _download(
    session: requests.Session, url: str, target: Path, item: dict[str, Any], timeout: float
) -> None:
    """One file, checked against its listed size and SHA-256 before it is kept."""
    digest, size = hashlib.sha256(), 0
    partial = target.with_name(target.name + ".part")
    with session.get(url, timeout=timeout, stream=True) as resp:
        if resp.status_code != 200:
            raise ReplicationError(f"{url}: HTTP {resp.status_code}")
        with open(partial, "wb") as handle:
            for chunk in resp.iter_content(CHUNK):
                size += len(chunk)
                if size > item["size"]:
                    raise ReplicationError(
                        f"{target.name} is larger than listed ({item['size']} bytes)"
                    )
                digest.update(chunk)
                handle.write(chunk)
    if size != item["size"] or digest.hexdigest() != item["sha256"]:
        raise ReplicationError(
            f"{target.name} does not match its listing (size {size} of {item['size']}, "
            "or its SHA-256 differs): refused"
        )
    os.replace(partial, target)


def _verify(folder: Path, documents: int, canaries: list[str]) -> None:
    """Open the copy as a reader would: the listed document count, each canary once."""
    try:
        ix = whoosh_index.open_dir(str(folder))
    except Exception as exc:  # Whoosh raises many kinds for a damaged index
        raise ReplicationError(f"the pulled generation does not open: {exc}") from exc
    try:
        with ix.searcher() as searcher:
            if searcher.doc_count() != documents:
                raise ReplicationError(
                    f"the pulled generation holds {searcher.doc_count()} documents, not {documents}"
                )
            for nct in canaries:
                if len(searcher.search(Term("nct_text", nct.lower()), limit=3)) != 1:
                    raise ReplicationError(f"canary {nct} is not found exactly once in the copy")
    finally:
        ix.close()


def published_listing(index_dir: Path | str) -> dict[str, Any] | None:
    """What the source tells a replica: the live generation and its file list (None
    when there is no live generation, or it has no list: `trialsearch publish`)."""
    store = IndexStore(index_dir)
    live = store.current()
    if live is None:
        return None
    listing = read_file_list(store.generation_dir(live))
    if not listing.get("files"):
        return None
    return {**live.to_dict(), **listing}


def published_file(index_dir: Path | str, generation: int, name: str) -> Path | None:
    """A listed file of a generation still on disk; None for anything else (a name not
    listed cannot reach outside the folder)."""
    folder = Path(index_dir) / f"{GEN_PREFIX}{generation:06d}"
    files = read_file_list(folder).get("files") or {}
    return folder / name if name in files and (folder / name).is_file() else None


def publish_live(index_dir: Path | str) -> dict[str, Any]:
    """List the live generation's files for replicas if it has no list yet (one built
    before replication existed); its listing either way."""
    store = IndexStore(index_dir)
    live = store.current()
    if live is None:
        raise ReplicationError(f"no index has been built in {store.root}: nothing to publish")
    folder = store.generation_dir(live)
    if not read_file_list(folder).get("files"):
        canaries = sorted(e["nct_id"] for e in store.read_manifest(live).values())[:3]
        write_file_list(folder, None, canaries)
    return published_listing(index_dir) or {}
