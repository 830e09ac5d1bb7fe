"""How well each hash function spreads real destination patterns over a table's buckets.

``plot_hash_comparison`` puts the three patterns of ``labkit.patterns`` side
by side: where the keys live (share of keys per chain length) and what a
lookup costs (mean probes per hit) as the bucket count grows.
``plot_hash_table`` shows one table in detail: the chain length of every
bucket and their distribution.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..hashing import buckets_of, chain_histogram, occupancy
from ..patterns import PATTERN_TITLES
from .style import HASH_COLORS, new_figure, patch_handles, style_context


def plot_hash_comparison(stats: pd.DataFrame, chains: pd.DataFrame, *, title: str | None = None) -> Figure:
    """``patterns.hash_stats`` and ``patterns.chain_frame`` tables, one row of panels per pattern."""
    patterns = list(dict.fromkeys(stats["pattern"]))
    hashes = list(dict.fromkeys(stats["hash"]))
    nbuckets = sorted(set(stats["buckets"]))
    with style_context():
        fig = new_figure(11.0, 2.6 * len(patterns) + 0.9)
        axes = fig.subplots(len(patterns), 2, squeeze=False)
        for r, pattern in enumerate(patterns):
            left, right = axes[r]
            ch = chains[chains["pattern"] == pattern]
            st = stats[stats["pattern"] == pattern]
            for h in hashes:
                c = ch[ch["hash"] == h].sort_values("chain_length")
                c = c[c["chain_length"] > 0]
                left.step(np.concatenate(([1], c["chain_length"])), np.concatenate(([0.0], c["keys_cdf"])),
                          where="post", linewidth=1.8, color=HASH_COLORS.get(h, "black"), label=h,
                          gid=f"chains-{h}")
                s = st[st["hash"] == h].sort_values("buckets")
                right.plot(s["buckets"], s["mean_probes_hit"], marker="o", linewidth=1.6,
                           color=HASH_COLORS.get(h, "black"), label=h, gid=f"probes-{h}")
            keys = int(st["keys"].iloc[0]) if len(st) else 0
            left.set_xscale("log")
            left.set_title(f"{PATTERN_TITLES.get(pattern, pattern)} \u00b7 {keys:,} keys", loc="left",
                           fontsize=11)
            left.set_ylabel("keys in chains \u2264 L")
            left.set_ylim(-0.02, 1.05)
            right.set_xscale("log", base=2)
            right.set_yscale("log")
            right.axhline(1.0, color="#999999", linewidth=0.8, linestyle=":")
            right.set_ylabel("probes per hit")
            if r == 0:
                right.set_title("cost of a successful lookup", loc="left", fontsize=11)
            right.set_xticks(nbuckets, [str(n) for n in nbuckets])
            if r == len(patterns) - 1:
                nb = int(chains.attrs.get("nbuckets", 0)) or None
                left.set_xlabel("chain length L" + (f" ({nb} buckets)" if nb else ""))
                right.set_xlabel("buckets")
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        fig.legend(handles=patch_handles({h: HASH_COLORS.get(h, "black") for h in hashes}),
                   loc="outside lower center", ncols=len(hashes), title="hash function")
    return fig


def plot_hash_table(pfns: np.ndarray, nbuckets: int, hash_name: str, *, title: str | None = None) -> Figure:
    """One table: chain length per bucket (left) and how many buckets have each length (right)."""
    buckets = buckets_of(pfns, nbuckets, hash_name)
    counts = np.bincount(buckets, minlength=nbuckets)
    hist = chain_histogram(buckets, nbuckets)
    stats = occupancy(buckets, nbuckets)
    color = HASH_COLORS.get(hash_name, "black")
    with style_context():
        fig = new_figure(10.0, 3.4)
        left, right = fig.subplots(1, 2, width_ratios=(3, 2))
        x = np.arange(nbuckets)
        left.fill_between(x, counts, step="mid", color=color, alpha=0.8, linewidth=0, gid="occupancy")
        left.set_xlim(0, nbuckets)
        left.set_xlabel("bucket")
        left.set_ylabel("chain length")
        lengths = np.flatnonzero(hist)
        lengths = lengths[lengths > 0]
        right.vlines(lengths, 0.8, hist[lengths], color=color, linewidth=3, gid="chain-histogram")
        right.set_yscale("log")
        right.set_ylim(0.8, max(2.0, float(hist[lengths].max()) * 1.5) if len(lengths) else 2.0)
        if len(lengths) and lengths.max() > 40:
            right.set_xscale("log")
        right.set_xlabel("chain length (empty buckets left out)")
        right.set_ylabel("buckets")
        fig.suptitle(title or (f"{hash_name}, {nbuckets} buckets, {stats['keys']:,} keys: max chain "
                               f"{stats['max_chain']}, {stats['empty_buckets']:,} empty, "
                               f"{stats['mean_probes_hit']:.2f} probes per hit"),
                     x=0.01, ha="left", fontweight="bold", fontsize=11)
    return fig
