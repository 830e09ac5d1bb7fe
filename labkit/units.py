"""Sizes, page frame numbers and address formatting.

Everything in labkit is a 4 KiB page on a 64-bit machine unless a caller
says otherwise (the i386 entry width is a kimage option, not a page size).
"""
from __future__ import annotations

import re

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = ~(PAGE_SIZE - 1)

_UNITS = {
    "": 1, "b": 1,
    "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
    "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
    "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
    "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}
_SIZE_RE = re.compile(r"^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Parse ``64MiB``, ``2GiB``, ``2G``, ``0x40000000`` or ``4096`` into bytes.

    Binary units throughout (``MB`` means MiB, as in kernel command lines);
    a fractional size must come out as a whole number of bytes.
    """
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"size must not be negative, got {text}")
        return text
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (expected e.g. 64MiB, 2GiB, 0x40000000)")
    number, unit = m.group(1), m.group(2).lower()
    if unit not in _UNITS:
        raise ValueError(f"unknown size unit {m.group(2)!r} in {text!r} (use KiB, MiB, GiB, TiB)")
    if number.lower().startswith("0x"):
        if unit not in ("", "b"):
            raise ValueError(f"a hex size takes no unit: {text!r}")
        return int(number, 16)
    value = float(number) * _UNITS[unit] if "." in number else int(number) * _UNITS[unit]
    if value != int(value):
        raise ValueError(f"size {text!r} is not a whole number of bytes")
    return int(value)


def format_size(nbytes: int) -> str:
    """Render a byte count with the largest binary unit that divides it evenly."""
    for unit, factor in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= factor and nbytes % factor == 0:
            return f"{nbytes // factor}{unit}"
    return f"{nbytes}B"


def pfn(addr: int) -> int:
    """Page frame number of a physical address."""
    return addr >> PAGE_SHIFT


def pfn_to_addr(frame: int) -> int:
    """Physical address of a page frame."""
    return frame << PAGE_SHIFT


def page_count(nbytes: int) -> int:
    """``PAGE_COUNT(x)`` of kernel/kexec_core.c: pages needed to hold ``nbytes``."""
    return (nbytes + PAGE_SIZE - 1) >> PAGE_SHIFT


def is_page_aligned(addr: int) -> bool:
    return addr & (PAGE_SIZE - 1) == 0


def hexaddr(addr: int) -> str:
    """Addresses are printed as ``0x...`` hex everywhere in labkit."""
    return f"{addr:#x}"
