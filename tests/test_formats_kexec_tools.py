"""kexec-tools debug output: labkit.formats.kexec_tools."""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from labkit.errors import ParseError
from labkit.formats.kexec_tools import read_kexec_tools
from labkit.memmap import ACPI, ACPI_NVS, OTHER, PERSISTENT, RAM, RESERVED
from labkit.segments import Segment
from streams import Pipe

DATA = Path(__file__).resolve().parent.parent / "data"

TABLE = """\
kexec_load: entry = 0x7ffd5c40 flags = 0x3e0000
nr_segments = 2
segment[0].buf   = 0x7f6b3c5ff010
segment[0].bufsz = 0xb3c000
segment[0].mem   = 0x1000000
segment[0].memsz = 0x2b7d000
segment[1].buf   = 0x55d4c8a2e6c0
segment[1].bufsz = 0x3d0c
segment[1].mem   = 0x7ffd5000
segment[1].memsz = 0x4000
"""


def read(text: str, name: str = "log.txt"):
    stream = io.StringIO(text)
    stream.name = name
    return read_kexec_tools(stream)


def parse_error(text: str, **kw) -> ParseError:
    with pytest.raises(ParseError) as info:
        stream = io.StringIO(text)
        stream.name = "bad.txt"
        read_kexec_tools(stream, **kw)
    assert info.value.file == "bad.txt"
    return info.value


# --- sample files ---------------------------------------------------------------
def test_x86_64_sample():
    log = read_kexec_tools(DATA / "kexec-debug-x86_64.txt")
    assert log.format == "kexec-tools"
    assert log.source.endswith("kexec-debug-x86_64.txt")
    assert (log.entry, log.flags, log.nr_segments) == (0x7FFD5C40, 0x3E0000, 4)
    assert log.segments[0] == Segment(mem=0x1000000, memsz=0x2B7D000, bufsz=0xB3C000, buf=0x7F6B3C5FF010)
    assert [s.mem for s in log.segments] == [0x1000000, 0x7C04A000, 0x7FFD5000, 0x7FFD9000]
    assert log.segments[1].bufsz == 0x1F8A3C1
    assert (log.loads_seen, log.failed, log.error) == (1, False, None)
    assert log.flag_names() == ["arch 62 (x86_64)"]
    # MEMORY RANGES: RAM [0x1000, 0x9fc00) + [0x100000, 0x7ffdf000) + [4 GiB, 6 GiB)
    ram = (0x9FC00 - 0x1000) + (0x7FFDF000 - 0x100000) + 0x80000000
    assert ram == 4294433792
    assert len(log.memory_ranges) == 11
    assert log.memory_ranges.ram_bytes == ram
    assert log.memory_ranges.ram_pages == 158 + 0x7FEDF + 0x80000
    first = log.memory_ranges.ranges[0]
    assert (first.start, first.end, first.type, first.name) == (0, 0x1000, RESERVED, "RANGE_RESERVED")
    # the E820 block says the same with e820 numbers
    assert log.e820 is not None and log.e820.ram_bytes == ram
    assert log.e820.ranges[1].name == "usable"
    assert log.memory_map is log.memory_ranges
    # every segment lies in RAM, as kexec-tools checked before printing
    assert all(log.memory_map.is_ram(s.mem, s.end) for s in log.segments)


def test_arm_sample():
    log = read_kexec_tools(DATA / "kexec-debug-arm.txt")
    assert (log.entry, log.flags) == (0x80008000, 0x280000)
    assert log.flag_names() == ["arch 40 (arm)"]
    assert [(s.mem, s.memsz) for s in log.segments] == [(0x80008000, 0x4A2000), (0x81C1D000, 0x10000)]
    assert log.memory_ranges.ram_bytes == 0x1FE00000
    assert log.e820 is None


def test_ppc64_sample_nil_pointer_is_zero():
    log = read_kexec_tools(DATA / "kexec-debug-ppc64.txt")
    assert log.flags == 0x150000 and log.flag_names() == ["arch 21 (ppc64)"]
    assert log.segments[0].mem == 0 and log.segments[0].memsz == 0x2270000
    assert log.memory_ranges.ram_bytes == 0x800000000


