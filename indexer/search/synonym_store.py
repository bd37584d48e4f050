"""Synonym lists compiled once into flat arrays that every worker maps from one file.

Read into Python dictionaries, the MeSH-based lists (124,000 rows) take 2.5 s and
60 MB per process; with four workers that is 240 MB of the same strings. Compiled,
they are a few sorted arrays (64-bit phrase hashes, group numbers, one UTF-8 blob of
terms) saved as `.npy` files under the cache folder and opened memory-mapped: the
operating system keeps one copy in its page cache for every process, and opening
costs milliseconds. The folder is named after a digest of the lists' bytes, so an
edited list compiles again and two lists never share a folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..settings import cache_root

log = logging.getLogger(__name__)

FORMAT = 2
_ARRAYS = (
    "phrase_hash", "phrase_starts", "phrase_groups",
    "abbr_hash", "abbr_starts", "abbr_groups",
    "group_starts", "group_terms", "term_starts", "blob", "group_treatment",
)  # fmt: skip


def phrase_hash(key: str) -> int:
    """The 64-bit hash a normalised phrase is looked up by (collisions among 130,000
    phrases: about one chance in 10⁹)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def lists_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for path in paths:
        digest.update(str(path.name).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


class Compiled:
    """Arrays of one compiled set of lists (memory-mapped, read-only, thread-safe)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        self.groups = len(self.arrays["group_starts"]) - 1
        self.phrases = len(self.arrays["phrase_hash"])
        self.abbreviations = len(self.arrays["abbr_hash"])

    def _find(self, prefix: str, key: str) -> list[int]:
        hashes = self.arrays[f"{prefix}_hash"]
        wanted = np.uint64(phrase_hash(key))
        at = int(np.searchsorted(hashes, wanted))
        if at >= len(hashes) or hashes[at] != wanted:
            return []
        starts = self.arrays[f"{prefix}_starts"]
        return self.arrays[f"{prefix}_groups"][starts[at] : starts[at + 1]].tolist()

    def phrase_groups(self, key: str) -> list[int]:
        return self._find("phrase", key)

    def abbreviation_groups(self, key: str) -> list[int]:
        return self._find("abbr", key)

    def names_treatment(self, group: int) -> bool:
        return bool(self.arrays["group_treatment"][group])

    def terms(self, group: int) -> list[str]:
        """The group's exact terms, preferred first."""
        starts, ids = self.arrays["group_starts"], self.arrays["group_terms"]
        offsets, blob = self.arrays["term_starts"], self.arrays["blob"]
        out = []
        for term in ids[starts[group] : starts[group + 1]].tolist():
            out.append(bytes(blob[offsets[term] : offsets[term + 1]]).decode("utf-8"))
        return out


def _csr(mapping: dict[str, list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keyed = sorted(((phrase_hash(key), groups) for key, groups in mapping.items()))
    hashes = np.array([h for h, _ in keyed], dtype=np.uint64)
    lengths = [len(groups) for _, groups in keyed]
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    flat = np.array([g for _, groups in keyed for g in sorted(groups)], dtype=np.int32)
    return hashes, starts, flat


def compile_table(table, folder: Path) -> None:
    """Write a loaded `SynonymTable` as arrays into `folder` (made whole, then renamed)."""
    order = sorted(table.groups, key=lambda ident: (table.groups[ident].preferred.lower(), ident))
    number = {ident: i for i, ident in enumerate(order)}
    terms: dict[str, int] = {}
    group_terms: list[int] = []
    group_starts = [0]
    for ident in order:
        for term in table.groups[ident].exact:
            group_terms.append(terms.setdefault(term, len(terms)))
        group_starts.append(len(group_terms))
    encoded = [term.encode("utf-8") for term in terms]
    term_starts = np.concatenate(([0], np.cumsum([len(b) for b in encoded]))).astype(np.int64)
    arrays = {"group_starts": np.array(group_starts, dtype=np.int64)}
    arrays["group_terms"] = np.array(group_terms, dtype=np.int32)
    arrays["term_starts"] = term_starts
    arrays["blob"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    treatments = getattr(table, "treatments", set())
    arrays["group_treatment"] = np.array([ident in treatments for ident in order], dtype=bool)
    for prefix, source in (("phrase", table.phrases), ("abbr", table.abbreviations)):
        mapping = {key: [number[i] for i in idents] for key, idents in source.items()}
        arrays[f"{prefix}_hash"], arrays[f"{prefix}_starts"], arrays[f"{prefix}_groups"] = _csr(
            mapping
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, array in arrays.items():
            np.save(work / f"{name}.npy", array)
        try:
            os.rename(work, folder)
        except OSError:  # another process compiled the same lists first: use theirs
            if not (folder / "blob.npy").exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def open_compiled(paths: Sequence[Path], load) -> Compiled | None:
    """The compiled form of these lists, compiling them (`load(paths)` → SynonymTable)
    when no process has yet; None when the cache folder cannot be written."""
    try:
        folder = cache_root() / f"synonyms-{lists_digest(paths)}"
        if not (folder / "blob.npy").exists():
            compile_table(load(paths), folder)
            log.info("synonyms compiled into %s", folder)
        return Compiled(folder)
    except OSError as exc:
        log.warning("synonyms: cannot use the cache folder (%s); lists held in memory", exc)
        return None
