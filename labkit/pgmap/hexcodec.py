"""Vectorised lowercase-hex encoding and decoding of pfn columns (numpy SWAR).

Why: a 16M-line ``/proc/kexec_pgmap`` dump must parse at millions of lines
per second, and neither Python's ``int(x, 16)`` nor pyarrow (which has no hex
cast) gets there.  Each field of at most 16 hex digits is loaded as one or two
big-endian 64-bit words ending at the field's last byte; bytes before the
field are replaced by ``'0'``; then eight digits are checked and converted at
once with "SIMD within a register" bit tricks.  Validation is exact: a word is
accepted only if re-encoding its nibbles gives back the same bytes, so any
byte that is not ``0-9a-f`` (uppercase, ``:``, ``g``, NUL, >= 0x80, ...) fails.
"""
from __future__ import annotations

import numpy as np

U64 = np.uint64
ALL_ONES = (1 << 64) - 1


def _rep(byte: int) -> np.uint64:
    return U64(byte * 0x0101010101010101)


_M0F, _M01, _MF0, _Z30, _A76 = _rep(0x0F), _rep(0x01), _rep(0xF0), _rep(0x30), _rep(0x76)
_P1, _P2, _P3 = U64(0x00FF00FF00FF00FF), U64(0x0000FFFF0000FFFF), U64(0xFFFFFFFF)
_S4, _S6, _S7, _S8, _S16, _S32 = (U64(k) for k in (4, 6, 7, 8, 16, 32))
_NINE, _X27 = U64(9), U64(0x27)
#: _KEEP[k] keeps the last k bytes of a big-endian word; _FILL[k] puts '0' in the others.
_KEEP = np.array([0] + [(1 << (8 * k)) - 1 for k in range(1, 8)] + [ALL_ONES], dtype=np.uint64)
_FILL = np.array([0x3030303030303030 & ~int(k) & ALL_ONES for k in _KEEP], dtype=np.uint64)
#: 16**k for k = 1..15: searchsorted against it gives the number of hex digits minus one.
_POW16 = np.array([16 ** k for k in range(1, 16)], dtype=np.uint64)

#: bytes of padding that ``padded`` puts before the data, so a word may start before byte 0
PAD = 16


def padded(data: np.ndarray | bytes | memoryview) -> np.ndarray:
    """A copy of ``data`` with ``PAD`` bytes of ``'0'`` in front (word loads never underflow)."""
    raw = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    out = np.empty(raw.size + PAD, dtype=np.uint8)
    out[:PAD] = 0x30
    out[PAD:] = raw
    return out


def _words(buf: np.ndarray) -> np.ndarray:
    """Every unaligned big-endian 8-byte word of ``buf``: element i = bytes i..i+7."""
    return np.ndarray(shape=(buf.size - 7,), dtype=">u8", buffer=buf, offset=0, strides=(1,))


def _decode8(w: np.ndarray) -> tuple[np.ndarray, bool]:
    """Eight ASCII hex digits per word -> 32-bit values; ok iff every byte was 0-9a-f."""
    v = (w & _M0F) + ((w >> _S6) & _M01) * _NINE
    again = v + _Z30 + (((v + _A76) >> _S7) & _M01) * _X27
    ok = not bool(((again ^ w) | (v & _MF0)).any())
    v = (v | (v >> _S4)) & _P1
    v = (v | (v >> _S8)) & _P2
    v = (v | (v >> _S16)) & _P3
    return v, ok


def decode_fields(buf: np.ndarray, ends: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, bool]:
    """Values of hex fields in ``buf`` (from ``padded``) ending before ``ends`` (unpadded offsets).

    ``lengths`` must be in 1..16.  Returns ``(uint64 values, ok)``; ``ok`` is
    False if any byte of any field is not a lowercase hex digit (the values
    are then meaningless).
    """
    words = _words(buf)
    ends = ends + PAD
    short = np.minimum(lengths, 8)
    w = words[ends - 8].astype(np.uint64)
    w &= _KEEP[short]
    w |= _FILL[short]
    values, ok = _decode8(w)
    long_rows = np.flatnonzero(lengths > 8)
    if long_rows.size:
        extra = lengths[long_rows] - 8
        w2 = words[ends[long_rows] - 16].astype(np.uint64)
        w2 &= _KEEP[extra]
        w2 |= _FILL[extra]
        high, ok2 = _decode8(w2)
        ok = ok and ok2
        values[long_rows] |= high << _S32
    return values, ok


def _encode8(x: np.ndarray) -> np.ndarray:
    """32-bit values -> eight lowercase ASCII hex digits in a big-endian word."""
    v = (x | (x << _S16)) & _P2
    v = (v | (v << _S8)) & _P1
    v = (v | (v << _S4)) & _M0F
    return v + _Z30 + (((v + _A76) >> _S7) & _M01) * _X27


def hex_digits(values: np.ndarray) -> np.ndarray:
    """Number of hex digits of each value without padding (1 for zero)."""
    return np.searchsorted(_POW16, values, side="right") + 1


def encode_lines(dest: np.ndarray, src: np.ndarray) -> bytes:
    """``b"<dest> <src>\\n"`` for each row: lowercase hex, no ``0x``, no padding."""
    n = dest.size
    if n == 0:
        return b""
    grid = np.empty((n, 2), dtype=">u8")  # high and low eight digits of one column
    cells = np.empty((n, 34), dtype=np.uint8)
    for col, values in ((0, dest), (17, src)):
        grid[:, 0] = _encode8(values >> _S32)
        grid[:, 1] = _encode8(values & _P3)
        cells[:, col:col + 16] = grid.view(np.uint8).reshape(n, 16)
    cells[:, 16] = 0x20
    cells[:, 33] = 0x0A
    keep = np.ones((n, 34), dtype=bool)
    column = np.arange(16)
    keep[:, 0:16] = column >= (16 - hex_digits(dest))[:, None]
    keep[:, 17:33] = column >= (16 - hex_digits(src))[:, None]
    return cells[keep].tobytes()
