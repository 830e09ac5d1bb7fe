"""``labkit memmap``: labkit.commands.memmap, driven through its own register()."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from labkit.commands import memmap
from labkit.errors import ParseError

DATA = Path(__file__).resolve().parent.parent / "data"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="labkit")
    memmap.register(parser.add_subparsers())
    args = parser.parse_args(["memmap", *argv])
    return args.func(args)


def test_text_t42(capsys):
    assert run(str(DATA / "dmesg-e820-old-t42.txt")) == 0
    out = capsys.readouterr().out
    assert "format         e820" in out
    assert "0x3ff5ffff" in out                 # inclusive end of [0x100000, 0x3ff60000)
    assert "ram_bytes  1072689152" in out
    assert "ram_pages  261887" in out
    assert "pci-gap" in out and "not applied" in out
    assert "bytes per type" in out


def test_json_iomem(capsys):
    assert run(str(DATA / "proc-iomem.txt"), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"format", "source", "ranges", "ram_bytes", "ram_pages", "modifications"}
    assert data["format"] == "iomem"
    assert data["ram_bytes"] == 4294433792 and data["ram_pages"] == 1048445
    crash = next(r for r in data["ranges"] if r["type"] == "crash-kernel")
    assert crash == {"start": 0x6F000000, "end": 0x7F000000, "type": "crash-kernel", "name": "Crash kernel",
                     "level": 1}
    assert data["modifications"] == []


def test_json_end_exclusive_for_old_and_new_e820(capsys):
    run(str(DATA / "dmesg-e820-old-t42.txt"), "--json")
    old = json.loads(capsys.readouterr().out)
    run(str(DATA / "dmesg-e820-new-server.txt"), "--json")
    new = json.loads(capsys.readouterr().out)
    assert old["ranges"][0]["end"] == 0x9F000          # printed as "- 000000000009f000" (exclusive)
    assert new["ranges"][0]["end"] == 0xA0000          # printed as "-0x000000000009ffff]" (inclusive)


def test_apply_modifications(capsys):
    run(str(DATA / "dmesg-e820-new-server.txt"), "--json")
    raw = json.loads(capsys.readouterr().out)
    run(str(DATA / "dmesg-e820-new-server.txt"), "--json", "--apply-modifications")
    applied = json.loads(capsys.readouterr().out)
    assert raw["ram_bytes"] == 68364140544 and applied["ram_bytes"] == 64069165056
    assert raw["modifications"] == applied["modifications"]
    assert len(raw["modifications"]) == 21
    first_update = next(m for m in raw["modifications"] if m["kind"] == "update")
    assert first_update["start"] == 0 and first_update["end"] == 0x1000
    run(str(DATA / "dmesg-e820-new-server.txt"), "--apply-modifications")
    assert "(applied above)" in capsys.readouterr().out


def test_format_option(capsys):
    assert run(str(DATA / "kexec-debug-x86_64.txt"), "--format", "kexec-tools") == 0
    assert "RANGE_RAM" in capsys.readouterr().out


def test_bad_input_raises_parse_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("BIOS-e820: [mem 0x0000000000100000-0x00000000000fffff] usable\n")
    with pytest.raises(ParseError) as info:
        run(str(bad))
    assert info.value.line == 1 and str(bad) in str(info.value)
    assert "\n" not in str(info.value)


def test_nonroot_iomem_message():
    with pytest.raises(ParseError) as info:
        run(str(DATA / "proc-iomem-nonroot.txt"))
    assert "as root" in str(info.value)
