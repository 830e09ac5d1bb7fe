"""``labkit simulate``: the hibernate -> resume round trip with a progress bar."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from tqdm import tqdm

from .. import render
from ..hibernate import PHASES, RoundTripParams, hibernate_resume
from ..pgmap import write_pgmap
from ..units import format_size, parse_size
from ._options import add_loader_options, positive_int

EXIT_REJECTED = 3


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text}")
    return value


def _region(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")
    if not end:
        raise argparse.ArgumentTypeError(f"expected START-END, e.g. 0x100000-0x1000000, got {text}")
    return parse_size(start), parse_size(end)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run the hibernate -> resume round trip",
                       description="Kernel A loads B in stages and kexec-jumps; B saves A's image; C loads it "
                                   "with KS_START/KS_MID/KS_FINAL and jumps back; every page is verified.")
    p.add_argument("--ram", default="256MiB", help="RAM size (default 256MiB)")
    p.add_argument("--memmap", metavar="MAPFILE", default=None,
                   help="use the memory map of a dmesg e820 table, /proc/iomem or kexec log instead of --ram")
    p.add_argument("--used", type=_fraction, default=0.6, help="fraction of RAM kernel A uses (default 0.6)")
    p.add_argument("--run-length", type=float, default=32.0, help="mean length of A's runs of used pages")
    p.add_argument("--b-region", type=_region, default=None, help="kernel B's region START-END (bytes)")
    p.add_argument("--relocation", choices=("swap", "copy"), default="swap", help="how C relocates A's image")
    p.add_argument("--stage-segments", type=positive_int, default=16, help="segments per kexec_load call (<= 16)")
    p.add_argument("--mode", choices=("tags", "bytes"), default="tags", help="page contents: tags or real bytes")
    p.add_argument("--pgmap-out", metavar="FILE", default=None,
                   help="write /proc/kexec_pgmap of C's resume load (.gz compresses)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_loader_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    params = RoundTripParams(ram=format_size(parse_size(args.ram)), used=args.used, run_length=args.run_length,
                             b_region=args.b_region, index=args.index, hash=args.hash, buckets=args.buckets,
                             relocation=args.relocation, rules=args.rules, stage_segments=args.stage_segments,
                             mode=args.mode, policy=args.policy, seed=args.seed, entry_size=args.entry_size)
    bar = None

    def progress(phase: str, done: int, total: int) -> None:
        nonlocal bar
        if args.no_progress:
            return
        if bar is None:
            bar = tqdm(total=total, desc="resume load (stage calls)", unit="call", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    if args.memmap is not None:
        params = replace(params, memmap=args.memmap)
    try:
        result = hibernate_resume(params, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if args.pgmap_out and result.machine is not None and result.error is None:
        write_pgmap(args.pgmap_out, *result.resume_pgmap, "loaded")
    if args.json:
        print(render.dumps(result.to_dict()))
    else:
        print(f"ARG {params.arg_line()}")
        print(render.key_values(_summary(result)))
        rows = [{"phase": ph, "seconds": round(result.seconds.get(ph, 0.0), 4),
                 **{k: v for k, v in result.costs.get(ph, {}).items()}} for ph in PHASES if ph in result.seconds]
        if rows:
            keep = [k for k in rows[0] if k in ("phase", "seconds") or any(r.get(k) for r in rows)]
            print()
            print(render.table([{k: r.get(k, 0) for k in keep} for r in rows]))
    if result.error is not None:
        print(f"labkit: kexec_load rejected: {result.error['errno']} ({result.error['rule']}): "
              f"{result.error['detail']}", file=sys.stderr)
        return EXIT_REJECTED
    return 0 if result.verified else 1


def _summary(r) -> dict[str, object]:
    out = {
        "verified": r.verified,
        "mismatched pages": r.mismatched_pages,
        "A's logical view in B": "ok" if r.logical_view_ok else "WRONG",
        "RAM pages": r.ram_pages,
        "A used pages": r.a_used_pages,
        "B region": f"{r.b_region[0]:#x}-{r.b_region[1]:#x}",
        "B load calls": r.b_stage_calls,
        "backup pages map entries": r.pgmap_entries,
        "image pages": r.image_pages,
        "image segments": r.image_segments,
        "resume stage calls": r.stage_calls,
        "resume entries": r.entries,
        "resume indirection pages": r.indirection_pages,
        "jump back entry": f"{r.jump_back_entry:#x}",
        "total seconds": round(sum(r.seconds.values()), 3),
    }
    if r.error is not None:
        out["rejected"] = f"{r.error['errno']} {r.error['rule']}"
    return out
