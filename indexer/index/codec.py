"""Posting blocks that decode in a few C calls: Whoosh's layout, leaner contents.

Whoosh's W3 codec pickles each block of up to 128 postings as tuples, with pickle
protocol 2: a Python int per document gap, a float per weight and a bytes object
per posting's positions. Reading a common word cold at 560,000 studies spent half
its time in `pickle.loads` rebuilding those objects, and more turning them into
arrays (bench/README.md). The blocks written here keep the W3 layout (length, block
info, zlib-compressed data) and give Whoosh's reader what it indexes — sequences —
but pickle them with protocol 5: document gaps as uint32 and weights as float32
arrays, and for PackedPositions fields every posting's positions as one buffer with
the offsets where each ends (`PackedValues`). Whoosh reads these blocks as it reads
its own (tests/test_segment_writer.py); segments written by Whoosh's codec still
read here. The TOC records the codec's class and blocks record `PackedValues`, so
both names must stay importable from this module.
"""

from __future__ import annotations

import pickle
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any, overload

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter
from whoosh.system import pack_int
from whoosh.util.numeric import length_to_byte

from .schema import PackedPositions

_END = struct.Struct("<I")


class PackedValues(Sequence[bytes]):
    """A block's position values as one buffer and little-endian uint32 end offsets."""

    __slots__ = ("blob", "ends")

    def __init__(self, blob: bytes, ends: bytes) -> None:
        self.blob = blob
        self.ends = ends

    @classmethod
    def pack(cls, values: Iterable[bytes]) -> PackedValues:
        values = list(values)
        ends = array("I", accumulate(map(len, values)))
        if sys.byteorder == "big":  # pragma: no cover - no such machine here
            ends.byteswap()
        return cls(b"".join(values), ends.tobytes())

    def offsets(self) -> np.ndarray:
        """Where each value ends in `blob`, as a numpy view."""
        return np.frombuffer(self.ends, dtype="<u4")

    def __reduce__(self) -> tuple[Any, tuple[bytes, bytes]]:
        return (PackedValues, (self.blob, self.ends))

    def __len__(self) -> int:
        return len(self.ends) // 4

    @overload
    def __getitem__(self, i: int) -> bytes: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[bytes, ...]: ...

    def __getitem__(self, i: int | slice) -> bytes | tuple[bytes, ...]:
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("PackedValues index out of range")
        start = _END.unpack_from(self.ends, 4 * (i - 1))[0] if i else 0
        return self.blob[start : _END.unpack_from(self.ends, 4 * i)[0]]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackedValues) and (self.blob, self.ends) == (
            other.blob,
            other.ends,
        )

    __hash__ = None  # type: ignore[assignment]


class LeanPostingsWriter(W3PostingsWriter):
    """W3PostingsWriter whose blocks hold arrays and packed values (see above).

    It also counts the bytes it writes instead of asking the file where it is:
    Whoosh calls `tell()` twice per term, a system call on a buffered file, and
    that was 5% of a full build (py-spy, 10,000 pages). Only this writer writes
    to the postings file, so the count stays exact (the writer test reads every
    posting back through Whoosh).
    """

    _position: int | None = None

    def _tell(self) -> int:
        if self._position is None:
            self._position = self._postfile.tell()
        return self._position

    def _write(self, data: bytes) -> None:
        self._postfile.write(data)
        self._position = self._tell() + len(data)

    def start_postings(self, format_: Any, terminfo: Any) -> None:
        if self._terminfo:
            raise RuntimeError("start_postings called inside a term")
        self._format = format_
        self._blockcount = 0
        self._new_block()
        self._terminfo = terminfo
        self._startoffset = self._tell()

    def finish_postings(self) -> Any:
        terminfo = self._terminfo
        if not self.written() and len(self) < self._inlinelimit:
            terminfo.add_block(self)
            terminfo.set_inline(self._ids, self._weights, self._values)
        else:
            if self._ids:
                self._write_block(last=True)
            terminfo.set_extent(self._startoffset, self._tell() - self._startoffset)
        self._terminfo = None
        return terminfo

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        data = pickle.dumps(
            (self._lean_ids(), self._mini_weights(), self._lean_values()), protocol=5
        )
        level = self._compression
        if level:
            data = zlib.compress(data, level)
        # what the reader looks at before deciding to decode the block
        info = pickle.dumps(
            (
                len(self._ids),
                self._ids[-1],
                self._maxweight,
                level,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            protocol=2,
        )
        size = len(info) + len(data)
        self._write(pack_int(-size if last else size))  # negative: the last block
        self._write(info)
        self._write(data)
        self._blockcount += 1
        self._new_block()

    def _lean_ids(self) -> Sequence[Any]:
        ids = self._ids
        if self._byteids:  # term vectors: terms, not document numbers
            return tuple(ids)
        gaps = array("I", ids)
        if len(ids) > 1:
            gaps[1:] = array("I", [b - a for a, b in zip(ids, ids[1:], strict=False)])
        return gaps

    def _mini_weights(self) -> Any:
        weights = self._weights
        first = weights[0]
        if all(w == first for w in weights):
            return None if first == 1.0 else first
        return weights  # already array("f"), as the reader keeps it

    def _lean_values(self) -> Any:
        if isinstance(self._format, PackedPositions) and self._values:
            return PackedValues.pack(self._values)
        return self._mini_values()


class LeanCodec(W3Codec):
    """W3Codec writing LeanPostingsWriter blocks; reading is W3Codec's own."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> LeanPostingsWriter:
        return LeanPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )
