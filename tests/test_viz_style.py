"""The shared palette and rendering helpers."""
from __future__ import annotations

import base64

import numpy as np

from labkit import pagestate as ps
from labkit.viz import style


def test_every_state_has_a_colour_and_the_cmap_is_exact():
    assert set(style.STATE_COLORS) == set(range(ps.NSTATES))
    cmap, norm = style.state_cmap()
    for code, colour in style.STATE_COLORS.items():
        rgba = cmap(norm(code))
        assert np.allclose(rgba[:3], np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255)


def test_handles_only_for_present_states():
    labels = [h.get_label() for h in style.state_handles(np.array([ps.FREE, ps.CONTROL, ps.NOT_RAM]))]
    assert labels == [ps.STATE_NAMES[ps.FREE], ps.STATE_NAMES[ps.CONTROL]]
    assert len(style.state_handles(None)) == ps.NSTATES - 1


def test_unknown_memmap_type_gets_a_colour():
    assert style.memmap_color("ram") == style.MEMMAP_COLORS["ram"]
    assert style.memmap_color("e820 type 20") == style.UNKNOWN_TYPE_COLOR


def test_png_round_trip():
    with style.style_context():
        fig = style.new_figure(2, 2)
        fig.add_subplot().plot([0, 1])
    png = style.figure_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG")
    out = style.png_output(png, "x")
    assert out["output_type"] == "display_data"
    assert base64.b64decode(out["data"]["image/png"]) == png


def test_pow2_ticks():
    ticks = style.pow2_ticks(0, 0x400000)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and ticks[-1] == 0x400000 and step == 0x80000
    assert len(style.pow2_ticks(0, 1000, most=8)) <= 9
    assert style.hex_formatter(4096) == "0x1000" and style.hex_formatter(-1) == ""
