"""Hash functions from destination pfn to bucket, for labkit's ``HashIndex``.

``golden`` is the kernel's ``hash_64`` (include/linux/hash.h since 4.7:
multiply by ``GOLDEN_RATIO_64`` and keep the top bits); for a bucket count
that is not a power of two the same product is mapped with a multiply-shift
(``(h * n) >> 64``), which equals ``hash_64`` when ``n == 2**bits``.
``modulo`` is ``pfn % n``.  ``weak`` hashes the 2 MiB frame (``pfn >> 9``), so
every 512 contiguous pages share a bucket: a deliberately bad function that
shows what clustering does to chains.  The table itself is labkit's own design;
the 2008 proposal's hash was never published.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

GOLDEN_RATIO_64 = 0x61C8864680B583EB
_U64 = (1 << 64) - 1

HASHES = ("golden", "modulo", "weak")


def _golden(pfn: int, nbuckets: int) -> int:
    return (((pfn * GOLDEN_RATIO_64) & _U64) * nbuckets) >> 64


def _modulo(pfn: int, nbuckets: int) -> int:
    return pfn % nbuckets


def _weak(pfn: int, nbuckets: int) -> int:
    return (pfn >> 9) % nbuckets


_SCALAR: dict[str, Callable[[int, int], int]] = {"golden": _golden, "modulo": _modulo, "weak": _weak}


def hash_function(name: str) -> Callable[[int, int], int]:
    """The scalar hash ``f(pfn, nbuckets) -> bucket`` called ``name``."""
    try:
        return _SCALAR[name]
    except KeyError:
        raise ValueError(f"unknown hash {name!r}; choose one of {', '.join(HASHES)}") from None


def check_buckets(nbuckets: int) -> int:
    if not isinstance(nbuckets, (int, np.integer)) or nbuckets < 1 or nbuckets > (1 << 32):
        raise ValueError(f"bucket count must be an integer from 1 to 2**32, got {nbuckets!r}")
    return int(nbuckets)


def buckets_of(pfns: np.ndarray, nbuckets: int, name: str = "golden") -> np.ndarray:
    """Vectorised bucket numbers of many pfns (same results as ``hash_function``)."""
    nbuckets = check_buckets(nbuckets)
    hash_function(name)
    pfns = np.asarray(pfns, dtype=np.uint64)
    if name == "modulo":
        return (pfns % np.uint64(nbuckets)).astype(np.int64)
    if name == "weak":
        return ((pfns >> np.uint64(9)) % np.uint64(nbuckets)).astype(np.int64)
    with np.errstate(over="ignore"):
        h = pfns * np.uint64(GOLDEN_RATIO_64)
    # (h * n) >> 64 without 128-bit ints: split h into 32-bit halves.
    n = np.uint64(nbuckets)
    hi, lo = h >> np.uint64(32), h & np.uint64(0xFFFFFFFF)
    with np.errstate(over="ignore"):
        return ((hi * n + ((lo * n) >> np.uint64(32))) >> np.uint64(32)).astype(np.int64)


def occupancy(buckets: np.ndarray, nbuckets: int) -> dict[str, float]:
    """Statistics of a filled table: chain lengths, empty buckets, expected probes."""
    counts = np.bincount(np.asarray(buckets, dtype=np.int64), minlength=nbuckets)
    n = int(counts.sum())
    used = int((counts > 0).sum())
    # a successful lookup of the k-th key in a chain of length c costs k probes
    probes = float((counts * (counts + 1) / 2).sum() / n) if n else 0.0
    return {
        "keys": n,
        "buckets": nbuckets,
        "used_buckets": used,
        "empty_buckets": nbuckets - used,
        "load_factor": n / nbuckets,
        "max_chain": int(counts.max()) if n else 0,
        "mean_chain_used": n / used if used else 0.0,
        "collisions": n - used,
        "mean_probes_hit": probes,
    }


def chain_histogram(buckets: np.ndarray, nbuckets: int) -> np.ndarray:
    """``hist[c]`` = number of buckets whose chain has length ``c``."""
    counts = np.bincount(np.asarray(buckets, dtype=np.int64), minlength=nbuckets)
    return np.bincount(counts)
