"""The vectorised parse of a slice of data lines (the reader's fast path).

A slice is a run of complete lines, each ending in LF.  ``parse_slice``
accepts it only if every line is exactly ``<hex> <hex>`` in lowercase with
1..16 digits; it does not say where a slice fails: the reader then runs the
precise line-by-line pass of ``lines.py`` to name the line.  Cost is a few
numpy passes over the bytes plus a few dozen over the rows, no Python loop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hexcodec import decode_fields, padded

_LF, _SPACE, _ZERO, _CR = 0x0A, 0x20, 0x30, 0x0D


@dataclass(frozen=True)
class Slice:
    """Values of a well-formed slice; ``padded_rows`` are rows with zero-padded fields."""

    dest: np.ndarray
    src: np.ndarray
    padded_rows: np.ndarray


def parse_slice(data: bytes | memoryview | np.ndarray, *, allow_padding: bool) -> Slice | None:
    """The rows of ``data`` if every line is well formed, else None."""
    raw = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0 or raw[-1] != _LF:
        return None
    newlines = np.flatnonzero(raw == _LF)
    spaces = np.flatnonzero(raw == _SPACE)
    if spaces.size != newlines.size:
        return None
    starts = np.empty_like(newlines)
    starts[0] = 0
    starts[1:] = newlines[:-1] + 1
    dest_len = spaces - starts
    src_len = newlines - spaces - 1
    # lengths in 1..16 <=> (length - 1) < 16 as unsigned; also puts each space inside its line
    if not (bool(((dest_len - 1).view(np.uint64) < 16).all()) and bool(((src_len - 1).view(np.uint64) < 16).all())):
        return None
    pad_rows = np.flatnonzero(((raw[starts] == _ZERO) & (dest_len > 1))
                              | ((raw[spaces + 1] == _ZERO) & (src_len > 1)))
    if pad_rows.size and not allow_padding:
        return None
    buf = padded(raw)
    dest, ok_dest = decode_fields(buf, spaces, dest_len)
    if not ok_dest:
        return None
    src, ok_src = decode_fields(buf, newlines, src_len)
    if not ok_src:
        return None
    return Slice(dest, src, pad_rows)


@dataclass(frozen=True)
class Normalised:
    """A slice with CRLF turned into LF and A-F into a-f, and where that happened."""

    data: np.ndarray
    cr_rows: np.ndarray
    upper_rows: np.ndarray


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    if values.size < 2:
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def normalise_slice(data: bytes | memoryview | np.ndarray) -> Normalised | None:
    """Undo CRLF line ends and uppercase hex digits (lenient mode), or None if there are none."""
    raw = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    cr = np.flatnonzero((raw[:-1] == _CR) & (raw[1:] == _LF))
    upper = np.flatnonzero((raw >= 0x41) & (raw <= 0x46))
    if cr.size == 0 and upper.size == 0:
        return None
    newlines = np.flatnonzero(raw == _LF)
    out = raw.copy()
    out[upper] += 0x20
    if cr.size:
        out = np.delete(out, cr)
    return Normalised(out, np.searchsorted(newlines, cr), _distinct_sorted(np.searchsorted(newlines, upper)))


#: byte classes for ``split_slice``: 1 lowercase hex digit, 2 space, 3 LF, 0 anything else
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = 1
_CLASS[_SPACE] = 2
_CLASS[_LF] = 3


@dataclass(frozen=True)
class Split:
    """A slice sorted into well-formed lines (parsed here) and the rest (for the line-by-line pass).

    ``good`` has one flag per line; ``dest``/``src`` hold the values of the
    good lines in line order; ``padded`` are indices of good lines with zero padding.
    """

    good: np.ndarray
    dest: np.ndarray
    src: np.ndarray
    padded: np.ndarray


def split_slice(data: bytes | memoryview | np.ndarray) -> Split:
    """Per-line version of ``parse_slice``, for slices with a few odd lines (lenient mode)."""
    raw = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == _LF)
    n = newlines.size
    starts = np.empty_like(newlines)
    if n:
        starts[0] = 0
        starts[1:] = newlines[:-1] + 1
    bad = np.zeros(n, dtype=bool)
    bad[np.searchsorted(newlines, np.flatnonzero(_CLASS[raw] == 0))] = True
    spaces = np.flatnonzero(raw == _SPACE)
    space_line = np.searchsorted(newlines, spaces)
    per_line = np.bincount(space_line, minlength=n)
    bad |= per_line != 1
    space = starts.copy()                       # lines without exactly one space are bad anyway
    single = per_line[space_line] == 1
    space[space_line[single]] = spaces[single]
    dest_len = space - starts
    src_len = newlines - space - 1
    bad |= ~(((dest_len - 1).view(np.uint64) < 16) & ((src_len - 1).view(np.uint64) < 16))
    good = np.flatnonzero(~bad)
    buf = padded(raw)
    dest, ok_dest = decode_fields(buf, space[good], dest_len[good])
    src, ok_src = decode_fields(buf, newlines[good], src_len[good])
    if not (ok_dest and ok_src):
        raise RuntimeError("internal error: split_slice kept a line with a byte that is not hex")
    pad = ((raw[starts[good]] == _ZERO) & (dest_len[good] > 1)) | ((raw[space[good] + 1] == _ZERO) & (src_len[good] > 1))
    return Split(~bad, dest, src, good[pad])
