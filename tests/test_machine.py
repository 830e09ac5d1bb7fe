"""The simulated machine: frames up to the last RAM page, free pages for an allocator."""
import numpy as np
import pytest

from labkit.machine import MAX_FRAMES, Machine
from labkit.memmap import RAM, RESERVED, MemoryMap, MemRange

PAGE = 4096


def test_build_from_a_size():
    m = Machine.build("64MiB")
    assert m.max_pfn == m.ram_pages == 16384 and m.crash_bounds() is None


def test_reserved_ranges_far_above_ram_do_not_make_the_machine_bigger():
    # AMD tables reserve [0xfd00000000, 0x10000000000): 1 TiB of address space, no RAM
    mm = MemoryMap((MemRange(0, 0x9F000, RAM), MemRange(0x100000, 0x40000000, RAM),
                    MemRange(0xFD00000000, 0x10000000000, RESERVED)))
    m = Machine.build(mm)
    assert mm.max_pfn == 1 << 28 and m.max_pfn == 0x40000 and m.ram_pages == 0x9F + 0x3FF00
    assert m.ram_bitmap().sum() == m.ram_pages


def test_crash_region_and_kernel_pages_are_not_free():
    m = Machine.build("64MiB", crash=(32 << 20, 48 << 20))
    assert m.crash_bounds() == (32 << 20, (48 << 20) - 1)
    in_use = np.zeros(m.max_pfn, bool)
    in_use[:100] = True
    free = m.free_bitmap(in_use)
    assert not free[:100].any() and not free[8192:12288].any() and free[100:8192].all()
    assert m.allocator("lowest", in_use=in_use).alloc() == 100


def test_limits():
    with pytest.raises(ValueError, match="at most 1TiB"):
        Machine.build(MemoryMap((MemRange(0, (MAX_FRAMES + 1) * PAGE, RAM),)))
    with pytest.raises(ValueError, match="no RAM"):
        Machine.build(MemoryMap((MemRange(0, 1 << 20, RESERVED),)))
