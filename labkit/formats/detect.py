"""Which reader a file needs, from its first telling line.

Sniffs at most ``max_lines`` lines (streamed) and returns the format of the
first line that only one format prints.  ``nr_segments = N`` and
``E820 memmap:`` are printed by both kexec-tools and the kernel's
kexec_file code; they decide only if nothing better turns up (kernel output
if the line carried a dmesg/syslog prefix, kexec-tools otherwise), and so
does PowerPC kexec-tools' ``start-end : type`` base range line, which would
otherwise pass for a ``/proc/iomem`` line.
"""
from __future__ import annotations

import re
from contextlib import closing
from typing import Sequence

from ..errors import ParseError
from .lines import Line, Source, iter_lines, source_name
from .iomem import looks_like_iomem
from .kexec_file import normalise
from .kexec_tools import PPC_BASE_RANGE

KEXEC_TOOLS, KEXEC_FILE, E820, IOMEM = "kexec-tools", "kexec-file", "e820", "iomem"
FORMATS = (KEXEC_TOOLS, KEXEC_FILE, E820, IOMEM)
SEGMENT_FORMATS = (KEXEC_TOOLS, KEXEC_FILE)
MAX_LINES = 10_000

_KEXEC_TOOLS = re.compile(r"(?:kexec_load:\s*)?entry\s*=|segment\[\d+\]\.(?:buf|bufsz|mem|memsz)\s*=|MEMORY RANGES$"
                          r"|kexec_load failed:")
_KEXEC_FILE = re.compile(r"segment\[\d+\]:\s*buf=|Loading segment \d+:|kexec_file_load:\s*type:")
_KEXEC_FILE_PREFIX = re.compile(r"kexec_file(?:\([^)]*\))?:\s")
_E820 = re.compile(r"BIOS-e820:|(?:e820:\s*)?(?:BIOS-provided|user-defined|modified) physical RAM map:"
                   r"|e820:\s*(?:update|remove)\s|e820 (?:update|remove) range:")
_AMBIGUOUS = re.compile(r"nr_segments\s*=|E820 memmap:")


def _sniff(line: Line) -> tuple[str | None, str | None]:
    """(decisive format, weak guess) for one line."""
    text = line.text.strip()
    if _E820.match(text):
        return E820, None
    if _KEXEC_FILE_PREFIX.match(text):
        return KEXEC_FILE, None
    kernel_text = normalise(text)
    if _KEXEC_FILE.match(kernel_text):
        return KEXEC_FILE, None
    if _KEXEC_TOOLS.match(text):
        return KEXEC_TOOLS, None
    if _AMBIGUOUS.match(kernel_text):
        return None, KEXEC_FILE if line.stamped or kernel_text != text else KEXEC_TOOLS
    if PPC_BASE_RANGE.fullmatch(text):      # "%016llx-%016llx : %x" of PowerPC kexec-tools, not iomem
        return None, KEXEC_TOOLS
    if looks_like_iomem(line.text):
        return IOMEM, None
    return None, None


def detect_format(source: Source, candidates: Sequence[str] = FORMATS, max_lines: int = MAX_LINES) -> str:
    """The format of ``source`` among ``candidates``; ``ParseError`` if no line tells.

    Reads from a stream's current position; callers rewind it (see
    ``labkit.formats.lines.tell`` / ``seek_back``).
    """
    unknown = [c for c in candidates if c not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; known: {', '.join(FORMATS)}")
    guess: str | None = None
    with closing(iter_lines(source)) as lines:
        for line in lines:
            decisive, weak = _sniff(line)
            if decisive in candidates:
                return decisive
            if guess is None and weak in candidates:
                guess = weak
            if line.number >= max_lines:
                break
    if guess is not None:
        return guess
    raise ParseError(source_name(source), 0, "",
                     f"a line of a known format ({', '.join(candidates)}) in the first {max_lines} lines")
