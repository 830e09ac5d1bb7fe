"""Write the lab's key figures as PNG: ``python -m labkit.viz.figures OUTDIR`` (``make figures``).

Every figure is built from a fixed, seeded scenario whose parameters are
printed beside the file name, so a figure in the docs can be reproduced.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

from matplotlib.figure import Figure

from .. import pagestate as ps
from ..backup import JumpParams, kexec_jump_demo
from ..bench import sweep
from ..entrylist import entry_frame
from ..examples import small_load, worked_example
from ..hibernate import RoundTripParams, hibernate_resume
from ..patterns import chain_frame, destination_patterns, hash_stats
from ..pgmap import read_pgmap
from ..steps import round_trip_backgrounds
from .costs import plot_costs, plot_segment_counts
from .entries import plot_entries
from .hashes import plot_hash_comparison
from .layout import plot_image_layout
from .pgmap import plot_pgmap
from .relocation import plot_relocation

#: the round trip most figures show
ROUND_TRIP = RoundTripParams(ram="64MiB", seed=0)
#: RAM sizes of the cost sweep
SWEEP_SIZES = ("8MiB", "16MiB", "32MiB", "64MiB", "128MiB")


def build_figures(sweep_sizes: tuple[str, ...] = SWEEP_SIZES) -> dict[str, tuple[Callable[[], Figure], str]]:
    """File name -> (figure factory, the recipe it shows).  Factories share one round trip."""
    cache: dict[str, object] = {}

    def trip():
        if "trip" not in cache:
            cache["trip"] = hibernate_resume(ROUND_TRIP)
        return cache["trip"]

    def layout_resume() -> Figure:
        r = trip()
        return plot_image_layout(r.machine, r.loader_c.image, round_trip_backgrounds(r)["load_image"],
                                 title=f"kernel C's resume load of A's image ({r.image_segments} segments, "
                                       f"{r.stage_calls} kexec_load calls)")

    def layout_small() -> Figure:
        ex = small_load()
        return plot_image_layout(ex.machine, ex.loader.image, ps.background(ex.machine.ram_bitmap(), ex.owned),
                                 xlim=(0, 0x30000))

    def entries_small() -> Figure:
        return plot_entries(entry_frame(worked_example().loader.image))

    def entries_resume() -> Figure:
        return plot_entries(entry_frame(trip().loader_c.image))

    def hashes() -> Figure:
        patterns = destination_patterns(16384, seed=0)
        return plot_hash_comparison(hash_stats(patterns), chain_frame(patterns, nbuckets=4096))

    def relocation() -> Figure:
        return plot_relocation(kexec_jump_demo(JumpParams()))

    def costs_df():
        if "sweep" not in cache:
            cache["sweep"] = sweep(list(sweep_sizes), seed=0)
        return cache["sweep"]

    def pgmap() -> Figure:
        r = trip()
        return plot_pgmap(read_pgmap(r.loader_c.pgmap_text().encode(), name="kernel C's kexec_pgmap"))

    sizes = ",".join(sweep_sizes)
    return {
        "layout.png": (layout_resume, ROUND_TRIP.arg_line()),
        "layout-small.png": (layout_small, "labkit.examples.small_load(policy='lowest', seed=1)"),
        "entries.png": (entries_small, "labkit.examples.worked_example()"),
        "entries-resume.png": (entries_resume, ROUND_TRIP.arg_line()),
        "hashes.png": (hashes, "labkit.patterns.destination_patterns(16384, seed=0), 1024/4096/16384 buckets"),
        "relocation.png": (relocation, f"labkit.backup.kexec_jump_demo({JumpParams().arg_line()})"),
        "costs.png": (lambda: plot_costs(costs_df()), f"labkit.bench.sweep([{sizes}], seed=0)"),
        "segments.png": (lambda: plot_segment_counts(costs_df()), f"labkit.bench.sweep([{sizes}], seed=0)"),
        "pgmap.png": (pgmap, ROUND_TRIP.arg_line()),
    }


def write_figures(outdir: str | Path, *, dpi: int = 150, only: tuple[str, ...] = (),
                  sweep_sizes: tuple[str, ...] = SWEEP_SIZES) -> list[Path]:
    """Write the figures (all, or the names in ``only``) into ``outdir``; returns the paths."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (make, recipe) in build_figures(sweep_sizes).items():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        fig = make()
        path = out / name
        fig.savefig(path, dpi=dpi)
        fig.clear()
        written.append(path)
        print(f"{path}  ({time.perf_counter() - t0:.2f} s)  {recipe}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.viz.figures", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="directory for the PNG files (created if missing)")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--only", nargs="*", default=[], help="file names to write (default: all)")
    args = parser.parse_args(argv)
    write_figures(args.outdir, dpi=args.dpi, only=tuple(args.only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
