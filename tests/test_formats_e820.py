"""dmesg e820 tables: labkit.formats.e820."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from labkit.errors import ParseError
from labkit.formats.e820 import Modification, apply_modifications, read_e820
from labkit.memmap import ACPI, ACPI_NVS, PERSISTENT, RAM, RESERVED, UNUSABLE, MemRange

DATA = Path(__file__).resolve().parent.parent / "data"

NEW = """\
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff] usable
"""


def read(text: str):
    stream = io.StringIO(text)
    stream.name = "dmesg"
    return read_e820(stream)


def parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        read(text)
    assert info.value.file == "dmesg"
    return info.value


def test_t42_old_format_exclusive_ends():
    log = read_e820(DATA / "dmesg-e820-old-t42.txt")
    assert len(log.map) == 9 and log.boots_seen == 1 and log.line == 4
    # usable: [0, 0x9f000) and [0x100000, 0x3ff60000), ends exclusive in 2.6 output
    assert 0x9F000 == 651264
    assert 0x3FF60000 - 0x100000 == 1072037888
    assert log.map.ram_bytes == 651264 + 1072037888 == 1072689152
    assert log.map.ram_pages == 0x9F + 0x3FE60 == 261887
    totals = log.map.totals()
    assert totals[ACPI] == 0x17000 and totals[ACPI_NVS] == 0x2000
    assert totals[RESERVED] == 0x1000 + 0x2000 + 0x24000 + 0x80000 + 0x800000
    assert log.map.ranges[5] == MemRange(0x3FF60000, 0x3FF77000, ACPI, "ACPI data")
    # the PCI gap is a modification, not part of the map
    assert log.modifications == (Modification("pci-gap", 0x40000000, 0xFF800000, None, None, 23),)


def test_new_server_firmware_map_only():
    log = read_e820(DATA / "dmesg-e820-new-server.txt")
    assert len(log.map) == 14
    ram = 0xA0000 + (0x6A8FF000 - 0x100000) + (0x70000000 - 0x6FB7F000) + (0x1080000000 - 0x100000000)
    assert ram == 655360 + 1786769408 + 4722688 + 66571993088 == 68364140544
    assert log.map.ram_bytes == ram
    names = [r.name for r in log.map]
    assert "soft reserved" in names and "type 20" in names
    assert {r.type for r in log.map} >= {"soft-reserved", "e820 type 20"}
    kinds = [m.kind for m in log.modifications]
    assert kinds == ["table"] * 16 + ["update", "remove", "update", "pci-gap", "ram-buffer"]
    assert {m.who for m in log.modifications if m.kind == "table"} == {"user"}
    pmem = [m for m in log.modifications if m.new_type == PERSISTENT]
    assert pmem[0].start == 60 << 30 and pmem[0].end == 64 << 30 and pmem[0].name == "persistent (type 12)"
    update = log.modifications[16]
    assert (update.start, update.end, update.old_type, update.new_type, update.line) == (0, 0x1000, RAM, RESERVED, 42)


def test_new_server_applied():
    log = read_e820(DATA / "dmesg-e820-new-server.txt")
    applied = apply_modifications(log.map, log.modifications)
    # user table: the 4 GiB from 60 GiB become pmem; then page 0 and page 0x5f3b2000 are reserved
    expected = (0xA0000 + (0x6A8FF000 - 0x100000) + 0x481000 + (0xF00000000 - 0x100000000)
                + (0x1080000000 - 0x1000000000) - 2 * 0x1000)
    assert applied.ram_bytes == expected == 64069165056
    assert MemRange(0, 0x1000, RESERVED, "reserved") in applied.ranges
    assert MemRange(0x5F3B2000, 0x5F3B3000, RESERVED, "reserved") in applied.ranges
    assert log.map.ram_bytes == 68364140544   # the firmware map itself is untouched


def test_old_update_and_remove_lines():
    text = (" BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)\n"
            " BIOS-e820: 0000000000100000 - 0000000040000000 (usable)\n"
            "e820 update range: 0000000000000000 - 0000000000010000 (usable) ==> (reserved)\n"
            "e820 remove range: 00000000000a0000 - 0000000000100000 (usable)\n"
            "e820 remove range: 0000000030000000 - 0000000040000000\n")
    log = read(text)
    assert [(m.kind, m.start, m.end, m.old_type, m.new_type) for m in log.modifications] == [
        ("update", 0, 0x10000, RAM, RESERVED), ("remove", 0xA0000, 0x100000, RAM, None),
        ("remove", 0x30000000, 0x40000000, None, None)]
    applied = apply_modifications(log.map, log.modifications)
    assert applied.ram_bytes == (0x9FC00 - 0x10000) + (0x30000000 - 0x100000)


def test_all_type_words_both_styles():
    text = (" BIOS-e820: 0000000000000000 - 0000000000001000 (usable)\n"
            " BIOS-e820: 0000000000001000 - 0000000000002000 (unusable)\n"
            " BIOS-e820: 0000000000002000 - 0000000000003000 type 12\n"
            "BIOS-e820: [mem 0x0000000000003000-0x0000000000003fff] persistent (type 7)\n"
            "BIOS-e820: [mem 0x0000000000004000-0x0000000000004fff] ACPI NVS\n"
            "BIOS-e820: [mem 0x0000000000005000-0x0000000000005fff] type 99\n")
    log = read(text)
    assert [(r.type, r.name) for r in log.map] == [
        (RAM, "usable"), (UNUSABLE, "unusable"), (PERSISTENT, "persistent (type 12)"),
        (PERSISTENT, "persistent (type 7)"), (ACPI_NVS, "ACPI NVS"), ("e820 type 99", "type 99")]
    assert all(r.size == 0x1000 for r in log.map)


def test_tolerance_dmesg_T_crlf_indent_trailing_note_and_efi_lines():
    text = ("[Mon Jun  3 10:00:00 2024] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\r\n"
            "   BIOS-e820: [mem 0x0000000000100000-0x000000003fffffff] usable   <- main RAM\r\n"
            "efi: mem00: [Conventional|   |WB] range=[0x0000000000000000-0x0000000000000fff] (0MB)\r\n")
    log = read(text)
    assert log.map.ram_bytes == 0x9FC00 + 0x3FF00000
    assert log.modifications == ()


def test_syslog_boots_keep_last():
    boot2 = NEW.replace("0x000000007ffdffff", "0x00000000bffdffff")
    log = read(NEW + "[ 5.0] e820: update [mem 0x00000000-0x00000fff] usable ==> reserved\n" + boot2)
    assert log.boots_seen == 2
    assert log.map.ram_bytes == 0x9FC00 + (0xBFFE0000 - 0x100000)
    assert log.modifications == ()


def test_rows_without_header_or_timestamps():
    log = read("\n".join(line.split("] ", 1)[1] for line in NEW.splitlines()[1:]))
    assert log.boots_seen == 1 and len(log.map) == 3


def test_two_separate_modified_tables():
    text = (NEW + "modified physical RAM map:\n"
            "modified: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
            "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved\n"
            "modified: [mem 0x0000000000000000-0x0000000000000fff] reserved\n"
            "modified: [mem 0x0000000000001000-0x000000000009fbff] usable\n")
    log = read(text)
    assert [m.table for m in log.modifications] == [0, None, 1, 1]
    applied = apply_modifications(log.map, log.modifications)
    assert applied.ram_bytes == 0x9FC00 - 0x1000 and len(applied) == 2


def test_no_e820_lines():
    err = parse_error("hello\n")
    assert "e820" in err.expected


def test_new_format_end_below_start():
    err = parse_error(NEW.replace("0x000000007ffdffff", "0x00000000000fffff"))
    assert err.line == 4 and "end" in err.expected


def test_old_format_end_below_start():
    err = parse_error(" BIOS-e820: 0000000000100000 - 0000000000000000 (usable)\n")
    assert err.line == 1


def test_hex_above_u64():
    err = parse_error(NEW.replace("0x000000007ffdffff", "0x1ffffffffffffffff"))
    assert err.line == 4 and "0xffffffffffffffff" in err.expected


def test_negative_number():
    err = parse_error(NEW.replace("[mem 0x0000000000100000", "[mem -0x0000000000100000"))
    assert err.line == 4


def test_bad_hex_digit():
    err = parse_error(NEW.replace("0x000000007ffdffff", "0x000000007ffdfffg"))
    assert err.line == 4


def test_unknown_type_word():
    err = parse_error(NEW.replace("] reserved", "] reserverd"))
    assert err.line == 3 and "e820 type" in err.expected


def test_type_number_above_u32():
    err = parse_error(NEW.replace("] reserved", "] type 4294967296"))
    assert err.line == 3


def test_garbled_bios_line():
    err = parse_error("BIOS-e820: what is this\n")
    assert err.line == 1


def test_update_without_arrow():
    err = parse_error(NEW + "e820: update [mem 0x00000000-0x00000fff] usable reserved\n")
    assert err.line == 5 and "==>" in err.expected


def test_pci_gap_malformed():
    err = parse_error("Allocating PCI resources starting at 50000000 (gap: 40000000:zz)\n")
    assert err.line == 1


def test_short_table_names_need_an_address():
    log = read(NEW + "user: admin logged in\nmodified: 3 files\n")
    assert log.modifications == ()


def test_log_prefix_styles():
    row = "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] usable"
    text = "\n".join([
        "<6>[    0.000000] " + row,
        "2024-06-01T12:00:00.123456+02:00 host kernel: " + row.replace("0x00000000001", "0x00000000002")
        .replace("0x0000000000100000", "0x0000000000200000"),
        "kern  :info  : [    0.000000] " + row.replace("0x00000000001", "0x00000000003")
        .replace("0x0000000000100000", "0x0000000000300000"),
        "[    0.000000][    T0] " + row.replace("0x00000000001", "0x00000000004")
        .replace("0x0000000000100000", "0x0000000000400000"),
    ])
    log = read(text)
    assert [r.start for r in log.map] == [0x100000, 0x200000, 0x300000, 0x400000]
    assert log.map.ram_bytes == 4 * 0x100000


def test_a_row_wrapped_by_a_mailer_is_joined():
    # shape seen in dmesg pasted from a web mail client into a 2023 bug report: "ACPI" / "data"
    log = read("[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
               "[    0.000000] BIOS-e820: [mem 0x000000007fff0000-0x000000007fffefff] ACPI\n"
               "data\n"
               "[    0.000000] BIOS-e820: [mem 0x000000007ffff000-0x000000007fffffff] ACPI NVS\n")
    assert [(r.type, r.name) for r in log.map] == [(RAM, "usable"), (ACPI, "ACPI data"), (ACPI_NVS, "ACPI NVS")]


def test_a_cut_row_is_not_mended_with_an_unrelated_line():
    err = parse_error("[    0.000000] BIOS-e820: [mem 0x000000007fff0000-0x000000007fffefff] ACPI\n"
                      "the rest of my mail\n")
    assert err.line == 1 and "e820 type" in err.expected


def test_a_mistyped_end_in_a_pasted_row_is_an_error():
    # seen in a 2025 CXL report: one 'f' lost from the end address, which then lies below the start
    err = parse_error("[    0.000000] BIOS-e820: [mem 0x00000005d0000000-0x000000064ffffff] soft reserved\n")
    assert err.line == 1 and "at or above the start" in err.expected
