"""Page-state arrays: derived from a kimage, reduced for drawing."""
from __future__ import annotations

import numpy as np
import pytest

from labkit import pagestate as ps
from labkit.examples import small_load, worked_example


def test_background_marks_owned_and_target():
    ram = np.array([False, True, True, True, True])
    st = ps.background(ram, owned=np.array([False, True, False, False, False]), target=np.array([3]))
    assert st.tolist() == [ps.NOT_RAM, ps.OWNED, ps.FREE, ps.TARGET, ps.FREE]


def test_target_wins_over_owned():
    st = ps.background(np.ones(4, bool), owned=np.ones(4, bool), target=np.array([2]))
    assert st.tolist() == [ps.OWNED, ps.OWNED, ps.TARGET, ps.OWNED]


def test_image_page_states_of_worked_example():
    ex = worked_example()
    image = ex.loader.image
    st = ps.image_page_states(image, ps.background(ex.machine.ram_bitmap()))
    assert st[image.control_code_page] == ps.CONTROL
    assert st[image.swap_page] == ps.SWAP
    assert all(st[p] == ps.INDIRECTION for p in image.indirection_pages)
    dest, src = image.source_map()
    assert all(st[int(s)] == ps.SOURCE for s in src)          # nothing sits in place here
    assert all(st[int(d)] == ps.TARGET for d in dest)         # and every destination waits
    counts = ps.count_states(st)
    assert counts["source (moved)"] == 4 and counts["control"] == 1 and counts["swap"] == 1


def test_swap_trick_pages_are_in_place():
    ex = small_load(policy="lowest", seed=1)
    image = ex.loader.image
    st = ps.image_page_states(image, ps.background(ex.machine.ram_bitmap(), ex.owned))
    dest, src = image.source_map()
    in_place = dest == src
    assert in_place.any() and (~in_place).any()
    assert (st[src[in_place].astype(np.int64)] == ps.IN_PLACE).all()
    assert (st[src[~in_place].astype(np.int64)] == ps.SOURCE).all()
    assert (st[np.flatnonzero(ex.owned)] == ps.OWNED).all()


def test_bin_states_keeps_rare_pages():
    st = np.full(100_000, ps.FREE, dtype=np.int8)
    st[54_321] = ps.CONTROL
    st[70_000:70_010] = ps.SOURCE
    cells = ps.bin_states(st, 1000)
    assert len(cells) == 1000
    assert (cells == ps.CONTROL).sum() == 1
    assert (cells == ps.SOURCE).sum() >= 1
    assert ps.bin_states(st[:10], 1000).tolist() == st[:10].tolist()


@pytest.mark.parametrize("n, shape", [(1, (1, 1)), (16384, (128, 128)), (65536, (256, 256)), (1000, (32, 32)),
                                      (1025, (17, 64))])
def test_grid_shape(n, shape):
    assert ps.grid_shape(n) == shape
    rows, cols = shape
    assert rows * cols >= n


def test_as_grid_pads_and_keeps_order():
    st = np.arange(10, dtype=np.int8) % ps.NSTATES
    grid = ps.as_grid(st)
    assert grid.shape == ps.grid_shape(10)
    assert grid.ravel()[:10].tolist() == st.tolist()
    assert (grid.ravel()[10:] == ps.NOT_RAM).all()