def test_mips_sample_sizes_without_0x():
    """kexec-tools before 2.0.x printed bufsz/memsz with %zx (no 0x)."""
    log = read_kexec_tools(DATA / "kexec-debug-mips.txt")
    assert log.flags == 0xA0000 and log.flag_names() == ["arch 10 (mips_le)"]
    assert log.segments[0] == Segment(mem=0x100000, memsz=0x4F3000, bufsz=0x4F2A10, buf=0x77A4B008)


def test_failed_load_printed_twice_is_one_failed_load():
    log = read_kexec_tools(DATA / "kexec-debug-failed.txt")
    assert log.loads_seen == 1
    assert log.failed and log.error == "Invalid argument"
    assert log.flags == 0x3E0002
    assert "KEXEC_PRESERVE_CONTEXT" in log.flag_names()
    assert log.segments[1] == Segment(mem=0xAC4000, memsz=0x52D000, bufsz=0, buf=0)
    assert log.line == 12


# --- tolerance --------------------------------------------------------------------
def test_failure_table_only():
    log = read("kexec_load failed: Cannot assign requested address\n"
               + TABLE.replace("kexec_load: entry = ", "entry       = "))
    assert log.failed and log.error == "Cannot assign requested address"
    assert (log.entry, log.nr_segments, log.loads_seen) == (0x7FFD5C40, 2, 1)


def test_failure_without_second_table_marks_last_table():
    log = read(TABLE + "kexec_load failed: Device or resource busy\n")
    assert log.failed and log.error == "Device or resource busy"


def test_two_loads_keep_the_last():
    second = TABLE.replace("0x7ffd5c40", "0x1234000").replace("0x1000000\n", "0x2000000\n")
    log = read(TABLE + "some noise\n" + second)
    assert log.loads_seen == 2
    assert log.entry == 0x1234000
    assert log.segments[0].mem == 0x2000000
    assert log.line == 12


def test_identical_tables_without_failure_are_two_loads():
    log = read(TABLE + TABLE)
    assert log.loads_seen == 2 and not log.failed


def test_prefixes_crlf_indentation_noise_and_trailing_notes():
    lines = TABLE.splitlines()
    decorated = [
        "[    3.141592] " + lines[0],
        "Jun  1 12:00:00 host kernel: " + lines[1],
        "   " + lines[2] + "   <- user buffer",
        "unrelated line from another program",
        lines[3] + "  # note",
    ] + lines[4:]
    log = read("\r\n".join(decorated) + "\r\n")
    assert log.segments[0] == Segment(mem=0x1000000, memsz=0x2B7D000, bufsz=0xB3C000, buf=0x7F6B3C5FF010)
    assert log.nr_segments == 2


def test_any_spacing_around_equals():
    log = read(TABLE.replace(" = ", "=").replace("   =", "="))
    assert log.segments[1].memsz == 0x4000


def test_all_range_types():
    text = ("MEMORY RANGES\n"
            "0000000000000000-0000000000000fff (0)\n"
            "0000000000001000-0000000000001fff (1)\n"
            "0000000000002000-0000000000002fff (2)\n"
            "0000000000003000-0000000000003fff (3)\n"
            "0000000000004000-0000000000004fff (4)\n"
            "0000000000005000-0000000000005fff (6)\n"
            "0000000000006000-0000000000006fff (11)\n"
            "0000000000007000-0000000000007fff (9)\n")
    log = read(text + TABLE)
    types = [(r.type, r.name) for r in log.memory_ranges]
    assert types == [(RAM, "RANGE_RAM"), (RESERVED, "RANGE_RESERVED"), (ACPI, "RANGE_ACPI"),
                     (ACPI_NVS, "RANGE_ACPI_NVS"), (OTHER, "RANGE_UNCACHED"), (PERSISTENT, "RANGE_PMEM"),
                     (PERSISTENT, "RANGE_PRAM"), ("range type 9", "range type 9")]
    assert all(r.size == 0x1000 for r in log.memory_ranges)


def test_other_range_blocks_are_kept_apart():
    text = ("Reserved memory range\n0000000080000000-000000008fffffff (0)\n"
            "MEMORY RANGES\n0000000040000000-00000000bfffffff (0)\n")
    log = read(text + TABLE)
    assert log.memory_ranges.ram_bytes == 0x80000000
    assert [b.header for b in log.other_ranges] == ["Reserved memory range"]


