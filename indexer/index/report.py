"""What a reindex is asked to do (`Options`) and what it did (`ReindexReport`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..pages.files import DEFAULT_MAX_PAGE_BYTES
from ..pages.record import StudyRecord

Progress = Callable[[int], None]
# a reindex that would drop more than this share of the studies is refused
MAX_REMOVE_SHARE = 0.2


@dataclass
class ReindexReport:
    """What a reindex did, for people (summary lines) and machines (--json)."""

    mode: str = "full"
    indexed: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    # skipped pages whose study keeps its last good version (file, nct_id)
    kept_previous: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    generation: int | None = None
    documents: int = 0
    # sites listed, naming a city, placed on the map (None: no new generation)
    sites: dict[str, int] | None = None
    pages_seen: int = 0
    note: str | None = None

    @property
    def docs_per_second(self) -> float:
        return round(self.indexed / self.seconds, 1) if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["docs_per_second"] = self.docs_per_second
        return data


@dataclass
class Options:
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES
    procs: int | None = None
    max_remove: float = MAX_REMOVE_SHARE
    allow_removals: bool = False
    on_start: Callable[[int], None] | None = None
    progress: Progress | None = None


@dataclass
class ParsedPage:
    path: str
    record: StudyRecord
    entry: dict[str, Any]
