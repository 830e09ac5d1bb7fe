"""The value a ``/proc/kexec_pgmap`` v1 dump becomes, and its header line.

The format is labkit's own (the 2008 multi-stage kexec patch that would have
defined it is lost); ``docs/pgmap-format.md`` is the normative spec.  One row
per ``IND_SOURCE`` entry of the kimage (``kimage_add_entry`` in
kernel/kexec_core.c): the destination pfn the page is relocated to and the
source pfn that holds it until the jump.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

VERSION = 1
DEFAULT_PAGE_SIZE = 4096
STATES = ("loading", "loaded")
COLUMNS = ("dest_pfn", "src_pfn")
HEADER_TEMPLATE = "# kexec_pgmap v1 page_size={page_size} entries={entries} state={state}"
HEADER_EXPECTED = "the header '# kexec_pgmap v1 page_size=4096 entries=N state=loading|loaded'"
MAX_PAGE_SIZE = 1 << 16

_STRICT_HEADER = re.compile(rb"# kexec_pgmap v(\S*) page_size=(\S*) entries=(\S*) state=(\S*)")
_LENIENT_HEADER = re.compile(rb"#[ \t]*kexec_pgmap[ \t]+v(\S*)[ \t]+page_size=(\S*)[ \t]+entries=(\S*)"
                             rb"[ \t]+state=(\S*)")
_HEADERISH = re.compile(rb"[ \t]*#[ \t]*kexec_pgmap(?![^ \t\r])")
_DECIMAL = re.compile(rb"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Header:
    """The parsed header line."""

    page_size: int
    entries: int
    state: str


def format_header(entries: int, state: str, page_size: int = DEFAULT_PAGE_SIZE) -> str:
    check_state(state)
    check_page_size(page_size)
    return HEADER_TEMPLATE.format(page_size=page_size, entries=entries, state=state)


def check_state(state: str) -> str:
    if state not in STATES:
        raise ValueError(f"state must be 'loading' or 'loaded', got {state!r}")
    return state


def check_page_size(page_size: int) -> int:
    if not isinstance(page_size, (int, np.integer)) or not _page_size_ok(int(page_size)):
        raise ValueError(f"page_size must be a power of two from 4096 to 65536, got {page_size!r}")
    return int(page_size)


def is_headerish(line: bytes) -> bool:
    """True for a line that tries to be a header (``# kexec_pgmap ...``), well formed or not."""
    return _HEADERISH.match(line) is not None


def parse_header(line: bytes, *, lenient: bool) -> Header | str:
    """The header, or a string saying what was expected instead.

    ``line`` excludes the newline.  Lenient mode also accepts surrounding
    whitespace, a CR before the newline and runs of spaces or tabs between fields.
    """
    if lenient:
        match = _LENIENT_HEADER.fullmatch(line.strip(b" \t\r"))
    else:
        match = _STRICT_HEADER.fullmatch(line)
    if match is None:
        if not lenient and line.strip(b" \t\r") != line:
            return HEADER_EXPECTED + " without surrounding whitespace or CR (lenient mode accepts them)"
        if not lenient and _LENIENT_HEADER.fullmatch(line) is not None:
            return HEADER_EXPECTED + " with single spaces between fields (lenient mode accepts more)"
        prefix = (_LENIENT_HEADER if lenient else _STRICT_HEADER).match(line.strip(b" \t\r") if lenient else line)
        if prefix is not None:
            return HEADER_EXPECTED + " with nothing after the state field"
        return HEADER_EXPECTED
    version, page_size, entries, state = match.groups()
    if version != b"1":
        return f"kexec_pgmap version v1 (this reader knows only v1), in {HEADER_EXPECTED}"
    if not _DECIMAL.fullmatch(page_size) or not _page_size_ok(int(page_size)):
        return "page_size=<a power of two from 4096 to 65536 in decimal> in the header"
    if not _DECIMAL.fullmatch(entries):
        return "entries=<decimal count without sign or leading zeros> in the header"
    if state.decode("ascii", "replace") not in STATES:
        return "state=loading or state=loaded in the header"
    return Header(int(page_size), int(entries), state.decode("ascii"))


def _page_size_ok(page_size: int) -> bool:
    return DEFAULT_PAGE_SIZE <= page_size <= MAX_PAGE_SIZE and page_size & (page_size - 1) == 0


@dataclass(frozen=True)
class Tolerance:
    """Something lenient mode accepted: what, how often, and the first lines where."""

    kind: str
    count: int
    lines: tuple[int, ...] = ()

    def __str__(self) -> str:
        where = ", ".join(str(n) for n in self.lines)
        more = ", ..." if self.count > len(self.lines) and self.lines else ""
        return f"{self.kind}: {self.count}" + (f" (line {where}{more})" if where else "")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "lines": list(self.lines)}


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({c: np.empty(0, dtype=np.uint64) for c in COLUMNS})


