"""Figure of a ``/proc/kexec_pgmap`` dump: where each page comes from, and how the runs are distributed.

Left panel: destination pfn (x) against source pfn (y); points on the
diagonal are in place (source == destination, the swap trick's identity
entries) and drawn in their own colour.  Right panel: the lengths of
contiguous destination runs, in power-of-two bins.  Big maps are subsampled
deterministically (evenly spaced rows) and rasterised, and the title says so.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..pgmap import PgMap, summarise_pgmap

#: most points drawn in the scatter
MAX_POINTS = 200_000
#: above this many points the scatter is rasterised (vector output stays small)
RASTER_ABOVE = 5_000


def sample_rows(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """Evenly spaced row indices, at most ``limit`` of them, always including the first and last."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def _axes(ax: Axes | Sequence[Axes] | None) -> tuple[Figure, Axes, Axes | None]:
    if ax is None:
        fig = Figure(figsize=(11, 4.8), layout="constrained")
        scatter_ax, hist_ax = fig.subplots(1, 2, width_ratios=(3, 2))
        return fig, scatter_ax, hist_ax
    if isinstance(ax, Axes):
        return ax.figure, ax, None
    scatter_ax, hist_ax = ax
    return scatter_ax.figure, scatter_ax, hist_ax


def plot_pgmap(pgmap: PgMap, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Draw the map; ``ax`` is None (new figure, two panels), one Axes (scatter only) or a pair."""
    fig, scatter_ax, hist_ax = _axes(ax)
    dest, src = pgmap.dest_pfn, pgmap.src_pfn
    n = dest.size
    rows = sample_rows(n)
    d, s = dest[rows], src[rows]
    in_place = d == s
    raster = rows.size > RASTER_ABOVE
    size = 4.0 if rows.size < 2_000 else 0.5
    scatter_ax.scatter(d[~in_place].astype(np.float64), s[~in_place].astype(np.float64), s=size,
                       color="tab:blue", label="moved", rasterized=raster, linewidths=0)
    scatter_ax.scatter(d[in_place].astype(np.float64), s[in_place].astype(np.float64), s=size * 2,
                       color="tab:orange", label="in place (src = dest)", rasterized=raster, linewidths=0)
    sampled = f", {rows.size:,} of {n:,} rows drawn (evenly spaced)" if rows.size < n else ""
    state = pgmap.state or "no header"
    scatter_ax.set_title(f"{pgmap.source}: {n:,} entries, {state}{sampled}", fontsize="medium")
    scatter_ax.set_xlabel("destination pfn")
    scatter_ax.set_ylabel("source pfn")
    scatter_ax.ticklabel_format(style="sci", scilimits=(-3, 5), useMathText=True)
    if n:
        scatter_ax.legend(loc="best", fontsize="small", markerscale=4)
    if hist_ax is not None:
        runs = summarise_pgmap(pgmap).dest_runs
        labels = [f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi, _ in runs.histogram]
        hist_ax.bar(np.arange(len(labels)), [r for _, _, r in runs.histogram], color="tab:green")
        hist_ax.set_xticks(np.arange(len(labels)), labels, rotation=60, fontsize="small")
        hist_ax.set_title(f"destination runs: {runs.count:,}", fontsize="medium")
        hist_ax.set_xlabel("run length (pages, power-of-two bins)")
        hist_ax.set_ylabel("runs")
    return fig
