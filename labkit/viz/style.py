"""One palette and one look for every labkit figure, so slides built from different notebooks agree.

Colours are keyed by meaning (a page state, a memory-map type, an entry
kind, a hash function, an index), never by position in a plot, so "blue"
means "source page" everywhere.  Figures are built on ``matplotlib.figure.Figure``
directly (no pyplot state, nothing to leak) inside ``style_context()``.
"""
from __future__ import annotations

import base64
import io
from contextlib import contextmanager
from typing import Iterator, Mapping

import matplotlib as mpl
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .. import pagestate as ps

#: page states (labkit.pagestate codes) -> colour
STATE_COLORS: dict[int, str] = {
    ps.NOT_RAM: "#ffffff",
    ps.FREE: "#eeeeee",
    ps.OWNED: "#bdbdbd",
    ps.TARGET: "#fbe3a1",
    ps.SOURCE: "#1f77b4",
    ps.IN_PLACE: "#ff7f0e",
    ps.PARKED: "#9467bd",
    ps.INDIRECTION: "#2ca02c",
    ps.CONTROL: "#d62728",
    ps.SWAP: "#e377c2",
    ps.RELOCATED: "#17becf",
    ps.BACKUP: "#8c564b",
}

#: memory-map range types (labkit.memmap) -> colour
MEMMAP_COLORS: dict[str, str] = {
    "ram": "#cfe8c6",
    "reserved": "#9e9e9e",
    "acpi": "#f4cccc",
    "acpi-nvs": "#e69999",
    "unusable": "#616161",
    "persistent": "#b4cde6",
    "crash-kernel": "#f6b26b",
    "kernel": "#3d85c6",
    "other": "#e0e0e0",
}
UNKNOWN_TYPE_COLOR = "#c27ba0"

#: entry-word kinds -> colour (SOURCE and INDIRECTION match their page states)
KIND_COLORS: dict[str, str] = {
    "DESTINATION": "#f1c232",
    "SOURCE": STATE_COLORS[ps.SOURCE],
    "INDIRECTION": STATE_COLORS[ps.INDIRECTION],
    "DONE": "#333333",
    "": "#ffffff",
}

HASH_COLORS: dict[str, str] = {"golden": "#1f77b4", "modulo": "#ff7f0e", "weak": "#d62728"}
INDEX_COLORS: dict[str, str] = {"linear": "#d62728", "hash": "#2ca02c"}

#: content owners in the kexec-jump picture
OWNER_COLORS: dict[str, str] = {"A": "#6fa8dc", "B": "#f6b26b", "B'": "#e06666", "free": "#eeeeee", "?": "#c27ba0"}

SEGMENT_COLORS = ("#674ea7", "#8e7cc3")

RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}


@contextmanager
def style_context() -> Iterator[None]:
    """The rcParams every labkit figure is built under."""
    with mpl.rc_context(RC):
        yield


def new_figure(width: float, height: float, **kw: object) -> Figure:
    """A pyplot-free figure with constrained layout (call inside ``style_context``)."""
    return Figure(figsize=(width, height), layout="constrained", **kw)  # type: ignore[arg-type]


def memmap_color(kind: str) -> str:
    return MEMMAP_COLORS.get(kind, UNKNOWN_TYPE_COLOR)


def state_cmap() -> tuple[ListedColormap, BoundaryNorm]:
    """Colormap and norm that paint page-state codes 0..NSTATES-1 exactly."""
    colors = [STATE_COLORS[i] for i in range(ps.NSTATES)]
    cmap = ListedColormap(colors, name="labkit-states")
    norm = BoundaryNorm(np.arange(-0.5, ps.NSTATES + 0.5), ps.NSTATES)
    return cmap, norm


def state_handles(states: np.ndarray | None = None, *, skip: tuple[int, ...] = (ps.NOT_RAM,)) -> list[Patch]:
    """Legend patches for the page states present in ``states`` (all states when None)."""
    present = range(ps.NSTATES) if states is None else np.unique(np.asarray(states, dtype=np.int64)).tolist()
    return [Patch(facecolor=STATE_COLORS[int(s)], edgecolor="#555555", linewidth=0.5, label=ps.STATE_NAMES[int(s)])
            for s in present if int(s) not in skip]


def patch_handles(colors: Mapping[str, str], labels: Mapping[str, str] | None = None) -> list[Patch]:
    """Legend patches for a name -> colour table."""
    labels = labels or {}
    return [Patch(facecolor=c, edgecolor="#555555", linewidth=0.5, label=labels.get(k, k)) for k, c in colors.items()]


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (what widgets put into their Output)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def png_output(png: bytes, text: str = "<labkit figure>") -> dict[str, object]:
    """A Jupyter ``display_data`` output holding ``png`` (an ipywidgets ``Output.outputs`` item)."""
    return {"output_type": "display_data",
            "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text},
            "metadata": {}}


def hex_formatter(value: float, _pos: int | None = None) -> str:
    """Tick labels for physical addresses."""
    return f"{int(value):#x}" if value >= 0 else ""


def pow2_ticks(lo: float, hi: float, most: int = 8) -> np.ndarray:
    """Tick positions at multiples of a power of two (addresses read best as round hex)."""
    span = max(hi - lo, 1.0)
    step = 2.0 ** np.ceil(np.log2(span / most))
    return np.arange(np.ceil(lo / step) * step, hi + step / 2, step)
