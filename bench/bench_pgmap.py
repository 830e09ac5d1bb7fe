#!/usr/bin/env python3
"""Benchmark of ``labkit.pgmap.read_pgmap`` against pyarrow's CSV reader.

Writes a pgmap of ``--lines`` entries (default 16M: a 64 GiB hibernation
image) into a temporary directory, then times (median of ``--repeat`` runs):

* labkit: ``read_pgmap(path)``. This is a strict parse that checks every
  byte, the order and the count, and returns a DataFrame of two uint64
  columns.
* pyarrow: ``pyarrow.csv.read_csv(path)`` (space-delimited, header line
  skipped, both columns read as strings, quoting off, default multithreading).
  The two string columns are then converted to uint64, because pyarrow cannot
  read hex numbers. The conversion uses the same vectorised numpy hex kernel
  labkit uses (``labkit.pgmap.hexcodec.decode_fields``) on the Arrow string
  buffers. This is the fastest conversion at hand, so it makes for the
  strictest comparison. pyarrow does no format validation beyond splitting
  fields.
* for reference, pyarrow's string read alone, without conversion.

It prints lines/s for each, the ratio, and whether the targets hold: at least
2 million lines/s, and labkit within 2x of pyarrow read + conversion.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labkit.pgmap import read_pgmap, summarise_pgmap, validate_pgmap, write_pgmap  # noqa: E402
from labkit.pgmap.hexcodec import decode_fields, padded  # noqa: E402

TARGET_LINES_PER_S = 2_000_000
TARGET_RATIO = 2.0


def make_map(lines: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """About 80% of the pages of a machine as destinations; sources a permutation of other pages."""
    rng = np.random.default_rng(seed)
    dest = np.flatnonzero(rng.random(int(lines * 1.3) + 64) < 0.8)[:lines].astype(np.uint64)
    if dest.size < lines:
        raise SystemExit("internal: generated too few destinations")
    src = dest[-1] + np.uint64(1) + rng.permutation(lines).astype(np.uint64)
    in_place = rng.random(lines) < 0.05
    src[in_place] = dest[in_place]
    return dest, src


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def arrow_hex_column(column) -> np.ndarray:
    """A chunked Arrow string column of hex numbers -> uint64 (vectorised, per chunk)."""
    out = []
    for chunk in column.chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset: chunk.offset + len(chunk) + 1]
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[: offsets[-1]]
        ends = offsets[1:].astype(np.int64)
        lengths = ends - offsets[:-1]
        values, ok = decode_fields(padded(data), ends, lengths)
        if not ok:
            raise ValueError("pyarrow column holds something that is not lowercase hex")
        out.append(values)
    return np.concatenate(out) if out else np.empty(0, dtype=np.uint64)


def pyarrow_read(path: Path, convert: bool):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(skip_rows=1, column_names=["dest_pfn", "src_pfn"]),
        parse_options=pcsv.ParseOptions(delimiter=" ", quote_char=False, double_quote=False, escape_char=False),
        convert_options=pcsv.ConvertOptions(column_types={"dest_pfn": pa.string(), "src_pfn": pa.string()}))
    if not convert:
        return table
    return arrow_hex_column(table.column("dest_pfn")), arrow_hex_column(table.column("src_pfn"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=16_000_000, help="entries in the generated map (16M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the median is reported (3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, default=None, help="directory for the file (default: a temp dir)")
    args = parser.parse_args(argv)
    print(f"ARG lines={args.lines} repeat={args.repeat} seed={args.seed}")

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "kexec_pgmap.txt"
        dest, src = make_map(args.lines, args.seed)
        start = time.perf_counter()
        write_pgmap(path, dest, src, "loaded")
        write_s = time.perf_counter() - start
        size = path.stat().st_size
        print(f"file        {path.name}: {args.lines:,} lines, {size / 2**20:.1f} MiB, "
              f"written in {write_s:.2f} s ({args.lines / write_s / 1e6:.2f} M lines/s)")
        path.read_bytes()   # warm the page cache for every contender alike

        labkit_s, pgmap = median_time(lambda: read_pgmap(path), args.repeat)
        if not (np.array_equal(pgmap.dest_pfn, dest) and np.array_equal(pgmap.src_pfn, src)):
            raise SystemExit("labkit read back different values")
        arrow_s, (arrow_dest, arrow_src) = median_time(lambda: pyarrow_read(path, True), args.repeat)
        if not (np.array_equal(arrow_dest, dest) and np.array_equal(arrow_src, src)):
            raise SystemExit("pyarrow + conversion read back different values")
        arrow_only_s, _ = median_time(lambda: pyarrow_read(path, False), args.repeat)
        del arrow_dest, arrow_src

        start = time.perf_counter()
        findings = validate_pgmap(pgmap)
        validate_s = time.perf_counter() - start
        start = time.perf_counter()
        summarise_pgmap(pgmap)
        summary_s = time.perf_counter() - start

    rate = args.lines / labkit_s
    ratio = labkit_s / arrow_s
    print(f"labkit      read_pgmap (strict)                 {labkit_s:7.3f} s  {rate / 1e6:7.2f} M lines/s")
    print(f"pyarrow     read_csv strings + hex conversion  {arrow_s:7.3f} s  "
          f"{args.lines / arrow_s / 1e6:7.2f} M lines/s")
    print(f"pyarrow     read_csv strings only (reference)  {arrow_only_s:7.3f} s  "
          f"{args.lines / arrow_only_s / 1e6:7.2f} M lines/s")
    print(f"ratio       labkit / (pyarrow + conversion) = {ratio:.2f}   "
          f"labkit / (pyarrow strings only) = {labkit_s / arrow_only_s:.2f}")
    print(f"also        validate_pgmap {validate_s:.2f} s ({len(findings)} findings), "
          f"summarise_pgmap {summary_s:.2f} s")
    ok_rate = rate >= TARGET_LINES_PER_S
    ok_ratio = ratio <= TARGET_RATIO
    print(f"target      >= {TARGET_LINES_PER_S / 1e6:.0f}M lines/s: {'PASS' if ok_rate else 'FAIL'}")
    print(f"target      within {TARGET_RATIO:g}x of pyarrow + conversion: {'PASS' if ok_ratio else 'FAIL'}")
    return 0 if ok_rate and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
