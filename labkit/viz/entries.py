"""The entry list as relocation reads it: ``head``, then indirection pages full of ``addr | IND_*`` words.

Small lists are drawn word by word (one labelled box per word, one column
per page, an arrow for every ``IND_INDIRECTION`` link); big ones as a
colour map with one row per indirection page and one cell per slot, where
the pattern of destinations, sources and links is still visible.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from ..entrylist import KINDS, page_columns, word_label
from ..units import PAGE_SHIFT, PAGE_SIZE
from .style import KIND_COLORS, new_figure, patch_handles, style_context

#: lists with more words than this are drawn as a colour map
MAX_TEXT_WORDS = 96
ENTRIES_PER_PAGE = PAGE_SIZE // 8


def _title(df: pd.DataFrame) -> str:
    counts = df["kind"].value_counts()
    pages = int((df["kind"] == "INDIRECTION").sum())
    return (f"entry list: {len(df):,} words, {pages} indirection page{'s' if pages != 1 else ''}\n"
            f"{int(counts.get('DESTINATION', 0)):,} DESTINATION, {int(counts.get('SOURCE', 0)):,} SOURCE")


def _text_mode(df: pd.DataFrame, title: str) -> Figure:
    columns = page_columns(df)
    tallest = max(len(c) for c in columns)
    fig = new_figure(max(4.0, 2.6 * len(columns) + 0.6), max(2.4, 0.3 * tallest + 1.6))
    ax = fig.add_subplot()
    width = 2.1
    ends: list[tuple[float, float]] = []
    for x, col in enumerate(columns):
        page = int(col["page"].iloc[0])
        ax.text(x * 2.6 + width / 2, -0.7, "head" if page < 0 else f"page {page << PAGE_SHIFT:#x}",
                ha="center", va="bottom", fontsize=9, fontweight="bold")
        for row, (slot, word, kind, dest) in enumerate(zip(col["slot"], col["word"], col["kind"], col["dest"])):
            ax.add_patch(Rectangle((x * 2.6, row), width, 0.9, facecolor=KIND_COLORS.get(kind, "#cccccc"),
                                   edgecolor="#555555", linewidth=0.5, gid="entry-word"))
            dark = kind in ("SOURCE", "INDIRECTION", "DONE")
            ax.text(x * 2.6 + 0.08, row + 0.45, word_label(int(word), int(dest)), va="center", fontsize=8,
                    family="monospace", color="white" if dark else "black")
            if page >= 0:
                ax.text(x * 2.6 + width - 0.08, row + 0.45, str(int(slot)), ha="right", va="center", fontsize=7,
                        color="#dddddd" if dark else "#666666")
        if col["kind"].iloc[-1] == "INDIRECTION":
            ends.append((x * 2.6 + width, len(col) - 0.55))
    for x, (ex, ey) in enumerate(ends):
        ax.add_patch(FancyArrowPatch((ex, ey), ((x + 1) * 2.6, 0.45), arrowstyle="-|>", mutation_scale=10,
                                     color=KIND_COLORS["INDIRECTION"], linewidth=1.2, gid="link"))
    ax.set_xlim(-0.5, len(columns) * 2.6)
    ax.set_ylim(tallest + 0.2, -1.0)
    ax.axis("off")
    ax.set_title(title, loc="left")
    return fig


def _map_mode(df: pd.DataFrame, title: str, epp: int) -> Figure:
    codes = {k: i + 1 for i, k in enumerate(KINDS)}
    pages = [c for c in page_columns(df) if int(c["page"].iloc[0]) >= 0]
    grid = np.zeros((max(1, len(pages)), epp), dtype=np.int8)
    for r, col in enumerate(pages):
        slots = col["slot"].to_numpy()
        grid[r, slots[slots < epp]] = [codes.get(k, 0) for k in col["kind"].to_numpy()[slots < epp]]
    fig = new_figure(10.0, min(6.5, 1.6 + 0.12 * len(grid)))
    ax = fig.add_subplot()
    cmap = ListedColormap([KIND_COLORS[""]] + [KIND_COLORS[k] for k in KINDS])
    norm = BoundaryNorm(np.arange(-0.5, len(KINDS) + 1.5), len(KINDS) + 1)
    ax.imshow(grid, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", gid="entry-map")
    ax.set_xlabel(f"slot (0..{epp - 1}; the last slot links to the next page)")
    ax.set_ylabel("indirection page (list order)")
    ax.set_title(title, loc="left")
    fig.legend(handles=patch_handles({k: KIND_COLORS[k] for k in KINDS}), loc="outside lower center", ncols=4)
    return fig


def plot_entries(df: pd.DataFrame, *, max_words: int = MAX_TEXT_WORDS, title: str | None = None,
                 entries_per_page: int = ENTRIES_PER_PAGE) -> Figure:
    """Draw an ``entrylist.entry_frame``: word by word when it has at most ``max_words`` words."""
    if df.empty:
        raise ValueError("the entry list is empty: nothing has been loaded")
    with style_context():
        title = title or _title(df)
        if len(df) <= max_words:
            fig = _text_mode(df, title)
            fig.legend(handles=patch_handles({k: KIND_COLORS[k] for k in KINDS}), loc="outside lower center",
                       ncols=4)
            return fig
        return _map_mode(df, title, entries_per_page)
