"""Hash figures: a curve per hash function and pattern, a table in detail."""
from __future__ import annotations

from labkit.hashing import HASHES
from labkit.patterns import chain_frame, destination_patterns, hash_stats
from labkit.viz.hashes import plot_hash_comparison, plot_hash_table


def by_gid(fig, gid):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def test_comparison_has_every_pattern_and_hash():
    patterns = destination_patterns(2048, seed=0)
    fig = plot_hash_comparison(hash_stats(patterns, buckets=(256, 1024)), chain_frame(patterns, nbuckets=256),
                               title="t")
    assert len(fig.axes) == 2 * len(patterns)
    for h in HASHES:
        assert len(by_gid(fig, f"chains-{h}")) == len(patterns)
        probes = by_gid(fig, f"probes-{h}")
        assert len(probes) == len(patterns) and all(len(line.get_xdata()) == 2 for line in probes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(HASHES)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert any("contiguous runs" in t for t in titles) and any("strided" in t for t in titles)
    assert "(256 buckets)" in fig.axes[-2].get_xlabel()


def test_single_table():
    pfns = destination_patterns(4096, seed=0)["runs"]
    fig = plot_hash_table(pfns, 512, "weak")
    title = fig.get_suptitle()
    assert "weak, 512 buckets" in title and "max chain" in title and "probes per hit" in title
    assert by_gid(fig, "occupancy") and by_gid(fig, "chain-histogram")
