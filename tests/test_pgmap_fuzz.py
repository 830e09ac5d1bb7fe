"""Property and fuzz tests of the pgmap reader: round trips, strict vs lenient, and mutated inputs.

Every mutated input must either parse or raise ParseError: no other exception, no hang.  Strict
results are also checked against a small whole-file reference parser written from
docs/pgmap-format.md, including the line number of the first error.
"""
from __future__ import annotations

import gzip
import re
import signal
import time
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import ParseError
from labkit.pgmap import PgMap, format_pgmap, read_pgmap
from labkit.pgmap import reader as reader_module
from labkit.pgmap.fast import parse_slice
from labkit.pgmap.lines import LineError, lenient_line, strict_line
from labkit.pgmap.model import Header, is_headerish, parse_header

U64 = st.integers(min_value=0, max_value=2**64 - 1)
STATES = st.sampled_from(["loading", "loaded"])


@st.composite
def maps(draw, max_size=60):
    dest = draw(st.lists(U64, unique=True, max_size=max_size))
    src = draw(st.lists(U64, min_size=len(dest), max_size=len(dest)))
    return dest, src


@pytest.fixture(params=[1, 2], ids=["inline", "threads"])
def small_slices(request, monkeypatch):
    """Small blocks and slices; parsed inline (1 worker) or on the thread pool (2)."""
    monkeypatch.setattr(reader_module, "BLOCK_SIZE", 509)
    monkeypatch.setattr(reader_module, "SLICE_SIZE", 127)
    monkeypatch.setattr(reader_module, "WORKERS", request.param)
    return request.param


# -- reference parser (whole file, regex per line) ---------------------------------

_REF_HEADER = re.compile(rb"# kexec_pgmap v1 page_size=(4096|8192|16384|32768|65536) "
                         rb"entries=(0|[1-9][0-9]{0,18}) state=(loading|loaded)")
_REF_LINE = re.compile(rb"(0|[1-9a-f][0-9a-f]{0,15}) (0|[1-9a-f][0-9a-f]{0,15})")


def reference(data: bytes) -> tuple[list[tuple[int, int]], str] | int:
    """The rows and state of a strict dump, or the line number of its first error."""
    if not data:
        return 1
    lines = data.split(b"\n")
    missing_newline = lines[-1] != b""
    if not missing_newline:
        lines.pop()
    header = _REF_HEADER.fullmatch(lines[0])
    if header is None:
        return 1
    rows: list[tuple[int, int]] = []
    for number, line in enumerate(lines[1:], start=2):
        match = _REF_LINE.fullmatch(line)
        if match is None:
            return number
        dest, src = int(match[1], 16), int(match[2], 16)
        if rows and dest <= rows[-1][0]:
            return number
        rows.append((dest, src))
    if missing_newline:
        return len(lines)
    if int(header[2]) != len(rows):
        return 1
    return rows, header[3].decode()


def reference_lenient(data: bytes) -> list[tuple[int, int]] | int:
    """Lenient rows (stably sorted) by parsing each line alone with ``lenient_line``, or the error line.

    Checks the vectorised paths of lenient reading (fast, CRLF/uppercase fix-up,
    per-line split) against the one-line-at-a-time definition.
    """
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if not lines:
        return 1
    rows: list[tuple[int, int]] = []
    seeking = True
    for number, line in enumerate(lines, start=1):
        if seeking and is_headerish(line):
            if not isinstance(parse_header(line, lenient=True), Header):
                return number
            seeking = False
            continue
        try:
            parsed = lenient_line(line)
        except LineError:
            return number
        if parsed.dest is not None:
            seeking = False
            rows.append((parsed.dest, parsed.src))
    if seeking and not rows:
        return len(lines)
    return sorted(rows, key=lambda row: row[0])


def outcome(data: bytes, **kwargs) -> PgMap | ParseError:
    try:
        return read_pgmap(data, **kwargs)
    except ParseError as exc:
        assert exc.file and exc.line >= 1 and exc.expected
        return exc


