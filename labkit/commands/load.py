"""``labkit load FILE``: replay a logged segment table through the simulated ``kexec_load``."""
from __future__ import annotations

import argparse
import sys

from .. import render
from ..errors import KexecError
from ..formats import SEGMENT_FORMATS, read_memmap, read_segments
from ..loader import Loader
from ..machine import Machine
from ..segments import ARCHES, KEXEC_ARCH_MASK, KernelConfig
from ..units import format_size, parse_size
from ._options import add_loader_options

EXIT_REJECTED = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("load", help="validate and load a logged segment table",
                       description="Build a machine from the log's memory ranges (or --memmap / --ram), "
                                   "run kexec_load with the logged segments and print the image or the rejection.")
    p.add_argument("file", help="kexec-tools debug output or kexec_file_load dmesg lines (plain or .gz)")
    p.add_argument("--format", choices=SEGMENT_FORMATS, default=None, help="skip format detection")
    p.add_argument("--memmap", metavar="MAPFILE", default=None,
                   help="take the machine's memory map from this e820 dmesg, /proc/iomem or kexec log")
    p.add_argument("--ram", default=None, help="a plain machine of this size instead (e.g. 2GiB)")
    p.add_argument("--flags", type=lambda t: int(t, 16), default=None, help="override the logged flags (hex)")
    p.add_argument("--entry", type=lambda t: int(t, 0), default=None, help="override the logged entry point")
    p.add_argument("--arch", choices=sorted(ARCHES), default=None,
                   help="the simulated kernel's arch (default: from the flags' arch bits, else x86_64)")
    p.add_argument("--no-multistage", action="store_true",
                   help="an upstream kernel: labkit's KS_* flag bits are unknown flags (EINVAL)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_loader_options(p)
    p.set_defaults(func=run)


def _arch_of(flags: int) -> str:
    number = (flags & KEXEC_ARCH_MASK) >> 16
    return next((name for name, n in ARCHES.items() if n == number and name != "default"), "x86_64")


def run(args: argparse.Namespace) -> int:
    log = read_segments(args.file, args.format)
    flags = args.flags if args.flags is not None else (log.flags or 0)
    entry = args.entry if args.entry is not None else (log.entry or 0)
    if log.format == "kexec-file" and args.flags is None:
        flags = 0          # kexec_file_load flags mean something else; replay as a plain kexec_load
    arch = args.arch or _arch_of(flags)
    config = KernelConfig(arch=arch, multistage=not args.no_multistage)
    if args.ram is not None:
        machine, source = Machine.build(parse_size(args.ram), config=config), f"--ram {args.ram}"
    elif args.memmap is not None:
        mm = read_memmap(args.memmap)
        machine, source = Machine.build(mm.map, config=config), f"{mm.format} map in {mm.source}"
    elif len(log.memory_map):
        machine, source = Machine.build(log.memory_map, config=config), f"memory ranges in {log.source}"
    else:
        raise ValueError(f"{log.source} has no memory ranges: give --memmap MAPFILE or --ram SIZE")
    params = {"file": log.source, "format": log.format, "machine": source, "ram": format_size(machine.memmap.ram_bytes),
              "arch": arch, "rules": args.rules, "index": args.index, "hash": args.hash, "buckets": args.buckets,
              "policy": args.policy, "seed": args.seed, "entry_size": args.entry_size,
              "multistage": not args.no_multistage, "entry": entry, "flags": flags}
    loader = Loader(machine, rules=args.rules, index=args.index, hash=args.hash, buckets=args.buckets,
                    policy=args.policy, seed=args.seed, entry_size=args.entry_size)
    try:
        result = loader.kexec_load(entry, list(log.segments), flags)
    except KexecError as exc:
        out = exc.to_dict()
        out["params"] = params
        if args.json:
            print(render.dumps(out))
        else:
            print(render.key_values(params, hex_keys=("entry", "flags")))
            print(f"\nkexec_load rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    image = loader.current(result.slot)          # a KS_START/KS_MID call leaves it loading
    assert image is not None
    out = {"ok": True, "params": params, "segments": [s.to_dict() for s in log.segments],
           "entries": result.entries, "indirection_pages": result.indirection_pages,
           "dest_pages": len(image.dest_pages()), "costs": result.costs, "image": image.summary()}
    if args.json:
        print(render.dumps(out))
        return 0
    print(render.key_values(params, hex_keys=("entry", "flags")))
    print()
    print(render.table([dict(index=i, **s.to_dict(), pages=s.pages) for i, s in enumerate(log.segments)],
                       hex_columns=("buf", "bufsz", "mem", "memsz")))
    print()
    summary = {"result": f"loaded ({result.slot} image)", "entries": result.entries,
               "indirection_pages": result.indirection_pages, "parked pages left": len(image.dest_pages()),
               **{k: v for k, v in result.costs.items() if v}}
    print(render.key_values(summary))
    return 0