def test_last_memory_ranges_block_wins():
    text = ("MEMORY RANGES\n0000000000000000-0000000000ffffff (0)\n" + TABLE
            + "MEMORY RANGES\n0000000000000000-0000000001ffffff (0)\n" + TABLE)
    assert read(text).memory_ranges.ram_bytes == 0x2000000


def test_memory_ranges_only_with_require_table_false():
    stream = io.StringIO("MEMORY RANGES\n0000000000000000-0000000000ffffff (0)\n")
    log = read_kexec_tools(stream, require_table=False)
    assert log.loads_seen == 0 and log.segments == () and log.memory_ranges.ram_bytes == 0x1000000


def test_gzip_file_and_binary_stream(tmp_path):
    raw = (DATA / "kexec-debug-x86_64.txt").read_bytes()
    gz = tmp_path / "log.txt.gz"
    gz.write_bytes(gzip.compress(raw))
    plain_named_gz = tmp_path / "log-without-suffix"
    plain_named_gz.write_bytes(gzip.compress(raw))
    a = read_kexec_tools(gz)
    b = read_kexec_tools(plain_named_gz)
    c = read_kexec_tools(io.BytesIO(raw))
    assert a.segments == b.segments == c.segments
    assert a.source == str(gz)
    assert c.source == "<stream>"


# --- strictness -------------------------------------------------------------------
def test_bad_hex_value_names_line():
    err = parse_error(TABLE.replace("segment[1].mem   = 0x7ffd5000", "segment[1].mem   = 0xZZ"))
    assert err.line == 9
    assert "segment[1].mem" in err.expected and "0xZZ" in str(err)


def test_value_above_u64():
    err = parse_error(TABLE.replace("= 0x2b7d000", "= 0x1ffffffffffffffff"))
    assert err.line == 6 and "at most 0xffffffffffffffff" in err.expected


def test_negative_nr_segments():
    err = parse_error(TABLE.replace("nr_segments = 2", "nr_segments = -2"))
    assert err.line == 2 and "non-negative" in err.expected


def test_negative_size():
    err = parse_error(TABLE.replace("= 0x3d0c", "= -0x3d0c"))
    assert err.line == 8


def test_nr_segments_disagrees():
    err = parse_error(TABLE.replace("nr_segments = 2", "nr_segments = 3"))
    assert err.line == 2 and "3 segments" in err.expected and "has 2" in err.expected
    assert err.text == "nr_segments = 3"


def test_index_gap():
    err = parse_error(TABLE.replace("segment[1]", "segment[2]"))
    assert err.line == 7 and "got 2" in err.expected


def test_index_not_from_zero():
    err = parse_error(TABLE.replace("segment[0]", "segment[5]").replace("segment[1]", "segment[6]"))
    assert err.line == 3 and "0" in err.expected


def test_missing_field_reported_where_next_segment_starts():
    text = TABLE.replace("segment[0].memsz = 0x2b7d000\n", "")
    err = parse_error(text)
    assert err.line == 6 and ".memsz" in err.expected


def test_missing_field_in_last_segment():
    text = TABLE.replace("segment[1].memsz = 0x4000\n", "")
    err = parse_error(text)
    assert err.line == 7 and ".memsz" in err.expected


def test_duplicate_field():
    text = TABLE.replace("segment[0].mem   = 0x1000000\n", "segment[0].mem   = 0x1000000\n" * 2)
    err = parse_error(text)
    assert err.line == 6 and "already" in err.expected


def test_unknown_field():
    err = parse_error(TABLE.replace("segment[0].bufsz", "segment[0].size"))
    assert err.line == 4


def test_segment_before_nr_segments():
    err = parse_error("segment[0].buf   = 0x1000\n")
    assert err.line == 1 and "nr_segments" in err.expected


def test_entry_without_table():
    err = parse_error("kexec_load: entry = 0x1000 flags = 0x0\nother stuff\n")
    assert err.line == 1 and "nr_segments" in err.expected


def test_malformed_entry_line():
    err = parse_error(TABLE.replace("flags = 0x3e0000", "flags = banana"))
    assert err.line == 1 and "flags" in err.expected