@contextmanager
def time_limit(seconds: float):
    """Fail (instead of hanging) if the body runs longer than ``seconds``."""
    def expired(signum, frame):
        raise TimeoutError(f"a single read took more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_against_reference(data: bytes) -> None:
    with time_limit(10):
        strict = outcome(data)
        lenient = outcome(data, lenient=True)
    expected = reference(data)
    if isinstance(expected, int):
        assert isinstance(strict, ParseError), (data, expected)
        assert strict.line == expected, (data, strict)
    else:
        assert isinstance(strict, PgMap), (data, strict)
        rows, state = expected
        assert list(zip(strict.dest_pfn.tolist(), strict.src_pfn.tolist())) == rows
        assert strict.state == state and strict.tolerated == ()
        assert lenient == strict
    expected_lenient = reference_lenient(data)
    if isinstance(expected_lenient, int):
        assert isinstance(lenient, ParseError), (data, expected_lenient)
        assert lenient.line == expected_lenient, (data, lenient)
    else:
        assert isinstance(lenient, PgMap), (data, lenient)
        assert lenient.df["dest_pfn"].dtype == np.uint64
        assert list(zip(lenient.dest_pfn.tolist(), lenient.src_pfn.tolist())) == expected_lenient


# -- properties -------------------------------------------------------------------

@given(maps(), STATES)
@settings(max_examples=300)
def test_format_then_read_round_trips(pair, state):
    dest, src = pair
    pgmap = read_pgmap(format_pgmap(dest, src, state).encode())
    assert sorted(zip(dest, src)) == list(zip(pgmap.dest_pfn.tolist(), pgmap.src_pfn.tolist()))
    assert (pgmap.entries, pgmap.state, pgmap.tolerated) == (len(dest), state, ())


@given(maps(max_size=200), STATES)
@settings(max_examples=60)
def test_round_trip_across_small_slices(pair, state):
    dest, src = pair
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reader_module, "BLOCK_SIZE", 53)
        mp.setattr(reader_module, "SLICE_SIZE", 17)
        mp.setattr(reader_module, "WORKERS", 2)
        pgmap = read_pgmap(format_pgmap(dest, src, state).encode())
    assert sorted(zip(dest, src)) == list(zip(pgmap.dest_pfn.tolist(), pgmap.src_pfn.tolist()))


@given(maps(), STATES)
@settings(max_examples=200)
def test_lenient_reading_of_a_strict_file_equals_strict_reading(pair, state):
    dest, src = pair
    data = format_pgmap(dest, src, state).encode()
    assert read_pgmap(data, lenient=True) == read_pgmap(data)


@given(maps(max_size=30), STATES, st.data())
@settings(max_examples=200)
def test_lenient_forms_read_as_the_canonical_values(pair, state, data):
    dest, src = pair
    lines = [f"# kexec_pgmap v1 page_size=4096 entries={len(dest)} state={state}"]
    for d, s in zip(dest, src):
        fields = []
        for value in (d, s):
            text = f"{value:x}"
            if data.draw(st.booleans()):
                text = text.upper()
            if data.draw(st.booleans()):
                text = "0" * data.draw(st.integers(1, 3)) + text
            if data.draw(st.booleans()):
                text = "0x" + text
            fields.append(text)
        sep = data.draw(st.sampled_from([" ", "  ", "\t", " \t "]))
        lines.append(data.draw(st.sampled_from(["", " ", "\t"])) + sep.join(fields))
        if data.draw(st.booleans()):
            lines.append(data.draw(st.sampled_from(["", "# note", "   "])))
    ending = data.draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + data.draw(st.sampled_from([ending, ""]))
    pgmap = read_pgmap(text.encode(), lenient=True)
    assert list(zip(pgmap.dest_pfn.tolist(), pgmap.src_pfn.tolist())) == sorted(zip(dest, src), key=lambda p: p[0])
    assert pgmap.entries == len(dest)


LINE_ALPHABET = st.sampled_from(list("0123456789abcdefABxg -+\t\r#") + ["\x00", "\xe9"])


@given(st.lists(st.text(LINE_ALPHABET, max_size=20), min_size=1, max_size=12))
@settings(max_examples=500)
def test_fast_parser_agrees_with_the_line_checker(lines):
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    fast = parse_slice(data, allow_padding=False)
    precise = []
    for line in data.split(b"\n")[:-1]:
        try:
            precise.append(strict_line(line))
        except LineError:
            precise = None
            break
    if precise is None:
        assert fast is None
    else:
        assert fast is not None
        assert list(zip(fast.dest.tolist(), fast.src.tolist())) == precise


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_arbitrary_bytes_parse_or_raise_parse_error(data):
    check_against_reference(data)


