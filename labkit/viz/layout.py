"""Where everything sits in physical memory: the memory map, the segments, and what each page is for.

``plot_layout`` draws three tracks over one address axis: the memory map
(RAM, reserved, crash region, kernel regions), the segments (one rectangle
each), and the page states (source pages moved or in place, parked pages,
indirection, control and swap pages).  For small images it also draws a line
from every moved source page to its destination.  ``plot_page_grid`` shows
the page states as a square grid, one pixel per page: the stepper's view.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter

from .. import pagestate as ps
from ..kimage import Kimage
from ..machine import Machine
from ..memmap import MemoryMap
from ..segments import Segment
from ..units import PAGE_SHIFT, PAGE_SIZE, format_size
from .style import (SEGMENT_COLORS, STATE_COLORS, hex_formatter, memmap_color, new_figure, pow2_ticks,
                    state_cmap, state_handles, style_context)

#: y positions of the tracks (a figure leaves out the tracks it has nothing for)
Y_MAP, Y_SEG, Y_PAGES = 2.0, 1.0, 0.0
TRACK_LABELS = {Y_MAP: "memory map", Y_SEG: "segments", Y_PAGES: "pages"}
#: above this many moved pages no source->destination lines are drawn
MAX_MOVE_LINES = 64
#: segments labelled with their index when there are at most this many
MAX_SEGMENT_LABELS = 16


def _extent(memmap: MemoryMap, segments: Sequence[Segment], states: np.ndarray | None) -> float:
    ends = [r.end for r in memmap.ram_ranges()] + [s.mem + s.memsz for s in segments]
    if states is not None:
        ends.append(len(states) * PAGE_SIZE)
    if not ends:
        ends = [memmap.end or PAGE_SIZE]
    return float(max(ends))


def _draw_map(ax: Axes, memmap: MemoryMap) -> list[str]:
    kinds: list[str] = []
    for level, height in ((0, 0.8), (1, 0.45), (2, 0.3)):
        by_type: dict[str, list[tuple[int, int]]] = {}
        for r in memmap:
            if r.level == level:
                by_type.setdefault(r.type, []).append((r.start, r.size))
        for kind, spans in by_type.items():
            hatch = "//" if kind == "crash-kernel" else None
            ax.broken_barh(spans, (Y_MAP - height / 2, height), facecolors=memmap_color(kind),
                           edgecolor="#555555" if level else "none", linewidth=0.4, hatch=hatch,
                           gid=f"memmap-{kind}")
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def _draw_segments(ax: Axes, segments: Sequence[Segment]) -> None:
    if not segments:
        return
    spans = [(s.mem, max(s.memsz, 1)) for s in segments]
    colors = [SEGMENT_COLORS[i % 2] for i in range(len(segments))]
    coll = ax.broken_barh(spans, (Y_SEG - 0.35, 0.7), facecolors=colors, edgecolor="#333333",
                          linewidth=0.3 if len(segments) > 64 else 0.6, gid="segments")
    coll.set_rasterized(len(segments) > 1000)
    if len(segments) <= MAX_SEGMENT_LABELS:
        for i, s in enumerate(segments):
            ax.text(s.mem + s.memsz / 2, Y_SEG + 0.38, str(i), ha="center", va="bottom", fontsize=8,
                    color="#333333", clip_on=True, gid="segment-label")


def _draw_pages(ax: Axes, states: np.ndarray, max_cells: int) -> None:
    cells = ps.bin_states(states, max_cells)
    per = -(-len(states) // max(len(cells), 1))
    cmap, norm = state_cmap()
    ax.imshow(cells[np.newaxis, :], aspect="auto", cmap=cmap, norm=norm, interpolation="nearest",
              extent=(0, len(cells) * per * PAGE_SIZE, Y_PAGES - 0.4, Y_PAGES + 0.4), origin="lower",
              gid="page-states")


def _draw_moves(ax: Axes, moves: tuple[np.ndarray, np.ndarray]) -> int:
    dest, src = (np.asarray(a, dtype=np.int64) for a in moves)
    moved = dest != src
    if not moved.any() or moved.sum() > MAX_MOVE_LINES:
        return 0
    half = PAGE_SIZE / 2
    lines = [[((s << PAGE_SHIFT) + half, Y_PAGES + 0.4), ((d << PAGE_SHIFT) + half, Y_SEG - 0.35)]
             for d, s in zip(dest[moved].tolist(), src[moved].tolist())]
    ax.add_collection(LineCollection(lines, colors=STATE_COLORS[ps.SOURCE], linewidths=0.7, alpha=0.7,
                                     gid="moves"))
    return len(lines)


def plot_layout(memmap: MemoryMap, segments: Sequence[Segment] = (), states: np.ndarray | None = None, *,
                moves: tuple[np.ndarray, np.ndarray] | None = None, title: str | None = None,
                xlim: tuple[float, float] | None = None, max_cells: int = 2048,
                width: float = 11.0) -> Figure:
    """Memory map, segments and page states on one address axis.

    ``states`` is a page-state array (``labkit.pagestate``); ``moves`` is
    ``(dest_pfn, src_pfn)`` of the image's source entries, drawn as lines
    when there are few moved pages.  Dense page tracks are reduced with
    ``pagestate.bin_states`` so control, swap and indirection pages stay visible.
    """
    segments = list(segments)
    tracks = [y for y, present in ((Y_MAP, True), (Y_SEG, bool(segments)), (Y_PAGES, states is not None))
              if present]
    with style_context():
        fig = new_figure(width, 1.6 + 0.7 * len(tracks))
        ax = fig.add_subplot()
        kinds = _draw_map(ax, memmap)
        _draw_segments(ax, segments)
        if states is not None:
            _draw_pages(ax, states, max_cells)
        lines = _draw_moves(ax, moves) if moves is not None and states is not None else 0
        lo, hi = xlim or (0.0, _extent(memmap, segments, states))
        ax.set_xlim(lo, hi)
        ax.set_ylim(min(tracks) - 0.6, Y_MAP + 0.6)
        ax.set_yticks(tracks, [TRACK_LABELS[y] for y in tracks])
        ax.xaxis.set_major_formatter(FuncFormatter(hex_formatter))
        ax.xaxis.set_major_locator(FixedLocator(pow2_ticks(lo, hi)))
        ax.set_xlabel("physical address")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ram = format_size(memmap.ram_bytes) if memmap.ram_bytes else "no RAM"
        parts = [f"{ram} RAM", f"{len(segments)} segment{'s' if len(segments) != 1 else ''}"]
        if states is not None:
            counts = np.bincount(np.asarray(states, dtype=np.int64), minlength=ps.NSTATES)
            parts.append(f"{counts[ps.SOURCE]:,} moved, {counts[ps.IN_PLACE]:,} in place, "
                         f"{counts[ps.PARKED]:,} parked, {counts[ps.INDIRECTION]:,} indirection")
        ax.set_title(title or " \u00b7 ".join(parts), loc="left")
        handles = [Patch(facecolor=memmap_color(k), edgecolor="#555555", linewidth=0.4,
                         hatch="//" if k == "crash-kernel" else None, label=k) for k in kinds]
        if segments:
            handles.append(Patch(facecolor=SEGMENT_COLORS[0], edgecolor="#333333", label="segment"))
        if states is not None:
            handles += state_handles(states, skip=(ps.NOT_RAM, ps.FREE))
        if lines:
            handles.append(Patch(facecolor=STATE_COLORS[ps.SOURCE], label=f"source \u2192 destination ({lines})"))
        fig.legend(handles=handles, loc="outside lower center", ncols=min(6, max(1, len(handles))))
    return fig


def plot_image_layout(machine: Machine, image: Kimage, base: np.ndarray | None = None, *,
                      title: str | None = None, **kw: object) -> Figure:
    """``plot_layout`` of an image as it stands: its segments, its pages and (small images) its moves."""
    base = base if base is not None else ps.background(machine.ram_bitmap())
    states = ps.image_page_states(image, base)
    moves = image.source_map() if image.type == 0 else None
    return plot_layout(machine.memmap, image.segments, states, moves=moves, title=title, **kw)  # type: ignore[arg-type]


class PageGridFigure:
    """The page grid built once and updated in place: what the stepper redraws on every step.

    One pixel per page, row by row from pfn 0.  Rebuilding a figure per step
    costs more than drawing it and feeds the garbage collector thousands of
    objects; updating the image data, the ring and the title does not.
    Axes are placed by hand (no layout engine); ``legend=False`` leaves the
    key out (the stepper shows it once, as HTML).
    """

    def __init__(self, npages: int, *, legend: bool = True, width: float | None = None, height: float = 4.4):
        width = width if width is not None else (7.5 if legend else 4.8)
        self.shape = ps.grid_shape(npages)
        rows, cols = self.shape
        with style_context():
            self.figure = Figure(figsize=(width, height))
            left = 1.05 / width
            right = (2.5 if legend else 0.15) / width
            ax = self.figure.add_axes((left, 0.04, 1.0 - left - right, 0.88))
            cmap, norm = state_cmap()
            self.image = ax.imshow(np.zeros(self.shape, dtype=np.int8), cmap=cmap, norm=norm,
                                   interpolation="nearest", aspect="equal", gid="page-grid")
            self.ring = ax.scatter(np.empty(0), np.empty(0), s=60, facecolors="none", edgecolors="black",
                                   linewidths=1.2, gid="touched")
            ticks = np.linspace(0, rows - 1, min(rows, 5)).round().astype(int)
            ax.set_yticks(ticks, [f"{(r * cols) << PAGE_SHIFT:#x}" for r in ticks])
            ax.set_xticks([])
            ax.set_ylabel(f"rows of {cols} pages", fontsize=9)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            self.title = ax.set_title("", loc="left", fontsize=10)
            if legend:
                ax.legend(handles=state_handles(None), loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
                          handlelength=1.0)
        self.axes = ax

    def update(self, states: np.ndarray, touched: np.ndarray | None = None, title: str = "") -> Figure:
        """Show ``states`` with ``touched`` pages ringed; returns the (same) figure."""
        grid = ps.as_grid(states)
        if grid.shape != self.shape:
            raise ValueError(f"{len(states)} page states do not fit this {self.shape} grid")
        self.image.set_data(grid)
        cols = self.shape[1]
        t = np.asarray(touched if touched is not None else [], dtype=np.int64)
        self.ring.set_offsets(np.column_stack((t % cols, t // cols)) if len(t) else np.empty((0, 2)))
        self.title.set_text(title)
        return self.figure


def plot_page_grid(states: np.ndarray, *, touched: np.ndarray | None = None, title: str = "",
                   legend: bool = True, width: float | None = None, height: float = 4.4) -> Figure:
    """One pixel per page, row by row from pfn 0; ``touched`` pages are ringed (the current step)."""
    grid = PageGridFigure(len(states), legend=legend, width=width, height=height)
    return grid.update(states, touched, title)
