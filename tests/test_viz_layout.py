"""Layout figures draw what they are given: one rectangle per segment, every page state, the moves."""
from __future__ import annotations


import numpy as np
import pytest

from labkit import pagestate as ps
from labkit.examples import small_load, worked_example
from labkit.hibernate import RoundTripParams, hibernate_resume
from labkit.memmap import CRASH_KERNEL, KERNEL, RESERVED, MemoryMap, MemRange
from labkit.segments import Segment
from labkit.steps import round_trip_backgrounds
from labkit.viz.layout import MAX_MOVE_LINES, plot_image_layout, plot_layout, plot_page_grid
from labkit.viz.style import figure_png


def by_gid(fig, gid):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def legend_labels(fig):
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


@pytest.fixture(scope="module")
def trip():
    return hibernate_resume(RoundTripParams(ram="256MiB", seed=0))


def test_small_load_layout_content():
    ex = small_load()
    fig = plot_image_layout(ex.machine, ex.loader.image, ps.background(ex.machine.ram_bitmap(), ex.owned))
    (segs,) = by_gid(fig, "segments")
    assert len(segs.get_paths()) == len(ex.segments) == 3
    assert len(by_gid(fig, "segment-label")) == 3
    dest, src = ex.loader.image.source_map()
    (moves,) = by_gid(fig, "moves")
    assert len(moves.get_segments()) == int((dest != src).sum())
    labels = legend_labels(fig)
    for name in ("ram", "segment", "control", "swap", "indirection", "source in place", "source (moved)"):
        assert name in labels
    assert len(by_gid(fig, "page-states")) == 1
    assert "3 segments" in fig.axes[0].get_title(loc="left")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["memory map", "segments", "pages"]


def test_memory_map_only_has_one_track_and_shows_kernel_and_crash():
    mm = MemoryMap((MemRange(0, 0x10000000), MemRange(0x10000000, 0x10100000, RESERVED),
                    MemRange(0x1000000, 0x2000000, KERNEL, "Kernel code", 1),
                    MemRange(0x8000000, 0xC000000, CRASH_KERNEL, "Crash kernel", 1)))
    fig = plot_layout(mm)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["memory map"]
    assert {"ram", "reserved", "kernel", "crash-kernel"} <= set(legend_labels(fig))
    assert by_gid(fig, "memmap-crash-kernel") and not by_gid(fig, "segments")


def test_segments_without_pages():
    segs = [Segment(0x100000 * (i + 1), 0x3000, 0x1000) for i in range(20)]
    fig = plot_layout(MemoryMap.from_ram(64 << 20), segs)
    (coll,) = by_gid(fig, "segments")
    assert len(coll.get_paths()) == 20
    assert not by_gid(fig, "segment-label")                 # more than 16: no index labels
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["memory map", "segments"]


def test_worked_example_draws_a_line_per_moved_page():
    ex = worked_example()
    fig = plot_image_layout(ex.machine, ex.loader.image)
    (moves,) = by_gid(fig, "moves")
    assert len(moves.get_segments()) == 4


def test_big_image_is_fast_and_complete(trip):
    """A 64K-page machine with ~1000 segments draws every segment (its speed is in make bench)."""
    image = trip.loader_c.image
    assert trip.machine.max_pfn == 65536
    base = round_trip_backgrounds(trip)["load_image"]
    fig = plot_image_layout(trip.machine, image, base)
    png = figure_png(fig, dpi=100)
    assert png.startswith(b"\x89PNG")
    (segs,) = by_gid(fig, "segments")
    assert len(segs.get_paths()) == len(image.segments) == trip.image_segments
    assert not by_gid(fig, "moves")                           # too many moved pages for lines
    assert (trip.image_pages - int((image.source_map()[0] == image.source_map()[1]).sum())) > MAX_MOVE_LINES
    (strip,) = by_gid(fig, "page-states")
    cells = strip.get_array()
    assert ps.CONTROL in cells and ps.INDIRECTION in cells     # one page in 65536, still drawn
    if abs(image.swap_page - image.control_code_page) > 64:
        assert ps.SWAP in cells


def test_page_grid(trip):
    states = round_trip_backgrounds(trip)["load_image"]
    fig = plot_page_grid(states, touched=np.array([5, 300]), title="step 1")
    assert figure_png(fig, dpi=72).startswith(b"\x89PNG")
    (img,) = by_gid(fig, "page-grid")
    assert img.get_array().shape == (256, 256)
    (ring,) = by_gid(fig, "touched")
    assert ring.get_offsets().tolist() == [[5, 0], [300 % 256, 1]]
    assert fig.axes[0].get_title(loc="left") == "step 1"
    assert len(fig.axes[0].get_legend().get_texts()) == ps.NSTATES - 1
