"""``/proc/iomem``: the kernel's resource tree, nested by two spaces per level.

``r_show`` in ``kernel/resource.c`` prints ``%*s%0*llx-%0*llx : %s`` with two
spaces of indentation per depth and an inclusive end; ``level`` of each
``MemRange`` is that depth, so ``Kernel code`` sits inside ``System RAM``.
A reader without ``CAP_SYS_ADMIN`` sees every address as zero
(``00000000-00000000 : System RAM``); such a file says nothing about the
machine and is refused with an explanation.  kexec-tools reads this file the
same way (``kexec_iomem_for_each_line``).
"""
from __future__ import annotations

import re

from ..errors import ParseError
from ..memmap import (ACPI, ACPI_NVS, CRASH_KERNEL, KERNEL, OTHER, PERSISTENT, RAM, RESERVED, UNUSABLE,
                      MemoryMap, MemRange)
from .lines import Line, Source, iter_lines, source_name
from .numbers import hex_bare

FORMAT = "iomem"

#: resource names that say what memory *is*; anything else (PCI Bus, device names) is OTHER
NAMES = {
    "system ram": RAM,
    "reserved": RESERVED,
    "acpi tables": ACPI,
    "acpi non-volatile storage": ACPI_NVS,
    "crash kernel": CRASH_KERNEL,
    "kernel code": KERNEL,
    "kernel data": KERNEL,
    "kernel bss": KERNEL,
    "kernel rodata": KERNEL,
    "persistent memory": PERSISTENT,
    "persistent memory (legacy)": PERSISTENT,
    "unusable memory": UNUSABLE,
    "soft reserved": "soft-reserved",          # EFI_MEMORY_SP, as the e820 reader names type 0xefffffff
}

# Loose recognition (hex, dash, something, " : "), strict parsing.
_LOOKS_LIKE = re.compile(r"( *)([0-9a-fA-F]+-\S*|\S*-[0-9a-fA-F]+)\s+:(?:\s|$)")
_STRICT = re.compile(r"( *)(\S+?)-(\S+) : (.*\S)")


def iomem_type(name: str) -> str:
    """The labkit range type of a ``/proc/iomem`` resource name.

    RAM a driver added at run time is named ``System RAM (<driver>)``
    (``System RAM (kmem)`` for dax/CXL memory, ``System RAM (virtio_mem)``):
    it is RAM.
    """
    key = name.strip().lower()
    if key.startswith("system ram (") and key.endswith(")"):
        return RAM
    return NAMES.get(key, OTHER)


def looks_like_iomem(text: str) -> bool:
    """Whether a line (indentation kept) is meant to be a ``/proc/iomem`` line."""
    return _LOOKS_LIKE.match(text) is not None


def _parse(line: Line) -> tuple[int, MemRange]:
    text = line.text.replace("\t", "        ") if "\t" in line.text else line.text
    m = _STRICT.fullmatch(text)
    if not m:
        raise line.error("'start-end : name' with hex start and end")
    indent, name = len(m.group(1)), m.group(4)
    if indent % 2:
        raise line.error(f"indentation of two spaces per nesting level, got {indent} spaces")
    start = hex_bare(line, m.group(2), "range start")
    last = hex_bare(line, m.group(3), "range end")
    if last < start:
        raise line.error(f"an inclusive end at or above the start {start:#x}, not {last:#x}")
    return indent // 2, MemRange(start, last + 1, iomem_type(name), name, indent // 2)


def read_iomem(source: Source) -> MemoryMap:
    """Read ``/proc/iomem`` into a ``MemoryMap`` with nesting levels."""
    name = source_name(source)
    ranges: list[MemRange] = []
    parents: list[MemRange] = []       # the open range at each level above the current line
    zero_line: Line | None = None
    nonzero = False
    for line in iter_lines(source):
        if not looks_like_iomem(line.text):
            continue
        level, rng = _parse(line)
        if level > len(parents):
            raise line.error(f"nesting level at most {len(parents)} (one deeper than the line above), "
                             f"got {level}")
        del parents[level:]
        if parents and not parents[-1].contains(rng.start, rng.end):
            parent = parents[-1]
            raise line.error(f"a range inside its parent [{parent.start:#x}-{parent.end - 1:#x}] {parent.name}")
        if rng.start == 0 and rng.end == 1:
            zero_line = zero_line or line
        else:
            nonzero = True
        parents.append(rng)
        ranges.append(rng)
    if not ranges:
        raise ParseError(name, 0, "", "/proc/iomem lines ('start-end : name')")
    if not nonzero and zero_line is not None:
        raise zero_line.error("real addresses: every range reads 00000000-00000000, which is what "
                              "/proc/iomem shows to a reader without CAP_SYS_ADMIN; read it as root "
                              "(sudo cat /proc/iomem)")
    return MemoryMap(tuple(ranges))
