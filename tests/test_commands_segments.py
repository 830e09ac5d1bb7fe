"""``labkit segments``: labkit.commands.segments, driven through its own register()."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from labkit.commands import segments
from labkit.errors import ParseError

DATA = Path(__file__).resolve().parent.parent / "data"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="labkit")
    segments.register(parser.add_subparsers())
    args = parser.parse_args(["segments", *argv])
    return args.func(args)


def test_text_x86_64(capsys):
    assert run(str(DATA / "kexec-debug-x86_64.txt")) == 0
    out = capsys.readouterr().out
    assert "entry        0x7ffd5c40" in out
    assert "flags        0x3e0000" in out
    assert "arch 62 (x86_64)" in out
    assert "nr_segments  4" in out
    assert "0x3b7d000" in out            # end of segment 0 = 0x1000000 + 0x2b7d000
    assert "11133" in out                # pages of segment 0: 0x2b7d000 / 4096
    assert "MEMORY RANGES" in out and "RANGE_RAM" in out


def test_text_failed_and_preserve_context(capsys):
    run(str(DATA / "kexec-debug-failed.txt"))
    out = capsys.readouterr().out
    assert "KEXEC_PRESERVE_CONTEXT" in out
    assert "load failed  Invalid argument" in out


def test_text_kexec_file(capsys):
    run(str(DATA / "kexec-file-load-arm64-dmesg.txt"))
    out = capsys.readouterr().out
    assert "KEXEC_FILE_DEBUG" in out and "loaded (kernel messages)" in out
    assert "none printed" in out


def test_json(capsys):
    assert run(str(DATA / "kexec-debug-ppc64.txt"), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"format", "source", "entry", "flags", "nr_segments", "segments", "memory_ranges"}
    assert (data["format"], data["entry"], data["flags"], data["nr_segments"]) == ("kexec-tools", 0x3FE70000,
                                                                                  0x150000, 4)
    assert data["segments"][0] == {"buf": 0x7FFF8B6F0010, "bufsz": 0x1F8C1E0, "mem": 0, "memsz": 0x2270000}
    assert data["memory_ranges"][1] == {"start": 0x40000000, "end": 0x800000000, "type": "ram",
                                        "name": "RANGE_RAM", "level": 0}


def test_json_kexec_file_e820(capsys):
    run(str(DATA / "kexec-file-load-dmesg.txt"), "--json", "--format", "kexec-file")
    data = json.loads(capsys.readouterr().out)
    assert data["memory_ranges"] == [] and len(data["e820"]) == 10
    assert data["e820"][0]["end"] == 0x9FC00


def test_bad_input_raises_parse_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("nr_segments = 1\nsegment[0].buf   = 0x1\nsegment[0].bufsz = 0x1\n"
                   "segment[0].mem   = 0xZZ\nsegment[0].memsz = 0x1000\n")
    with pytest.raises(ParseError) as info:
        run(str(bad))
    assert info.value.line == 4
    assert "\n" not in str(info.value)


def test_memmap_only_log_is_refused():
    with pytest.raises(ParseError):
        run(str(DATA / "dmesg-e820-old-t42.txt"))
