"""Sweeps over image sizes and log-log slopes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from labkit.bench import COLUMNS, fit_slopes, loglog_slope, sweep


@pytest.fixture(scope="module")
def df():
    return sweep(["4MiB", "8MiB", "16MiB"], indexes=("linear", "hash"), seed=0)


def test_sweep_rows_and_columns(df):
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == 6
    assert df["verified"].all() and (df["error"] == "").all()
    assert df["ram"].tolist() == ["4MiB", "4MiB", "8MiB", "8MiB", "16MiB", "16MiB"]
    assert (df["image_pages"].diff().iloc[2::2] > 0).all()
    assert df["args"].str.startswith("labkit simulate --ram").all()


def test_indexes_build_the_same_image_with_different_work(df):
    lin, h = df[df["index"] == "linear"], df[df["index"] == "hash"]
    assert lin["image_pages"].tolist() == h["image_pages"].tolist()
    assert (lin["entries_scanned"] > 0).all() and (lin["hash_probes"] == 0).all()
    assert (h["hash_probes"] > 0).all() and (h["entries_scanned"] == 0).all()
    assert (lin["lookup_work"].to_numpy() > 10 * h["lookup_work"].to_numpy()).all()
    assert (df["lookup_work"] == df[["entries_scanned", "hash_probes", "dest_pages_scanned", "segment_checks",
                                     "bitmap_tests"]].sum(axis=1)).all()


def test_linear_walk_grows_faster(df):
    slopes = fit_slopes(df)
    assert slopes["linear"] > 1.6 and slopes["hash"] < 1.3


def test_sweep_passes_params_and_reports_progress():
    seen = []
    out = sweep([4 << 20], indexes=("hash",), hash="modulo", rules="2016",
                progress=lambda done, total, what: seen.append((done, total, what)))
    assert seen == [(1, 1, f"{4 << 20} hash")]
    assert out["hash"].iloc[0] == "modulo"
    assert out["error"].iloc[0] == "EINVAL total-exceeds-half-ram" and not out["verified"].iloc[0]
    assert out.attrs["params"] == {"hash": "modulo", "rules": "2016"}


def test_loglog_slope():
    x = np.array([1, 2, 4, 8, 16])
    assert loglog_slope(x, 3 * x ** 2) == pytest.approx(2.0)
    assert loglog_slope(x, 5 * x) == pytest.approx(1.0)
    assert loglog_slope([1, 2, 4], [0, 2, 4]) == pytest.approx(1.0)      # zeros are left out
    assert math.isnan(loglog_slope([3, 3], [1, 2]))
    assert math.isnan(loglog_slope([], []))
