"""Settings read from the environment, so operators configure without code changes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where the pages and the index live, and how big a page may be."""

    pages_dir: Path | None
    index_dir: Path
    max_page_bytes: int


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read TRIALSEARCH_* variables; the index defaults to the project's index_data/."""
    env = os.environ if env is None else env
    pages = env.get("TRIALSEARCH_PAGES_DIR") or None
    index = env.get("TRIALSEARCH_INDEX_DIR") or str(PROJECT_ROOT / "index_data")
    max_bytes = int(env.get("TRIALSEARCH_MAX_PAGE_BYTES") or 4 * 1024 * 1024)
    return Settings(
        pages_dir=Path(pages) if pages else None,
        index_dir=Path(index),
        max_page_bytes=max_bytes,
    )