@given(st.binary(max_size=120))
@settings(max_examples=200)
def test_arbitrary_bytes_after_a_header(data):
    check_against_reference(b"# kexec_pgmap v1 page_size=4096 entries=3 state=loaded\n" + data)


# -- mutation fuzzing ------------------------------------------------------------------

def _base_dumps(rng: np.random.Generator) -> list[bytes]:
    out = [format_pgmap([], [], "loading").encode()]
    for n, bits in ((1, 8), (5, 20), (40, 36), (300, 64)):
        dest = rng.choice(2**min(bits, 62), n, replace=False).astype(np.uint64) * np.uint64(2 if bits == 64 else 1)
        src = rng.integers(0, 2**63, n, dtype=np.uint64)
        out.append(format_pgmap(dest, src, "loaded").encode())
    return out


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    kind = int(rng.integers(0, 14))
    n = len(data)
    pos = int(rng.integers(0, n + 1))
    if kind == 0:                                    # truncation
        return data[:pos]
    if kind == 1 and n:                              # flipped bits
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            out[int(rng.integers(0, n))] ^= 1 << int(rng.integers(0, 8))
        return bytes(out)
    if kind == 2:                                    # binary garbage inserted
        return data[:pos] + rng.bytes(int(rng.integers(1, 40))) + data[pos:]
    if kind == 3:                                    # garbage only
        return rng.bytes(int(rng.integers(0, 300)))
    if kind == 4:                                    # huge numbers
        huge = f"{int(rng.integers(1, 2**62)) << int(rng.integers(60, 80)):x}".encode()
        return data[:pos] + huge + data[pos:]
    if kind == 5:                                    # negative numbers
        return data.replace(b"\n", b"\n-", 1 + int(rng.integers(0, 2))) if rng.random() < 0.5 else \
            data[:pos] + b"-" + data[pos:]
    if kind == 6:                                    # empty / header only / header without newline
        return [b"", data.split(b"\n")[0] + b"\n", data.split(b"\n")[0]][int(rng.integers(0, 3))]
    if kind == 7:                                    # a line duplicated or two lines swapped
        lines = data.split(b"\n")
        i, j = (int(v) for v in rng.integers(0, len(lines), 2))
        if rng.random() < 0.5:
            lines.insert(i, lines[j])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if kind == 8:                                    # a byte replaced by something plausible
        if not n:
            return data
        out = bytearray(data)
        out[int(rng.integers(0, n))] = rng.choice(list(b" \t\r\n0aAfFgx#-+\x00\xff"))
        return bytes(out)
    if kind == 9:                                    # CRLF
        return data.replace(b"\n", b"\r\n")
    if kind == 10:                                   # header count changed
        return re.sub(rb"entries=\d+", b"entries=%d" % int(rng.integers(0, 400)), data, count=1)
    if kind == 11:                                   # bytes deleted
        cut = int(rng.integers(1, 10))
        return data[:pos] + data[pos + cut:]
    if kind == 12:                                   # comment or blank line inserted
        insert = [b"# note\n", b"\n", b"   \n", b"0x1 0x2\n"][int(rng.integers(0, 4))]
        start = data.find(b"\n", pos) + 1 if b"\n" in data[pos:] else n
        return data[:start] + insert + data[start:]
    return data + rng.bytes(int(rng.integers(1, 20)))  # trailing garbage


def test_mutated_dumps_parse_or_raise_parse_error(small_slices):
    rng = np.random.default_rng(20080512 + small_slices)
    bases = _base_dumps(rng)
    per_base = 700 if small_slices == 1 else 100      # starting threads for tiny slices is slow
    start = time.perf_counter()
    count = 0
    for base in bases:
        for _ in range(per_base):
            data = base
            for _ in range(int(rng.integers(1, 3))):
                data = _mutate(data, rng)
            check_against_reference(data)
            count += 1
    assert count == per_base * len(bases)
    assert time.perf_counter() - start < 60      # a generous bound: this is a hang detector


def test_mutated_gzip_parse_or_raise_parse_error():
    rng = np.random.default_rng(7)
    base = gzip.compress(_base_dumps(rng)[-1])
    for _ in range(600):
        data = _mutate(base, rng) if rng.random() < 0.7 else base[: int(rng.integers(0, len(base)))]
        with time_limit(10):
            for lenient in (False, True):
                result = outcome(data, lenient=lenient)
                assert isinstance(result, (PgMap, ParseError))
