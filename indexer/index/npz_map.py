"""An uncompressed .npz (np.savez) read as memory maps, one per member.

np.load reads every member of an .npz into the process: at 560,000 studies a
generation's columns (columns.npz) were 167 MB of private memory in every worker.
np.savez stores its members uncompressed, each an .npy file inside the zip, so each
can be mapped where it lies: the workers then share one copy in the page cache, and
opening a generation reads nothing it does not use. A compressed member, or a file
that is not such a zip, is read as np.load would.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

# members smaller than this are read: a map costs a file descriptor's worth of kernel state
MIN_MAPPED_BYTES = 64 * 1024
_LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field


def load_mapped(path: Path) -> dict[str, np.ndarray]:
    """Every member of the .npz at `path`, by name (without `.npy`); OSError or
    ValueError when it cannot be read."""
    try:
        return _load(path)
    except (zipfile.BadZipFile, struct.error, EOFError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _load(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                with archive.open(info) as member:
                    out[name] = npy.read_array(member, allow_pickle=False)
                continue
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER)
            if len(header) != _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
                raise ValueError(f"{path}: damaged member {info.filename}")
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            handle.seek(info.header_offset + _LOCAL_HEADER + name_length + extra_length)
            version = npy.read_magic(handle)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"{path}: {info.filename} has .npy format {version}")
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = npy.read_array_header_2_0(handle)
            if dtype.hasobject:
                raise ValueError(f"{path}: {info.filename} holds Python objects")
            offset = handle.tell()
            count = int(np.prod(shape)) if shape else 1
            if count * dtype.itemsize < MIN_MAPPED_BYTES:
                out[name] = np.fromfile(handle, dtype=dtype, count=count).reshape(
                    shape, order="F" if fortran else "C"
                )
            else:
                mapped = np.memmap(
                    path,
                    dtype=dtype,
                    mode="r",
                    offset=offset,
                    shape=shape,
                    order="F" if fortran else "C",
                )
                out[name] = mapped.view(np.ndarray)  # read-only; the map lives as its base
    return out
