"""The e820 memory map as the x86 kernel prints it at boot (``dmesg``).

Two line formats (``e820__print_table`` / 2.6's ``e820_print_map``)::

    BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)        2.6.x, end EXCLUSIVE
    BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable   3.x+,  end INCLUSIVE

The firmware table (``BIOS-e820:`` rows, after ``BIOS-provided physical RAM
map:``) is *the* map.  What the kernel does to it later is returned apart, as
``Modification`` rows in line order, never folded in silently:

* ``e820: update [mem a-b] usable ==> reserved`` (2.6: ``e820 update range: a - b (usable) ==> (reserved)``),
* ``e820: remove [mem a-b] [type]`` (2.6: ``e820 remove range: a - b [(type)]``),
* rows of the tables printed after a change: ``modified:`` (modified physical
  RAM map), ``user:`` (user-defined, from ``mem=``/``memmap=``), ``reserve
  setup_data:`` (extended physical RAM map); each printed table is a snapshot
  of the whole e820 table at that point,
* ``e820: [mem a-b] available for PCI devices`` and 2.6's ``Allocating PCI
  resources starting at X (gap: start:size)``: the gap PCI may use,
* ``e820: reserve RAM buffer [mem a-b]``: RAM tails the resource tree reserves.

``apply_modifications`` replays them on request.  EFI memory map lines
(``efi: mem00: ...``) are not e820 and are ignored like any other unrelated
line.  A log spanning several boots (syslog) yields the last boot: a new
``BIOS-provided physical RAM map:`` header, or firmware rows after
modifications, starts over (``boots_seen`` counts them).  A row a mail client
wrapped (``... ACPI`` / ``data``) is joined with the next line when that line
has no log prefix of its own and the two together parse.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import ParseError
from ..memmap import MemoryMap, MemRange
from .e820_types import E820_TYPE_MAX, TYPE_RX, e820_number, e820_type
from .lines import Line, LineStream, Source, parse_wrapped, source_name
from .numbers import U64_MAX, hex_0x, hex_bare

FORMAT = "e820"

FIRMWARE = ("BIOS-e820", "Xen")

_HEADER = re.compile(r"(?:e820:\s*)?(?P<what>BIOS-provided|Xen-provided|user-defined|modified|extended)"
                     r" physical RAM map:")
# BIOS-e820 rows are always e820 rows; the shorter names only before an address
_ROW_START = re.compile(r"(BIOS-e820):\s*|(Xen|modified|user|reserve setup_data):\s*(?=\[mem\s|[0-9a-fA-F]{8,}\s+-)")
_MEM = re.compile(r"\[mem\s+([^\]\s]*?)\s*-\s*([^\]\s]*)\s*\]\s*")
_OLD = re.compile(r"(\S+)\s+-\s+(\S+)\s*")
_UPDATE_NEW = re.compile(r"e820:\s*update\s")
_REMOVE_NEW = re.compile(r"e820:\s*remove\s")
_UPDATE_OLD = re.compile(r"e820 update range:")
_REMOVE_OLD = re.compile(r"e820 remove range:")
_PCI_NEW = re.compile(r"e820:\s*\[mem\b.*available for PCI devices")
_PCI_OLD = re.compile(r"Allocating PCI resources starting at\s+(\S+)\s+\(gap:\s*([^:\s]+):([^)\s]+)\)(?:\s+.*)?")
_RAM_BUFFER = re.compile(r"e820:\s*reserve RAM buffer\s")


@dataclass(frozen=True)
class Modification:
    """A change the kernel made (or may make) to the firmware e820 map, as logged.

    ``kind`` is ``update``, ``remove``, ``table`` (one row of a printed
    ``modified``/``user``/``reserve setup_data`` table; ``table`` numbers the
    printed tables from 0), ``pci-gap`` or ``ram-buffer``.  ``end`` is
    exclusive.  ``old_type``/``new_type`` are canonical labkit types (``None``
    where the line names none).
    """

    kind: str
    start: int
    end: int
    old_type: str | None
    new_type: str | None
    line: int
    who: str = ""
    table: int | None = None
    name: str = ""             # the new type as printed (``usable``, ``type 20``)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start, "end": self.end, "old_type": self.old_type,
                "new_type": self.new_type, "line": self.line, "who": self.who, "table": self.table,
                "name": self.name}


@dataclass(frozen=True)
class E820Log:
    """The firmware map of the last boot in a log and the modifications after it."""

    source: str
    map: MemoryMap
    modifications: tuple[Modification, ...]
    boots_seen: int
    line: int          # first line of the firmware table (0 if the log has none)


# --- line parsing -------------------------------------------------------------
def _addresses(line: Line, text: str) -> tuple[int, int, str]:
    """``[mem a-b]`` (inclusive) or ``a - b`` (2.6, exclusive) at the start of ``text``: start, end, rest."""
    if text.startswith("[mem"):
        m = _MEM.match(text)
        if not m:
            raise line.error("'[mem 0x<start>-0x<end>]'")
        start = hex_0x(line, m.group(1), "range start")
        last = hex_0x(line, m.group(2), "range end")
        if last < start:
            raise line.error(f"an end at or above the start {start:#x}, not {last:#x}")
        return start, last + 1, text[m.end():]
    m = _OLD.match(text)
    if not m:
        raise line.error("'<start> - <end>' in hex (2.6 format) or '[mem 0x<start>-0x<end>]'")
    start = hex_bare(line, m.group(1), "range start")
    end = hex_bare(line, m.group(2), "range end")
    if end < start:
        raise line.error(f"an end at or above the start {start:#x}, not {end:#x}")
    return start, end, text[m.end():]


def _take_type(line: Line, text: str, required: bool = True) -> tuple[tuple[str, str] | None, str]:
    """A printed e820 type at the start of ``text``: ((type, printed name), rest)."""
    m = TYPE_RX.match(text)
    if not m:
        if required:
            raise line.error("an e820 type (usable, reserved, soft reserved, ACPI data, ACPI NVS, unusable, "
                             "persistent (type N), type N)")
        return None, text
    number = e820_number(m)
    if number > E820_TYPE_MAX:
        raise line.error(f"an e820 type number of at most {E820_TYPE_MAX}, got {number}")
    rest = text[m.end():]
    if rest and not rest[0].isspace():
        raise line.error("an e820 type followed by the end of the line or a space")
    return e820_type(number), rest.strip()


def _row(line: Line, body: str) -> MemRange:
    start, end, rest = _addresses(line, body)
    typed, _note = _take_type(line, rest)
    assert typed is not None
    return MemRange(start, end, typed[0], typed[1])


def _update(line: Line, body: str) -> Modification:
    start, end, rest = _addresses(line, body)
    old, rest = _take_type(line, rest)
    if not rest.startswith("==>"):
        raise line.error("'<old type> ==> <new type>'")
    new, _note = _take_type(line, rest[3:].lstrip())
    assert old is not None and new is not None
    return Modification("update", start, end, old[0], new[0], line.number, name=new[1])


def _remove(line: Line, body: str) -> Modification:
    start, end, rest = _addresses(line, body)
    old, _note = _take_type(line, rest, required=False)
    return Modification("remove", start, end, old[0] if old else None, None, line.number)


def _pci_old(line: Line, text: str) -> Modification:
    m = _PCI_OLD.fullmatch(text)
    if not m:
        raise line.error("'Allocating PCI resources starting at <hex> (gap: <start>:<size>)'")
    hex_bare(line, m.group(1), "PCI start")
    start = hex_bare(line, m.group(2), "gap start")
    size = hex_bare(line, m.group(3), "gap size")
    if start + size > U64_MAX + 1:
        raise line.error("a PCI gap that ends at or below 2**64")
    return Modification("pci-gap", start, start + size, None, None, line.number)


def _pci_new(line: Line, body: str) -> Modification:
    start, end, _rest = _addresses(line, body[body.index("[mem"):])
    return Modification("pci-gap", start, end, None, None, line.number)


def _ram_buffer(line: Line, body: str) -> Modification:
    start, end, _rest = _addresses(line, body)
    return Modification("ram-buffer", start, end, None, None, line.number)


#: lines that change (or annotate) the map: pattern of the start -> parser of the rest
_MODIFIERS = ((_UPDATE_NEW, _update), (_UPDATE_OLD, _update), (_REMOVE_NEW, _remove), (_REMOVE_OLD, _remove),
              (_RAM_BUFFER, _ram_buffer))


def _modification(line: Line, text: str) -> Modification | None:
    """The modification ``text`` logs, or None if it is not one."""
    for rx, parse in _MODIFIERS:
        m = rx.match(text)
        if m:
            return parse(line, text[m.end():].lstrip())
    if _PCI_NEW.match(text):
        return _pci_new(line, text)
    if text.startswith("Allocating PCI resources starting at"):
        return _pci_old(line, text)
    return None


def _own(line: Line) -> bool:
    """Whether ``line`` is an e820 line by itself (so not the wrapped tail of another)."""
    text = line.text.strip()
    return bool(_HEADER.match(text) or _ROW_START.match(text) or any(rx.match(text) for rx, _ in _MODIFIERS)
                or _PCI_NEW.match(text) or text.startswith("Allocating PCI resources starting at"))


def _row_line(line: Line) -> tuple[str, MemRange]:
    text = line.text.strip()
    row = _ROW_START.match(text)
    assert row is not None
    return row.group(1) or row.group(2), _row(line, text[row.end():])


def _modification_line(line: Line) -> Modification | None:
    return _modification(line, line.text.strip())


# --- the reader ---------------------------------------------------------------
def read_e820(source: Source) -> E820Log:
    """Read the e820 tables of a dmesg / syslog capture (see the module docstring)."""
    name = source_name(source)
    firmware: list[MemRange] = []
    first_line = 0
    mods: list[Modification] = []
    boots = 0
    table_index = -1
    last_who = ""          # who printed the previous recognised e820 line (table boundaries)

    def new_boot() -> None:
        nonlocal firmware, mods, boots, table_index, first_line
        firmware, mods, table_index, first_line = [], [], -1, 0
        boots += 1

    lines = LineStream(source)
    for line in lines:
        text = line.text.strip()
        header = _HEADER.match(text)
        if header:
            if header.group("what") in ("BIOS-provided", "Xen-provided") and (firmware or mods or boots == 0):
                new_boot()
            last_who = "header"
            continue
        row = _ROW_START.match(text)
        if row:
            who, rng = parse_wrapped(lines, line, _row_line, _own)
            if who in FIRMWARE:
                if boots == 0 or mods:
                    new_boot()
                if not firmware:
                    first_line = line.number
                firmware.append(rng)
            else:
                if last_who != who:
                    table_index += 1
                mods.append(Modification("table", rng.start, rng.end, None, rng.type, line.number, who,
                                         table_index, rng.name))
            last_who = who
            continue
        mod = parse_wrapped(lines, line, _modification_line, _own)
        if mod is not None:
            if boots == 0:
                new_boot()
            mods.append(mod)
            last_who = mod.kind
    if boots == 0:
        raise ParseError(name, 0, "", "an e820 table ('BIOS-e820:' lines) or e820 modification lines")
    return E820Log(name, MemoryMap(tuple(firmware)), tuple(mods), boots, first_line)


# --- replaying modifications ----------------------------------------------------
def _cut(r: MemRange, start: int, end: int) -> list[MemRange]:
    """The parts of ``r`` outside ``[start, end)``."""
    out = []
    if r.start < start:
        out.append(MemRange(r.start, min(r.end, start), r.type, r.name, r.level))
    if r.end > end:
        out.append(MemRange(max(r.start, end), r.end, r.type, r.name, r.level))
    return out


def apply_modifications(memmap: MemoryMap, modifications: Iterable[Modification]) -> MemoryMap:
    """Replay ``modifications`` in order on ``memmap`` (level-0 ranges), as the kernel did.

    ``update`` retypes the parts of ranges of ``old_type`` inside the span
    (``__e820__range_update``); ``remove`` cuts the span out of ranges of
    ``old_type``, or of all ranges when no type was printed
    (``e820__range_remove``); a printed ``table`` replaces the map by its rows
    (it is a snapshot of the whole table); ``pci-gap`` and ``ram-buffer``
    change nothing (the e820 table stays as it is; they are listed for
    information).
    """
    ranges = list(memmap.ranges)
    mods = list(modifications)
    seen_tables: set[int] = set()
    for mod in mods:
        if mod.kind == "table":
            if mod.table in seen_tables:
                continue
            seen_tables.add(mod.table)  # type: ignore[arg-type]
            ranges = [MemRange(m.start, m.end, m.new_type or "", m.name, 0)
                      for m in mods if m.kind == "table" and m.table == mod.table]
        elif mod.kind in ("update", "remove"):
            out: list[MemRange] = []
            for r in ranges:
                hit = (r.level == 0 and r.start < mod.end and mod.start < r.end
                       and (mod.old_type is None or r.type == mod.old_type))
                if not hit:
                    out.append(r)
                    continue
                out.extend(_cut(r, mod.start, mod.end))
                if mod.kind == "update":
                    assert mod.new_type is not None
                    out.append(MemRange(max(r.start, mod.start), min(r.end, mod.end), mod.new_type,
                                        mod.name or mod.new_type, 0))
            ranges = out
    return MemoryMap(tuple(ranges))
