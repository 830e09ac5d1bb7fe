"""What a page map looks like: in-place pages, contiguous runs, span, hash-bucket load.

Runs matter because relocation and the loader work page by page while the
image is made of runs; the bucket occupancy shows how a ``HashIndex`` with the
chosen hash would fill if built over these destinations.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..hashing import buckets_of, chain_histogram, check_buckets, hash_function, occupancy
from .model import PgMap


@dataclass(frozen=True)
class RunStats:
    """Lengths of maximal runs of consecutive pfns; histogram bins are ``[2**k, 2**(k+1) - 1]``."""

    count: int
    min: int | None
    median: float | None
    mean: float | None
    max: int | None
    histogram: tuple[tuple[int, int, int], ...]   # (shortest, longest, runs) per power of two

    @classmethod
    def of(cls, lengths: np.ndarray) -> "RunStats":
        if lengths.size == 0:
            return cls(0, None, None, None, None, ())
        bins = np.frexp(lengths.astype(np.float64))[1] - 1          # floor(log2(length))
        counts = np.bincount(bins)
        hist = tuple((1 << k, (1 << (k + 1)) - 1, int(c)) for k, c in enumerate(counts))
        return cls(int(lengths.size), int(lengths.min()), _median(lengths), float(lengths.mean()),
                   int(lengths.max()), hist)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["histogram"] = [{"lo": lo, "hi": hi, "runs": runs} for lo, hi, runs in self.histogram]
        return out


def _median(lengths: np.ndarray) -> float:
    """Median of positive integers by counting (np.median's partition is slow on 10**7 equal values)."""
    cumulative = np.cumsum(np.bincount(lengths))
    n = lengths.size
    low = int(np.searchsorted(cumulative, (n - 1) // 2, side="right"))
    high = int(np.searchsorted(cumulative, n // 2, side="right"))
    return (low + high) / 2


def run_lengths(starts_new_run: np.ndarray, n: int) -> np.ndarray:
    """Lengths of runs given, for each row after the first, whether it starts a new run."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    boundaries = np.concatenate(([0], np.flatnonzero(starts_new_run) + 1, [n]))
    return np.diff(boundaries)


def _consecutive_breaks(values: np.ndarray) -> np.ndarray:
    return values[1:] != values[:-1] + np.uint64(1)


@dataclass(frozen=True)
class PgMapSummary:
    """Counts, runs, span and bucket occupancy of one map (see ``summarise_pgmap``)."""

    entries: int
    in_place: int
    moved: int
    page_size: int
    dest_runs: RunStats
    src_runs: RunStats
    copy_runs: RunStats
    span: dict[str, int | None]
    hash: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "in_place": self.in_place, "moved": self.moved,
                "page_size": self.page_size, "dest_runs": self.dest_runs.to_dict(),
                "src_runs": self.src_runs.to_dict(), "copy_runs": self.copy_runs.to_dict(),
                "span": dict(self.span), "hash": dict(self.hash)}

    def flat(self) -> dict[str, Any]:
        """One level of ``key: value`` pairs for a terminal summary."""
        out: dict[str, Any] = {"entries": self.entries, "in_place": self.in_place, "moved": self.moved}
        for name in ("dest_runs", "src_runs", "copy_runs"):
            runs: RunStats = getattr(self, name)
            out[name] = runs.count
            if runs.count:
                out[f"{name}_len"] = (f"min {runs.min}, median {runs.median:g}, mean {runs.mean:.4g}, "
                                      f"max {runs.max}")
        out.update(self.span)
        h = self.hash
        out["hash"] = f"{h['name']}, {h['buckets']} buckets"
        out["hash_used_buckets"] = h["used_buckets"]
        out["hash_max_chain"] = h["max_chain"]
        out["hash_mean_probes_hit"] = h["mean_probes_hit"]
        return out


def summarise_pgmap(pgmap: PgMap, *, hash: str = "golden", buckets: int = 1024) -> PgMapSummary:
    """Summary of a map; rows need not be sorted (they are sorted by destination here)."""
    hash_function(hash)
    nbuckets = check_buckets(buckets)
    dest, src = pgmap.dest_pfn, pgmap.src_pfn
    n = dest.size
    if n > 1 and not bool(np.all(dest[1:] >= dest[:-1])):
        order = np.argsort(dest, kind="stable")
        dest, src = dest[order], src[order]
    in_place = int(np.count_nonzero(dest == src))
    dest_runs = RunStats.of(run_lengths(_consecutive_breaks(dest), n))
    src_runs = RunStats.of(run_lengths(_consecutive_breaks(np.sort(src)), n))
    copy_runs = RunStats.of(run_lengths(_consecutive_breaks(dest) | _consecutive_breaks(src), n))
    page = pgmap.page_size
    span: dict[str, int | None] = {}
    for name, values in (("dest", dest), ("src", src)):
        low = int(values.min()) if n else None
        high = int(values.max()) if n else None
        span[f"{name}_pfn_min"] = low
        span[f"{name}_pfn_max"] = high
        span[f"{name}_addr_min"] = low * page if n else None
        span[f"{name}_addr_end"] = (high + 1) * page if n else None
    table = buckets_of(dest, nbuckets, hash)
    stats: dict[str, Any] = {"name": hash, **occupancy(table, nbuckets),
                             "chain_histogram": [int(c) for c in chain_histogram(table, nbuckets)]}
    return PgMapSummary(n, in_place, n - in_place, page, dest_runs, src_runs, copy_runs, span, stats)
