"""Writing ``/proc/kexec_pgmap`` v1 text, as the simulated kernel would show it.

The loader calls these with the (destination, source) pairs of its
``IND_SOURCE`` entries; rows are sorted by destination here, so the caller
may pass them in entry-list order.
"""
from __future__ import annotations

import gzip
import io
import itertools
import os
from typing import IO, Any, Iterator

import numpy as np

from .hexcodec import encode_lines
from .model import DEFAULT_PAGE_SIZE, format_header

#: rows encoded per slice (keeps temporaries inside the CPU cache)
ROWS_PER_SLICE = 1 << 16


def as_pfns(values: Any, what: str) -> np.ndarray:
    """A 1-D uint64 array of pfns; ValueError for negatives, floats, bools or > 64 bits."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    array = np.asarray(values)
    if not isinstance(values, np.ndarray) and array.dtype.kind in "fO":
        # numpy turns a list mixing ints >= 2**63 and small ints into float64: check the ints themselves
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind == "u":
        return array.astype(np.uint64, copy=False)
    if array.dtype.kind == "i":
        if array.size and array.min() < 0:
            raise ValueError(f"{what} must not be negative, got {int(array.min())}")
        return array.astype(np.uint64)
    if array.dtype.kind == "O":
        out = np.empty(array.size, dtype=np.uint64)
        for i, value in enumerate(array.tolist()):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value < 1 << 64:
                raise ValueError(f"{what}[{i}] must be an integer from 0 to 2**64-1, got {value!r}")
            out[i] = value
        return out
    raise ValueError(f"{what} must hold unsigned integers, got dtype {array.dtype}")


def sorted_pairs(dest_pfn: Any, src_pfn: Any) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by destination; ValueError on a length mismatch or a repeated destination."""
    dest = as_pfns(dest_pfn, "dest_pfn")
    src = as_pfns(src_pfn, "src_pfn")
    if dest.size != src.size:
        raise ValueError(f"dest_pfn has {dest.size} values but src_pfn has {src.size}")
    if dest.size > 1 and not bool(np.all(dest[1:] > dest[:-1])):
        order = np.argsort(dest, kind="stable")
        dest, src = dest[order], src[order]
        repeated = np.flatnonzero(dest[1:] == dest[:-1])
        if repeated.size:
            raise ValueError(f"destination pfn {int(dest[repeated[0]]):#x} appears more than once "
                             f"({repeated.size} repeated destinations); a kimage has one source per page")
    return dest, src


def iter_pgmap(dest_pfn: Any, src_pfn: Any, state: str, *,
               page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[bytes]:
    """The dump as byte pieces: the header line, then slices of data lines."""
    dest, src = sorted_pairs(dest_pfn, src_pfn)
    yield (format_header(dest.size, state, page_size) + "\n").encode("ascii")
    for start in range(0, dest.size, ROWS_PER_SLICE):
        stop = start + ROWS_PER_SLICE
        yield encode_lines(dest[start:stop], src[start:stop])


def format_pgmap(dest_pfn: Any, src_pfn: Any, state: str, *, page_size: int = DEFAULT_PAGE_SIZE) -> str:
    """The whole dump as one string (see ``write_pgmap`` for big maps)."""
    return b"".join(iter_pgmap(dest_pfn, src_pfn, state, page_size=page_size)).decode("ascii")


def write_pgmap(target: str | os.PathLike[str] | IO[Any], dest_pfn: Any, src_pfn: Any, state: str, *,
                page_size: int = DEFAULT_PAGE_SIZE) -> None:
    """Write the dump to a path (gzip-compressed if it ends in ``.gz``) or an open stream.

    Text streams get ``str``, binary streams ``bytes``.  Arguments are
    checked before anything is written, so a refused map leaves no file.
    """
    pieces = iter_pgmap(dest_pfn, src_pfn, state, page_size=page_size)
    header = next(pieces)   # runs the checks
    if isinstance(target, (str, os.PathLike)):
        opener = gzip.open if os.fspath(target).endswith(".gz") else open
        with opener(target, "wb") as stream:
            _write_all(stream, header, pieces, text=False)
    else:
        _write_all(target, header, pieces, text=isinstance(target, io.TextIOBase))


def _write_all(stream: IO[Any], header: bytes, pieces: Iterator[bytes], *, text: bool) -> None:
    for piece in itertools.chain((header,), pieces):
        stream.write(piece.decode("ascii") if text else piece)
