"""Mutated inputs for every reader: each one parses or raises ParseError, nothing else, quickly.

Mutations come from a seeded ``random.Random`` (reproducible): truncation,
flipped bytes, inserted binary garbage, numbers replaced by huge, negative or
empty ones, empty input, a lone header line, repeated / deleted / swapped
lines, CRLF, lines borrowed from other formats.  A failure message carries
the seed and the mutated input.
"""
from __future__ import annotations

import gzip
import io
import random
import re
import time
from pathlib import Path
from typing import Callable

import pytest

from labkit.errors import ParseError
from labkit.formats import read_memmap, read_segments
from labkit.formats.e820 import apply_modifications, read_e820
from labkit.formats.iomem import read_iomem
from labkit.formats.kexec_file import read_kexec_file
from labkit.formats.kexec_tools import read_kexec_tools

DATA = Path(__file__).resolve().parent.parent / "data"
MUTATIONS_PER_FORMAT = 4000
SLOW_INPUT_SECONDS = 5.0       # a hang detector: inputs take about a millisecond

SAMPLES = {
    "kexec-tools": ["kexec-debug-x86_64.txt", "kexec-debug-arm.txt", "kexec-debug-ppc64.txt",
                    "kexec-debug-mips.txt", "kexec-debug-failed.txt"],
    "kexec-file": ["kexec-file-load-dmesg.txt", "kexec-file-load-arm64-dmesg.txt"],
    "e820": ["dmesg-e820-old-t42.txt", "dmesg-e820-new-server.txt"],
    "iomem": ["proc-iomem.txt", "proc-iomem-nonroot.txt"],
}


def _e820(source) -> object:
    log = read_e820(source)
    return apply_modifications(log.map, log.modifications)


READERS: dict[str, Callable] = {
    "kexec-tools": lambda s: read_kexec_tools(s, require_table=False),
    "kexec-file": lambda s: read_kexec_file(s, require_table=False),
    "e820": _e820,
    "iomem": read_iomem,
}

NUMBER = re.compile(rb"0x[0-9a-fA-F]+|\b[0-9a-fA-F]{4,}\b|\b\d+\b")
REPLACEMENTS = [b"0x1ffffffffffffffff", b"1ffffffffffffffff", b"-0x10", b"-1", b"-", b"0x", b"",
                b"0xffffffffffffffff", b"ffffffffffffffff", b"9" * 40, b"0x" + b"f" * 200, b"(nil)",
                b"0xZZ", b"\xff\xfe", b"4294967296", b"0"]
