"""Streaming line reader shared by every log reader in ``labkit.formats``.

Logs are pasted from terminals, serial consoles, ``dmesg`` and syslog, and
quoted in mail and bug reports, so the reader strips what those add (``> ``
quote marks, dmesg timestamps, syslog prefixes, CR of CRLF)
before a format looks at a line, and keeps the original for error messages.
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
from typing import IO, Iterator, Union

from ..errors import ParseError

#: what a reader accepts: a path (plain or gzip) or an open text/binary stream
Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]

#: longest line accepted; longer ones are not logs (and would cost memory)
MAX_LINE_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"

# Prefixes added around kernel messages, stripped repeatedly (syslog, then dmesg).
_PREFIXES = (
    re.compile(r"(?:>[ \t]?)+(?=\S|[ \t]+\S)"),                               # > quoted in mail / issues
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
    stamped = False
    for _ in range(4):
        probe = text.lstrip()
        for rx in _PREFIXES:
            m = rx.match(probe)
            if m:
                text = probe[m.end():]
                stamped = True
                break
        else:
            break
    return text, stamped


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
        for number, text in raw_lines:
            raw = text.rstrip("\r\n")
            if number == 1 and raw.startswith("\ufeff"):
                raw = raw[1:]
            stripped, stamped = strip_prefixes(raw)
            yield Line(name, number, stripped.rstrip(), raw, stamped)
    finally:
        if opened is not None:
            opened.close()


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
