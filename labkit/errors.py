"""The two error types labkit raises on purpose.

``KexecError`` is what the simulated kernel returns: an errno name plus the
rule that failed, so a lab user sees *why* as well as *what*.  ``ParseError``
is what a reader raises on a malformed dump or log: file, line, the offending
text and what was expected.
"""
from __future__ import annotations

import errno as _errno
from typing import Any, Sequence

#: errno names the simulated loader can return, with their Linux numbers.
ERRNOS = ("EPERM", "EINVAL", "EADDRNOTAVAIL", "EBUSY", "ENOMEM", "EFAULT", "EIO")


class LabkitError(Exception):
    """Base class of labkit's own errors."""


class KexecError(LabkitError):
    """A rejected ``kexec_load`` (or ``reboot(KEXEC)``) call.

    ``errno`` is the kernel's errno name, ``rule`` a short stable identifier
    of the check that failed (e.g. ``"segment-overlap"``), ``detail`` a human
    sentence, ``segments`` the indices of the offending segments in the call.
    """

    def __init__(self, errno: str, rule: str, detail: str = "", segments: Sequence[int] = ()):
        if errno not in ERRNOS:
            raise ValueError(f"unknown errno name {errno!r}")
        self.errno = errno
        self.rule = rule
        self.detail = detail
        self.segments = tuple(segments)
        super().__init__(str(self))

    @property
    def errno_number(self) -> int:
        return getattr(_errno, self.errno)

    def __str__(self) -> str:
        text = f"{self.errno} ({self.rule})"
        if self.detail:
            text += f": {self.detail}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"ok": False, "errno": self.errno, "rule": self.rule, "detail": self.detail,
                "segments": list(self.segments)}


def shorten(text: str, limit: int = 80) -> str:
    """Shorten offending input for an error message, keeping it printable."""
    text = text.rstrip("\r\n")
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ParseError(LabkitError):
    """Malformed input: names the file, the 1-based line, the text and the expectation."""

    def __init__(self, file: str, line: int, text: str, expected: str):
        self.file = str(file)
        self.line = line
        self.text = shorten(text)
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.text:
            return f"{where}: {self.expected}; got {self.text!r}"
        return f"{where}: {self.expected}"


class RelocationError(LabkitError):
    """The entry list cannot be walked, or relocation would overwrite what it still needs.

    labkit's own check: the real machine would silently corrupt itself or crash.
    """
