"""Backup pages: who holds what before the kexec jump, after the swap walk, and after the jump back.

One row per moment, one cell per page (B's region on the left, the source
pages -- the backup pages -- on the right), each cell naming its content
(``A16`` = kernel A's page 16, ``B0`` = B's first page, ``B0'`` = B's page
after B wrote it).  A row that is one step of a walk draws the swapped pair
as a double arrow.
"""
from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from ..backup import JumpDemo
from ..units import PAGE_SHIFT
from .style import OWNER_COLORS, new_figure, patch_handles, style_context

ROW_TITLES = {"loaded": "A loaded B", "jump": "after kexec jump", "B runs": "B ran", "jump_back": "after jump back"}
_GAP = 0.6


def _x(demo: JumpDemo, col: int) -> float:
    nb = sum(1 for r in demo.roles if r == "B region")
    return col + (_GAP if col >= nb else 0.0)


def plot_relocation(demo: JumpDemo, rows: Sequence[int] | None = None, *, title: str | None = None,
                    step_arrows: bool = False) -> Figure:
    """Frames ``rows`` of ``demo`` (default: ``demo.key_frames()``) as rows of labelled page cells.

    With ``step_arrows`` a row that is one step of a walk is labelled with
    its step number and the swapped pair gets a double arrow (the player's
    view); otherwise walk rows are summarised as "swap walk: n pairs".
    """
    rows = list(demo.key_frames() if rows is None else rows)
    ncols = len(demo.pfns)
    nb = sum(1 for r in demo.roles if r == "B region")
    with style_context():
        fig = new_figure(max(6.0, 0.85 * ncols + 2.6), 1.0 + 0.75 * len(rows) + 0.9)
        ax = fig.add_subplot()
        for c, pfn in enumerate(demo.pfns):
            ax.text(_x(demo, c) + 0.45, -0.25, f"{pfn << PAGE_SHIFT:#x}", ha="center", va="bottom", fontsize=7,
                    rotation=45, color="#555555")
        ax.text(_x(demo, 0) + nb / 2, -1.05, "kernel B's region (destinations)", ha="center", fontweight="bold",
                fontsize=10)
        if ncols > nb:
            ax.text(_x(demo, nb) + (ncols - nb) / 2, -1.05, "source pages = backup pages", ha="center",
                    fontweight="bold", fontsize=10)
        for r, i in enumerate(rows):
            frame = demo.frames[i]
            y = r
            label = ROW_TITLES.get(frame.phase, frame.phase)
            if frame.pair is not None and step_arrows:
                step = sum(1 for f in demo.frames[: i + 1] if f.phase == frame.phase and f.pair is not None)
                label += f" (swap {step})"
            elif frame.pair is not None:
                label += f" (swap walk, {len(demo.pairs)} pairs)"
            ax.text(-0.25, y + 0.45, label, ha="right", va="center", fontsize=10)
            for c, (text, owner) in enumerate(zip(frame.labels, frame.owners)):
                ax.add_patch(Rectangle((_x(demo, c), y), 0.9, 0.9, facecolor=OWNER_COLORS.get(owner, "#cccccc"),
                                       edgecolor="#444444", linewidth=0.6, gid="page-cell"))
                ax.text(_x(demo, c) + 0.45, y + 0.45, text, ha="center", va="center", fontsize=9,
                        family="monospace")
            if frame.pair is not None and step_arrows:
                s, d = frame.pair
                if s in demo.pfns and d in demo.pfns and s != d:
                    xs, xd = _x(demo, demo.column(s)) + 0.45, _x(demo, demo.column(d)) + 0.45
                    ax.add_patch(FancyArrowPatch((xs, y - 0.02), (xd, y - 0.02), arrowstyle="<|-|>",
                                                 connectionstyle="arc3,rad=0.12", mutation_scale=9,
                                                 color="#222222", linewidth=1.0, gid="swap-arrow"))
        ax.set_xlim(-3.2, _x(demo, ncols - 1) + 1.1)
        ax.set_ylim(len(rows) + 0.1, -1.4)
        ax.axis("off")
        ok = "A's pages are back" if demo.restored else "A's pages were NOT restored"
        ax.set_title(title or f"kexec jump with backup pages: {nb} pages swapped out and back \u00b7 {ok}",
                     loc="left")
        owners = {"A": "kernel A's data", "B": "kernel B's image", "B'": "written by B", "free": "free page"}
        fig.legend(handles=patch_handles({k: OWNER_COLORS[k] for k in owners}, owners),
                   loc="outside lower center", ncols=4)
    return fig
