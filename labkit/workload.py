"""Kernel A's memory: which pages it uses, generated from a seed.

labkit's own model (the reference's proposal): used pages come in runs whose
lengths are geometric with mean ``run_length``; free gaps are geometric with
the mean that makes the used fraction come out at ``used``.  A hibernation
image then has one segment per run, orders of magnitude more than
``KEXEC_SEGMENT_MAX``.
"""
from __future__ import annotations

import numpy as np


def usage_bitmap(ram: np.ndarray, used: float, run_length: float, seed: int = 0) -> np.ndarray:
    """A bool array over ``ram`` (True where a page is RAM): True where kernel A uses the page."""
    if not 0.0 < used < 1.0:
        raise ValueError(f"used must be a fraction between 0 and 1 (exclusive), got {used}")
    if run_length < 1:
        raise ValueError(f"run_length must be at least 1 page, got {run_length}")
    ram_pfns = np.flatnonzero(ram)
    n = len(ram_pfns)
    rng = np.random.default_rng(seed)
    gap_mean = run_length * (1.0 - used) / used
    # draw enough alternating runs to cover n pages, then cut
    estimate = int(n / (run_length + gap_mean)) * 2 + 16
    out = np.zeros(n, dtype=bool)
    pos = int(rng.integers(0, max(1, int(gap_mean) + 1)))
    while pos < n:
        runs = rng.geometric(1.0 / run_length, estimate)
        gaps = rng.geometric(1.0 / max(gap_mean, 1.0), estimate) if gap_mean >= 1.0 else \
            rng.binomial(1, gap_mean, estimate)
        starts = pos + np.concatenate(([0], np.cumsum(runs + gaps)[:-1]))
        ends = starts + runs
        for s, e in zip(starts.tolist(), ends.tolist()):
            if s >= n:
                break
            out[s: min(e, n)] = True
        pos = int(starts[-1] + runs[-1] + gaps[-1])
    bitmap = np.zeros(len(ram), dtype=bool)
    bitmap[ram_pfns] = out
    return bitmap


def runs_of(pfns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths) of the maximal runs of consecutive values in sorted ``pfns``."""
    pfns = np.asarray(pfns, dtype=np.int64)
    if len(pfns) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    breaks = np.flatnonzero(np.diff(pfns) != 1) + 1
    starts_idx = np.concatenate(([0], breaks))
    ends_idx = np.concatenate((breaks, [len(pfns)]))
    return pfns[starts_idx], ends_idx - starts_idx
