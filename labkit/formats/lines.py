"""Streaming line reader shared by every log reader in ``labkit.formats``.

Logs are pasted from terminals, serial consoles, ``dmesg`` and syslog, and
quoted in mail and bug reports, so the reader strips what those add (``> ``
quote marks, dmesg timestamps, syslog prefixes, CR of CRLF)
before a format looks at a line, and keeps the original for error messages.
A mail saved with its headers (lore "raw", mbox) whose body is
``Content-Transfer-Encoding: quoted-printable`` is decoded after that header:
soft line breaks (``=`` at the end of a line) join the pieces again and
``=3D`` is ``=``; the logical line keeps the number of its first piece.
Lines a mailer hard-wrapped (no marker) are rejoined by the readers, not
here, and only where the first piece is a broken recognised line and the
joined text parses (``LineStream`` and ``parse_wrapped``).
It never reads a whole file: lines come one at a time from a plain or gzip
file (gzip is recognised by its magic bytes, not by the name) or from an open
text or binary stream.  A line that is not UTF-8 is a ``ParseError`` naming
the line, never a ``UnicodeDecodeError``.
"""
from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import zlib
from dataclasses import dataclass
from typing import IO, Callable, Iterator, TypeVar, Union

from ..errors import ParseError

#: what a reader accepts: a path (plain or gzip) or an open text/binary stream
Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]

#: longest line accepted; longer ones are not logs (and would cost memory)
MAX_LINE_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"

# Prefixes added around kernel messages, stripped repeatedly (syslog, then dmesg).
_QUOTE = re.compile(r"(?:>[ \t]?)+(?=\S|[ \t]+\S)")                            # > quoted in mail / issues
_PREFIXES = (
    _QUOTE,
    re.compile(r"<\d{1,3}>"),                                                  # printk level <6>
    re.compile(r"\[\s*[+-]?\d+(?:\.\d+)?\]\s?"),                              # [    0.000000]
    re.compile(r"\[\s*[TC]\d+\]\s?"),                                          # [    T0] caller id
    re.compile(r"\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]\s?"),  # dmesg -T
    re.compile(r"[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d \S+ kernel:\s?"),       # Jun  1 12:00:00 host kernel:
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)? \S+ kernel:\s?"),
    re.compile(r"(?:kern|user|daemon|syslog)\s*:\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*:\s?"),  # dmesg -x
)


@dataclass(frozen=True)
class Line:
    """One input line: ``text`` without log prefixes or line ending, ``raw`` as read."""

    source: str
    number: int
    text: str
    raw: str
    stamped: bool = False
    #: a log prefix other than mail quote marks (timestamp, syslog, printk level) was stripped
    kernel_prefix: bool = False

    def error(self, expected: str) -> ParseError:
        """A ``ParseError`` for this line (the caller raises it)."""
        return ParseError(self.source, self.number, self.raw, expected)


