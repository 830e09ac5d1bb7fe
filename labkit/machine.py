"""A simulated machine: its memory map, its page contents and which pages a kernel owns."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .allocator import PageAllocator
from .memmap import CRASH_KERNEL, MemoryMap, MemRange
from .memory import Mode, PhysicalMemory
from .segments import KernelConfig
from .units import PAGE_SHIFT, PAGE_SIZE, format_size, parse_size

#: the largest machine labkit builds: 1 TiB of RAM (about 36 bytes of state per frame, ~9.5 GB)
MAX_FRAMES = 1 << 28


@dataclass
class Machine:
    """RAM layout plus contents.  Build one with ``Machine.build``.

    Page frames run from 0 to the end of the highest RAM range; a destination
    above that is beyond physical memory (the kernel would accept it and crash
    when relocating; ``relocate`` reports it).
    """

    memmap: MemoryMap
    mem: PhysicalMemory
    config: KernelConfig

    @classmethod
    def build(cls, ram: str | int | MemoryMap = "64MiB", *, mode: Mode = "tags",
              crash: tuple[int, int] | None = None, config: KernelConfig | None = None) -> "Machine":
        """A machine with ``ram`` bytes from address 0 (``"2GiB"``, ``0x40000000``) or a real map.

        ``crash`` is a ``[start, end)`` byte range reserved for a crash kernel.
        """
        if isinstance(ram, MemoryMap):
            memmap = ram
            if crash is not None:
                memmap = memmap.with_range(MemRange(crash[0], crash[1], CRASH_KERNEL, "Crash kernel", 1))
        else:
            memmap = MemoryMap.from_ram(parse_size(ram), crash)
        if memmap.ram_pages == 0:
            raise ValueError("the memory map has no RAM")
        frames = memmap.ram_max_pfn
        if frames > MAX_FRAMES:
            raise ValueError(f"the map reaches {format_size(frames * PAGE_SIZE)} of RAM; labkit simulates at most "
                             f"{format_size(MAX_FRAMES * PAGE_SIZE)} (use a smaller --ram)")
        return cls(memmap, PhysicalMemory(frames, mode), config or KernelConfig())

    @property
    def max_pfn(self) -> int:
        return self.mem.max_pfn

    @property
    def ram_pages(self) -> int:
        """``totalram_pages`` of the model: whole RAM pages in the map."""
        return self.memmap.ram_pages

    def ram_bitmap(self) -> np.ndarray:
        """Whole RAM pages among the machine's frames (frames end with the last RAM page)."""
        return self.memmap.ram_bitmap(self.max_pfn)

    def crash_bounds(self) -> tuple[int, int] | None:
        """``(crashk_res.start, crashk_res.end)`` with an inclusive end, as the kernel keeps it."""
        region = self.memmap.crash_region()
        return None if region is None else (region.start, region.end - 1)

    def free_bitmap(self, in_use: np.ndarray | None = None) -> np.ndarray:
        """Pages a kernel's allocator may hand out: RAM, not the crash region, not ``in_use``."""
        free = self.ram_bitmap()
        crash = self.memmap.crash_region()
        if crash is not None:
            free[crash.start >> PAGE_SHIFT: -(-crash.end // PAGE_SIZE)] = False
        if in_use is not None:
            free &= ~np.asarray(in_use, dtype=bool)[: len(free)]
        return free

    def allocator(self, policy: str = "lowest", seed: int = 0, in_use: np.ndarray | None = None) -> PageAllocator:
        return PageAllocator(self.free_bitmap(in_use), policy, seed)
