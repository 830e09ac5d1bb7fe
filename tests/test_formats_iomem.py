"""/proc/iomem: labkit.formats.iomem."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from labkit.errors import ParseError
from labkit.formats.iomem import iomem_type, read_iomem
from labkit.memmap import ACPI, ACPI_NVS, CRASH_KERNEL, KERNEL, OTHER, PERSISTENT, RAM, RESERVED, MemRange

DATA = Path(__file__).resolve().parent.parent / "data"

SMALL = """\
00000000-00000fff : Reserved
00001000-0009fbff : System RAM
00100000-3fffffff : System RAM
  01000000-01e0305f : Kernel code
  2f000000-3effffff : Crash kernel
"""


def read(text: str):
    stream = io.StringIO(text)
    stream.name = "iomem"
    return read_iomem(stream)


def parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        read(text)
    assert info.value.file == "iomem"
    return info.value


def test_sample():
    memmap = read_iomem(DATA / "proc-iomem.txt")
    assert len(memmap) == 35
    assert memmap.ram_bytes == (0x9FC00 - 0x1000) + (0x7FFDF000 - 0x100000) + 0x80000000 == 4294433792
    assert memmap.ram_pages == 158 + 0x7FEDF + 0x80000
    crash = memmap.crash_region()
    assert crash == MemRange(0x6F000000, 0x7F000000, CRASH_KERNEL, "Crash kernel", 1)
    kernel = [r for r in memmap if r.type == KERNEL]
    assert [r.name for r in kernel] == ["Kernel code", "Kernel rodata", "Kernel data", "Kernel bss"]
    assert {r.level for r in kernel} == {1}
    drm = next(r for r in memmap if r.name == "bochs-drm")
    assert drm.level == 2 and drm.type == OTHER
    assert max(r.end for r in memmap.top()) == 0x980000000


def test_names_to_types():
    assert iomem_type("System RAM") == RAM
    assert iomem_type("reserved") == RESERVED
    assert iomem_type("ACPI Tables") == ACPI
    assert iomem_type("ACPI Non-volatile Storage") == ACPI_NVS
    assert iomem_type("Persistent Memory (legacy)") == PERSISTENT
    assert iomem_type("Persistent Memory") == PERSISTENT
    assert iomem_type("Kernel bss") == KERNEL
    assert iomem_type("PCI Bus 0000:00") == OTHER


def test_levels_and_inclusive_ends():
    memmap = read(SMALL)
    code = next(r for r in memmap if r.name == "Kernel code")
    assert (code.start, code.end, code.level) == (0x1000000, 0x1E03060, 1)
    assert memmap.ram_bytes == 0x9EC00 + 0x3FF00000


def test_crlf_noise_and_prompt():
    memmap = read("$ sudo cat /proc/iomem\r\n" + SMALL.replace("\n", "\r\n"))
    assert len(memmap) == 5


def test_nonroot_all_zero():
    with pytest.raises(ParseError) as info:
        read_iomem(DATA / "proc-iomem-nonroot.txt")
    assert info.value.line == 1
    assert "root" in info.value.expected and "CAP_SYS_ADMIN" in info.value.expected


def test_one_zero_line_among_real_ones_is_fine():
    memmap = read("00000000-00000000 : Something\n" + SMALL)
    assert len(memmap) == 6


def test_odd_indentation():
    err = parse_error(SMALL.replace("  2f000000", "   2f000000"))
    assert err.line == 5 and "two spaces" in err.expected


def test_level_jump():
    err = parse_error(SMALL.replace("  01000000", "    01000000"))
    assert err.line == 4 and "nesting level" in err.expected


def test_child_outside_parent():
    err = parse_error(SMALL.replace("2f000000-3effffff", "2f000000-4effffff"))
    assert err.line == 5 and "inside its parent" in err.expected


def test_end_below_start():
    err = parse_error(SMALL.replace("00001000-0009fbff", "00001000-00000fff"))
    assert err.line == 2


def test_bad_hex():
    err = parse_error(SMALL.replace("00100000-3fffffff", "00100000-3ffffzff"))
    assert err.line == 3


def test_above_u64():
    err = parse_error("00000000-1ffffffffffffffff : System RAM\n")
    assert err.line == 1


def test_negative():
    err = parse_error("-00001000-0009fbff : System RAM\n")
    assert err.line == 1


def test_empty():
    err = parse_error("")
    assert err.line == 0 and "/proc/iomem" in err.expected


def test_driver_added_ram_and_soft_reserved():
    # shape seen in a 2025 CXL report on linux-cxl: dax/kmem RAM nested in a CXL window
    memmap = read("24080000000-5f77fffffff : CXL Window 0\n"
                  "  24080000000-4407fffffff : region0\n"
                  "    24080000000-4407fffffff : dax0.0\n"
                  "      24080000000-4407fffffff : System RAM (kmem)\n"
                  "5f780000000-5f7ffffffff : Soft Reserved\n")
    assert {r.name: r.type for r in memmap} == {"CXL Window 0": OTHER, "region0": OTHER, "dax0.0": OTHER,
                                                "System RAM (kmem)": RAM, "Soft Reserved": "soft-reserved"}
    assert iomem_type("System RAM (virtio_mem)") == RAM and iomem_type("System RAMs") == OTHER
