"""kexec_file_load debug lines in dmesg: labkit.formats.kexec_file."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from labkit.errors import ParseError
from labkit.formats.kexec_file import normalise, read_kexec_file
from labkit.formats.segment_log import LoadedItem
from labkit.segments import Segment

DATA = Path(__file__).resolve().parent.parent / "data"

LOG = """\
[  100.000001] kexec_file: nr_segments = 2
[  100.000002] kexec_file: segment[0]: buf=0x00000000f2b3a9d1 bufsz=0x4000 mem=0x7ffd9000 memsz=0x5000
[  100.000003] kexec_file: segment[1]: buf=0x000000004c1fd83e bufsz=0x12b0 mem=0x7ffd7000 memsz=0x2000
[  100.000004] kexec_file: kexec_file_load: type:0, start:0x7ffd91a0 head:0x10b1e5002 flags:0x8
"""


def read(text: str):
    stream = io.StringIO(text)
    stream.name = "dmesg.txt"
    return read_kexec_file(stream)


def parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        read(text)
    assert info.value.file == "dmesg.txt"
    return info.value


def test_x86_64_sample():
    log = read_kexec_file(DATA / "kexec-file-load-dmesg.txt")
    assert log.format == "kexec-file"
    assert (log.entry, log.flags, log.nr_segments, log.loads_seen) == (0x7FFD91A0, 0x8, 4, 1)
    assert log.flag_names() == ["KEXEC_FILE_DEBUG"]
    assert log.segments[3] == Segment(mem=0x77F9A000, memsz=0x2066000, bufsz=0x2065B2F, buf=0x8D2E1F60)
    assert [i.what for i in log.loaded] == ["purgatory", "boot_param, command line and misc", "64bit kernel",
                                            "initrd"]
    assert log.loaded[0] == LoadedItem("purgatory", 0x7FFD9000, None, None, 4)
    assert log.loaded[2].memsz == 0x3A6D000
    assert log.e820 is not None and len(log.e820) == 10
    assert log.e820.ram_bytes == 0x9FC00 + (0x7FFDF000 - 0x100000) + 0x80000000
    assert len(log.memory_ranges) == 0 and log.memory_map is log.e820
    assert all(log.memory_map.is_ram(s.mem, s.end) for s in log.segments)


def test_arm64_sample_behind_syslog_and_image_prefix():
    log = read_kexec_file(DATA / "kexec-file-load-arm64-dmesg.txt")
    assert (log.entry, log.nr_segments) == (0xE0400000, 4)
    assert log.segments[0] == Segment(mem=0xEDA18000, memsz=0x1000, bufsz=0, buf=0)
    assert [(i.what, i.mem) for i in log.loaded] == [("initrd", 0xE4B70000), ("dtb", 0xE7C00000),
                                                     ("kernel", 0xE0400000)]
    assert log.e820 is None and len(log.memory_map) == 0


def test_old_kernels_loading_segment_lines_without_nr_segments():
    text = ("[   50.1] kexec_file: Loading segment 0: buf=0xffffc90000a01000 bufsz=0x4000 mem=0x7ffd9000 memsz=0x5000\n"
            "[   50.2] kexec_file: Loading segment 1: buf=0xffffc90000b02000 bufsz=0x12b0 mem=0x7ffd7000 memsz=0x2000\n")
    log = read(text)
    assert log.nr_segments == 2 and log.entry is None and log.flags is None
    assert log.segments[1].buf == 0xFFFFC90000B02000


def test_ptrval_buf_and_crlf():
    log = read(LOG.replace("0x00000000f2b3a9d1", "0x(____ptrval____)").replace("\n", "\r\n"))
    assert log.segments[0].buf == 0


def test_two_loads_keep_last():
    second = LOG.replace("0x7ffd91a0", "0x6ffd91a0")
    log = read(LOG + "[  200.0] Loaded purgatory at 0x6ffd9000\n" + second)
    assert log.loads_seen == 2 and log.entry == 0x6FFD91A0
    assert [i.what for i in log.loaded] == ["purgatory"]


def test_old_style_two_loads_restart_at_segment_zero():
    one = "Loading segment 0: buf=0x1 bufsz=0x1 mem=0x1000 memsz=0x1000\n"
    log = read(one + one.replace("0x1000 memsz", "0x3000 memsz"))
    assert log.loads_seen == 2 and log.segments[0].mem == 0x3000


def test_prefixed_e820_lines_and_unrelated_noise():
    text = ("[ 1.0] kexec-bzImage64: E820 memmap:\n"
            "[ 1.0] kexec-bzImage64: 0000000000000000-000000000009fbff (1)\n"
            "[ 1.0] kexec-bzImage64: 0000000000100000-000000007fffffff (1)\n"
            "[ 1.0] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n" + LOG)
    log = read(text)
    assert log.e820 is not None and log.e820.ram_bytes == 0x9FC00 + 0x7FF00000


def test_normalise_only_strips_known_messages():
    assert normalise("kexec_file(Image): Loaded kernel at 0x1") == "Loaded kernel at 0x1"
    assert normalise("kexec_file: kexec_file_load: type:0") == "kexec_file_load: type:0"
    assert normalise("kexec_file_load: type:0") == "kexec_file_load: type:0"
    assert normalise("usb 1-1: new device") == "usb 1-1: new device"


def test_bad_size():
    err = parse_error(LOG.replace("bufsz=0x12b0", "bufsz=0x12zz"))
    assert err.line == 3 and "bufsz" in err.expected


def test_size_above_u64():
    err = parse_error(LOG.replace("memsz=0x2000", "memsz=0x1ffffffffffffffff"))
    assert err.line == 3


def test_malformed_segment_line():
    err = parse_error(LOG.replace(" mem=0x7ffd7000", ""))
    assert err.line == 3 and "segment[1]" in err.expected


def test_negative_index():
    err = parse_error(LOG.replace("segment[1]:", "segment[-1]:"))
    assert err.line == 3


def test_index_gap():
    err = parse_error(LOG.replace("segment[1]:", "segment[2]:"))
    assert err.line == 3 and "got 2" in err.expected


def test_nr_segments_disagrees():
    err = parse_error(LOG.replace("nr_segments = 2", "nr_segments = 5"))
    assert err.line == 1


def test_start_line_without_table():
    err = parse_error(LOG.splitlines()[-1] + "\n")
    assert err.line == 1 and "segment table" in err.expected


def test_malformed_start_line():
    err = parse_error(LOG.replace("start:0x7ffd91a0", "start:7ffd91a0z"))
    assert err.line == 4


def test_loaded_with_bad_address():
    err = parse_error("Loaded initrd at 0xZZ bufsz=0x1 memsz=0x1\n" + LOG)
    assert err.line == 1


def test_loaded_with_bad_sizes():
    err = parse_error("Loaded initrd at 0x1000 bufsz=oops memsz=0x1\n" + LOG)
    assert err.line == 1


def test_no_table():
    err = parse_error("[ 1.0] nothing here\n")
    assert "segment" in err.expected


# Shape seen in 2025 arm64 kexec_file dmesg excerpts on the kexec / linux-arm-kernel
# lists, sent from a mail client that wraps at ~78 columns: a long message goes on in
# the next line, which has no timestamp of its own.
WRAPPED = """\
[  167.585054] kexec_file: Loaded initrd at 0xc4b70000 bufsz=0x300f306
memsz=0x3010000
[  167.593389] kexec_file(Image): Loaded kernel at 0xc1b00000
bufsz=0x3070000 memsz=0x3070000
[  167.593405] kexec_file: nr_segments = 2
[  167.593408] kexec_file: segment[0]: buf=0x0000000000000000
bufsz=0x0 mem=0xc1a18000 memsz=0x1000
[  167.593417] kexec_file: segment[1]: buf=0x0000000096e14552
bufsz=0x3070000 mem=0xc1b00000 memsz=0x3070000
[  167.629228] machine_kexec_post_load:119:
"""


def test_lines_wrapped_by_a_mailer_are_joined():
    log = read(WRAPPED)
    assert log.segments == (Segment(mem=0xC1A18000, memsz=0x1000, bufsz=0, buf=0),
                            Segment(mem=0xC1B00000, memsz=0x3070000, bufsz=0x3070000, buf=0x96E14552))
    assert [(i.what, i.mem, i.bufsz, i.memsz, i.line) for i in log.loaded] == [
        ("initrd", 0xC4B70000, 0x300F306, 0x3010000, 1), ("kernel", 0xC1B00000, 0x3070000, 0x3070000, 3)]
    assert log.line == 5


def test_wrapped_lines_quoted_in_a_reply_are_joined():
    quoted = "".join(f"> {line}\n" for line in WRAPPED.splitlines())
    assert read(quoted).segments == read(WRAPPED).segments


def test_a_broken_line_is_not_mended_with_a_line_that_does_not_complete_it():
    err = parse_error(WRAPPED.replace("bufsz=0x0 mem=0xc1a18000 memsz=0x1000", "(the rest was cut)"))
    assert err.line == 6 and "buf=0x.. bufsz=0x.." in err.expected


def test_a_broken_line_is_not_mended_with_the_next_kernel_message():
    # the next line has its own timestamp: it is another message, not the tail of this one
    text = ("[  1.0] kexec_file: nr_segments = 1\n"
            "[  1.1] kexec_file: segment[0]: buf=0x0000000000000000\n"
            "[  1.2] bufsz=0x0 mem=0xc1a18000 memsz=0x1000\n")
    assert parse_error(text).line == 2


# Shape seen in the 2023 cover letter of the kexec_dprintk series (kexec list): the
# long E820 memmap block was shortened with a "......" line.
ELIDED = """\
E820 memmap:
0000000000000000-000000000009a3ff (1)
000000000009a400-000000000009ffff (2)
......
000000207fff8150-000000207fff815f (128)
000000207fff8160-000000207fffffff (1)
nr_segments = 1
segment[0]: buf=0x000000004e5ece74 bufsz=0x211 mem=0x207fffe000 memsz=0x1000
kexec_file_load: type:0, start:0x207fff91a0 head:0x109e004002 flags:0x8
"""


def test_an_elided_memmap_block_stays_one_block():
    log = read(ELIDED)
    assert [(r.start, r.end) for r in log.e820] == [(0, 0x9A400), (0x9A400, 0xA0000),
                                                    (0x207FFF8150, 0x207FFF8160), (0x207FFF8160, 0x2080000000)]
    assert log.e820.ram_bytes == 0x9A400 + 0x10 + 0x7EA0      # type 128 (RESERVED_KERN) is RAM
    assert log.other_ranges == ()
