"""``labkit memmap FILE``: the memory map in an e820 dmesg, /proc/iomem or kexec log.

Prints the ranges (inclusive ends, as firmware and the kernel print them),
bytes per type, RAM in bytes and pages, and the logged modifications apart
from the map; ``--apply-modifications`` replays them first.  ``--json``
gives the same with exclusive ends.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..formats import FORMATS, MemmapResult, read_memmap
from ..memmap import MemoryMap
from ..render import dumps, key_values, table


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("memmap", help="show the memory map in an e820/iomem/kexec log",
                                   description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", help="dmesg capture, /proc/iomem copy or kexec -d log (plain or .gz; - for stdin)")
    parser.add_argument("--format", choices=FORMATS, default=None, help="skip format detection")
    parser.add_argument("--json", action="store_true", help="print JSON (range ends exclusive)")
    parser.add_argument("--apply-modifications", action="store_true",
                        help="replay logged e820 updates/removals/tables on the firmware map")
    parser.set_defaults(func=run)
    return parser


def human(nbytes: int) -> str:
    """A byte count for people: whole binary units when exact, else two decimals."""
    for unit, factor in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= factor:
            return f"{nbytes // factor}{unit}" if nbytes % factor == 0 else f"{nbytes / factor:.2f}{unit}"
    return f"{nbytes}B"


def open_input(path: str) -> Any:
    """The file to read: a path, or standard input for ``-``."""
    return sys.stdin.buffer if path == "-" else path


def range_rows(memmap: MemoryMap) -> list[dict[str, Any]]:
    """Rows for the text table in address order (parents before children), inclusive ends."""
    ordered = sorted(memmap, key=lambda r: (r.start, r.level, -r.end))
    return [{"start": r.start, "end": r.end - 1 if r.end > r.start else r.start, "size": human(r.size),
             "type": r.type, "name": r.name, "level": r.level} for r in ordered]


def render_text(result: MemmapResult, applied: bool) -> str:
    memmap = result.applied() if applied else result.map
    parts = [key_values({"source": result.source, "format": result.format, "ranges": len(memmap),
                         "modifications": f"{len(result.modifications)} "
                                          + ("(applied)" if applied else "(not applied)")}),
             "", table(range_rows(memmap), hex_columns=("start", "end")), ""]
    totals = [{"type": kind, "bytes": size, "size": human(size)} for kind, size in memmap.totals().items()]
    parts += ["bytes per type (level 0):", table(totals), ""]
    parts.append(key_values({"ram_bytes": memmap.ram_bytes, "ram_size": human(memmap.ram_bytes),
                             "ram_pages": memmap.ram_pages}))
    if result.modifications:
        rows = [{"line": m.line, "kind": m.kind, "who": m.who, "start": m.start,
                 "end": m.end - 1 if m.end > m.start else m.start,
                 "old_type": m.old_type or "", "new_type": m.new_type or ""} for m in result.modifications]
        parts += ["", "modifications " + ("(applied above):" if applied else "(not applied; --apply-modifications):"),
                  table(rows, hex_columns=("start", "end"))]
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    result = read_memmap(open_input(args.file), args.format)
    if args.json:
        print(dumps(result.to_dict(applied=args.apply_modifications)))
    else:
        print(render_text(result, args.apply_modifications))
    return 0
