"""Line-by-line checks: the precise (slow) path of the reader.

The vectorised parser only says *whether* a slice of lines is well formed;
when it is not, these functions find the first bad line and say what was
expected there (strict mode), or parse the lenient forms one line at a time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import is_headerish

DATA_EXPECTED = "'<dest_pfn> <src_pfn>': two lowercase hex numbers without 0x, separated by one space"
MAX_DIGITS = 16

_STRICT = re.compile(rb"([0-9a-f]{1,16}) ([0-9a-f]{1,16})")
_LENIENT = re.compile(rb"[ \t]*(0[xX])?([0-9a-fA-F]+)[ \t]+(0[xX])?([0-9a-fA-F]+)[ \t]*")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_HEX = re.compile(rb"(0[xX])?[0-9a-fA-F]+")


class LineError(Exception):
    """A bad line: ``expected`` says what should have been there (becomes a ParseError)."""

    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def text_problem(line: bytes, *, comment_ok: bool) -> str | None:
    """Binary data, invalid UTF-8 or (outside comments) non-ASCII: what is wrong, or None."""
    control = _CONTROL.search(line)
    if control is not None:
        byte = line[control.start()]
        return (f"text; found control byte {byte:#04x} at column {control.start() + 1} "
                f"(binary data or a corrupt file?)")
    if line.isascii():
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"UTF-8 text; found the invalid byte {line[exc.start]:#04x} at column {exc.start + 1}"
    if comment_ok:
        return None
    bad = next(ch for ch in text if not ch.isascii())
    return f"ASCII hex digits; found the non-ASCII character {bad!r}"


def _field_value(field: bytes, which: str, *, lenient: bool) -> tuple[int, set[str]]:
    """Value of one field and the lenient tolerances it needed; LineError if it is not a pfn."""
    kinds: set[str] = set()
    if field.startswith(b"-"):
        raise LineError(f"a non-negative {which}; found {field.decode('ascii', 'replace')!r}")
    if field.startswith(b"+"):
        raise LineError(f"a {which} without a sign; found {field.decode('ascii', 'replace')!r}")
    if not _HEX.fullmatch(field):
        bad = next((chr(b) for b in field[2 if field[:2].lower() == b"0x" else 0:]
                    if chr(b) not in "0123456789abcdefABCDEF"), None)
        found = f"the character {bad!r}" if bad is not None else "nothing after 0x"
        raise LineError(f"a hex {which}; found {found} in {field.decode('ascii', 'replace')!r}")
    digits = field
    if field[:2] in (b"0x", b"0X"):
        if not lenient:
            raise LineError(f"a {which} in hex without a 0x prefix (lenient mode accepts it)")
        kinds.add("0x-prefix")
        digits = field[2:]
    if digits != digits.lower():
        if not lenient:
            raise LineError(f"a {which} in lowercase hex (lenient mode accepts uppercase)")
        kinds.add("uppercase-hex")
    significant = digits.lstrip(b"0") or b"0"
    if len(significant) > MAX_DIGITS:
        raise LineError(f"a {which} of at most 64 bits (16 hex digits); found {len(significant)} digits")
    if len(significant) != len(digits):
        if not lenient:
            raise LineError(f"a {which} without zero padding (lenient mode accepts it)")
        kinds.add("zero-padding")
    return int(significant, 16), kinds


def strict_line(line: bytes) -> tuple[int, int]:
    """``(dest, src)`` of a strict data line (without its newline), or LineError."""
    match = _STRICT.fullmatch(line)
    if match is not None and not (match[1][0] == 0x30 and len(match[1]) > 1) \
            and not (match[2][0] == 0x30 and len(match[2]) > 1):
        return int(match[1], 16), int(match[2], 16)
    problem = text_problem(line.rstrip(b"\r"), comment_ok=False)
    if problem is not None:
        raise LineError(problem)
    if line.endswith(b"\r"):
        raise LineError(f"{DATA_EXPECTED}, ending in LF only (lenient mode accepts CRLF)")
    stripped = line.strip(b" \t")
    if not stripped:
        raise LineError(f"{DATA_EXPECTED}; found a blank line (lenient mode skips blank lines)")
    if stripped.startswith(b"#"):
        if is_headerish(line):
            raise LineError(f"{DATA_EXPECTED}; found a second header (two dumps concatenated?)")
        raise LineError(f"{DATA_EXPECTED}; found a comment (lenient mode skips comments)")
    fields = stripped.split()
    if len(fields) != 2:
        raise LineError(f"{DATA_EXPECTED}; found {len(fields)} field{'s' if len(fields) != 1 else ''}")
    for field, which in zip(fields, ("dest_pfn", "src_pfn")):
        _field_value(field, which, lenient=False)
    raise LineError(f"{DATA_EXPECTED}, with exactly one space and no other whitespace "
                    "(lenient mode accepts more)")


@dataclass(frozen=True)
class LenientLine:
    """One line as lenient mode sees it: a pair (with the tolerances it needed) or a skipped line."""

    dest: int | None
    src: int | None
    kinds: frozenset[str]


_SKIP_BLANK = LenientLine(None, None, frozenset({"blank-line"}))


def lenient_line(line: bytes) -> LenientLine:
    """Parse one line (without its LF) in lenient mode, or raise LineError."""
    kinds: set[str] = set()
    if line.endswith(b"\r"):
        line = line[:-1]
        kinds.add("crlf")
    stripped = line.strip(b" \t")
    is_comment = stripped.startswith(b"#")
    problem = text_problem(line, comment_ok=is_comment)
    if problem is not None:
        raise LineError(problem)
    if not stripped:
        return LenientLine(None, None, frozenset(kinds | {"blank-line"})) if kinds else _SKIP_BLANK
    if is_comment:
        if is_headerish(stripped):
            raise LineError("the header only once, before the data lines (two dumps concatenated?)")
        return LenientLine(None, None, frozenset(kinds | {"comment"}))
    match = _LENIENT.fullmatch(line)
    if match is None:
        fields = stripped.split()
        if len(fields) != 2:
            raise LineError(f"{DATA_EXPECTED}; found {len(fields)} field{'s' if len(fields) != 1 else ''}")
        for field, which in zip(fields, ("dest_pfn", "src_pfn")):
            _field_value(field, which, lenient=True)
        raise LineError(DATA_EXPECTED)   # not reached: one of the fields is bad
    dest, dest_kinds = _field_value(line[match.start(1) if match[1] else match.start(2):match.end(2)],
                                    "dest_pfn", lenient=True)
    src, src_kinds = _field_value(line[match.start(3) if match[3] else match.start(4):match.end(4)],
                                  "src_pfn", lenient=True)
    kinds |= dest_kinds | src_kinds
    if stripped != line or match.end(2) + 1 != (match.start(3) if match[3] else match.start(4)) \
            or line[match.end(2)] != 0x20:
        kinds.add("whitespace")
    return LenientLine(dest, src, frozenset(kinds))
