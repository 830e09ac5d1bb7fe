"""Reading ``/proc/kexec_pgmap`` v1 dumps: streaming, vectorised, strict by default.

The input is read in blocks of ``BLOCK_SIZE`` bytes cut at line ends; each
block is split into slices of about ``SLICE_SIZE`` bytes (small enough for
numpy's temporaries to stay in cache) parsed by ``fast.parse_slice`` on a
small thread pool (numpy releases the GIL).  When strict mode rejects a
slice, the precise line-by-line pass of ``lines.py`` finds and describes the
first bad line.  Lenient mode keeps well-formed lines vectorised (after
undoing CRLF and uppercase) and parses only the odd lines one by one.  Memory
is the blocks in flight plus the parsed uint64 columns, never the whole text.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator, NoReturn

import numpy as np

from ..errors import ParseError
from .fast import normalise_slice, parse_slice, split_slice
from .lines import LineError, lenient_line, strict_line, text_problem
from .model import HEADER_EXPECTED, Header, PgMap, format_header, is_headerish, make_frame, parse_header
from .source import GZIP_ERRORS, Opened, PgmapSource, open_source
from .tally import Tally

BLOCK_SIZE = 8 << 20
SLICE_SIZE = 1 << 20
MAX_LINE = 1 << 20
WORKERS = max(1, min(4, os.cpu_count() or 1))
_BOM = b"\xef\xbb\xbf"


def read_pgmap(source: PgmapSource, *, lenient: bool = False, name: str | None = None) -> PgMap:
    """Read a dump from a path (plain or gzip), bytes, or an open text/binary stream.

    Strict mode (the default) accepts exactly the format of docs/pgmap-format.md
    and raises ``ParseError`` (file, line, text, expectation) at the first
    deviation.  ``lenient=True`` also accepts what that document lists as
    tolerated and records each kind in ``PgMap.tolerated``; rows are then
    sorted by destination (stable) and duplicates kept for ``validate_pgmap``.
    A ``str`` source is a path; pass bytes to parse text held in memory.
    """
    with open_source(source, name) as opened:
        reader = _Reader(opened.name, lenient)
        try:
            for block, missing_newline in _blocks(opened, reader):
                reader.feed(block, missing_newline)
            return reader.finish()
        finally:
            reader.close()


def _blocks(opened: Opened, reader: "_Reader") -> Iterator[tuple[bytes, bool]]:
    """Blocks of whole lines; the last one gets an LF added and is flagged if the input lacked it."""
    leftover = b""
    while True:
        try:
            data = opened.read(BLOCK_SIZE)
        except GZIP_ERRORS as exc:
            raise ParseError(opened.name, reader.next_line, "",
                             f"a complete gzip stream; decompression failed ({exc})") from None
        except UnicodeDecodeError as exc:
            raise ParseError(opened.name, reader.next_line, "",
                             f"UTF-8 text; the stream failed to decode it ({exc.reason})") from None
        if not data:
            break
        buf = leftover + data if leftover else data
        cut = buf.rfind(b"\n") + 1
        if cut:
            yield buf[:cut], False
        leftover = buf[cut:]
        if len(leftover) > MAX_LINE:
            raise ParseError(opened.name, reader.next_line, leftover[:80].decode("utf-8", "backslashreplace"),
                             "lines of at most 1 MiB; found no line end within 1 MiB (binary data?)")
    if leftover:
        yield leftover + b"\n", True


@dataclass(frozen=True)
class _Rows:
    """Parsed rows of one slice, the line number of its first row, and its tolerances."""

    dest: np.ndarray
    src: np.ndarray
    first_row_line: int
    tally: Tally | None = None


class _Done:
    """A computed result that looks like a Future (used until a thread pool is worth starting)."""

    def __init__(self, fn: Callable[..., Any], *args: Any):
        self._error: BaseException | None = None
        try:
            self._value = fn(*args)
        except ParseError as exc:
            self._error = exc

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


class _Reader:
    """State of one read: header, line numbers, slices in flight, parsed columns."""

    def __init__(self, name: str, lenient: bool):
        self.name = name
        self.lenient = lenient
        self.next_line = 1
        self.seeking_header = True
        self.header: Header | None = None
        self.header_line = 0
        self.header_text = ""
        self.tally = Tally()
        self.missing_newline = False
        self.last_line_text = b""
        self.last_dest: int | None = None
        self.dests: list[np.ndarray] = []
        self.srcs: list[np.ndarray] = []
        self.pending: deque[tuple[Any, memoryview, int]] = deque()
        self.executor: Executor | None = None

    # -- feeding ---------------------------------------------------------
    def feed(self, block: bytes, missing_newline: bool) -> None:
        if missing_newline:
            self.missing_newline = True
            self.last_line_text = block[block.rfind(b"\n", 0, len(block) - 1) + 1:-1]
        pos = self._seek_header(block) if self.seeking_header else 0
        view = memoryview(block)
        if self.executor is None and len(block) - pos > SLICE_SIZE and WORKERS > 1:
            self.executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="pgmap")
        while pos < len(block):
            end = block.rfind(b"\n", pos, pos + SLICE_SIZE) + 1 if len(block) - pos > SLICE_SIZE else len(block)
            if end <= pos:                       # one line longer than a slice
                end = block.index(b"\n", pos) + 1
            self._submit(view[pos:end], self.next_line)
            self.next_line += block.count(b"\n", pos, end)
            pos = end
            while len(self.pending) > 2 * WORKERS:
                self._collect()

    def _submit(self, data: memoryview, first_line: int) -> None:
        args = (_lenient_slice, data, first_line, self.name) if self.lenient else (_strict_slice, data)
        job = self.executor.submit(*args) if self.executor is not None else _Done(*args)
        self.pending.append((job, data, first_line))

    def _seek_header(self, block: bytes) -> int:
        """Consume the header (lenient: and blank/comment lines before it); offset of the data."""
        pos = 0
        while self.seeking_header and pos < len(block):
            end = block.index(b"\n", pos)
            line = block[pos:end]
            if not self.lenient:
                self._strict_header(line)
            elif is_headerish(line):
                self._set_header(line, parse_header(line, lenient=True))
                self._tally_header_form(line)
            else:
                try:
                    parsed = lenient_line(line)
                except LineError as exc:
                    raise self._error(self.next_line, line, exc.expected) from None
                if parsed.dest is not None:      # a data line first: no header
                    self.tally.add("missing-header", 1, (self.next_line,))
                    self.seeking_header = False
                    break
                for kind in parsed.kinds:
                    self.tally.add(kind, 1, (self.next_line,))
            pos = end + 1
            self.next_line += 1
        return pos

    def _tally_header_form(self, line: bytes) -> None:
        if line.endswith(b"\r"):
            self.tally.add("crlf", 1, (self.header_line,))
        header = self.header
        if header is not None and line.rstrip(b"\r").decode("ascii", "replace") != \
                format_header(header.entries, header.state, header.page_size):
            self.tally.add("whitespace", 1, (self.header_line,))

    def _strict_header(self, line: bytes) -> None:
        header = parse_header(line, lenient=False)
        if isinstance(header, str):
            problem = text_problem(line.rstrip(b"\r"), comment_ok=False)
            if line.startswith(_BOM):
                header = f"{HEADER_EXPECTED} at the very start; found a UTF-8 byte order mark"
            elif problem is not None:
                header = f"{HEADER_EXPECTED} in {problem.replace('ASCII hex digits', 'ASCII')}"
            elif _is_strict_data(line):
                header = f"{HEADER_EXPECTED}; found a data line (lenient mode reads a map without header)"
        self._set_header(line, header)

    def _set_header(self, line: bytes, header: Header | str) -> None:
        if isinstance(header, str):
            raise self._error(self.next_line, line, header)
        self.header, self.header_line = header, self.next_line
        self.header_text = line.decode("ascii", "replace")
        self.seeking_header = False

    # -- collecting ------------------------------------------------------
    def _collect(self) -> None:
        job, data, first_line = self.pending.popleft()
        rows = job.result()
        if not self.lenient:
            rows = self._check_strict(rows, data, first_line)
        else:
            self.tally.merge(rows.tally)
            if rows.dest.size and self.last_dest is not None and int(rows.dest[0]) < self.last_dest:
                self.tally.add("unsorted", 1, (rows.first_row_line,))
        if rows.dest.size:
            self.dests.append(rows.dest)
            self.srcs.append(rows.src)
            self.last_dest = int(rows.dest[-1])

    def _check_strict(self, rows: tuple[np.ndarray, np.ndarray] | None, data: memoryview,
                      first_line: int) -> _Rows:
        if rows is None:
            self._locate(data, first_line)
        dest, src = rows
        if self.last_dest is not None and int(dest[0]) <= self.last_dest:
            self._order_error(first_line, int(dest[0]), int(src[0]), self.last_dest)
        bad = np.flatnonzero(dest[1:] <= dest[:-1])
        if bad.size:
            i = int(bad[0]) + 1
            self._order_error(first_line + i, int(dest[i]), int(src[i]), int(dest[i - 1]))
        return _Rows(dest, src, first_line)

    def _locate(self, data: memoryview, first_line: int) -> NoReturn:
        """Raise the ParseError for the first bad line of a slice the fast path rejected."""
        previous = self.last_dest
        for k, line in enumerate(bytes(data).split(b"\n")[:-1]):
            try:
                dest, src = strict_line(line)
            except LineError as exc:
                raise self._error(first_line + k, line, exc.expected) from None
            if previous is not None and dest <= previous:
                self._order_error(first_line + k, dest, src, previous)
            previous = dest
        raise RuntimeError(f"{self.name}: internal error: the fast parser rejected lines "
                           f"{first_line}.. but the line-by-line pass found no error")

    def _order_error(self, line: int, dest: int, src: int, previous: int) -> NoReturn:
        if dest == previous:
            expected = (f"each dest_pfn once; {dest:x} is also on line {line - 1} "
                        "(lenient mode reads it and validate_pgmap reports duplicates)")
        else:
            expected = (f"dest_pfn in strictly ascending order; {dest:x} is below {previous:x} on line "
                        f"{line - 1} (lenient mode sorts)")
        raise self._error(line, f"{dest:x} {src:x}".encode(), expected)

    def _error(self, line: int, text: bytes, expected: str) -> ParseError:
        return ParseError(self.name, line, text.decode("utf-8", "backslashreplace"), expected)

    # -- finishing -------------------------------------------------------
    def finish(self) -> PgMap:
        while self.pending:
            self._collect()
        last_line = self.next_line - 1
        if self.header is None and not self.dests:
            if not self.lenient or last_line == 0:
                raise ParseError(self.name, 1, "", f"{HEADER_EXPECTED}; the file is empty")
            raise ParseError(self.name, last_line, "",
                             "a header or data lines; found only blank and comment lines")
        if self.missing_newline:
            if not self.lenient:
                raise self._error(last_line, self.last_line_text,
                                  "a newline at the end of the last line (the file may be truncated)")
            self.tally.add("missing-final-newline", 1, (last_line,))
        dest = np.concatenate(self.dests) if self.dests else np.empty(0, dtype=np.uint64)
        src = np.concatenate(self.srcs) if self.srcs else np.empty(0, dtype=np.uint64)
        self.dests, self.srcs = [], []
        if self.header is not None and self.header.entries != dest.size:
            if not self.lenient:
                raise ParseError(self.name, self.header_line, self.header_text,
                                 f"a header count that matches the data: the header says "
                                 f"entries={self.header.entries} but the file has {dest.size} data lines "
                                 f"(up to line {last_line})")
            self.tally.add("count-mismatch", 1, (self.header_line,))
        if "unsorted" in self.tally:
            order = np.argsort(dest, kind="stable")
            dest, src = dest[order], src[order]
        header = self.header
        return PgMap(make_frame(dest, src), header.page_size if header else 4096,
                     header.entries if header else None, header.state if header else None,
                     self.name, self.tally.tolerances())

    def close(self) -> None:
        if self.executor is not None:
            for job, _, _ in self.pending:
                job.cancel()
            self.executor.shutdown(wait=True)
            self.executor = None


def _is_strict_data(line: bytes) -> bool:
    try:
        strict_line(line)
    except LineError:
        return False
    return True


def _strict_slice(data: memoryview) -> tuple[np.ndarray, np.ndarray] | None:
    parsed = parse_slice(data, allow_padding=False)
    return None if parsed is None else (parsed.dest, parsed.src)


def _lenient_slice(data: memoryview, first_line: int, name: str) -> _Rows:
    """Rows of a slice in lenient mode.

    In order of cost: the strict fast path; the same after undoing CRLF and
    uppercase; else the well-formed lines vectorised and only the other lines
    (comments, blanks, 0x, odd whitespace, errors) one by one.
    """
    tally = Tally()
    raw = np.frombuffer(data, dtype=np.uint8)
    parsed = parse_slice(raw, allow_padding=True)
    fixed = normalise_slice(raw) if parsed is None else None
    if fixed is not None:
        parsed = parse_slice(fixed.data, allow_padding=True)
    if parsed is not None:
        if fixed is not None:
            tally.add("crlf", fixed.cr_rows.size, first_line + fixed.cr_rows[:10])
            tally.add("uppercase-hex", fixed.upper_rows.size, first_line + fixed.upper_rows[:10])
        tally.add("zero-padding", parsed.padded_rows.size, first_line + parsed.padded_rows[:10])
        return _sorted_check(parsed.dest, parsed.src, first_line + np.arange(parsed.dest.size), tally)
    split = split_slice(fixed.data if fixed is not None else raw)
    good = np.flatnonzero(split.good)
    if fixed is not None:      # the odd lines are re-read from the original text and tallied there
        for kind, rows in (("crlf", fixed.cr_rows), ("uppercase-hex", fixed.upper_rows)):
            rows = rows[split.good[rows]]
            tally.add(kind, rows.size, first_line + rows[:10])
    tally.add("zero-padding", split.padded.size, first_line + split.padded[:10])
    odd = _odd_lines(data, np.flatnonzero(~split.good), first_line, name, tally)
    lines = np.concatenate((good, odd[0]))
    order = np.argsort(lines, kind="stable")
    return _sorted_check(np.concatenate((split.dest, odd[1]))[order], np.concatenate((split.src, odd[2]))[order],
                         first_line + lines[order], tally)


def _sorted_check(dest: np.ndarray, src: np.ndarray, row_lines: np.ndarray, tally: Tally) -> _Rows:
    """Rows with their tally, after counting the rows below their predecessor."""
    descents = np.flatnonzero(dest[1:] < dest[:-1]) + 1
    tally.add("unsorted", descents.size, row_lines[descents[:10]])
    return _Rows(dest, src, int(row_lines[0]) if row_lines.size else 0, tally)


def _odd_lines(data: memoryview, indices: np.ndarray, first_line: int, name: str,
               tally: Tally) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Line-by-line lenient parse of the given lines: (line indices of data rows, dest, src)."""
    lines = bytes(data).split(b"\n")
    found: list[int] = []
    dests: list[int] = []
    srcs: list[int] = []
    for k in indices.tolist():
        line = lines[k]
        try:
            parsed = lenient_line(line)
        except LineError as exc:
            raise ParseError(name, first_line + k, line.decode("utf-8", "backslashreplace"),
                             exc.expected) from None
        for kind in parsed.kinds:
            tally.add(kind, 1, (first_line + k,))
        if parsed.dest is not None:
            found.append(k)
            dests.append(parsed.dest)
            srcs.append(parsed.src)
    return (np.array(found, dtype=np.int64), np.array(dests, dtype=np.uint64), np.array(srcs, dtype=np.uint64))
