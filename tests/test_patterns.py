"""Destination patterns and how the three hash functions spread them."""
from __future__ import annotations

import numpy as np
import pytest

from labkit.patterns import PATTERNS, chain_frame, destination_pattern, destination_patterns, hash_stats


def test_patterns_have_the_promised_shape():
    p = destination_patterns(4096, seed=0)
    assert set(p) == set(PATTERNS)
    for pfns in p.values():
        assert (np.diff(pfns) > 0).all()
    assert len(p["strided"]) == len(p["fragmented"]) == 4096
    assert abs(len(p["runs"]) - 4096) < 600
    assert (np.diff(p["strided"]) == 512).all()
    runs = np.flatnonzero(np.diff(p["runs"]) != 1)
    assert 4096 / (len(runs) + 1) > 8          # long contiguous runs


def test_pattern_is_deterministic_and_checked():
    assert np.array_equal(destination_pattern("fragmented", 100, seed=5), destination_pattern("fragmented", 100, seed=5))
    with pytest.raises(ValueError):
        destination_pattern("spiral")
    with pytest.raises(ValueError):
        destination_pattern("runs", 0)


def test_each_hash_has_its_bad_pattern():
    stats = hash_stats(destination_patterns(8192, seed=0), buckets=(1024,)).set_index(["pattern", "hash"])
    probes = stats["mean_probes_hit"]
    assert probes["strided", "modulo"] > 50 * probes["strided", "golden"]     # power-of-two stride
    assert probes["runs", "weak"] > 10 * probes["runs", "golden"]             # 512 pages per bucket
    assert probes["runs", "modulo"] < 1.1 * probes["runs", "golden"]
    assert probes["strided", "weak"] <= probes["strided", "golden"]


def test_chain_frame_shares_add_up():
    cf = chain_frame({"x": np.arange(1000)}, hashes=("golden", "weak"), nbuckets=64)
    assert cf.attrs["nbuckets"] == 64
    for _, g in cf.groupby("hash"):
        assert g["keys_share"].sum() == pytest.approx(1.0)
        assert g["keys_cdf"].iloc[-1] == pytest.approx(1.0)
        assert (g["buckets"] * g["chain_length"]).sum() == 1000
        assert g["buckets"].sum() == 64
