"""Format detection and the top-level readers: labkit.formats.detect, labkit.formats."""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from labkit.errors import ParseError
from labkit.formats import (FORMATS, SEGMENT_FORMATS, MemmapResult, SegmentLog, detect_format, read_memmap,
                            read_segments)
from streams import Pipe

DATA = Path(__file__).resolve().parent.parent / "data"

SAMPLES = {
    "kexec-debug-x86_64.txt": "kexec-tools",
    "kexec-debug-arm.txt": "kexec-tools",
    "kexec-debug-ppc64.txt": "kexec-tools",
    "kexec-debug-mips.txt": "kexec-tools",
    "kexec-debug-failed.txt": "kexec-tools",
    "kexec-file-load-dmesg.txt": "kexec-file",
    "kexec-file-load-arm64-dmesg.txt": "kexec-file",
    "dmesg-e820-old-t42.txt": "e820",
    "dmesg-e820-new-server.txt": "e820",
    "proc-iomem.txt": "iomem",
    "proc-iomem-nonroot.txt": "iomem",
}


@pytest.mark.parametrize("name, expected", sorted(SAMPLES.items()))
def test_samples(name, expected):
    assert detect_format(DATA / name) == expected


def test_every_sample_is_listed_in_readme():
    readme = (DATA / "README.md").read_text()
    for name in SAMPLES:
        assert name in readme


def test_gzip_and_streams(tmp_path):
    raw = (DATA / "dmesg-e820-old-t42.txt").read_bytes()
    gz = tmp_path / "dmesg.gz"
    gz.write_bytes(gzip.compress(raw))
    assert detect_format(gz) == "e820"
    assert detect_format(io.BytesIO(raw)) == "e820"
    assert detect_format(io.StringIO(raw.decode())) == "e820"


def test_candidates_skip_other_formats():
    text = ("[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
            "[  100.000000] kexec_file: segment[0]: buf=0x0 bufsz=0x0 mem=0x1000 memsz=0x1000\n")
    assert detect_format(io.StringIO(text)) == "e820"
    assert detect_format(io.StringIO(text), SEGMENT_FORMATS) == "kexec-file"


def test_ambiguous_lines_decide_last():
    assert detect_format(io.StringIO("E820 memmap:\n")) == "kexec-tools"
    assert detect_format(io.StringIO("[ 1.0] E820 memmap:\n")) == "kexec-file"
    assert detect_format(io.StringIO("nr_segments = 1\nMEMORY RANGES\n")) == "kexec-tools"


def test_nothing_known():
    with pytest.raises(ParseError) as info:
        detect_format(io.StringIO("hello\n" * 20))
    assert "known format" in info.value.expected


def test_max_lines():
    text = "noise\n" * 50 + "BIOS-e820: [mem 0x0-0xfff] usable\n"
    with pytest.raises(ParseError):
        detect_format(io.StringIO(text), max_lines=10)
    assert detect_format(io.StringIO(text), max_lines=100) == "e820"


def test_unknown_candidate():
    with pytest.raises(ValueError):
        detect_format(io.StringIO(""), ("pgmap",))


def test_read_memmap_each_format():
    results = {name: read_memmap(DATA / name) for name in SAMPLES if "nonroot" not in name and "arm64" not in name}
    assert all(isinstance(r, MemmapResult) for r in results.values())
    assert {r.format for r in results.values()} == set(FORMATS)
    ram = 4294433792
    assert results["proc-iomem.txt"].map.ram_bytes == ram
    assert results["kexec-debug-x86_64.txt"].map.ram_bytes == ram
    assert results["dmesg-e820-old-t42.txt"].map.ram_bytes == 1072689152
    assert results["dmesg-e820-new-server.txt"].modifications
    assert results["proc-iomem.txt"].modifications == ()


def test_read_memmap_rewinds_streams():
    raw = (DATA / "proc-iomem.txt").read_bytes()
    stream = io.BytesIO(b"")
    stream.write(raw)
    stream.seek(0)
    result = read_memmap(stream)
    assert result.format == "iomem" and len(result.map) == 35


def test_read_memmap_kexec_log_without_ranges():
    with pytest.raises(ParseError) as info:
        read_memmap(DATA / "kexec-file-load-arm64-dmesg.txt")
    assert "memory map" in info.value.expected


def test_read_memmap_to_dict_exclusive_ends():
    d = read_memmap(DATA / "dmesg-e820-old-t42.txt").to_dict()
    assert d["ranges"][0] == {"start": 0, "end": 0x9F000, "type": "ram", "name": "usable", "level": 0}
    assert d["ram_pages"] == 261887


def test_read_segments_explicit_and_detected():
    log = read_segments(DATA / "kexec-debug-arm.txt", "kexec-tools")
    assert isinstance(log, SegmentLog) and log.nr_segments == 2
    assert read_segments(DATA / "kexec-file-load-dmesg.txt").format == "kexec-file"
    with pytest.raises(ValueError):
        read_segments(DATA / "kexec-debug-arm.txt", "e820")


def test_explicit_wrong_format_is_a_parse_error():
    with pytest.raises(ParseError):
        read_segments(DATA / "kexec-debug-arm.txt", "kexec-file")
    with pytest.raises(ParseError):
        read_memmap(DATA / "proc-iomem.txt", "e820")


_Pipe = Pipe


def test_unseekable_stream_needs_a_format():
    raw = (DATA / "kexec-debug-arm.txt").read_bytes()
    with pytest.raises(ParseError) as info:
        read_segments(_Pipe(raw))
    assert "--format" in info.value.expected
    assert read_segments(_Pipe(raw), "kexec-tools").nr_segments == 2


def test_ppc_base_range_lines_are_kexec_tools_not_iomem():
    # PowerPC kexec-tools prints "%016llx-%016llx : %x" before anything else it says
    text = ("kernel: 0xb75b3010 kernel_size: 0x4f1231\n"
            "0000000000000000-0000000040000000 : 0\n"
            "get base memory ranges:1\n")
    assert detect_format(io.BytesIO(text.encode())) == "kexec-tools"
    mm = read_memmap(io.BytesIO(text.encode()))
    assert mm.format == "kexec-tools" and mm.map.ram_bytes == 0x40000000
