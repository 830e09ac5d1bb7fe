"""What resuming an image costs as it grows: lookup work and time, linear walk against hash index.

Both panels are log-log so a power law is a straight line; the legend gives
each index's fitted exponent (``labkit.bench.loglog_slope``): about 2 for
the kernel's ``kimage_dst_used`` walk, about 1 for the hash.
``plot_segment_counts`` answers "why not raise the 16-segment limit?" with
the segment counts real images have.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..bench import loglog_slope
from ..segments import KEXEC_SEGMENT_MAX
from .style import INDEX_COLORS, new_figure, style_context

INDEX_LABELS = {"linear": "linear walk (kernel)", "hash": "hash index (2008 proposal)"}


def _fit_line(ax, x: np.ndarray, y: np.ndarray, color: str) -> None:
    keep = (x > 0) & (y > 0)
    if keep.sum() < 2:
        return
    k, c = np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)
    xs = np.array([x[keep].min(), x[keep].max()])
    ax.plot(xs, np.exp(c) * xs ** k, color=color, linewidth=1.0, linestyle="--", alpha=0.7)


def _panel(ax, df: pd.DataFrame, y: str, ylabel: str) -> dict[str, float]:
    slopes = {}
    for index, g in df.groupby("index", sort=False):
        g = g.sort_values("image_pages")
        x, v = g["image_pages"].to_numpy(float), g[y].to_numpy(float)
        k = loglog_slope(x, v)
        slopes[str(index)] = k
        color = INDEX_COLORS.get(str(index), "black")
        label = f"{INDEX_LABELS.get(str(index), index)}: slope {k:.2f}"
        ax.plot(x, v, marker="o", linewidth=1.8, color=color, label=label, gid=f"{y}-{index}")
        _fit_line(ax, x, v, color)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("image pages")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left")
    return slopes


def plot_costs(df: pd.DataFrame, *, title: str | None = None) -> Figure:
    """``bench.sweep`` results: lookup work (left) and simulator seconds (right) against image pages."""
    if df.empty:
        raise ValueError("the sweep is empty")
    with style_context():
        fig = new_figure(11.0, 4.4)
        left, right = fig.subplots(1, 2)
        _panel(left, df, "lookup_work", "lookup work (entries + probes + scans)")
        left.set_title("work of kimage_alloc_page's lookups", loc="left")
        _panel(right, df, "seconds", "seconds")
        right.set_title("simulator wall time of the resume load", loc="left")
        right.text(0.99, 0.02, "numpy runs the linear scan: not the kernel's time", transform=right.transAxes,
                   ha="right", va="bottom", fontsize=8, color="#666666")
        sizes = ", ".join(dict.fromkeys(df["ram"]))
        fig.suptitle(title or f"resuming a hibernation image: RAM {sizes}", x=0.01, ha="left", fontweight="bold")
    return fig


def plot_segment_counts(df: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Segments per image against ``KEXEC_SEGMENT_MAX``, and the ``kexec_load`` calls a staged load needs."""
    one = df.drop_duplicates("image_pages").sort_values("image_pages")
    with style_context():
        fig = new_figure(8.0, 4.0)
        ax = fig.add_subplot()
        x = one["image_pages"].to_numpy(float)
        ax.plot(x, one["image_segments"], marker="o", linewidth=1.8, color="#674ea7",
                label="segments in the image (one per contiguous run)", gid="segments")
        ax.plot(x, one["stage_calls"], marker="s", linewidth=1.4, color="#3d85c6",
                label=f"kexec_load calls (\u2264 {KEXEC_SEGMENT_MAX} segments each)", gid="calls")
        ax.axhline(KEXEC_SEGMENT_MAX, color="#d62728", linewidth=1.5, linestyle="--",
                   label=f"KEXEC_SEGMENT_MAX = {KEXEC_SEGMENT_MAX} (struct kimage: segment[16])", gid="limit")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("image pages")
        ax.set_ylabel("count")
        ax.legend(loc="upper left")
        ax.set_title(title or "a hibernation image has far more segments than one call may pass", loc="left")
    return fig
