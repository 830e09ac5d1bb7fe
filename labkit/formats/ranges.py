"""``start-end (type)`` range blocks printed by kexec-tools and the kernel's kexec_file code.

kexec-tools' ``dbgprint_mem_range`` prints a header (``MEMORY RANGES``,
``Reserved memory range``, ``System RAM ranges;``) and then one
``%016llx-%016llx (%d)`` line per ``struct memory_range`` with an inclusive
end and a ``RANGE_*`` type (``kexec/kexec.h``).  The x86 loaders of
kexec-tools (``setup_e820``) and of the kernel (``kexec-bzImage64.c``,
``kexec_dprintk``) print ``E820 memmap:`` and the same line shape with e820
type numbers.  A block is the run of range lines after its header line; a
range line belongs to the nearest header above it.  A line that only marks
an omission (``......``, ``...``, ``[...]``, ``<snip>``), as people shorten
long maps they paste, does not end the block: the ranges after it stay under
the same header and the block is marked ``elided`` (its map has a hole the
log does not describe).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..memmap import ACPI, ACPI_NVS, OTHER, PERSISTENT, RAM, RESERVED, MemoryMap, MemRange
from .e820_types import E820_TYPE_MAX, e820_type
from .lines import Line
from .numbers import decimal, hex_bare

#: ``RANGE_*`` of kexec-tools ``kexec/kexec.h`` (RANGE_PMEM and RANGE_PRAM since 2.0.16)
RANGE_TYPES = {
    0: (RAM, "RANGE_RAM"),
    1: (RESERVED, "RANGE_RESERVED"),
    2: (ACPI, "RANGE_ACPI"),
    3: (ACPI_NVS, "RANGE_ACPI_NVS"),
    4: (OTHER, "RANGE_UNCACHED"),
    6: (PERSISTENT, "RANGE_PMEM"),
    11: (PERSISTENT, "RANGE_PRAM"),
}

MEMORY_RANGES = "MEMORY RANGES"
E820_MEMMAP = "E820 memmap:"

# Recognition is loose (hex, a dash, something in parentheses), parsing strict.
_LOOKS_LIKE = re.compile(r"[0-9a-fA-F]{4,}\s*-\s*\S*\s*\(")
_STRICT = re.compile(r"(\S+?)-(\S+)\s+\(([^)]*)\)(?:\s+.*)?")
#: what people put where they cut lines out of a pasted block
ELISION = re.compile(r"\.{3,}|\u2026|\[\s*(?:\.{3,}|\u2026|snip)\s*\]|<snip>|\.{3}\s*snip\s*\.{3}", re.IGNORECASE)


@dataclass(frozen=True)
class RangeLine:
    """One printed range: inclusive ``end`` as printed, raw ``type`` number, line number."""

    start: int
    end: int
    type: int
    line: int


@dataclass(frozen=True)
class RangeBlock:
    """A header line and the range lines under it."""

    header: str
    line: int
    ranges: tuple[RangeLine, ...]
    elided: bool = False          # an omission mark ("......") sat between its range lines

    def memory_map(self, numbering: str) -> MemoryMap:
        """The block as a ``MemoryMap``; ``numbering`` is ``"range"`` (RANGE_*) or ``"e820"``."""
        out = []
        for r in self.ranges:
            if numbering == "e820":
                kind, name = e820_type(r.type)
            else:
                kind, name = RANGE_TYPES.get(r.type, (f"range type {r.type}", f"range type {r.type}"))
            out.append(MemRange(r.start, r.end + 1, kind, name))
        return MemoryMap(tuple(out))


def looks_like_range(text: str) -> bool:
    """Whether a (stripped) line is meant to be a ``start-end (type)`` range line."""
    return _LOOKS_LIKE.match(text) is not None


def parse_range(line: Line, text: str) -> RangeLine:
    """Parse a ``%016llx-%016llx (%d)`` line strictly (inclusive end, end >= start)."""
    m = _STRICT.fullmatch(text)
    if not m:
        raise line.error("a range line 'start-end (type)' with hex start and end")
    start = hex_bare(line, m.group(1), "range start")
    end = hex_bare(line, m.group(2), "range end")
    kind = decimal(line, m.group(3).strip(), "range type number", E820_TYPE_MAX)
    if end < start:
        raise line.error(f"an inclusive end at or above the start {start:#x}, not {end:#x}")
    return RangeLine(start, end, kind, line.number)


class RangeBlocks:
    """Collects range blocks while a reader walks a log, each under its header."""

    def __init__(self) -> None:
        self.blocks: list[RangeBlock] = []
        self._header: tuple[str, int] = ("", 0)
        self._current: list[RangeLine] | None = None
        self._elided = False

    def feed(self, line: Line, text: str) -> bool:
        """Take ``text`` if it is a range line (returning True), else note it as a possible header."""
        if looks_like_range(text):
            if self._current is None:
                self._current = []
            self._current.append(parse_range(line, text))
            return True
        if self._current and ELISION.fullmatch(text):
            self._elided = True
            return True
        self.close()
        self._header = (text, line.number)
        return False

    def close(self) -> None:
        if self._current:
            self.blocks.append(RangeBlock(self._header[0], self._header[1], tuple(self._current), self._elided))
        self._current = None
        self._elided = False

    def last(self, header: str) -> RangeBlock | None:
        """The last block under ``header`` (a load prints its ranges each time; the last one counts)."""
        self.close()
        return next((b for b in reversed(self.blocks) if b.header == header), None)
