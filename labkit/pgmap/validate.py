"""Checking a page map against the kimage invariants (vectorised).

``kimage_alloc_page`` (kernel/kexec_core.c) keeps one invariant: each source
page sits either at its own destination or at an address that is no entry's
destination, so relocation never overwrites a source page it has not yet
copied.  A kimage also has one source per destination and never uses a page
as the source of two entries.  A map that breaks one of these could not have
come from the kernel: those findings have severity ``error``; the others are
format problems lenient reading let through (``warning``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import PgMap

#: examples (rows, pfns) kept per finding
EXAMPLES = 20
ERROR, WARNING = "error", "warning"
#: every kind of finding, with its severity
KINDS = {
    "count-mismatch": WARNING,
    "unsorted": WARNING,
    "duplicate-dest": ERROR,
    "source-reused": ERROR,
    "source-is-destination": ERROR,
    "outside-machine": ERROR,
}


@dataclass(frozen=True)
class Finding:
    """One kind of problem: how many rows it affects, and the first rows (0-based) and pfns."""

    kind: str
    message: str
    count: int
    rows: tuple[int, ...] = ()
    pfns: tuple[int, ...] = ()

    @property
    def severity(self) -> str:
        return KINDS[self.kind]

    @property
    def breaks_kernel_invariant(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "message": self.message, "count": self.count,
                "rows": list(self.rows), "pfns": [f"{p:#x}" for p in self.pfns]}


def _finding(kind: str, message: str, rows: np.ndarray, pfns: np.ndarray, count: int | None = None) -> Finding:
    return Finding(kind, message, int(rows.size if count is None else count),
                   tuple(int(r) for r in rows[:EXAMPLES]), tuple(int(p) for p in pfns[:EXAMPLES]))


def _distinct(sorted_values: np.ndarray) -> np.ndarray:
    """Distinct values of a sorted array (np.unique re-sorts, and is slow on 10**7 values)."""
    if sorted_values.size == 0:
        return sorted_values
    keep = np.empty(sorted_values.size, dtype=bool)
    keep[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=keep[1:])
    return sorted_values[keep]


def _repeated_values(sorted_values: np.ndarray) -> np.ndarray:
    """Distinct values that occur more than once in a sorted array."""
    same = np.flatnonzero(sorted_values[1:] == sorted_values[:-1])
    return _distinct(sorted_values[same])


def _rows_with(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows whose value is in ``wanted`` (sorted, distinct).

    A lookup table when the values' range is small, else one argsort and a
    sequential searchsorted (np.isin's sort method is far slower at 10**7 rows).
    """
    if wanted.size == 0 or values.size == 0:
        return np.empty(0, dtype=np.int64)
    if int(wanted[-1]) - int(wanted[0]) <= 4 * values.size + (1 << 20):
        return np.flatnonzero(np.isin(values, wanted, kind="table"))
    order = np.argsort(values)
    ordered = values[order]
    pos = np.minimum(np.searchsorted(wanted, ordered), wanted.size - 1)
    return np.sort(order[wanted[pos] == ordered])


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def validate_pgmap(pgmap: PgMap, *, max_pfn: int | None = None) -> list[Finding]:
    """Every problem of the map, most basic first; an empty list means a consistent kimage map.

    ``max_pfn`` is the machine's first pfn past RAM: pages at or above it are reported.
    """
    dest, src = pgmap.dest_pfn, pgmap.src_pfn
    n = dest.size
    findings: list[Finding] = []
    if pgmap.entries is not None and pgmap.entries != n:
        findings.append(Finding("count-mismatch", f"the header says entries={pgmap.entries} but the map has "
                                f"{n} rows", abs(pgmap.entries - n)))
    descents = np.flatnonzero(dest[1:] < dest[:-1]) + 1
    if descents.size:
        findings.append(_finding("unsorted", f"{_plural(descents.size, 'row')} with a destination "
                                 "below the row before (the format requires ascending destinations)",
                                 descents, dest[descents]))
    dest_sorted = np.sort(dest) if descents.size else dest
    repeated = _repeated_values(dest_sorted)
    if repeated.size:
        rows = _rows_with(dest, repeated)
        findings.append(_finding("duplicate-dest", f"{_plural(repeated.size, 'destination page')} with more "
                                 f"than one source ({_plural(rows.size, 'row')}); a kimage has one source per "
                                 "destination",
                                 rows, repeated))
    reused = _repeated_values(np.sort(src))
    if reused.size:
        rows = _rows_with(src, reused)
        findings.append(_finding("source-reused", f"{_plural(reused.size, 'source page')} used by more "
                                 f"than one entry ({_plural(rows.size, 'row')})", rows, reused))
    moved = src != dest
    if n and moved.any():
        # sorted queries make searchsorted sequential; rows are looked up only if something is wrong
        queries = np.sort(src[moved])
        pos = np.minimum(np.searchsorted(dest_sorted, queries), n - 1)
        hit = dest_sorted[pos] == queries
        if hit.any():
            rows = _rows_with(src, _distinct(queries[hit]))
            rows = rows[moved[rows]]
            findings.append(_finding("source-is-destination", f"{_plural(rows.size, 'entry')} whose source page "
                                     "is another entry's destination: relocation would overwrite it before "
                                     "copying it (kimage_alloc_page's invariant)",
                                     rows, src[rows]))
    if max_pfn is not None:
        outside = np.flatnonzero((dest >= np.uint64(max_pfn)) | (src >= np.uint64(max_pfn)))
        if outside.size:
            pfns = np.where(dest[outside] >= np.uint64(max_pfn), dest[outside], src[outside])
            findings.append(_finding("outside-machine", f"{_plural(outside.size, 'entry')} naming a page at or "
                                     f"above max_pfn={max_pfn:#x} (outside the machine's memory)", outside, pfns))
    return findings
