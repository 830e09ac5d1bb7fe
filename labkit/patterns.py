"""Destination patterns a hash index meets, and how each hash function spreads them over buckets.

A hibernation image's destinations are *contiguous runs* (kernel A's used
memory); other loads see *strided* destinations (one page per 2 MiB frame,
e.g. huge-page-aligned structures) or *fragmented* ones (scattered pages).
The three hash functions of ``labkit.hashing`` react very differently:
``modulo`` loves runs and hates power-of-two strides, ``weak`` (the 2 MiB
frame) is the opposite, ``golden`` (``hash_64``) is indifferent.  The tables
here feed the hash figures and the hash explorer.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .hashing import HASHES, buckets_of, chain_histogram, occupancy
from .workload import usage_bitmap

PATTERNS = ("runs", "strided", "fragmented")
PATTERN_TITLES = {"runs": "contiguous runs (an image of A's memory)",
                  "strided": "strided (one page per 2 MiB frame)",
                  "fragmented": "fragmented (scattered pages)"}
#: the stride of the strided pattern: 512 pages = one 2 MiB frame
STRIDE = 512


def destination_pattern(name: str, pages: int = 16384, *, seed: int = 0, used: float = 0.6,
                        run_length: float = 32.0) -> np.ndarray:
    """About ``pages`` sorted destination pfns of the pattern ``name`` (see ``PATTERNS``).

    ``runs`` is kernel A's used memory as ``hibernate_resume`` draws it
    (``workload.usage_bitmap`` with ``used`` and ``run_length``) on a
    machine sized so that ``pages`` pages are used.
    """
    if pages < 1:
        raise ValueError(f"pages must be at least 1, got {pages}")
    if name == "runs":
        ram = np.ones(int(pages / used), dtype=bool)
        return np.flatnonzero(usage_bitmap(ram, used, run_length, seed)).astype(np.int64)
    if name == "strided":
        return np.arange(pages, dtype=np.int64) * STRIDE + 256
    if name == "fragmented":
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(pages * 4, size=pages, replace=False)).astype(np.int64)
    raise ValueError(f"unknown pattern {name!r}; choose one of {', '.join(PATTERNS)}")


def destination_patterns(pages: int = 16384, seed: int = 0) -> dict[str, np.ndarray]:
    """Every pattern of ``PATTERNS`` at the same size."""
    return {name: destination_pattern(name, pages, seed=seed) for name in PATTERNS}


def hash_stats(patterns: Mapping[str, np.ndarray], hashes: Sequence[str] = HASHES,
               buckets: Sequence[int] = (1024, 4096, 16384)) -> pd.DataFrame:
    """One row per (pattern, hash, bucket count): ``hashing.occupancy`` of the filled table."""
    rows = []
    for pattern, pfns in patterns.items():
        for h in hashes:
            for n in buckets:
                stats = occupancy(buckets_of(pfns, n, h), n)
                rows.append({"pattern": pattern, "hash": h, **stats})
    return pd.DataFrame(rows)


def chain_frame(patterns: Mapping[str, np.ndarray], hashes: Sequence[str] = HASHES,
                nbuckets: int = 4096) -> pd.DataFrame:
    """Chain-length distributions: rows (pattern, hash, chain_length, buckets, keys_share, keys_cdf).

    ``keys_share`` is the fraction of keys living in chains of that length,
    which is what a lookup feels (a few long chains hold many keys);
    ``keys_cdf`` the fraction in chains of at most that length.  The bucket
    count is kept in ``DataFrame.attrs["nbuckets"]``.
    """
    rows = []
    for pattern, pfns in patterns.items():
        for h in hashes:
            hist = chain_histogram(buckets_of(pfns, nbuckets, h), nbuckets)
            keys = max(int(len(pfns)), 1)
            cdf = 0.0
            for length, count in enumerate(hist.tolist()):
                if count:
                    share = length * count / keys
                    cdf += share
                    rows.append({"pattern": pattern, "hash": h, "chain_length": length, "buckets": count,
                                 "keys_share": share, "keys_cdf": min(cdf, 1.0)})
    df = pd.DataFrame(rows, columns=["pattern", "hash", "chain_length", "buckets", "keys_share", "keys_cdf"])
    df.attrs["nbuckets"] = nbuckets
    return df
