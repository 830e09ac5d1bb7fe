import numpy as np
import pytest

from labkit.memmap import (CRASH_KERNEL, KERNEL, RAM, RESERVED, MemoryMap, MemRange, e820_type_name,
                           merge_adjacent)


def test_ram_totals_count_whole_pages_of_merged_level0_ram():
    m = MemoryMap((MemRange(0, 0x9FC00, RAM), MemRange(0x9FC00, 0xA0000, RESERVED),
                   MemRange(0x100000, 0x200000, RAM), MemRange(0x200000, 0x300000, RAM),
                   MemRange(0x1000000, 0x1E00000, KERNEL, "Kernel code", level=1)))
    assert m.ram_bytes == 0x9FC00 + 0x200000
    assert m.ram_pages == 0x9F + 0x200
    assert len(m.ram_ranges()) == 2
    assert m.is_ram(0x100000, 0x300000) and not m.is_ram(0x9F000, 0x101000)
    bitmap = m.ram_bitmap()
    assert bitmap.sum() == m.ram_pages and not bitmap[0x9F] and bitmap[0x100]


def test_from_ram_and_crash_region():
    m = MemoryMap.from_ram(64 << 20, crash=(32 << 20, 48 << 20))
    assert m.ram_pages == 16384 and m.crash_region().type == CRASH_KERNEL
    with pytest.raises(ValueError):
        MemoryMap.from_ram(1000)


def test_e820_unknown_types_are_kept():
    assert e820_type_name(1) == RAM and e820_type_name(20) == "e820 type 20"
    assert e820_type_name(128) == RAM          # E820_TYPE_RESERVED_KERN: RAM to the kernel


def test_bad_range_rejected():
    with pytest.raises(ValueError):
        MemRange(10, 5)


def test_merge_adjacent():
    out = merge_adjacent([MemRange(0, 10, RAM), MemRange(10, 20, RAM), MemRange(30, 40, RAM)])
    assert [(r.start, r.end) for r in out] == [(0, 20), (30, 40)]
    assert np.array_equal(MemoryMap(tuple(out)).ram_bitmap(), np.zeros(1, bool))
