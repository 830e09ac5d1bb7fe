"""``labkit pgmap FILE``: validate and summarise a ``/proc/kexec_pgmap`` v1 dump.

Prints the summary (entries, in-place pages, runs, span, hash-bucket load) and
the validation findings.  ``--json`` prints the same as one object,
``--csv``/``--parquet`` write the rows (dest_pfn, src_pfn, in_place) and
``--plot`` a PNG.  Exit status: 0 when the map is consistent, 1 when a finding
breaks a kimage invariant (severity ``error``: duplicate destination, reused
source, source that is another entry's destination, page outside the
machine), 2 when the file cannot be read (``ParseError``).  Warnings (header
count mismatch, unsorted rows; only possible with ``--lenient``) keep 0.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd

from ..hashing import HASHES
from ..pgmap import Finding, PgMap, PgMapSummary, read_pgmap, summarise_pgmap, validate_pgmap
from ..render import dumps, key_values

EXIT_OK, EXIT_INVARIANT = 0, 1
ADDRESS_KEYS = ("dest_pfn_min", "dest_pfn_max", "src_pfn_min", "src_pfn_max",
                "dest_addr_min", "dest_addr_end", "src_addr_min", "src_addr_end")


def _count(text: str) -> int:
    """A non-negative integer in decimal or with a 0x/0o/0b prefix."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer such as 4096 or 0x100000, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text}")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("pgmap", help="validate and summarise a /proc/kexec_pgmap dump",
                                   description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", help="the dump (plain or gzip; - for standard input)")
    parser.add_argument("--lenient", action="store_true",
                        help="accept comments, blank lines, 0x, uppercase, unsorted rows, no header ...")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print source, state, entries, summary and findings as JSON")
    out.add_argument("--csv", metavar="OUT", help="write the rows as CSV (decimal pfns; - for standard output)")
    out.add_argument("--parquet", metavar="OUT", help="write the rows as Parquet (uint64 pfns)")
    parser.add_argument("--plot", metavar="OUT.png", help="write the figure of labkit.viz.pgmap")
    parser.add_argument("--hash", choices=HASHES, default="golden", help="hash for the bucket occupancy")
    parser.add_argument("--buckets", type=_positive, default=1024, help="bucket count for the occupancy (1024)")
    parser.add_argument("--max-pfn", type=_count, default=None,
                        help="first pfn past the machine's RAM: pages at or above it are reported")
    parser.set_defaults(func=run)
    return parser


def rows_frame(pgmap: PgMap) -> pd.DataFrame:
    """The exported table: dest_pfn, src_pfn (uint64) and in_place (bool)."""
    df = pgmap.df.copy()
    df["in_place"] = pgmap.in_place
    return df


def report(pgmap: PgMap, summary: PgMapSummary, findings: list[Finding]) -> dict[str, Any]:
    """The ``--json`` object."""
    return {"source": pgmap.source, "state": pgmap.state, "entries": pgmap.entries,
            "page_size": pgmap.page_size, "tolerated": [t.to_dict() for t in pgmap.tolerated],
            "summary": summary.to_dict(), "findings": [f.to_dict() for f in findings]}


def render_text(pgmap: PgMap, summary: PgMapSummary, findings: list[Finding]) -> str:
    head = {"source": pgmap.source, "state": pgmap.state or "(no header)",
            "header_entries": pgmap.entries if pgmap.entries is not None else "(no header)",
            "page_size": pgmap.page_size}
    parts = [key_values({**head, **summary.flat()}, hex_keys=ADDRESS_KEYS)]
    if pgmap.tolerated:
        parts += ["", "tolerated (--lenient):", *(f"  {t}" for t in pgmap.tolerated)]
    parts.append("")
    if findings:
        parts.append(f"findings: {len(findings)}")
        for f in findings:
            parts.append(f"  {f.severity} {f.kind}: {f.message}")
            if f.pfns:
                more = " ..." if len(f.pfns) > 8 else ""
                parts.append("    pfns: " + " ".join(f"{p:#x}" for p in f.pfns[:8]) + more)
    else:
        parts.append("findings: none (a consistent kimage map)")
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    source = sys.stdin.buffer if args.file == "-" else args.file
    pgmap = read_pgmap(source, lenient=args.lenient, name="<stdin>" if args.file == "-" else None)
    summary = summarise_pgmap(pgmap, hash=args.hash, buckets=args.buckets)
    findings = validate_pgmap(pgmap, max_pfn=args.max_pfn)
    if args.plot:
        from ..viz.pgmap import plot_pgmap   # matplotlib only when asked for
        plot_pgmap(pgmap).savefig(args.plot, dpi=100)
    if args.json:
        print(dumps(report(pgmap, summary, findings)))
    elif args.csv == "-":
        rows_frame(pgmap).to_csv(sys.stdout, index=False)
    else:
        if args.csv:
            rows_frame(pgmap).to_csv(args.csv, index=False)
        elif args.parquet:
            rows_frame(pgmap).to_parquet(args.parquet, index=False)
        print(render_text(pgmap, summary, findings))
    return EXIT_INVARIANT if any(f.breaks_kernel_invariant for f in findings) else EXIT_OK
