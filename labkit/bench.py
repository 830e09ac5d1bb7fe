"""Sweeps over image sizes: what resuming a hibernation image costs, linear walk against hash index.

``sweep`` runs the round trip (``labkit.hibernate``) once per RAM size and
index and returns one row per run with the resume load's cost counters, so
that the growth of each cost can be read off a log-log plot:
``loglog_slope`` fits the exponent (about 2 for the kernel's
``kimage_dst_used`` walk, about 1 for the hash).  Counters, not seconds, are
the result: the simulator's linear scan runs in numpy, so its wall time says
little about the kernel's.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .hibernate import RoundTripParams, hibernate_resume
from .units import parse_size

#: counters that answer kimage_alloc_page's three questions (parked? destination? which entry?)
LOOKUP_COUNTERS = ("entries_scanned", "hash_probes", "dest_pages_scanned", "segment_checks", "bitmap_tests")
COLUMNS = ("ram", "ram_pages", "index", "hash", "buckets", "image_pages", "image_segments", "stage_calls",
           *LOOKUP_COUNTERS, "lookup_work", "allocations", "parked", "swap_trick", "page_copies", "seconds",
           "total_seconds", "verified", "error", "args")


def sweep(sizes: Sequence[str | int], indexes: Sequence[str] = ("linear", "hash"), *,
          progress: Callable[[int, int, str], None] | None = None, **params: Any) -> pd.DataFrame:
    """One round trip per (size, index); columns ``COLUMNS``.

    ``params`` are further ``RoundTripParams`` fields (``used``, ``hash``,
    ``seed``, ...), the same for every run.  Costs and ``seconds`` are those
    of the resume load (phase ``load_image``), where the image is big.
    """
    rows = []
    total = len(sizes) * len(indexes)
    done = 0
    for size in sizes:
        ram = size if isinstance(size, str) else f"{parse_size(size)}"
        for index in indexes:
            p = RoundTripParams(ram=ram, index=index, **params)
            t0 = time.perf_counter()
            r = hibernate_resume(p)
            wall = time.perf_counter() - t0
            costs = r.costs.get("load_image", {})
            row = {"ram": ram, "ram_pages": r.ram_pages, "index": index, "hash": p.hash if index == "hash" else "",
                   "buckets": p.buckets if p.buckets is not None else 0, "image_pages": r.image_pages,
                   "image_segments": r.image_segments, "stage_calls": r.stage_calls}
            for name in LOOKUP_COUNTERS:
                row[name] = int(costs.get(name, 0))
            row["lookup_work"] = sum(row[name] for name in LOOKUP_COUNTERS)
            for name in ("allocations", "parked", "swap_trick", "page_copies"):
                row[name] = int(costs.get(name, 0))
            row["seconds"] = float(r.seconds.get("load_image", 0.0))
            row["total_seconds"] = wall
            row["verified"] = bool(r.verified)
            row["error"] = "" if r.error is None else f"{r.error['errno']} {r.error['rule']}"
            row["args"] = p.arg_line()
            rows.append(row)
            done += 1
            if progress is not None:
                progress(done, total, f"{ram} {index}")
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df.attrs["params"] = dict(params)
    return df


def loglog_slope(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Least-squares slope of log(y) against log(x): the exponent k of y ~ x**k.

    Points where either value is not positive are left out; fewer than two
    distinct x values give ``nan``.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = (xa > 0) & (ya > 0) & np.isfinite(xa) & np.isfinite(ya)
    xa, ya = np.log(xa[keep]), np.log(ya[keep])
    if len(np.unique(xa)) < 2:
        return float("nan")
    slope, _ = np.polyfit(xa, ya, 1)
    return float(slope)


def fit_slopes(df: pd.DataFrame, y: str = "lookup_work", x: str = "image_pages", by: str = "index") -> dict[str, float]:
    """``loglog_slope`` of ``y`` against ``x`` for each value of ``by``."""
    return {str(key): loglog_slope(g[x], g[y]) for key, g in df.groupby(by, sort=False)}
