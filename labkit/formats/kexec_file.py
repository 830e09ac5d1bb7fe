"""The kernel's ``kexec_file_load`` debug lines, as ``dmesg`` shows them.

Since 6.8 (``kexec_dprintk``, printed when kexec-tools passes
``KEXEC_FILE_DEBUG`` for ``kexec -s -d``; before that with ``pr_debug``) the
kernel prints, behind its module prefix (``kexec_file: ``,
``kexec_file(Image): ``, ``kexec-bzImage64: ``) and dmesg timestamps::

    Loaded 64bit kernel at 0x207c000000 bufsz=0xc88200 memsz=0x3c4a000
    E820 memmap:
    0000000000000000-000000000009a3ff (1)
    nr_segments = 5
    segment[0]: buf=0x000000004e5ece74 bufsz=0x211 mem=0x207fffe000 memsz=0x1000
    kexec_file_load: type:0, start:0x207fff91a0 head:0x109e004002 flags:0x8

Kernels before 6.8 printed ``Loading segment 0: buf=0x.. bufsz=0x.. mem=0x..
memsz=0x..`` (``pr_debug``) and no ``nr_segments``.  ``buf`` is a hashed
kernel pointer (kept for display only).  ``entry`` is ``image->start`` from
the ``kexec_file_load:`` line, ``flags`` the ``KEXEC_FILE_*`` flags printed
there.  ``Loaded ... at`` lines are recorded with the load they precede.
Several loads in one log: the last table is kept, ``loads_seen`` counts them;
the ``E820 memmap:`` block is the last one printed.  Such lines are long and
mail clients wrap them (``... buf=0x..`` / ``bufsz=0x.. mem=..``): a broken
segment or ``Loaded`` line is joined with the next line when that line has no
log prefix of its own and the two together parse.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..errors import ParseError
from ..memmap import MemoryMap
from ..segments import Segment
from .lines import Line, LineStream, Source, continuation, joined, parse_wrapped, source_name
from .numbers import decimal, hex_0x
from .ranges import E820_MEMMAP, RangeBlocks
from .segment_log import LoadedItem, SegmentLog, TableBuilder

FORMAT = "kexec-file"

#: a kernel module prefix, stripped only before one of the messages this reader knows
MODULE_PREFIX = re.compile(
    r"[A-Za-z][\w.-]*(?:\([^)]*\))?:\s+(?=segment\[|Loading segment|nr_segments|Loaded |kexec_file_load:"
    r"|E820 memmap|[0-9a-fA-F]{8,}-)")

_SEG_START = re.compile(r"(?:segment\[\s*(\S*?)\s*\]|Loading segment\s+(\S*?)):\s*(.*)")
_SEG_BODY = re.compile(r"buf=(\S+)\s+bufsz=(\S+)\s+mem=(\S+)\s+memsz=(\S+)(?:\s+.*)?")
_NR = re.compile(r"nr_segments\s*=\s*(\S+)(?:\s+.*)?")
_START_START = re.compile(r"kexec_file_load:\s*type:")
_START = re.compile(r"kexec_file_load:\s*type:(\S+?),\s*start:(\S+)\s+head:(\S+?)(?:\s+flags:(\S+))?(?:\s+.*)?")
_LOADED_START = re.compile(r"Loaded .+? at (?:0[xX]|[0-9])")
_LOADED = re.compile(r"Loaded (.+?) at (0[xX][0-9a-fA-F]+|\S+?)[.,]?(?:\s+(.*))?")
_LOADED_SIZES = re.compile(r"bufsz=(\S+?),?\s+memsz=(\S+?)[.,]?(?:\s+.*)?")
_PTRVAL = ("(____ptrval____)", "0x(____ptrval____)")
_INT_MAX = 0xFFFFFFFF


def normalise(text: str) -> str:
    """Strip the kernel module prefix (``kexec_file: ``) from a message this reader knows."""
    m = MODULE_PREFIX.match(text)
    return text[m.end():] if m else text


def _segment(line: Line, body: str, index: int) -> tuple[int, int, int, int]:
    m = _SEG_BODY.fullmatch(body)
    if not m:
        raise line.error(f"'segment[{index}]: buf=0x.. bufsz=0x.. mem=0x.. memsz=0x..'")
    buf = 0 if m.group(1) in _PTRVAL else hex_0x(line, m.group(1), f"segment[{index}] buf")
    return (buf, hex_0x(line, m.group(2), f"segment[{index}] bufsz"),
            hex_0x(line, m.group(3), f"segment[{index}] mem"), hex_0x(line, m.group(4), f"segment[{index}] memsz"))


def _own(line: Line) -> bool:
    """Whether ``line`` is a message this reader knows by itself (so no wrapped tail)."""
    text = normalise(line.text.strip())
    return bool(_SEG_START.fullmatch(text) or text.startswith("nr_segments") or _START_START.match(text)
                or _LOADED_START.match(text))


def _segment_line(line: Line) -> tuple[int, tuple[int, int, int, int]]:
    seg = _SEG_START.fullmatch(normalise(line.text.strip()))
    if not seg:
        raise line.error("'segment[i]: buf=0x.. bufsz=0x.. mem=0x.. memsz=0x..'")
    token = seg.group(1) if seg.group(1) is not None else seg.group(2)
    index = decimal(line, token, "segment index", _INT_MAX)
    return index, _segment(line, seg.group(3), index)


def _loaded(line: Line, text: str | None = None) -> LoadedItem:
    text = normalise(line.text.strip()) if text is None else text
    m = _LOADED.fullmatch(text)
    if not m:
        raise line.error("'Loaded <what> at 0x<addr> [bufsz=0x.. memsz=0x..]'")
    mem = hex_0x(line, m.group(2), "load address")
    bufsz = memsz = None
    rest = m.group(3) or ""
    if "bufsz=" in rest or "memsz=" in rest:
        sizes = _LOADED_SIZES.fullmatch(rest)
        if not sizes:
            raise line.error("'bufsz=0x.. memsz=0x..' after the load address")
        bufsz = hex_0x(line, sizes.group(1), "bufsz")
        memsz = hex_0x(line, sizes.group(2), "memsz")
    return LoadedItem(m.group(1), mem, bufsz, memsz, line.number)


def _start_line(line: Line) -> tuple[int, int | None]:
    """``kexec_file_load: type:N, start:0x.. head:0x.. flags:0x..``: (entry, flags)."""
    m = _START.fullmatch(normalise(line.text.strip()))
    if not m:
        raise line.error("'kexec_file_load: type:N, start:0x.. head:0x.. flags:0x..'")
    decimal(line, m.group(1), "image type", _INT_MAX)
    entry = hex_0x(line, m.group(2), "start")
    hex_0x(line, m.group(3), "head")
    flags = hex_0x(line, m.group(4), "flags") if m.group(4) is not None else None
    return entry, flags


def read_kexec_file(source: Source, *, require_table: bool = True) -> SegmentLog:
    """Read kexec_file debug lines from a dmesg capture (or any log holding them)."""
    name = source_name(source)
    blocks = RangeBlocks()
    tables: list[tuple[TableBuilder, tuple[Segment, ...]]] = []
    current: TableBuilder | None = None
    closed = False          # current table ended by its kexec_file_load line
    pending: list[LoadedItem] = []
    last_line = 0

    def start(line: Line) -> TableBuilder:
        nonlocal current, closed
        finish()
        current, closed = TableBuilder(name, line.number, line.raw), False
        current.loaded, pending[:] = list(pending), []
        return current

    def finish() -> None:
        nonlocal current
        if current is not None:
            tables.append((current, current.finish()))
            current = None

    lines = LineStream(source)
    for line in lines:
        last_line = line.number
        text = normalise(line.text.strip())
        if blocks.feed(line, text):
            continue
        seg = _SEG_START.fullmatch(text)
        if seg:
            index, values = parse_wrapped(lines, line, _segment_line, _own)
            if current is None or closed or (index == 0 and current.count):
                start(line)
            assert current is not None
            for field, value in zip(("buf", "bufsz", "mem", "memsz"), values):
                current.add(line, index, field, value)
        elif text.startswith("nr_segments"):
            m = _NR.fullmatch(text)
            if not m:
                raise line.error("'nr_segments = N'")
            start(line).set_nr(line, decimal(line, m.group(1), "nr_segments", _INT_MAX))
        elif _START_START.match(text):
            entry, flags = parse_wrapped(lines, line, _start_line, _own)
            if current is None or closed:
                raise line.error("a segment table ('nr_segments = N', 'segment[i]: ...') before this line")
            current.entry, current.flags, closed = entry, flags, True
        elif _LOADED_START.match(text):
            item = parse_wrapped(lines, line, _loaded, _own)
            nxt = continuation(lines, _own) if item.bufsz is None else None
            if nxt is not None and _LOADED_SIZES.fullmatch(nxt.text.strip()):
                item = _loaded(joined(line, nxt))       # "Loaded kernel at 0x.." / "bufsz=0x.. memsz=0x.."
                next(lines)
            pending.append(item)
    finish()

    e820 = blocks.last(E820_MEMMAP)
    base = SegmentLog(source=name, format=FORMAT, entry=None, flags=None, nr_segments=0, segments=(),
                      memory_ranges=MemoryMap(), e820=e820.memory_map("e820") if e820 else None,
                      loads_seen=len(tables), loaded=tuple(pending),
                      other_ranges=tuple(b for b in blocks.blocks if b.header != E820_MEMMAP))
    if not tables:
        if require_table:
            raise ParseError(name, last_line, "",
                             "kexec_file segment lines ('segment[i]: buf=0x.. bufsz=0x.. mem=0x.. memsz=0x..')")
        return base
    table, segments = tables[-1]
    return replace(base, entry=table.entry, flags=table.flags, nr_segments=len(segments), segments=segments,
                   line=table.line, loaded=tuple(table.loaded))