def make_frame(dest: np.ndarray, src: np.ndarray) -> pd.DataFrame:
    """The DataFrame of a map: uint64 columns ``dest_pfn`` and ``src_pfn``, no copy."""
    return pd.DataFrame({"dest_pfn": np.asarray(dest, dtype=np.uint64),
                         "src_pfn": np.asarray(src, dtype=np.uint64)}, copy=False)


@dataclass(frozen=True, eq=False)
class PgMap:
    """A destination -> source page map, as read from a dump or built from a kimage.

    ``df`` has uint64 columns ``dest_pfn`` and ``src_pfn``, one row per
    ``IND_SOURCE`` entry (sorted by destination when read).  ``entries`` is the
    count the header declared (None if lenient mode read a headerless map),
    ``state`` is ``loading``/``loaded`` (None without header), ``source`` names
    where it came from and ``tolerated`` lists what lenient reading accepted.
    """

    df: pd.DataFrame = field(default_factory=_empty_frame)
    page_size: int = DEFAULT_PAGE_SIZE
    entries: int | None = None
    state: str | None = None
    source: str = "<memory>"
    tolerated: tuple[Tolerance, ...] = ()

    def __post_init__(self) -> None:
        if list(self.df.columns) != list(COLUMNS):
            raise ValueError(f"PgMap.df must have columns {list(COLUMNS)}, got {list(self.df.columns)}")
        for column in COLUMNS:
            if self.df[column].dtype != np.uint64:
                raise ValueError(f"PgMap.df[{column!r}] must be uint64, got {self.df[column].dtype}")
        check_page_size(self.page_size)
        if self.state is not None:
            check_state(self.state)
        object.__setattr__(self, "tolerated", tuple(self.tolerated))

    @classmethod
    def from_arrays(cls, dest_pfn: Any, src_pfn: Any, state: str = "loaded", *,
                    page_size: int = DEFAULT_PAGE_SIZE, source: str = "<arrays>") -> "PgMap":
        """A map built in memory (e.g. from a loader's entry list); rows kept in the given order."""
        dest = np.asarray(dest_pfn, dtype=np.uint64)
        src = np.asarray(src_pfn, dtype=np.uint64)
        if dest.shape != src.shape or dest.ndim != 1:
            raise ValueError(f"dest_pfn and src_pfn must be 1-D of one length, got {dest.shape} and {src.shape}")
        return cls(make_frame(dest, src), page_size, int(dest.size), state, source)

    @property
    def dest_pfn(self) -> np.ndarray:
        return self.df["dest_pfn"].to_numpy(dtype=np.uint64)

    @property
    def src_pfn(self) -> np.ndarray:
        return self.df["src_pfn"].to_numpy(dtype=np.uint64)

    @property
    def in_place(self) -> np.ndarray:
        """Rows whose page already sits at its destination (the swap trick's identity entries)."""
        return self.dest_pfn == self.src_pfn

    def __len__(self) -> int:
        return len(self.df)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PgMap):
            return NotImplemented
        return (self.page_size, self.entries, self.state, self.source, self.tolerated) == \
            (other.page_size, other.entries, other.state, other.source, other.tolerated) \
            and self.df.reset_index(drop=True).equals(other.df.reset_index(drop=True))

    __hash__ = None  # type: ignore[assignment]
