"""A segment table read from a log, and the bookkeeping that keeps it honest.

Both kexec-tools (``print_segments`` in ``kexec/kexec.c``) and the kernel
(``kexec_file_load``/``do_kexec_load``, ``kexec_dprintk``) print
``nr_segments = N`` and then one entry per ``struct kexec_segment``.  The
readers feed field values into a ``TableBuilder``, which insists that the
indices run 0, 1, 2, ... without gaps or repeats, that every segment gets all
four fields, and that the count matches ``nr_segments``; each complaint names
the line where the table went wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ParseError
from ..memmap import MemoryMap, MemRange
from ..segments import (ARCHES, KEXEC_ARCH_MASK, KEXEC_CRASH_HOTPLUG_SUPPORT, KEXEC_ON_CRASH,
                        KEXEC_PRESERVE_CONTEXT, KEXEC_UPDATE_ELFCOREHDR, LABKIT_KS_MASK, STAGE_NAMES,
                        Segment, stage_of)
from .lines import Line
from .ranges import RangeBlock

FIELDS = ("buf", "bufsz", "mem", "memsz")

#: ``kexec_file_load`` flags (include/uapi/linux/kexec.h)
KEXEC_FILE_UNLOAD = 0x1
KEXEC_FILE_ON_CRASH = 0x2
KEXEC_FILE_NO_INITRAMFS = 0x4
KEXEC_FILE_DEBUG = 0x8

_LOAD_FLAGS = ((KEXEC_ON_CRASH, "KEXEC_ON_CRASH"), (KEXEC_PRESERVE_CONTEXT, "KEXEC_PRESERVE_CONTEXT"),
               (KEXEC_UPDATE_ELFCOREHDR, "KEXEC_UPDATE_ELFCOREHDR"),
               (KEXEC_CRASH_HOTPLUG_SUPPORT, "KEXEC_CRASH_HOTPLUG_SUPPORT"))
_FILE_FLAGS = ((KEXEC_FILE_UNLOAD, "KEXEC_FILE_UNLOAD"), (KEXEC_FILE_ON_CRASH, "KEXEC_FILE_ON_CRASH"),
               (KEXEC_FILE_NO_INITRAMFS, "KEXEC_FILE_NO_INITRAMFS"), (KEXEC_FILE_DEBUG, "KEXEC_FILE_DEBUG"))


def describe_load_flags(flags: int) -> list[str]:
    """Names of the ``kexec_load`` flag bits, the arch number (``flags >> 16``) and a labkit stage."""
    names = [name for bit, name in _LOAD_FLAGS if flags & bit]
    stage = stage_of(flags)
    if stage:
        names.append(f"labkit stage {STAGE_NAMES[stage]}")
    known = sum(bit for bit, _ in _LOAD_FLAGS) | KEXEC_ARCH_MASK | LABKIT_KS_MASK
    if flags & ~known:
        names.append(f"unknown bits {flags & ~known:#x}")
    arch = (flags & KEXEC_ARCH_MASK) >> 16
    arch_names = [name for name, number in ARCHES.items() if number == arch]
    names.append(f"arch {arch} ({arch_names[0]})" if arch_names else f"arch {arch}")
    return names


def describe_file_flags(flags: int) -> list[str]:
    """Names of the ``kexec_file_load`` flag bits."""
    names = [name for bit, name in _FILE_FLAGS if flags & bit]
    rest = flags & ~sum(bit for bit, _ in _FILE_FLAGS)
    if rest:
        names.append(f"unknown bits {rest:#x}")
    return names


@dataclass(frozen=True)
class LoadedItem:
    """A kernel ``Loaded <what> at 0x.. [bufsz=0x.. memsz=0x..]`` line (kexec_file loaders)."""

    what: str
    mem: int
    bufsz: int | None
    memsz: int | None
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "mem": self.mem, "bufsz": self.bufsz, "memsz": self.memsz, "line": self.line}


@dataclass(frozen=True)
class SegmentLog:
    """One load's segment table as a log printed it.

    ``nr_segments`` is the number printed (equal to ``len(segments)``, or the
    reader would have refused the log).  When a log holds several loads the
    readers keep the *last* one and count them in ``loads_seen``; a table
    kexec-tools prints twice for one failed load (``-d`` and again after
    ``kexec_load failed``) counts once, with ``failed`` set.  ``entry`` and
    ``flags`` are ``None`` when the log did not print them (old kernels'
    kexec_file output).  ``flags`` are ``kexec_load`` flags for
    ``format == "kexec-tools"`` and ``kexec_file_load`` flags for
    ``"kexec-file"``.
    """

    source: str
    format: str
    entry: int | None
    flags: int | None
    nr_segments: int
    segments: tuple[Segment, ...]
    memory_ranges: MemoryMap = field(default_factory=MemoryMap)
    e820: MemoryMap | None = None
    line: int = 0
    loads_seen: int = 1
    failed: bool = False
    error: str | None = None
    loaded: tuple[LoadedItem, ...] = ()
    other_ranges: tuple[RangeBlock, ...] = ()

    @property
    def memory_map(self) -> MemoryMap:
        """The machine as the log saw it: ``MEMORY RANGES`` if printed, else the ``E820 memmap:`` block."""
        if len(self.memory_ranges):
            return self.memory_ranges
        return self.e820 if self.e820 is not None else MemoryMap()

    def flag_names(self) -> list[str]:
        if self.flags is None:
            return []
        if self.format == "kexec-file":
            return describe_file_flags(self.flags)
        return describe_load_flags(self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "source": self.source, "entry": self.entry, "flags": self.flags,
            "flag_names": self.flag_names(), "nr_segments": self.nr_segments,
            "segments": [s.to_dict() for s in self.segments],
            "memory_ranges": [range_dict(r) for r in self.memory_ranges],
            "e820": None if self.e820 is None else [range_dict(r) for r in self.e820],
            "loads_seen": self.loads_seen, "failed": self.failed, "error": self.error,
            "loaded": [i.to_dict() for i in self.loaded],
        }


def range_dict(r: MemRange) -> dict[str, Any]:
    """A range for JSON: ``end`` exclusive whatever the source printed."""
    return {"start": r.start, "end": r.end, "type": r.type, "name": r.name, "level": r.level}


@dataclass
class TableBuilder:
    """Mutable state of one segment table while it is being read."""

    source: str
    line: int                     # where the table starts
    text: str = ""                # that line as read, for errors
    entry: int | None = None
    flags: int | None = None
    nr_segments: int | None = None
    nr_line: int = 0
    nr_text: str = ""
    failed: bool = False
    error: str | None = None
    loaded: list[LoadedItem] = field(default_factory=list)
    _fields: list[dict[str, int]] = field(default_factory=list)
    _lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self._fields)

    def set_nr(self, line: Line, value: int) -> None:
        if self.nr_segments is not None:
            raise line.error(f"one 'nr_segments' per table (already {self.nr_segments} at line {self.nr_line})")
        if self._fields:
            raise line.error("'nr_segments = N' before the segment lines of its table")
        self.nr_segments, self.nr_line, self.nr_text = value, line.number, line.raw

    def add(self, line: Line, index: int, name: str, value: int) -> None:
        """Record ``segment[index].name = value``; indices must go 0, 1, 2, ... in order."""
        current = len(self._fields) - 1
        if index == current + 1:
            if current >= 0:
                self._check_complete(current, line)
            self._fields.append({})
            self._lines.append((line.number, line.raw))
        elif index != current:
            expected = "0" if current < 0 else f"{current} or {current + 1}"
            raise line.error(f"segment index {expected} (indices run from 0 without gaps), got {index}")
        fields = self._fields[index]
        if name in fields:
            raise line.error(f"one value of segment[{index}].{name} (it was already given)")
        fields[name] = value

    def _check_complete(self, index: int, line: Line) -> None:
        missing = [f for f in FIELDS if f not in self._fields[index]]
        if missing:
            raise line.error(f"segment[{index}] to have {', '.join('.' + m for m in missing)} "
                             f"before the table goes on")

    def finish(self) -> tuple[Segment, ...]:
        """Check the table as a whole and return its segments in index order."""
        if self._fields:
            last = len(self._fields) - 1
            missing = [f for f in FIELDS if f not in self._fields[last]]
            if missing:
                raise ParseError(self.source, *self._lines[last],
                                 f"segment[{last}] to have {', '.join('.' + m for m in missing)} "
                                 f"(the table ends without them)")
        if self.nr_segments is not None and self.nr_segments != len(self._fields):
            raise ParseError(self.source, self.nr_line, self.nr_text,
                             f"{self.nr_segments} segments as 'nr_segments' says, but the table has "
                             f"{len(self._fields)}")
        return tuple(Segment(mem=f["mem"], memsz=f["memsz"], bufsz=f["bufsz"], buf=f["buf"])
                     for f in self._fields)
