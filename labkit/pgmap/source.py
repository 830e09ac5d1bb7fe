"""Turning a path, bytes or stream into a stream of byte blocks, gzip or not.

Why a module of its own: the reader must never hold a whole dump in memory,
so every kind of source is read in blocks, and compression is recognised by
its magic bytes (not by the file name) so that a renamed ``.gz`` still reads.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import zlib
from dataclasses import dataclass
from typing import IO, Any, Iterator, Union

from ..errors import ParseError

GZIP_MAGIC = b"\x1f\x8b"
#: other compressions we recognise only to say "decompress it first"
FOREIGN_MAGIC = {b"\xfd7zXZ\x00": "xz", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4",
                 b"PK\x03\x04": "zip"}
GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)

#: what ``read_pgmap`` reads: a path (``str`` is always a path), bytes-like data, or an open stream
PgmapSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], IO[str]]

@dataclass(frozen=True)
class Opened:
    """An opened source: a reader of bytes, its display name, and whether it is gzip."""

    stream: Any
    name: str
    gzipped: bool

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes ('' only at the end); text streams are encoded as UTF-8."""
        data = self.stream.read(size)
        if isinstance(data, str):
            try:   # undecodable bytes of a surrogateescape stream come back as they were
                return data.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:   # other lone surrogates: keep them, as invalid UTF-8
                return data.encode("utf-8", "surrogatepass")
        return bytes(data) if data is not None else b""


class _Prefixed(io.RawIOBase):
    """A non-seekable binary stream with bytes already read put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def _peek(stream: IO[Any], size: int) -> tuple[bytes | str, IO[Any]]:
    """The first ``size`` bytes of a stream, and a stream that still yields them."""
    if isinstance(stream, io.TextIOBase):
        return "", stream                      # decoded text: cannot be compressed
    if hasattr(stream, "peek"):
        return bytes(stream.peek(size)[:size]), stream
    if getattr(stream, "seekable", lambda: False)():
        where = stream.tell()
        head = stream.read(size)
        stream.seek(where)
        return head, stream
    head = stream.read(size)
    if isinstance(head, str):
        return head, _TextPrefixed(head, stream)
    head = bytes(head or b"")
    return head, io.BufferedReader(_Prefixed(head, stream))


class _TextPrefixed:
    """A text stream with the characters already read put back in front."""

    def __init__(self, head: str, rest: IO[str]):
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> str:
        if self._head:
            head, self._head = self._head, ""
            return head
        return self._rest.read(size)


def _check_foreign(head: bytes, name: str) -> None:
    for magic, kind in FOREIGN_MAGIC.items():
        if head.startswith(magic):
            raise ParseError(name, 1, "", f"a pgmap text or gzip file; this is {kind}-compressed data "
                                          "(decompress it first)")


@contextlib.contextmanager
def open_source(source: PgmapSource, name: str | None = None) -> Iterator[Opened]:
    """Open ``source`` for block reading: a path, bytes-like data, or an open text/binary stream.

    A ``str`` is always a path, never the text itself (pass bytes for that).
    Streams are not closed.
    """
    with contextlib.ExitStack() as stack:
        if isinstance(source, (str, os.PathLike)):
            name = name if name is not None else os.fspath(source)
            raw: Any = stack.enter_context(open(source, "rb"))
        elif isinstance(source, (bytes, bytearray, memoryview)):
            name = name if name is not None else "<bytes>"
            raw = io.BytesIO(source)
        elif hasattr(source, "read"):
            stream_name = getattr(source, "name", None)
            name = name if name is not None else (stream_name if isinstance(stream_name, str) else "<stream>")
            raw = source
        else:
            raise TypeError(f"read_pgmap needs a path, bytes or a stream, got {type(source).__name__}")
        head, raw = _peek(raw, 6)
        if isinstance(head, bytes) and head.startswith(GZIP_MAGIC):
            yield Opened(stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")), name, True)
            return
        if isinstance(head, bytes):
            _check_foreign(head, name)
        yield Opened(raw, name, False)
