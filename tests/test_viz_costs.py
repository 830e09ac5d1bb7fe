"""Cost figures: log-log curves with fitted slopes in the legend, segment counts against 16."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from labkit.bench import sweep
from labkit.viz.costs import plot_costs, plot_segment_counts


@pytest.fixture(scope="module")
def df():
    return sweep(["4MiB", "8MiB", "16MiB", "32MiB"], seed=0)


def slopes_in(ax):
    out = {}
    for text in ax.get_legend().get_texts():
        m = re.search(r"^(linear|hash).*slope (-?\d+\.\d\d)$", text.get_text())   # wall time may fall: noise
        assert m, text.get_text()
        out[m.group(1)] = float(m.group(2))
    return out


def test_costs_figure(df):
    fig = plot_costs(df)
    work, seconds = fig.axes
    assert work.get_xscale() == work.get_yscale() == "log"
    slopes = slopes_in(work)
    assert slopes["linear"] > 1.6 and slopes["hash"] < 1.3
    assert set(slopes_in(seconds)) == {"linear", "hash"}
    lines = [line for line in work.get_lines() if line.get_gid() == "lookup_work-linear"]
    assert len(lines) == 1 and len(lines[0].get_xdata()) == 4
    assert "4MiB, 8MiB, 16MiB, 32MiB" in fig.get_suptitle()


def test_segment_counts_figure(df):
    fig = plot_segment_counts(df)
    ax = fig.axes[0]
    (limit,) = [line for line in ax.get_lines() if line.get_gid() == "limit"]
    assert set(limit.get_ydata()) == {16}
    (segs,) = [line for line in ax.get_lines() if line.get_gid() == "segments"]
    assert list(segs.get_ydata()) == df.drop_duplicates("image_pages")["image_segments"].tolist()
    assert any("segment[16]" in t.get_text() for t in ax.get_legend().get_texts())


def test_empty_sweep_is_refused():
    with pytest.raises(ValueError):
        plot_costs(pd.DataFrame(columns=["index", "image_pages", "lookup_work", "seconds", "ram"]))