ALL_LINES = [line for files in SAMPLES.values() for name in files
             for line in (DATA / name).read_bytes().splitlines()]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random mutation of ``data``."""
    kind = rng.randrange(14)
    if kind == 0:                                   # truncate
        return data[: rng.randrange(len(data) + 1)]
    if kind == 1 and data:                          # flip bytes
        buf = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        return bytes(buf)
    if kind == 2:                                   # binary garbage
        pos = rng.randrange(len(data) + 1)
        return data[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))) + data[pos:]
    if kind in (3, 4, 5):                           # replace a number
        matches = list(NUMBER.finditer(data))
        if matches:
            m = rng.choice(matches)
            return data[: m.start()] + rng.choice(REPLACEMENTS) + data[m.end():]
        return data
    if kind == 6:                                   # empty
        return b""
    lines = _lines(data)
    if kind == 7:                                   # only one (header) line
        return rng.choice(lines) + b"\n"
    if kind == 8:                                   # repeat a line
        i = rng.randrange(len(lines))
        return b"\n".join(lines[:i] + [lines[i]] * rng.randint(2, 5) + lines[i:])
    if kind == 9 and len(lines) > 1:                # delete a line
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if kind == 10 and len(lines) > 1:               # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if kind == 11:                                  # CRLF or no final newline
        return data.replace(b"\n", b"\r\n") if rng.random() < 0.5 else data.rstrip(b"\n")
    if kind == 12:                                  # a line of another format
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(ALL_LINES))
        return b"\n".join(lines)
    if kind == 13:                                  # whole file twice, or indentation
        if rng.random() < 0.5:
            return data + data
        i = rng.randrange(len(lines))
        lines[i] = b" " * rng.randint(1, 5) + lines[i]
        return b"\n".join(lines)
    return data


def _check(reader: Callable, data: bytes, seed: int, source) -> None:
    start = time.perf_counter()
    try:
        reader(source)
    except ParseError as exc:
        assert exc.file and isinstance(exc.line, int) and exc.line >= 0
        assert "\n" not in str(exc)
    except Exception as exc:  # noqa: BLE001 - the point of the test is to catch anything else
        pytest.fail(f"seed {seed}: {type(exc).__name__}: {exc}\ninput: {data[:2000]!r}")
    elapsed = time.perf_counter() - start
    assert elapsed < SLOW_INPUT_SECONDS, f"seed {seed}: {elapsed:.2f}s on {data[:200]!r}"


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_mutations_parse_or_raise_parse_error(fmt, tmp_path):
    reader = READERS[fmt]
    originals = [(DATA / name).read_bytes() for name in SAMPLES[fmt]]
    rng = random.Random(f"labkit-fuzz-{fmt}")
    for n in range(MUTATIONS_PER_FORMAT):
        seed = rng.randrange(1 << 30)
        local = random.Random(seed)
        data = local.choice(originals)
        for _ in range(local.randint(1, 3)):
            data = mutate(data, local)
        if n % 100 == 0:        # now and then through a real file, gzip or not
            path = tmp_path / f"input-{n}"
            path.write_bytes(gzip.compress(data) if n % 200 == 0 else data)
            _check(reader, data, seed, path)
        else:
            _check(reader, data, seed, io.BytesIO(data))


def test_detecting_readers_on_mutations():
    """``read_memmap`` / ``read_segments`` with detection: same contract."""
    originals = [(DATA / name).read_bytes() for files in SAMPLES.values() for name in files]
    rng = random.Random("labkit-fuzz-detect")
    for _ in range(400):
        seed = rng.randrange(1 << 30)
        local = random.Random(seed)
        data = mutate(local.choice(originals), local)
        _check(read_memmap, data, seed, io.BytesIO(data))
        _check(read_segments, data, seed, io.BytesIO(data))


#: pieces of every format's lines, glued at random into lines that look nearly right
TOKENS = ["segment[", "0", "1", "-1", "]", "].", "]:", "buf", "bufsz", "mem", "memsz", " = ", "=", " ", "  ",
          "0x", "1000", "ffffffffffffffff", "1ffffffffffffffff", "(nil)", "nr_segments", "kexec_load: ",
          "entry", "flags", "MEMORY RANGES", "E820 memmap:", "0000000000001000", "-", " (", ")", "(0)",
          "BIOS-e820: ", "[mem ", "usable", "reserved", "type ", "persistent (type 12)", " ==> ",
          "e820: update ", "e820: remove ", "user: ", " : ", "System RAM", "Kernel code", "kexec_file: ",
          "kexec_file_load: type:0, start:", " head:", "Loaded kernel at ", "[    0.000000] ", "\t", "\x00",
          "Allocating PCI resources starting at ", "(gap: ", ":", "available for PCI devices"]


def soup(rng: random.Random) -> bytes:
    lines = ["".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(1, 15))]
    return "\n".join(lines).encode()


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_token_soup(fmt):
    rng = random.Random(f"labkit-soup-{fmt}")
    for _ in range(1500):
        seed = rng.randrange(1 << 30)
        data = soup(random.Random(seed))
        _check(READERS[fmt], data, seed, io.BytesIO(data))


@pytest.mark.parametrize("data", [b"", b"\n", b"\x00" * 100, b"\x1f\x8b", b"\x1f\x8b\x08\x00garbage",
                                  gzip.compress(b"BIOS-e820: [mem 0x0-0xfff] usable\n")[:-6],
                                  b"x" * 200_000, b"\xef\xbb\xbfMEMORY RANGES\n", b"\r\r\r"])
@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_edge_inputs(fmt, data):
    _check(READERS[fmt], data, 0, io.BytesIO(data))
