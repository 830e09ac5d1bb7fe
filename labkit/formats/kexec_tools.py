"""kexec-tools debug output (``kexec -d`` / ``--debug``) and its failed-load report.

What ``kexec/kexec.c`` prints (any architecture: x86, ARM, PowerPC, MIPS share
these lines):

* ``MEMORY RANGES`` and ``start-end (type)`` lines, inclusive end, ``RANGE_*``
  types (``dbgprint_mem_range``); on x86 also ``E820 memmap:`` with e820 type
  numbers (``setup_e820``); see ``labkit.formats.ranges``;
* ``kexec_load: entry = %p flags = 0x%lx`` before the call, and after a
  failure ``kexec_load failed: <strerror>`` and ``entry       = %p flags = 0x%lx``;
* on PowerPC (``kexec/arch/ppc/kexec-ppc.c``, ``ppc64/kexec-ppc64.c``) the
  RAM read from the device tree as ``%016llx-%016llx : %x`` lines, start and
  EXCLUSIVE end (``start + size``) and a hex ``RANGE_*`` type, before
  ``get base memory ranges:N``; they are the log's memory map when it prints
  no ``MEMORY RANGES`` block (they look like ``/proc/iomem`` lines, but an
  iomem resource is never named by a bare number);
* ``print_segments``: ``nr_segments = %d`` and per segment ``segment[i].buf   = %p``,
  ``.bufsz = 0x%zx`` (``%zx`` without ``0x`` before 2.0.x), ``.mem   = %p``,
  ``.memsz = 0x%zx``.  ``%p`` of NULL prints ``(nil)`` (glibc).

A table starts at an entry line or at ``nr_segments`` and runs until the next
one.  With ``-d`` a failed load prints its table twice (debug, then after the
error); identical consecutive tables of which the second follows
``kexec_load failed`` are one load, marked ``failed``.  Several loads in one
log: the last table is kept, ``loads_seen`` says how many there were; the
memory map is the last ``MEMORY RANGES`` (and ``E820 memmap:``) block.
Lines of other programs are ignored; a line that is one of the above but
malformed is a ``ParseError``.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..errors import ParseError
from ..memmap import MemoryMap, MemRange
from ..segments import Segment
from .lines import Line, Source, iter_lines, source_name
from .numbers import decimal, hex_any, hex_0x, pointer
from .ranges import E820_MEMMAP, MEMORY_RANGES, RANGE_TYPES, RangeBlocks
from .segment_log import FIELDS, SegmentLog, TableBuilder

FORMAT = "kexec-tools"

_ENTRY_START = re.compile(r"(?:kexec_load:\s*)?entry\s*=")
_ENTRY = re.compile(r"(?:kexec_load:\s*)?entry\s*=\s*(\S+)\s+flags\s*=\s*(\S+)(?:\s+.*)?")
_NR = re.compile(r"nr_segments\s*=\s*(\S+)(?:\s+.*)?")
_SEG_START = re.compile(r"segment\[[^\]]*\]\s*\.")
_SEG = re.compile(r"segment\[(\d{1,6})\]\.(\w+)\s*=\s*(\S+)(?:\s+.*)?")
_FAILED = re.compile(r"kexec_load failed:\s*(.*)")
_INT_MAX = 0x7FFFFFFF
#: PowerPC base memory range ``%016llx-%016llx : %x``: loose recognition, strict parsing
PPC_BASE_RANGE = re.compile(r"[0-9a-fA-F]{8,}\s*-\s*\S+\s+:\s+[0-9a-fA-F]{1,8}")
_PPC_BASE_STRICT = re.compile(r"(\S+?)-(\S+) : (\S+)")
BASE_RANGES = "base memory ranges"


def _ppc_base_range(line: Line, text: str) -> MemRange:
    m = _PPC_BASE_STRICT.fullmatch(text)
    if not m:
        raise line.error("a PowerPC base memory range 'start-end : type' (hex, end exclusive)")
    start = hex_any(line, m.group(1), "range start")
    end = hex_any(line, m.group(2), "range end")
    kind = hex_any(line, m.group(3), "range type", 0xFFFFFFFF)
    if end <= start:
        raise line.error(f"an exclusive end above the start {start:#x}, not {end:#x}")
    canonical, name = RANGE_TYPES.get(kind, (f"range type {kind}", f"range type {kind}"))
    return MemRange(start, end, canonical, name)


def _field_value(line: Line, index: int, name: str, token: str) -> int:
    what = f"segment[{index}].{name}"
    if name in ("buf", "mem"):
        return pointer(line, token, what)
    return hex_any(line, token, what)


def read_kexec_tools(source: Source, *, require_table: bool = True) -> SegmentLog:
    """Read ``kexec -d`` output; ``require_table=False`` also accepts a log with only memory ranges."""
    name = source_name(source)
    blocks = RangeBlocks()
    tables: list[tuple[TableBuilder, tuple[Segment, ...]]] = []
    current: TableBuilder | None = None
    failure: tuple[str, int] | None = None
    last_line = 0
    base: list[MemRange] = []         # the last run of PowerPC base memory range lines
    in_base = False

    def close() -> None:
        nonlocal current
        if current is not None:
            if current.nr_segments is None:
                raise ParseError(name, current.line, current.text, "'nr_segments = N' after the entry line")
            tables.append((current, current.finish()))
            current = None

    def start(line: Line) -> TableBuilder:
        nonlocal current, failure
        close()
        current = TableBuilder(name, line.number, line.raw)
        if failure is not None:
            current.failed, current.error = True, failure[0]
            failure = None
        return current

    for line in iter_lines(source):
        last_line = line.number
        text = line.text.strip()
        if blocks.feed(line, text):
            in_base = False
            continue
        if PPC_BASE_RANGE.fullmatch(text):
            if not in_base:
                base, in_base = [], True
            base.append(_ppc_base_range(line, text))
            continue
        in_base = False
        if _ENTRY_START.match(text):
            m = _ENTRY.fullmatch(text)
            if not m:
                raise line.error("'entry = 0x... flags = 0x...'")
            table = start(line)
            table.entry = pointer(line, m.group(1), "entry")
            table.flags = hex_0x(line, m.group(2), "flags")
        elif text.startswith("nr_segments"):
            m = _NR.fullmatch(text)
            if not m:
                raise line.error("'nr_segments = N'")
            value = decimal(line, m.group(1), "nr_segments", _INT_MAX)
            if current is None or current.nr_segments is not None or current.count:
                start(line)
            assert current is not None
            current.set_nr(line, value)
        elif _SEG_START.match(text):
            m = _SEG.fullmatch(text)
            if not m or m.group(2) not in FIELDS:
                raise line.error("'segment[i].buf|bufsz|mem|memsz = value'")
            if current is None or current.nr_segments is None:
                raise line.error("'nr_segments = N' before the segment lines")
            index, field = int(m.group(1)), m.group(2)
            current.add(line, index, field, _field_value(line, index, field, m.group(3)))
        else:
            m = _FAILED.match(text)
            if m:
                failure = (m.group(1).strip(), line.number)
    close()
    if failure is not None and tables:
        # "kexec_load failed" with no table after it: the failure belongs to the last table
        tables[-1][0].failed, tables[-1][0].error = True, failure[0]

    merged: list[tuple[TableBuilder, tuple[Segment, ...]]] = []
    for table, segments in tables:
        if merged and table.failed and not merged[-1][0].failed:
            prev, prev_segments = merged[-1]
            if (prev.entry, prev.flags, prev_segments) == (table.entry, table.flags, segments):
                prev.failed, prev.error = True, table.error
                continue
        merged.append((table, segments))

    ranges = blocks.last(MEMORY_RANGES)
    e820 = blocks.last(E820_MEMMAP)
    others = tuple(b for b in blocks.blocks if b.header not in (MEMORY_RANGES, E820_MEMMAP))
    if ranges:
        memory_ranges = ranges.memory_map("range")
    else:
        memory_ranges = MemoryMap(tuple(base))      # PowerPC: the base ranges are the RAM kexec saw
    result = SegmentLog(
        source=name, format=FORMAT, entry=None, flags=None, nr_segments=0, segments=(),
        memory_ranges=memory_ranges,
        e820=e820.memory_map("e820") if e820 else None,
        loads_seen=len(merged), other_ranges=others)
    if not merged:
        if require_table:
            raise ParseError(name, last_line, "",
                             "a kexec-tools segment table ('nr_segments = N' and 'segment[i].field = value' lines)")
        return result
    table, segments = merged[-1]
    return replace(result, entry=table.entry, flags=table.flags,
                   nr_segments=len(segments),
                   segments=segments, line=table.line, failed=table.failed, error=table.error)
