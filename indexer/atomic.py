"""The one way a file is replaced: a reader sees the old file or the new, never half.

Pointer files, manifests, column arrays, hot-term lists and synced pages all go
through here, so each is fsynced before the rename and the folder after it (a
crash right after the rename must not bring back the old name with no data), and
a replaced file keeps a readable mode (mkstemp makes 0600 files, which a web
worker running as another user could not open).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

# files the service writes are world-readable unless the existing file says otherwise
DEFAULT_MODE = 0o644


def write_atomic(path: Path, write: Callable[[IO[bytes]], None], mode: int | None = None) -> None:
    """Write `path` through `write(handle)` into a temp file, then rename it into place.

    `mode` defaults to the replaced file's mode, or 0644 for a new file.
    """
    path = Path(path)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = DEFAULT_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace `path` with `data`."""
    write_atomic(path, lambda handle: handle.write(data), mode)


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as UTF-8 JSON, each item on a line of its own (for
    diffs and eyes). One call of json's C encoder, which takes any separator: an
    indented dump goes through its Python one (7 s for the 560,000 entries of a
    manifest), a dump per entry took 2.0 s, this 1.3 s."""
    text = json.dumps(data, ensure_ascii=False, separators=(",\n", ": "))
    write_bytes_atomic(path, text.encode("utf-8"))


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object a file holds, or {} when it is missing, unreadable, not JSON or
    not an object: the files written here are state a reader can rebuild or do
    without (manifests, status, lists), never a reason to fail."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; a filesystem that cannot is let be."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
