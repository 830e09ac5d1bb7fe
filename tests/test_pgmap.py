"""labkit.pgmap: writing, strict and lenient reading, validation and summary of /proc/kexec_pgmap v1."""
from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

from labkit.errors import ParseError
from labkit.pgmap import (Finding, PgMap, Tolerance, format_pgmap, read_pgmap, summarise_pgmap,
                          validate_pgmap, write_pgmap)
from labkit.pgmap import reader as reader_module

HEADER = "# kexec_pgmap v1 page_size=4096 entries={n} state=loaded\n"
EXAMPLE = ("# kexec_pgmap v1 page_size=4096 entries=5 state=loaded\n"
           "100 7f3a1\n101 7f3a2\n102 102\n103 5c010\n1000 1000\n")


def dump(*lines: str, n: int | None = None, state: str = "loaded") -> bytes:
    count = len(lines) if n is None else n
    return (f"# kexec_pgmap v1 page_size=4096 entries={count} state={state}\n"
            + "".join(line + "\n" for line in lines)).encode()


def pairs(pgmap: PgMap) -> list[tuple[int, int]]:
    return list(zip(pgmap.dest_pfn.tolist(), pgmap.src_pfn.tolist()))


@pytest.fixture
def small_slices(monkeypatch):
    """Tiny blocks and slices, so short inputs cross block, slice and thread-pool boundaries."""
    monkeypatch.setattr(reader_module, "BLOCK_SIZE", 64)
    monkeypatch.setattr(reader_module, "SLICE_SIZE", 24)
    monkeypatch.setattr(reader_module, "WORKERS", 2)


# -- writing -----------------------------------------------------------------

def test_format_sorts_by_destination_and_matches_the_spec_example():
    text = format_pgmap([0x1000, 0x103, 0x100, 0x102, 0x101], [0x1000, 0x5c010, 0x7f3a1, 0x102, 0x7f3a2], "loaded")
    assert text == EXAMPLE


def test_format_empty_map_is_only_the_header():
    assert format_pgmap([], [], "loading") == "# kexec_pgmap v1 page_size=4096 entries=0 state=loading\n"


def test_format_extremes_and_series():
    dest = pd.Series([0, 2**64 - 1, 2**32], dtype="uint64")
    src = np.array([2**64 - 1, 0, 15], dtype=np.uint64)
    assert format_pgmap(dest, src, "loaded").splitlines()[1:] == ["0 ffffffffffffffff", "100000000 f",
                                                                   "ffffffffffffffff 0"]


def test_format_page_size():
    assert format_pgmap([1], [2], "loaded", page_size=65536).startswith("# kexec_pgmap v1 page_size=65536 ")


@pytest.mark.parametrize("dest, src, state, message", [
    ([1, 2, 1], [3, 4, 5], "loaded", "destination pfn 0x1 appears more than once"),
    ([1, 2], [3], "loaded", "dest_pfn has 2 values but src_pfn has 1"),
    ([-1], [3], "loaded", "must not be negative"),
    ([1.5], [3], "loaded", "must be an integer"),
    (np.array([1.5]), [3], "loaded", "unsigned integers"),
    ([2**64], [3], "loaded", "from 0 to 2**64-1"),
    ([1], [True], "loaded", "unsigned integers"),
    ([[1]], [[2]], "loaded", "one-dimensional"),
    ([1], [2], "running", "state must be"),
])
def test_format_refuses(dest, src, state, message):
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        format_pgmap(dest, src, state)


