"""Strict number tokens of kernel and kexec-tools output.

Readers are tolerant about where a line sits and what surrounds it, but a
number is either exactly what the printing code produces or the line is
rejected: no signs, no stray characters, nothing above ``2**64 - 1``.
"""
from __future__ import annotations

import re

from .lines import Line

U64_MAX = (1 << 64) - 1

_HEX_0X = re.compile(r"0[xX]([0-9a-fA-F]+)")
_HEX_BARE = re.compile(r"([0-9a-fA-F]+)")
_DEC = re.compile(r"[0-9]+")


def _checked(line: Line, token: str, value: int, what: str, limit: int) -> int:
    if value > limit:
        raise line.error(f"{what} of at most {limit:#x}, got {token}")
    return value


def hex_0x(line: Line, token: str, what: str, limit: int = U64_MAX) -> int:
    """A ``0x``-prefixed hex number (``%#lx``, ``0x%lx``)."""
    m = _HEX_0X.fullmatch(token)
    if not m:
        raise line.error(f"{what} as 0x-prefixed hex, got {token!r}")
    return _checked(line, token, int(m.group(1), 16), what, limit)


def hex_bare(line: Line, token: str, what: str, limit: int = U64_MAX) -> int:
    """Hex digits without prefix (``%016llx``)."""
    m = _HEX_BARE.fullmatch(token)
    if not m:
        raise line.error(f"{what} as hex digits without 0x, got {token!r}")
    return _checked(line, token, int(m.group(1), 16), what, limit)


def hex_any(line: Line, token: str, what: str, limit: int = U64_MAX) -> int:
    """Hex with or without ``0x`` (``%zx`` in old kexec-tools, ``0x%zx`` in new)."""
    m = _HEX_0X.fullmatch(token) or _HEX_BARE.fullmatch(token)
    if not m:
        raise line.error(f"{what} as hex, got {token!r}")
    return _checked(line, token, int(m.group(1), 16), what, limit)


def pointer(line: Line, token: str, what: str) -> int:
    """A ``%p`` value: ``0x...`` hex, or glibc's ``(nil)`` / musl's ``0`` for NULL."""
    if token in ("(nil)", "0"):
        return 0
    return hex_0x(line, token, what)


def decimal(line: Line, token: str, what: str, limit: int = U64_MAX) -> int:
    """A non-negative decimal number (``%d``, ``%u``, ``%lu``)."""
    if not _DEC.fullmatch(token):
        raise line.error(f"{what} as a non-negative decimal number, got {token!r}")
    if len(token) > 24:
        raise line.error(f"{what} of at most {limit}, got {token[:24]}...")
    value = int(token)
    if value > limit:
        raise line.error(f"{what} of at most {limit}, got {token}")
    return value