def source_name(source: Source) -> str:
    """The name errors use for ``source``: the path, or the stream's ``name``."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, (str, os.PathLike)) else "<stream>"


def strip_prefixes(text: str) -> tuple[str, bool]:
    """Remove dmesg/syslog prefixes from the start of ``text``; say whether any were there.

    Indentation after the prefixes is kept (``/proc/iomem`` nests by it).
    """
    text, stamped, _kernel = _strip(text)
    return text, stamped


def _strip(text: str) -> tuple[str, bool, bool]:
    """``strip_prefixes`` that also says whether a prefix other than quote marks was there."""
    stamped = kernel = False
    for _ in range(4):
        probe = text.lstrip()
        for rx in _PREFIXES:
            m = rx.match(probe)
            if m:
                text = probe[m.end():]
                stamped = True
                kernel = kernel or rx is not _QUOTE
                break
        else:
            break
    return text, stamped, kernel


# --- quoted-printable mail bodies --------------------------------------------------------
_CTE = re.compile(r"content-transfer-encoding:\s*([\w-]+)\s*$", re.IGNORECASE)
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _qp_decode(text: str) -> str:
    """``=XX`` escapes of one logical quoted-printable line (soft breaks already joined)."""
    if "=" not in text:
        return text
    data = _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    return data.decode("utf-8", "replace")


def _logical_lines(raw_lines: Iterator[tuple[int, str]], name: str) -> Iterator[tuple[int, str]]:
    """Physical lines without their ending; quoted-printable soft breaks joined after a QP header."""
    qp = False
    for number, text in raw_lines:
        raw = text.rstrip("\r\n")
        if number == 1 and raw.startswith("\ufeff"):
            raw = raw[1:]
        if qp and raw.endswith("="):
            first, pieces, size = number, [raw[:-1]], len(raw)
            for number, text in raw_lines:
                raw = text.rstrip("\r\n")
                size += len(raw)
                if size > MAX_LINE_BYTES:
                    raise ParseError(name, first, pieces[0][:60],
                                     f"a quoted-printable line of at most {MAX_LINE_BYTES} bytes")
                if not raw.endswith("="):
                    pieces.append(raw)
                    break
                pieces.append(raw[:-1])
            yield first, _qp_decode("".join(pieces))
            continue
        if qp:
            raw = _qp_decode(raw)
        cte = _CTE.match(raw)
        if cte:
            qp = cte.group(1).lower() == "quoted-printable"
        yield number, raw


def _is_gzip(stream: IO[bytes]) -> bool:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return bytes(peek(2)[:2]) == GZIP_MAGIC
    if stream.seekable():
        pos = stream.tell()
        head = stream.read(2)
        stream.seek(pos)
        return head == GZIP_MAGIC
    return False


def _binary_lines(stream: IO[bytes], name: str) -> Iterator[tuple[int, str]]:
    number = 0
    while True:
        number += 1
        try:
            data = stream.readline(MAX_LINE_BYTES + 1)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ParseError(name, number, "", f"a complete gzip stream ({exc})") from None
        if not data:
            return
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            raise ParseError(name, number, data[:60].decode("utf-8", "replace"),
                             f"a line of at most {MAX_LINE_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(name, number, data.decode("utf-8", "replace"),
                             f"UTF-8 text (bad byte at column {exc.start + 1})") from None
        yield number, text


def _undecoded(stream: object) -> bool:
    """Whether ``stream`` is a UTF-8 text wrapper not yet read from, so its bytes can be read instead.

    Reading the bytes lets a decoding error name its exact line; a text
    wrapper decodes ahead in chunks and cannot.
    """
    if not isinstance(stream, io.TextIOWrapper) or not stream.seekable():
        return False
    try:
        encoding = codecs.lookup(stream.encoding).name
    except LookupError:
        return False
    try:
        return encoding in ("utf-8", "utf-8-sig") and stream.tell() == 0
    except OSError:          # tell() is refused after next() on the wrapper
        return False


def _text_lines(stream: IO[str], name: str) -> Iterator[tuple[int, str]]:
    number = 0
    while True:
        number += 1
        try:
            text = stream.readline(MAX_LINE_BYTES + 1)
        except UnicodeDecodeError as exc:
            raise ParseError(name, number, "", f"UTF-8 text (the decoder failed at or after this line: "
                                               f"{exc.reason})") from None
        if not text:
            return
        if len(text) > MAX_LINE_BYTES and not text.endswith("\n"):
            raise ParseError(name, number, text[:60], f"a line of at most {MAX_LINE_BYTES} characters")
        yield number, text


def iter_lines(source: Source) -> Iterator[Line]:
    """Yield the lines of ``source`` one by one, prefixes stripped; closes files it opened.

    Use ``contextlib.closing`` when stopping early so an opened file is
    closed at once rather than when the generator is collected.
    """
    name = source_name(source)
    opened: IO[bytes] | None = None
    try:
        if isinstance(source, (str, os.PathLike)):
            opened = open(source, "rb")
            stream: IO[bytes] | IO[str] = opened
        else:
            stream = source
        if _undecoded(stream):
            stream.buffer.seek(0)  # type: ignore[union-attr]
            stream = stream.buffer  # type: ignore[union-attr]
        if isinstance(stream, io.TextIOBase):
            raw_lines = _text_lines(stream, name)  # type: ignore[arg-type]
        else:
            binary: IO[bytes] = stream  # type: ignore[assignment]
            if _is_gzip(binary):
                binary = gzip.GzipFile(fileobj=binary, mode="rb")  # type: ignore[assignment]
            raw_lines = _binary_lines(binary, name)
        for number, raw in _logical_lines(raw_lines, name):
            stripped, stamped, kernel = _strip(raw)
            yield Line(name, number, stripped.rstrip(), raw, stamped, kernel)
    finally:
        if opened is not None:
            opened.close()


T = TypeVar("T")


class LineStream:
    """``iter_lines`` with one line of lookahead, for rejoining lines a mailer wrapped."""

    def __init__(self, source: Source) -> None:
        self._lines = iter_lines(source)
        self._next: Line | None = None
        self._done = False

    def __iter__(self) -> "LineStream":
        return self

    def __next__(self) -> Line:
        if self._next is not None:
            line, self._next = self._next, None
            return line
        return next(self._lines)

    def peek(self) -> Line | None:
        """The next line without taking it (None at the end)."""
        if self._next is None and not self._done:
            try:
                self._next = next(self._lines)
            except StopIteration:
                self._done = True
        return self._next

    def close(self) -> None:
        self._lines.close()


def joined(first: Line, second: Line) -> Line:
    """``first`` with ``second`` appended after one space: the two pieces of a wrapped line."""
    return Line(first.source, first.number, f"{first.text.rstrip()} {second.text.strip()}",
                f"{first.raw}\n{second.raw}", first.stamped, first.kernel_prefix)


def continuation(lines: LineStream, own: Callable[[Line], bool] | None = None) -> Line | None:
    """The next line if it may be the tail of a wrapped line: not empty, no log prefix of its
    own, and not a line the reader knows by itself (``own``)."""
    nxt = lines.peek()
    if nxt is None or not nxt.text.strip() or nxt.kernel_prefix or (own is not None and own(nxt)):
        return None
    return nxt


def parse_wrapped(lines: LineStream, line: Line, parse: Callable[[Line], T],
                  own: Callable[[Line], bool] | None = None) -> T:
    """``parse(line)``; if that fails and the next line may be its wrapped tail (a mailer broke
    a long line in two), ``parse`` of the two joined, taking the next line.  When the join does
    not parse either, the first line's error stands."""
    try:
        return parse(line)
    except ParseError as first_error:
        nxt = continuation(lines, own)
        if nxt is None:
            raise
        try:
            result = parse(joined(line, nxt))
        except ParseError:
            raise first_error from None
        next(lines)
        return result


def tell(source: Source) -> int | None:
    """Where a stream stands now (``None`` for a path), to come back with :func:`seek_back`."""
    if isinstance(source, (str, os.PathLike)):
        return None
    if not source.seekable():
        raise ParseError(source_name(source), 0, "",
                         "a format name for a stream that cannot be read twice (give --format)")
    return source.tell()


def seek_back(source: Source, position: int | None) -> None:
    """Return a stream to ``position`` so that a second reader sees the same lines."""
    if position is not None and not isinstance(source, (str, os.PathLike)):
        source.seek(position)
