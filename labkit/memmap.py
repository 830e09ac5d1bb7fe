"""Physical memory maps: typed address ranges as firmware and kernels report them.

A ``MemoryMap`` is the machine's e820/iomem view.  Ranges are half-open
``[start, end)`` here whatever convention the source used (e820 dmesg lines
print inclusive ends, old ``BIOS-e820`` lines exclusive ones); readers convert.
``level`` keeps the nesting of ``/proc/iomem`` (``Kernel code`` inside
``System RAM``): only level-0 ranges describe what memory *is*; deeper
ones say who uses it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from .units import PAGE_SHIFT, PAGE_SIZE, format_size, hexaddr

# Canonical range types.  Unknown firmware types are kept as "e820 type N".
RAM = "ram"
RESERVED = "reserved"
ACPI = "acpi"
ACPI_NVS = "acpi-nvs"
UNUSABLE = "unusable"
PERSISTENT = "persistent"
SOFT_RESERVED = "soft-reserved"   # EFI_MEMORY_SP, e820 type 0xefffffff
CRASH_KERNEL = "crash-kernel"
KERNEL = "kernel"          # Kernel code / data / bss / rodata in /proc/iomem
OTHER = "other"            # anything /proc/iomem names that is not memory (PCI, ...)

#: e820 type numbers (arch/x86/include/asm/e820/types.h)
#: 128 is E820_TYPE_RESERVED_KERN (setup_data kept by the kernel): RAM to memblock, and printed
#: as "usable" by e820__print_type, so it counts as RAM here too.
E820_TYPES = {1: RAM, 2: RESERVED, 3: ACPI, 4: ACPI_NVS, 5: UNUSABLE, 7: PERSISTENT, 12: PERSISTENT,
              128: RAM, 0xEFFFFFFF: SOFT_RESERVED}


def e820_type_name(number: int) -> str:
    """Canonical name of an e820 type number; unknown numbers are kept, not dropped."""
    return E820_TYPES.get(number, f"e820 type {number}")


@dataclass(frozen=True, order=True)
class MemRange:
    """One ``[start, end)`` range of physical addresses with a type."""

    start: int
    end: int
    type: str = RAM
    name: str = ""
    level: int = 0

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad range [{self.start:#x}, {self.end:#x})")

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def label(self) -> str:
        return self.name or self.type

    def contains(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies wholly inside this range."""
        return self.start <= start and end <= self.end

    def __str__(self) -> str:
        return f"[{hexaddr(self.start)}-{hexaddr(self.end - 1)}] {self.label}"


@dataclass(frozen=True)
class MemoryMap:
    """An ordered set of typed ranges: the machine as firmware describes it."""

    ranges: tuple[MemRange, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranges", tuple(sorted(self.ranges, key=lambda r: (r.level, r.start, r.end))))

    # --- construction -------------------------------------------------
    @classmethod
    def from_ram(cls, size: int, crash: tuple[int, int] | None = None) -> "MemoryMap":
        """A plain machine: ``size`` bytes of RAM from address 0, optionally a crash region."""
        if size <= 0 or size % PAGE_SIZE:
            raise ValueError(f"RAM size must be a positive multiple of {PAGE_SIZE}, got {size}")
        ranges = [MemRange(0, size, RAM, "System RAM")]
        if crash is not None:
            ranges.append(MemRange(crash[0], crash[1], CRASH_KERNEL, "Crash kernel", level=1))
        return cls(tuple(ranges))

    def with_range(self, rng: MemRange) -> "MemoryMap":
        return MemoryMap(self.ranges + (rng,))

    # --- queries ------------------------------------------------------
    def top(self) -> Iterator[MemRange]:
        """Level-0 ranges in address order."""
        return (r for r in self.ranges if r.level == 0)

    def ram_ranges(self) -> list[MemRange]:
        """Level-0 RAM ranges, adjacent ones merged (as kexec-tools merges them)."""
        merged: list[MemRange] = []
        for r in sorted((r for r in self.top() if r.type == RAM), key=lambda r: r.start):
            if merged and r.start <= merged[-1].end:
                last = merged[-1]
                merged[-1] = MemRange(last.start, max(last.end, r.end), RAM, last.name)
            else:
                merged.append(r)
        return merged

    @property
    def ram_bytes(self) -> int:
        return sum(r.size for r in self.ram_ranges())

    @property
    def ram_pages(self) -> int:
        """Whole page frames inside RAM (partial pages at range edges do not count)."""
        total = 0
        for r in self.ram_ranges():
            first = -(-r.start // PAGE_SIZE)
            last = r.end // PAGE_SIZE
            total += max(0, last - first)
        return total

    @property
    def end(self) -> int:
        """One past the highest address any level-0 range covers."""
        return max((r.end for r in self.top()), default=0)

    @property
    def max_pfn(self) -> int:
        """Number of page frames needed to index every level-0 range."""
        return -(-self.end // PAGE_SIZE)

    def crash_region(self) -> MemRange | None:
        """The reserved crash-kernel region, if the map has one."""
        return next((r for r in self.ranges if r.type == CRASH_KERNEL), None)

    @property
    def ram_max_pfn(self) -> int:
        """Frames up to the end of the highest RAM range: all a simulated machine needs to hold.

        Reserved ranges far above RAM (MMIO windows, the 1 TiB HyperTransport
        hole of AMD tables) do not count.
        """
        return max((-(-r.end // PAGE_SIZE) for r in self.ram_ranges()), default=0)

    def ram_bitmap(self, size: int | None = None) -> np.ndarray:
        """Boolean array over ``size`` frames (default ``max_pfn``): True where a whole page is RAM."""
        bitmap = np.zeros(self.max_pfn if size is None else size, dtype=bool)
        for r in self.ram_ranges():
            first = -(-r.start // PAGE_SIZE)
            last = r.end >> PAGE_SHIFT
            if last > first:
                bitmap[first:last] = True
        return bitmap

    def is_ram(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies inside one (merged) RAM range."""
        return any(r.contains(start, end) for r in self.ram_ranges())

    def totals(self) -> dict[str, int]:
        """Bytes per type over level-0 ranges."""
        out: dict[str, int] = {}
        for r in self.top():
            out[r.type] = out.get(r.type, 0) + r.size
        return out

    def __iter__(self) -> Iterator[MemRange]:
        return iter(self.ranges)

    def __len__(self) -> int:
        return len(self.ranges)

    def describe(self) -> str:
        lines = [str(r) for r in self.ranges]
        lines.append(f"RAM {format_size(self.ram_bytes)} ({self.ram_pages} pages)")
        return "\n".join(lines)


def merge_adjacent(ranges: Iterable[MemRange]) -> list[MemRange]:
    """Merge touching or overlapping ranges of the same type and level."""
    out: list[MemRange] = []
    for r in sorted(ranges, key=lambda r: (r.level, r.type, r.start)):
        if out and out[-1].type == r.type and out[-1].level == r.level and r.start <= out[-1].end:
            last = out[-1]
            out[-1] = MemRange(last.start, max(last.end, r.end), r.type, last.name, r.level)
        else:
            out.append(r)
    return sorted(out, key=lambda r: (r.level, r.start))
