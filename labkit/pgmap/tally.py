"""Counting what lenient reading tolerated, with the first few line numbers of each kind."""
from __future__ import annotations

import itertools

from typing import Iterable

from .model import Tolerance

#: line numbers kept per kind
KEEP_LINES = 10
#: the order kinds are reported in
KINDS = ("missing-header", "count-mismatch", "comment", "blank-line", "crlf", "whitespace", "0x-prefix",
         "uppercase-hex", "zero-padding", "unsorted", "missing-final-newline")


class Tally:
    """Mutable accumulator (internal to one read) of tolerances by kind.

    Keeps the ``KEEP_LINES`` lowest line numbers of each kind, whatever order they are added in
    (a slice tallies its vectorised rows before its odd lines).
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lines: dict[str, list[int]] = {}

    def add(self, kind: str, count: int, lines: Iterable[int]) -> None:
        if count <= 0:
            return
        self._counts[kind] = self._counts.get(kind, 0) + count
        kept = self._lines.setdefault(kind, [])
        merged = sorted(set(kept).union(int(line) for line in itertools.islice(lines, KEEP_LINES)))
        kept[:] = merged[:KEEP_LINES]

    def merge(self, other: "Tally") -> None:
        for kind, count in other._counts.items():
            self.add(kind, count, other._lines.get(kind, ()))

    def __contains__(self, kind: str) -> bool:
        return kind in self._counts

    def tolerances(self) -> tuple[Tolerance, ...]:
        order = {kind: i for i, kind in enumerate(KINDS)}
        kinds = sorted(self._counts, key=lambda k: order.get(k, len(order)))
        return tuple(Tolerance(k, self._counts[k], tuple(self._lines.get(k, ()))) for k in kinds)