def test_range_end_below_start():
    err = parse_error("MEMORY RANGES\n0000000000002000-0000000000001fff (0)\n" + TABLE)
    assert err.line == 2 and "end" in err.expected


def test_range_negative_type():
    err = parse_error("MEMORY RANGES\n0000000000000000-0000000000001fff (-1)\n" + TABLE)
    assert err.line == 2


def test_range_bad_hex():
    err = parse_error("MEMORY RANGES\n0000000000000000-00000000000G1fff (0)\n" + TABLE)
    assert err.line == 2


def test_invalid_utf8_names_line():
    data = TABLE.encode().replace(b"nr_segments = 2", b"nr_segments = \xff2")
    with pytest.raises(ParseError) as info:
        read_kexec_tools(io.BytesIO(data))
    assert info.value.line == 2 and "UTF-8" in info.value.expected


def test_no_table():
    err = parse_error("hello\nworld\n")
    assert err.line == 2 and "segment table" in err.expected


def test_flag_names():
    from labkit.formats.segment_log import describe_file_flags, describe_load_flags
    assert describe_load_flags(0x3E0003) == ["KEXEC_ON_CRASH", "KEXEC_PRESERVE_CONTEXT", "arch 62 (x86_64)"]
    assert describe_load_flags(0) == ["arch 0 (default)"]
    assert describe_load_flags(0x30110) == ["labkit stage KS_START", "unknown bits 0x10", "arch 3 (386)"]
    assert describe_load_flags(0x7770000) == ["arch 1911"]
    assert describe_file_flags(0xA) == ["KEXEC_FILE_ON_CRASH", "KEXEC_FILE_DEBUG"]
    assert describe_file_flags(0x30) == ["unknown bits 0x30"]


def test_text_stream_with_bad_utf8_names_line():
    data = TABLE.encode().replace(b"segment[1].buf", b"segment[1].b\xc3\x28uf")
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    with pytest.raises(ParseError) as info:
        read_kexec_tools(stream)
    assert info.value.line == 7 and "UTF-8" in info.value.expected


_Pipe = Pipe


def test_unseekable_text_stream_with_bad_utf8():
    data = TABLE.encode() * 400 + b"\xff\n"
    stream = io.TextIOWrapper(io.BufferedReader(_Pipe(data)), encoding="utf-8")
    with pytest.raises(ParseError) as info:
        read_kexec_tools(stream)
    assert "UTF-8" in info.value.expected and "at or after" in info.value.expected
    assert 0 < info.value.line <= 4001


# Shape seen in PowerPC (ppc476) kexec -d output on linuxppc-dev in 2021: the RAM from the
# device tree as "%016llx-%016llx : %x", end exclusive, and no MEMORY RANGES block.
PPC = """\
kernel: 0xb75b3010 kernel_size: 0x4f1231
0000000000000000-0000000040000000 : 0
0000000080000000-00000000a0000000 : 0
get base memory ranges:2
CRASH MEMORY RANGES
0000000000000000-0000000000010000
kexec_load: entry = 0xfffc658 flags = 0x1
nr_segments = 1
segment[0].buf   = 0x100aa8a0
segment[0].bufsz = 0x3d6c
segment[0].mem   = 0xfffc000
segment[0].memsz = 0x4000
"""


def test_ppc_base_memory_ranges_are_the_map():
    log = read(PPC)
    assert [(r.start, r.end, r.type) for r in log.memory_map] == [(0, 0x40000000, RAM),
                                                                  (0x80000000, 0xA0000000, RAM)]
    assert log.memory_map.ram_bytes == 0x60000000
    assert log.flags == 0x1 and len(log.segments) == 1


def test_ppc_base_range_with_end_below_start_is_an_error():
    err = parse_error(PPC.replace("0000000080000000-00000000a0000000 : 0", "0000000080000000-0000000070000000 : 0"))
    assert err.line == 3 and "exclusive end" in err.expected


def test_memory_ranges_block_wins_over_ppc_base_ranges():
    log = read("MEMORY RANGES\n0000000000000000-000000001fffffff (0)\n" + PPC)
    assert [(r.start, r.end) for r in log.memory_map] == [(0, 0x20000000)]