def test_write_plain_gzip_and_streams(tmp_path):
    dest, src = [3, 1, 2], [30, 10, 20]
    expected = format_pgmap(dest, src, "loading")
    write_pgmap(tmp_path / "m.txt", dest, src, "loading")
    assert (tmp_path / "m.txt").read_text() == expected
    write_pgmap(tmp_path / "m.txt.gz", dest, src, "loading")
    raw = (tmp_path / "m.txt.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw).decode() == expected
    text, binary = io.StringIO(), io.BytesIO()
    write_pgmap(text, dest, src, "loading")
    write_pgmap(binary, dest, src, "loading")
    assert text.getvalue() == expected and binary.getvalue() == expected.encode()


def test_write_refused_map_leaves_no_file(tmp_path):
    with pytest.raises(ValueError):
        write_pgmap(tmp_path / "bad.txt", [1, 1], [2, 3], "loaded")
    assert not (tmp_path / "bad.txt").exists()


# -- reading: sources ----------------------------------------------------------

def test_read_example():
    pgmap = read_pgmap(EXAMPLE.encode())
    assert pairs(pgmap) == [(0x100, 0x7f3a1), (0x101, 0x7f3a2), (0x102, 0x102), (0x103, 0x5c010), (0x1000, 0x1000)]
    assert list(pgmap.df.columns) == ["dest_pfn", "src_pfn"]
    assert all(pgmap.df[c].dtype == np.uint64 for c in pgmap.df.columns)
    assert (pgmap.page_size, pgmap.entries, pgmap.state, pgmap.source, pgmap.tolerated) == \
        (4096, 5, "loaded", "<bytes>", ())
    assert pgmap.in_place.tolist() == [False, False, True, False, True]


def test_read_empty_map_and_64_bit_values():
    assert len(read_pgmap(dump())) == 0
    pgmap = read_pgmap(dump("0 ffffffffffffffff", "ffffffffffffffff 0"))
    assert pairs(pgmap) == [(0, 2**64 - 1), (2**64 - 1, 0)]


def test_read_other_page_size_and_loading_state():
    pgmap = read_pgmap(b"# kexec_pgmap v1 page_size=16384 entries=1 state=loading\n5 6\n")
    assert (pgmap.page_size, pgmap.state) == (16384, "loading")


def test_read_paths_gzip_detected_by_magic_and_streams(tmp_path):
    data = EXAMPLE.encode()
    (tmp_path / "plain").write_bytes(data)
    (tmp_path / "compressed.txt").write_bytes(gzip.compress(data))   # no .gz suffix on purpose
    expected = pairs(read_pgmap(data))
    assert pairs(read_pgmap(tmp_path / "plain")) == expected
    assert pairs(read_pgmap(str(tmp_path / "compressed.txt"))) == expected
    assert read_pgmap(tmp_path / "plain").source == str(tmp_path / "plain")
    assert pairs(read_pgmap(gzip.compress(data))) == expected
    assert pairs(read_pgmap(io.BytesIO(data))) == expected
    assert pairs(read_pgmap(io.StringIO(EXAMPLE))) == expected
    with open(tmp_path / "compressed.txt", "rb") as stream:
        assert pairs(read_pgmap(stream)) == expected
    with open(tmp_path / "plain", encoding="ascii") as stream:
        assert read_pgmap(stream).source == str(tmp_path / "plain")
    assert read_pgmap(data, name="capture-42").source == "capture-42"


class Pipe:
    """A non-seekable binary stream without peek(), like a socket or a pipe."""

    def __init__(self, data: bytes, chunk: int = 7):
        self._data, self._chunk = data, chunk

    def read(self, size: int = -1) -> bytes:
        size = self._chunk if size < 0 else min(size, self._chunk)
        out, self._data = self._data[:size], self._data[size:]
        return out


def test_read_non_seekable_streams_plain_and_gzip():
    expected = pairs(read_pgmap(EXAMPLE.encode()))
    assert pairs(read_pgmap(Pipe(EXAMPLE.encode()))) == expected
    assert pairs(read_pgmap(Pipe(gzip.compress(EXAMPLE.encode())))) == expected


def test_read_rejects_other_source_types():
    with pytest.raises(TypeError):
        read_pgmap(42)


def test_round_trip_through_write(tmp_path):
    rng = np.random.default_rng(7)
    dest = rng.choice(1 << 40, 5000, replace=False).astype(np.uint64)
    src = rng.integers(0, 1 << 63, 5000, dtype=np.uint64)
    write_pgmap(tmp_path / "m.gz", dest, src, "loaded")
    pgmap = read_pgmap(tmp_path / "m.gz")
    order = np.argsort(dest)
    assert np.array_equal(pgmap.dest_pfn, dest[order]) and np.array_equal(pgmap.src_pfn, src[order])


def test_small_blocks_and_slices_give_the_same_result(small_slices):
    lines = [f"{d:x} {d * 7 + 3:x}" for d in range(0, 4000, 3)]
    pgmap = read_pgmap(dump(*lines))
    assert pairs(pgmap) == [(d, d * 7 + 3) for d in range(0, 4000, 3)]


def test_million_lines(tmp_path):
    n = 1_000_000
    dest = np.arange(n, dtype=np.uint64) * np.uint64(3) + np.uint64(0x100)
    src = (dest * np.uint64(0x9E3779B1)) & np.uint64((1 << 52) - 1)
    write_pgmap(tmp_path / "big.txt", dest, src, "loaded")
    pgmap = read_pgmap(tmp_path / "big.txt")
    assert len(pgmap) == n and pgmap.entries == n
    assert np.array_equal(pgmap.dest_pfn, dest) and np.array_equal(pgmap.src_pfn, src)
    lenient = read_pgmap(tmp_path / "big.txt", lenient=True)
    assert lenient == pgmap


def test_million_lines_error_near_the_end_names_the_line(tmp_path):
    n = 1_000_000
    body = format_pgmap(np.arange(n), np.arange(n) + 5, "loaded").encode()
    lines = body.split(b"\n")
    lines[n - 3] = b"zz 1"                      # data row n-4 (0-based) is on line n-2
    (tmp_path / "bad.txt").write_bytes(b"\n".join(lines))
    with pytest.raises(ParseError) as err:
        read_pgmap(tmp_path / "bad.txt")
    assert err.value.line == n - 2 and err.value.text == "zz 1" and "'z'" in err.value.expected


# -- strict errors ---------------------------------------------------------------

STRICT_ERRORS = [
    # (input, line, text, fragment of the expectation)
    (b"", 1, "", "the file is empty"),
    (b"hello\n", 1, "hello", "the header '# kexec_pgmap v1"),
    (b"1 2\n", 1, "1 2", "found a data line"),
    (b"# kexec_pgmap v2 page_size=4096 entries=0 state=loaded\n", 1, None, "only v1"),
    (b"# kexec_pgmap v1 page_size=4000 entries=0 state=loaded\n", 1, None, "page_size="),
    (b"# kexec_pgmap v1 page_size=4096 entries=-1 state=loaded\n", 1, None, "entries=<decimal"),
    (b"# kexec_pgmap v1 page_size=4096 entries=01 state=loaded\n1 2\n", 1, None, "entries=<decimal"),
    (b"# kexec_pgmap v1 page_size=4096 entries=0 state=running\n", 1, None, "state=loading or state=loaded"),
    (b"# kexec_pgmap v1 page_size=4096 entries=0 state=loaded extra\n", 1, None, "nothing after the state"),
    (b"# kexec_pgmap v1  page_size=4096 entries=0 state=loaded\n", 1, None, "single spaces"),
    (b"# kexec_pgmap v1 page_size=4096 entries=0 state=loaded\r\n", 1, None, "CR"),
    (b"\xef\xbb\xbf# kexec_pgmap v1 page_size=4096 entries=0 state=loaded\n", 1, None, "byte order mark"),
    (b"\x00\x01\x02garbage\n", 1, "\\x00\\x01\\x02garbage", "control byte 0x00"),
    (dump("1 2", "3 4 5"), 3, "3 4 5", "found 3 fields"),
    (dump("1 2", "3"), 3, "3", "found 1 field"),
    (dump("1 2", "g 4"), 3, "g 4", "found the character 'g'"),
    (dump("1 2", "-3 4"), 3, "-3 4", "non-negative dest_pfn"),
    (dump("1 -2"), 2, "1 -2", "non-negative src_pfn"),
    (dump("1 +2"), 2, "1 +2", "without a sign"),
    (dump("0x1 2"), 2, "0x1 2", "without a 0x prefix"),
    (dump("A 2"), 2, "A 2", "lowercase"),
    (dump("01 2"), 2, "01 2", "zero padding"),
    (dump("1 10000000000000000"), 2, "1 10000000000000000", "at most 64 bits"),
    (dump("1\t2"), 2, "1\\x092", "exactly one space"),
    (dump("1  2"), 2, "1  2", "exactly one space"),
    (dump(" 1 2"), 2, " 1 2", "exactly one space"),
    (dump("1 2 "), 2, "1 2 ", "exactly one space"),
    (dump("1 2", ""), 3, "", "blank line"),
    (dump("# a comment", "1 2"), 2, "# a comment", "comment"),
    (dump("1 2", "# kexec_pgmap v1 page_size=4096 entries=0 state=loaded"), 3, None, "second header"),
    (dump("1 2").replace(b"1 2\n", b"1 2\r\n"), 2, "1 2\r", "CRLF"),
    (dump("5 1", "3 2"), 3, "3 2", "strictly ascending order; 3 is below 5 on line 2"),
    (dump("5 1", "5 2"), 3, "5 2", "each dest_pfn once; 5 is also on line 2"),
    (dump("1 2", "2 \xe9".encode("latin-1").decode("latin-1")), 3, None, "non-ASCII character"),
    (dump("1 2") + b"2 \xff\n", 3, None, "invalid byte 0xff"),
    (dump("1 2", "2 3")[:-1], 3, "2 3", "a newline at the end of the last line"),
    (dump("1 2", n=3), 1, "# kexec_pgmap v1 page_size=4096 entries=3 state=loaded",
     "header says entries=3 but the file has 1 data lines (up to line 2)"),
    (dump("1 2", "2 3", n=1), 1, None, "header says entries=1 but the file has 2 data lines"),
    (b"# kexec_pgmap v1 page_size=4096 entries=0 state=loaded", 1, None, "a newline at the end"),
    (b"\xfd7zXZ\x00\x00", 1, "", "xz-compressed"),
    (b"BZh91AY&SY", 1, "", "bzip2-compressed"),
]


@pytest.mark.parametrize("data, line, text, expected", STRICT_ERRORS)
def test_strict_errors(data, line, text, expected):
    with pytest.raises(ParseError) as err:
        read_pgmap(data, name="dump.txt")
    assert err.value.file == "dump.txt"
    assert err.value.line == line
    if text is not None:
        assert err.value.text == text.rstrip("\r") or err.value.text == text
    assert expected in err.value.expected
    assert str(err.value).startswith(f"dump.txt:{line}:")


def test_strict_errors_point_at_the_same_line_across_slices(small_slices):
    lines = [f"{d:x} {d:x}" for d in range(1, 500)]
    for bad_row in (0, 1, 7, 100, 498):
        broken = list(lines)
        broken[bad_row] = "x"
        with pytest.raises(ParseError) as err:
            read_pgmap(dump(*broken))
        assert err.value.line == bad_row + 2
    unsorted = list(lines)
    unsorted[300], unsorted[301] = unsorted[301], unsorted[300]
    with pytest.raises(ParseError) as err:
        read_pgmap(dump(*unsorted))
    assert err.value.line == 303 and "strictly ascending" in err.value.expected


def test_strict_order_error_at_every_slice_boundary(small_slices):
    lines = [f"{d:x} 0" for d in range(1, 200)]
    for k in range(1, 199):
        broken = list(lines)
        broken[k] = broken[k - 1]
        with pytest.raises(ParseError) as err:
            read_pgmap(dump(*broken))
        assert err.value.line == k + 2 and "each dest_pfn once" in err.value.expected


def test_an_earlier_order_error_wins_over_a_later_format_error(small_slices):
    lines = [f"{d:x} 0" for d in range(1, 100)]
    lines[40] = "1 0"
    lines[45] = "bad"
    with pytest.raises(ParseError) as err:
        read_pgmap(dump(*lines))
    assert err.value.line == 42


def test_gzip_truncated_and_corrupt():
    packed = gzip.compress(dump(*(f"{d:x} 1" for d in range(1, 3000))))
    with pytest.raises(ParseError) as err:
        read_pgmap(packed[: len(packed) // 2], name="cut.gz")
    assert err.value.file == "cut.gz" and "complete gzip stream" in err.value.expected
    corrupt = bytearray(packed)
    corrupt[20:30] = b"\xff" * 10
    with pytest.raises(ParseError):             # a gzip error, or garbage text that does not parse
        read_pgmap(bytes(corrupt))


def test_binary_without_newlines_is_rejected_without_reading_it_all(monkeypatch):
    monkeypatch.setattr(reader_module, "MAX_LINE", 1000)
    with pytest.raises(ParseError) as err:
        read_pgmap(b"\x07" * 100_000)
    assert err.value.line == 1 and "line end" in err.value.expected


def test_text_stream_that_cannot_decode():
    stream = io.TextIOWrapper(io.BytesIO(dump("1 2") + b"\xff\xfe\n"), encoding="utf-8")
    with pytest.raises(ParseError) as err:
        read_pgmap(stream)
    assert "UTF-8" in err.value.expected
    with pytest.raises(ParseError) as err:
        read_pgmap(io.StringIO("# kexec_pgmap v1 page_size=4096 entries=1 state=loaded\n1 \ud800\n"))
    assert err.value.line == 2 and "invalid byte 0xed" in err.value.expected


# -- lenient reading ----------------------------------------------------------

def tolerated(pgmap: PgMap) -> dict[str, tuple[int, tuple[int, ...]]]:
    return {t.kind: (t.count, t.lines) for t in pgmap.tolerated}


@pytest.mark.parametrize("data, kind, count, lines", [
    (b"1 2\n3 4\n", "missing-header", 1, (1,)),
    (dump("1 2", n=5), "count-mismatch", 1, (1,)),
    (dump("# hello", "1 2", "#  world \xc3\xa9".encode("latin-1").decode("utf-8")), "comment", 2, (2, 4)),
    (dump("", "1 2", "  \t"), "blank-line", 2, (2, 4)),
    (dump("1 2", "3 4").replace(b"\n", b"\r\n"), "crlf", 3, (1, 2, 3)),
    (dump("  1 2", "3\t4 "), "whitespace", 2, (2, 3)),
    (dump("0x1 2", "3 0X4"), "0x-prefix", 2, (2, 3)),
    (dump("A 2", "3 4", "B C"), "uppercase-hex", 2, (2, 4)),
    (dump("01 2", "3 0000000000000000000004"), "zero-padding", 2, (2, 3)),
    (dump("5 2", "3 4", "1 6"), "unsorted", 2, (3, 4)),
    (dump("1 2", "3 4")[:-1], "missing-final-newline", 1, (3,)),
    (b"#  kexec_pgmap\tv1 page_size=4096  entries=1 state=loaded \r\n1 2\n", "whitespace", 1, (1,)),
])
def test_lenient_tolerates_and_records(data, kind, count, lines):
    pgmap = read_pgmap(data, lenient=True)
    assert tolerated(pgmap)[kind] == (count, lines)


def test_lenient_sorts_stably_and_keeps_duplicates():
    pgmap = read_pgmap(dump("5 2", "3 4", "5 1", "1 6"), lenient=True)
    assert pairs(pgmap) == [(1, 6), (3, 4), (5, 2), (5, 1)]


def test_lenient_mixed_input_values():
    data = (b"# captured on the T42\n\n# kexec_pgmap v1 page_size=4096 entries=4 state=loading\r\n"
            b"  0x1A   0X2\r\n00ff 1\n# middle comment\n\t10 ABCDEF\n3 4")
    pgmap = read_pgmap(data, lenient=True)
    assert pairs(pgmap) == [(3, 4), (0x10, 0xABCDEF), (0x1A, 2), (0xFF, 1)]
    assert (pgmap.entries, pgmap.state) == (4, "loading")
    kinds = tolerated(pgmap)
    assert kinds["comment"] == (2, (1, 6)) and kinds["blank-line"] == (1, (2,))
    assert set(kinds) >= {"crlf", "whitespace", "0x-prefix", "uppercase-hex", "zero-padding", "unsorted",
                          "missing-final-newline"}


def test_lenient_headerless_map():
    pgmap = read_pgmap(b"# no header here\n2 3\n1 2\n", lenient=True)
    assert (pgmap.entries, pgmap.state, pgmap.page_size) == (None, None, 4096)
    assert tolerated(pgmap)["missing-header"] == (1, (2,))


def test_lenient_fast_paths_across_slices(small_slices):
    lines = [f"{d:X} {d * 3:x}" for d in range(1, 600)]
    data = dump(*lines).replace(b"\n", b"\r\n")
    pgmap = read_pgmap(data, lenient=True)
    assert pairs(pgmap) == [(d, d * 3) for d in range(1, 600)]
    kinds = tolerated(pgmap)
    assert kinds["crlf"][0] == 600 and kinds["crlf"][1][:3] == (1, 2, 3)
    assert kinds["uppercase-hex"][0] == sum(1 for d in range(1, 600) if any(c in "ABCDEF" for c in f"{d:X}"))


def test_lenient_odd_lines_among_many_good_ones(small_slices):
    lines = [f"{d:x} {d + 1:x}" for d in range(1, 3000)]
    for k in range(5, len(lines), 97):
        lines[k] = "0x" + lines[k]
    for k in range(11, len(lines), 301):
        lines[k] += "\n# note"
    data = dump(*lines).replace(b"\n", b"\r\n")
    pgmap = read_pgmap(data, lenient=True)
    assert pairs(pgmap) == [(d, d + 1) for d in range(1, 3000)]
    kinds = tolerated(pgmap)
    line_of = {k: k + 2 + sum(1 for j in range(11, k, 301)) for k in range(5, 2999, 97)}   # comments shift lines
    assert kinds["0x-prefix"] == (len(line_of), tuple(sorted(line_of.values()))[:10])
    assert kinds["comment"][0] == len(range(11, 2999, 301))
    assert kinds["crlf"] == (1 + 2999 + len(range(11, 2999, 301)), tuple(range(1, 11)))


def test_lenient_unsorted_across_slices(small_slices):
    lines = [f"{d:x} 0" for d in range(600, 0, -1)]
    pgmap = read_pgmap(dump(*lines), lenient=True)
    assert pgmap.dest_pfn.tolist() == list(range(1, 601))
    assert tolerated(pgmap)["unsorted"][0] == 599


@pytest.mark.parametrize("data, line, expected", [
    (b"", 1, "the file is empty"),
    (b"\n# only comments\n  \n", 3, "only blank and comment lines"),
    (b"1 2 3\n", 1, "found 3 fields"),
    (dump("1 2", "7"), 3, "found 1 field"),
    (dump("1 0x"), 2, "nothing after 0x"),
    (dump("1 1.5"), 2, "the character '.'"),
    (dump("-1 2"), 2, "non-negative dest_pfn"),
    (dump("1 11111111111111111"), 2, "at most 64 bits"),
    (dump("1 2", "3 4\x005"), 3, "control byte 0x00"),
    (dump("1 2\r5"), 2, "control byte 0x0d"),
    (dump("1 2", "2 \u00e9"), 3, "non-ASCII character"),
    (dump("1 2") + b"# bad \xff comment\n", 3, "invalid byte 0xff"),
    (b"# kexec_pgmap v3 page_size=4096 entries=0 state=loaded\n", 1, "only v1"),
    (b"# kexec_pgmap garbage\n", 1, "the header"),
    (b"1 2\n# kexec_pgmap v1 page_size=4096 entries=1 state=loaded\n", 2, "only once"),
    (dump("1 2", "# kexec_pgmap v1 page_size=4096 entries=1 state=loaded"), 3, "only once"),
])
def test_lenient_errors(data, line, expected):
    with pytest.raises(ParseError) as err:
        read_pgmap(data, lenient=True, name="x")
    assert (err.value.file, err.value.line) == ("x", line)
    assert expected in err.value.expected


def test_tolerance_str():
    assert str(Tolerance("comment", 12, (3, 7))) == "comment: 12 (line 3, 7, ...)"
    assert str(Tolerance("missing-header", 1, (2,))) == "missing-header: 1 (line 2)"


# -- the PgMap value ------------------------------------------------------------

def test_pgmap_checks_its_frame_and_compares_by_value():
    a = PgMap.from_arrays([1, 2], [3, 4])
    assert a == PgMap.from_arrays(np.array([1, 2], dtype=np.uint32), [3, 4])
    assert a != PgMap.from_arrays([1, 2], [3, 5])
    with pytest.raises(ValueError, match="uint64"):
        PgMap(pd.DataFrame({"dest_pfn": [1], "src_pfn": [2]}))
    with pytest.raises(ValueError, match="columns"):
        PgMap(pd.DataFrame({"dest": np.array([1], dtype=np.uint64)}))
    with pytest.raises(ValueError, match="state"):
        PgMap.from_arrays([1], [2], "done")
    with pytest.raises(ValueError, match="page_size"):
        PgMap.from_arrays([1], [2], page_size=1000)
    with pytest.raises(Exception):
        a.state = "loading"


# -- validation ----------------------------------------------------------------

def kinds_of(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


def test_valid_map_has_no_findings():
    assert validate_pgmap(read_pgmap(EXAMPLE.encode()), max_pfn=0x80000) == []
    assert validate_pgmap(PgMap.from_arrays([], [])) == []


def test_count_mismatch_is_a_warning():
    [finding] = validate_pgmap(read_pgmap(dump("1 2", n=3), lenient=True))
    assert (finding.kind, finding.severity, finding.count) == ("count-mismatch", "warning", 2)
    assert "entries=3" in finding.message and not finding.breaks_kernel_invariant


def test_unsorted_in_memory_map():
    [finding] = validate_pgmap(PgMap.from_arrays([5, 3, 9, 1], [50, 30, 90, 10]))
    assert (finding.kind, finding.rows, finding.pfns, finding.count) == ("unsorted", (1, 3), (3, 1), 2)
    assert finding.severity == "warning"


def test_duplicate_destinations():
    pgmap = read_pgmap(dump("1 10", "2 20", "2 21", "3 30", "3 31", "3 32"), lenient=True)
    [finding] = validate_pgmap(pgmap)
    assert (finding.kind, finding.count, finding.rows, finding.pfns) == ("duplicate-dest", 5, (1, 2, 3, 4, 5), (2, 3))
    assert finding.breaks_kernel_invariant


def test_source_reused():
    [finding] = validate_pgmap(PgMap.from_arrays([1, 2, 3, 4], [10, 20, 10, 30]))
    assert (finding.kind, finding.count, finding.rows, finding.pfns) == ("source-reused", 2, (0, 2), (10,))


def test_source_is_destination_but_in_place_is_fine():
    ok = PgMap.from_arrays([1, 2, 3], [1, 20, 3])
    assert validate_pgmap(ok) == []
    bad = PgMap.from_arrays([1, 2, 3, 4], [1, 3, 30, 1])
    findings = validate_pgmap(bad)
    assert kinds_of(findings) == ["source-reused", "source-is-destination"]
    finding = findings[1]
    assert (finding.rows, finding.pfns, finding.count) == ((1, 3), (3, 1), 2)
    assert "kimage_alloc_page" in finding.message


def test_outside_machine():
    [finding] = validate_pgmap(PgMap.from_arrays([1, 2, 0x100], [0x200, 5, 6]), max_pfn=0x100)
    assert (finding.kind, finding.rows, finding.pfns) == ("outside-machine", (0, 2), (0x200, 0x100))
    assert "max_pfn=0x100" in finding.message


def test_findings_serialise():
    [finding] = validate_pgmap(PgMap.from_arrays([1, 2], [5, 5]))
    assert finding.to_dict() == {"kind": "source-reused", "severity": "error", "count": 2, "rows": [0, 1],
                                 "pfns": ["0x5"], "message": finding.message}


def test_validation_of_large_maps_with_wide_pfns():
    rng = np.random.default_rng(3)
    dest = np.sort(rng.choice(1 << 44, 300_000, replace=False)).astype(np.uint64)
    src = dest + np.uint64(1 << 45)
    src[1000] = dest[5]          # source-is-destination
    src[2000] = src[2001]        # reused
    findings = validate_pgmap(PgMap.from_arrays(dest, src))
    assert kinds_of(findings) == ["source-reused", "source-is-destination"]
    assert findings[0].rows == (2000, 2001) and findings[1].rows == (1000,)


# -- summary ---------------------------------------------------------------------

def test_summary_of_the_example():
    summary = summarise_pgmap(read_pgmap(EXAMPLE.encode()), hash="modulo", buckets=4)
    assert (summary.entries, summary.in_place, summary.moved) == (5, 2, 3)
    assert summary.dest_runs.count == 2 and (summary.dest_runs.min, summary.dest_runs.max) == (1, 4)
    assert summary.dest_runs.histogram == ((1, 1, 1), (2, 3, 0), (4, 7, 1))
    # sorted sources 0x102 0x1000 0x5c010 0x7f3a1 0x7f3a2: runs 1,1,1,2
    assert summary.src_runs.count == 4 and summary.src_runs.median == 1.0
    # (100,7f3a1)(101,7f3a2) move together; the rest are single pages
    assert summary.copy_runs.count == 4
    assert summary.span["dest_pfn_min"] == 0x100 and summary.span["dest_addr_end"] == 0x1001 * 4096
    assert summary.span["src_addr_min"] == 0x102 * 4096
    assert summary.hash["name"] == "modulo" and summary.hash["buckets"] == 4 and summary.hash["keys"] == 5
    assert sum(summary.hash["chain_histogram"]) == 4
    data = summary.to_dict()
    assert data["dest_runs"]["histogram"][2] == {"lo": 4, "hi": 7, "runs": 1}
    assert set(summary.flat()) >= {"entries", "in_place", "dest_runs_len", "hash_max_chain"}


def test_summary_of_an_empty_and_an_unsorted_map():
    empty = summarise_pgmap(PgMap.from_arrays([], []))
    assert empty.entries == 0 and empty.dest_runs.count == 0 and empty.dest_runs.mean is None
    assert empty.span["dest_pfn_min"] is None and empty.hash["keys"] == 0
    unsorted = summarise_pgmap(PgMap.from_arrays([3, 1, 2], [30, 10, 20]))
    assert unsorted.dest_runs.count == 1 and unsorted.copy_runs.count == 3


def test_summary_rejects_unknown_hash_and_buckets():
    pgmap = PgMap.from_arrays([1], [2])
    with pytest.raises(ValueError, match="unknown hash"):
        summarise_pgmap(pgmap, hash="sha1")
    with pytest.raises(ValueError, match="bucket count"):
        summarise_pgmap(pgmap, buckets=0)
