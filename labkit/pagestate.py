"""What each page frame is for, at one moment of a load: the vocabulary of every layout figure.

A page-state array holds one small integer per pfn (``STATE_NAMES`` gives the
names).  ``image_page_states`` derives it from a ``Kimage`` as it stands;
``labkit.steps.Replay`` derives it from recorded events, step by step.  The
two views use the same codes so the figures and the widgets agree on colours.
Drawing helpers (``bin_states``, ``as_grid``) reduce a large array to what a
figure can show without losing the rare, important pages (control, swap,
indirection) to plain downsampling.
"""
from __future__ import annotations

import numpy as np

from .kimage import Kimage
from .segments import destination_pfns

NOT_RAM = 0       # a hole or a non-RAM range of the memory map
FREE = 1          # free for the running kernel's allocator
OWNED = 2         # the running kernel's own pages (text, data, workload)
TARGET = 3        # a destination page whose image page has not arrived yet
SOURCE = 4        # a source page at another address ("moved")
IN_PLACE = 5      # a source page sitting at its own destination (swap trick or unpark)
PARKED = 6        # on image->dest_pages: allocated, somebody's destination, waiting for it
INDIRECTION = 7   # holds entry words
CONTROL = 8       # the control-code page (relocate_kernel's copy)
SWAP = 9          # the swap page
RELOCATED = 10    # a destination that now holds its image page
BACKUP = 11       # a source page that now holds the destination's old contents (swap relocation)

STATE_NAMES = ("not RAM", "free", "kernel's own", "destination (pending)", "source (moved)",
               "source in place", "parked (dest_pages)", "indirection", "control", "swap",
               "relocated", "backup page")
NSTATES = len(STATE_NAMES)

#: which state wins when several pages share one drawn pixel: rare, structural pages first
PRIORITY = (CONTROL, SWAP, INDIRECTION, PARKED, IN_PLACE, SOURCE, BACKUP, RELOCATED, TARGET, OWNED, FREE,
            NOT_RAM)


def background(ram: np.ndarray, owned: np.ndarray | None = None, target: np.ndarray | None = None) -> np.ndarray:
    """The page states before any load: RAM free, ``owned`` pfns the kernel's, ``target`` pfns pending.

    ``owned`` and ``target`` are bool masks or pfn arrays; ``target`` wins where both apply.
    """
    states = np.where(np.asarray(ram, dtype=bool), FREE, NOT_RAM).astype(np.int8)
    for pages, code in ((owned, OWNED), (target, TARGET)):
        if pages is not None:
            pages = np.asarray(pages)
            states[np.flatnonzero(pages) if pages.dtype == bool else pages.astype(np.int64)] = code
    return states


def image_page_states(image: Kimage, base: np.ndarray) -> np.ndarray:
    """``base`` with the pages ``image`` holds marked: sources, parked, indirection, control, swap.

    Destination pages of the image's segments that no source page sits on yet
    are marked ``TARGET`` (where ``base`` says ``FREE`` or ``OWNED``).
    """
    states = np.array(base, dtype=np.int8, copy=True)
    dests = destination_pfns(image.segments)
    dests = dests[dests < len(states)]
    states[dests] = TARGET
    if image.type == 0:
        dest, src = image.source_map()
        dest, src = dest.astype(np.int64), src.astype(np.int64)
        states[src[src != dest]] = SOURCE
        states[src[src == dest]] = IN_PLACE
        states[np.asarray(image.dest_pages(), dtype=np.int64)] = PARKED
        states[np.asarray(image.indirection_pages, dtype=np.int64)] = INDIRECTION
        if image.control_code_page >= 0:
            states[image.control_code_page] = CONTROL
        if image.swap_page >= 0:
            states[image.swap_page] = SWAP
    return states


def count_states(states: np.ndarray) -> dict[str, int]:
    """Pages per state name, zero counts left out."""
    counts = np.bincount(np.asarray(states, dtype=np.int64), minlength=NSTATES)
    return {STATE_NAMES[i]: int(c) for i, c in enumerate(counts) if c}


def bin_states(states: np.ndarray, nbins: int) -> np.ndarray:
    """Reduce ``states`` to at most ``nbins`` cells; each cell shows its highest-priority state.

    Plain striding would drop the one control page among 60 000; priority
    keeps every structural page visible at any zoom.
    """
    states = np.asarray(states, dtype=np.int8)
    n = len(states)
    if n <= nbins:
        return states.copy()
    rank = np.empty(NSTATES, dtype=np.int8)
    rank[list(PRIORITY)] = np.arange(len(PRIORITY), dtype=np.int8)
    per = -(-n // nbins)
    padded = np.full(per * nbins, NOT_RAM, dtype=np.int8)
    padded[:n] = states
    ranks = rank[padded].reshape(nbins, per).min(axis=1)
    out = np.array(PRIORITY, dtype=np.int8)[ranks]
    cells = -(-n // per)
    return out[:cells]


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of a near-square grid with a power-of-two row width holding ``n`` pages."""
    if n <= 0:
        return (1, 1)
    cols = 1 << max(0, int(np.ceil(np.log2(np.sqrt(n)))))
    return (-(-n // cols), cols)


def as_grid(states: np.ndarray) -> np.ndarray:
    """``states`` laid out row by row (pfn = row * cols + col), padded with ``NOT_RAM``."""
    rows, cols = grid_shape(len(states))
    grid = np.full(rows * cols, NOT_RAM, dtype=np.int8)
    grid[: len(states)] = states
    return grid.reshape(rows, cols)
