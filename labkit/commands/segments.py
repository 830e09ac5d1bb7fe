"""``labkit segments FILE``: the kexec segment table in a kexec-tools or kexec_file log.

Prints entry, flags (decoded), ``nr_segments``, each segment with its end
(``mem + memsz``, exclusive) and page count, and the memory ranges the log
printed.  ``--json`` gives the same as numbers.
"""
from __future__ import annotations

import argparse
from typing import Any

from ..formats import SEGMENT_FORMATS, SegmentLog, read_segments
from ..render import dumps, key_values, table
from .memmap import open_input, range_rows


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("segments", help="show the segment table in a kexec log",
                                   description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", help="kexec -d output or a dmesg with kexec_file lines (plain or .gz; - for stdin)")
    parser.add_argument("--format", choices=SEGMENT_FORMATS, default=None, help="skip format detection")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)
    return parser


def _hex(value: int | None) -> str:
    return "(not printed)" if value is None else f"{value:#x}"


def render_text(log: SegmentLog) -> str:
    head: dict[str, Any] = {
        "source": log.source, "format": log.format, "entry": _hex(log.entry), "flags": _hex(log.flags),
        "flag names": ", ".join(log.flag_names()) or "-", "nr_segments": log.nr_segments,
        "loads seen": f"{log.loads_seen} (showing the last, from line {log.line})",
    }
    if log.failed:
        head["load failed"] = log.error or "yes"
    rows = [{"index": i, "buf": s.buf, "bufsz": s.bufsz, "mem": s.mem, "memsz": s.memsz, "end": s.end,
             "pages": s.pages} for i, s in enumerate(log.segments)]
    parts = [key_values(head), "", "segments (end = mem + memsz, exclusive):",
             table(rows, hex_columns=("buf", "bufsz", "mem", "memsz", "end"))]
    if log.loaded:
        loaded = [{"line": i.line, "what": i.what, "mem": i.mem, "bufsz": "" if i.bufsz is None else f"{i.bufsz:#x}",
                   "memsz": "" if i.memsz is None else f"{i.memsz:#x}"} for i in log.loaded]
        parts += ["", "loaded (kernel messages):", table(loaded, hex_columns=("mem",))]
    memmap = log.memory_map
    label = "MEMORY RANGES" if len(log.memory_ranges) else "E820 memmap"
    parts += ["", f"memory ranges ({label if len(memmap) else 'none printed'}, inclusive ends):",
              table(range_rows(memmap), hex_columns=("start", "end"))]
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    log = read_segments(open_input(args.file), args.format)
    print(dumps(log.to_dict()) if args.json else render_text(log))
    return 0
