"""labkit.viz.pgmap: the destination/source scatter and the run-length histogram."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from labkit.pgmap import PgMap, read_pgmap  # noqa: E402
from labkit.viz.pgmap import MAX_POINTS, plot_pgmap, sample_rows  # noqa: E402

EXAMPLE = (b"# kexec_pgmap v1 page_size=4096 entries=5 state=loaded\n"
           b"100 7f3a1\n101 7f3a2\n102 102\n103 5c010\n1000 1000\n")


def points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections)


def test_small_map_draws_every_point_and_highlights_in_place_pages():
    fig = plot_pgmap(read_pgmap(EXAMPLE, name="t42.pgmap"))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    scatter, hist = fig.axes
    assert scatter.get_xlabel() == "destination pfn" and scatter.get_ylabel() == "source pfn"
    assert "t42.pgmap" in scatter.get_title() and "5 entries" in scatter.get_title()
    assert "drawn" not in scatter.get_title()
    moved, in_place = scatter.collections
    assert (len(moved.get_offsets()), len(in_place.get_offsets())) == (3, 2)
    assert np.array_equal(in_place.get_offsets()[:, 0], in_place.get_offsets()[:, 1])
    assert [t.get_text() for t in scatter.get_legend().get_texts()] == ["moved", "in place (src = dest)"]
    assert hist.get_xlabel().startswith("run length") and hist.get_ylabel() == "runs"
    assert "destination runs: 2" in hist.get_title()
    assert [p.get_height() for p in hist.patches] == [1, 0, 1]      # runs of 1 and of 4 pages
    fig.canvas.draw()


def test_big_map_is_subsampled_deterministically_and_rasterised():
    n = 250_000
    dest = np.arange(n, dtype=np.uint64)
    src = dest[::-1].copy()
    src[:10] = dest[:10]
    pgmap = PgMap.from_arrays(dest, src)
    fig = plot_pgmap(pgmap)
    scatter = fig.axes[0]
    assert points(scatter) == MAX_POINTS
    assert f"{MAX_POINTS:,} of {n:,} rows drawn" in scatter.get_title()
    assert all(c.get_rasterized() for c in scatter.collections)
    again = plot_pgmap(pgmap).axes[0]
    assert np.array_equal(again.collections[0].get_offsets(), scatter.collections[0].get_offsets())


def test_sample_rows_keeps_ends_and_order():
    rows = sample_rows(1_000_000, 1000)
    assert rows.size == 1000 and rows[0] == 0 and rows[-1] == 999_999 and np.all(np.diff(rows) > 0)
    assert np.array_equal(sample_rows(10), np.arange(10))


def test_given_axes():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    assert plot_pgmap(read_pgmap(EXAMPLE), ax=ax) is fig
    assert points(ax) == 5 and len(fig.axes) == 1
    fig2, (a, b) = plt.subplots(1, 2)
    assert plot_pgmap(read_pgmap(EXAMPLE), ax=(a, b)) is fig2
    assert points(a) == 5 and b.get_ylabel() == "runs"
    plt.close("all")


@pytest.mark.parametrize("pgmap", [PgMap.from_arrays([], [], "loading"),
                                   read_pgmap(b"5 6\n", lenient=True)])
def test_empty_and_headerless_maps(pgmap):
    fig = plot_pgmap(pgmap)
    scatter = fig.axes[0]
    assert points(scatter) == len(pgmap)
    assert ("no header" in scatter.get_title()) == (pgmap.state is None)
    fig.canvas.draw()
