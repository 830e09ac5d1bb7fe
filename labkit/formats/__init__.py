"""Readers of real captured inputs: kexec-tools debug output, kexec_file dmesg lines,
dmesg e820 tables and /proc/iomem.

Every reader streams its input (a path, plain or gzip, or an open stream),
tolerates what terminals and loggers add around the lines it knows, and raises
``labkit.errors.ParseError`` naming the line for anything it recognises but
cannot read.  ``read_memmap`` and ``read_segments`` pick the reader
(``detect_format``) unless told.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ParseError
from ..memmap import MemoryMap
from .detect import E820, FORMATS, IOMEM, KEXEC_TOOLS, SEGMENT_FORMATS, detect_format
from .e820 import E820Log, Modification, apply_modifications, read_e820
from .iomem import read_iomem
from .kexec_file import read_kexec_file
from .kexec_tools import read_kexec_tools
from .lines import Line, Source, iter_lines, seek_back, source_name, tell
from .segment_log import LoadedItem, SegmentLog, range_dict

__all__ = [
    "FORMATS", "SEGMENT_FORMATS", "MemmapResult", "SegmentLog", "LoadedItem", "Modification", "E820Log",
    "Line", "Source", "read_memmap", "read_segments", "detect_format", "read_e820", "read_iomem",
    "read_kexec_tools", "read_kexec_file", "apply_modifications", "iter_lines",
]


@dataclass(frozen=True)
class MemmapResult:
    """A memory map read from a file: the map as the source gave it, modifications apart."""

    format: str
    source: str
    map: MemoryMap
    modifications: tuple[Modification, ...] = ()

    def applied(self) -> MemoryMap:
        """The map with the logged modifications replayed (``apply_modifications``)."""
        return apply_modifications(self.map, self.modifications)

    def to_dict(self, applied: bool = False) -> dict[str, Any]:
        memmap = self.applied() if applied else self.map
        return {"format": self.format, "source": self.source,
                "ranges": [range_dict(r) for r in memmap],
                "ram_bytes": memmap.ram_bytes, "ram_pages": memmap.ram_pages,
                "modifications": [m.to_dict() for m in self.modifications],
                "modifications_applied": applied}


def _choose(source: Source, format: str | None, candidates: tuple[str, ...]) -> str:
    if format is not None:
        if format not in candidates:
            raise ValueError(f"unknown format {format!r}; choose one of {', '.join(candidates)}")
        return format
    position = tell(source)
    chosen = detect_format(source, candidates)
    seek_back(source, position)
    return chosen


def read_memmap(source: Source, format: str | None = None) -> MemmapResult:
    """The memory map in ``source``: e820 dmesg, /proc/iomem, or a kexec log's ranges.

    kexec-tools logs give ``MEMORY RANGES`` (or the ``E820 memmap:`` block if
    that is all they print); kexec_file logs give their ``E820 memmap:`` block.
    """
    chosen = _choose(source, format, FORMATS)
    name = source_name(source)
    if chosen == E820:
        log = read_e820(source)
        return MemmapResult(chosen, name, log.map, log.modifications)
    if chosen == IOMEM:
        return MemmapResult(chosen, name, read_iomem(source))
    reader = read_kexec_tools if chosen == KEXEC_TOOLS else read_kexec_file
    seglog = reader(source, require_table=False)
    if not len(seglog.memory_map):
        raise ParseError(name, 0, "", "a memory map in the log ('MEMORY RANGES' or 'E820 memmap:' block)")
    return MemmapResult(chosen, name, seglog.memory_map)


def read_segments(source: Source, format: str | None = None) -> SegmentLog:
    """The (last) segment table in a kexec-tools or kexec_file log."""
    chosen = _choose(source, format, SEGMENT_FORMATS)
    return read_kexec_tools(source) if chosen == KEXEC_TOOLS else read_kexec_file(source)
