"""The buddy allocator as the kexec loader sees it: order-0 pages, one at a time.

``kimage_alloc_pages`` asks the page allocator for a page and gets *some* free
page; which one is up to the buddy allocator and the machine's history.  labkit
replaces that history with a seeded, selectable policy so a run is repeatable:

``lowest``      lowest free pfn first (a freshly booted machine)
``highest``     highest free pfn first
``random``      a seeded permutation; freed pages are reused first (LIFO),
                as the per-cpu hot list would
``dest-first``  free pages that are some loaded segment's destination first
                (lowest first), then ``lowest``: the worst case for the
                loader, where ``dest_pages`` parking and the swap trick fire
                for almost every page

The policies are labkit's own; only the contract (order-0 pages, ``None``
when memory is exhausted) mirrors the kernel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

POLICIES = ("lowest", "highest", "random", "dest-first")
_CHUNK = 4096


@dataclass(frozen=True)
class AllocatorState:
    """What ``PageAllocator.state`` captures, so a failed call can be undone."""

    scalars: tuple[Any, ...]
    hot: tuple[int, ...]


class PageAllocator:
    """Free page frames of one kernel, handed out by ``policy``."""

    def __init__(self, free: np.ndarray, policy: str = "lowest", seed: int = 0):
        if policy not in POLICIES:
            raise ValueError(f"unknown allocator policy {policy!r}; choose one of {', '.join(POLICIES)}")
        self.free = np.asarray(free, dtype=bool).copy()
        self.policy = policy
        self.seed = seed
        self.nr_free = int(self.free.sum())
        self.allocations = 0
        self._lo = 0
        self._hi = len(self.free) - 1
        self._free_mv = memoryview(self.free)
        self._ahead: list[int] = []      # lowest/highest: upcoming candidates, next one last
        self._hot: list[int] = []
        self._order = None
        self._cursor = 0
        self._preferred = np.empty(0, dtype=np.int64)
        self._pcursor = 0
        if policy == "random":
            self._order = np.random.default_rng(seed).permutation(len(self.free)).astype(np.int64)

    # --- the kernel-facing contract ----------------------------------
    def alloc(self) -> int | None:
        """One free page, or ``None`` when memory is exhausted (-> ``ENOMEM``)."""
        if self.nr_free == 0:
            return None
        if self.policy in ("lowest", "highest"):
            pfn = self._next_ahead()
        elif self.policy == "random":
            pfn = self._next_random()
        else:
            pfn = self._next_preferred()
            if pfn is None:
                pfn = self._scan_up()
        self.free[pfn] = False
        self.nr_free -= 1
        self.allocations += 1
        return pfn

    def free_page(self, pfn: int) -> None:
        """Give a page back (``kimage_free_pages``)."""
        if self.free[pfn]:
            raise ValueError(f"double free of pfn {pfn:#x}")
        self.free[pfn] = True
        self.nr_free += 1
        self._drop_ahead()
        self._lo = min(self._lo, pfn)
        self._hi = max(self._hi, pfn)
        if self.policy == "random":
            self._hot.append(pfn)
        if self.policy == "dest-first":
            self._pcursor = 0

    def take(self, pfns: np.ndarray) -> None:
        """Mark pages in use without going through the policy (a kernel's own pages)."""
        pfns = np.asarray(pfns, dtype=np.int64)
        if not self.free[pfns].all():
            raise ValueError("taking pages that are not free")
        self._drop_ahead()
        self.free[pfns] = False
        self.nr_free -= len(pfns)

    def prefer(self, destinations: np.ndarray) -> None:
        """Tell the ``dest-first`` policy which pfns are destinations now (bool array)."""
        if self.policy == "dest-first":
            self._preferred = np.flatnonzero(np.asarray(destinations, dtype=bool)[: len(self.free)])
            self._pcursor = 0

    # --- atomicity ----------------------------------------------------
    def state(self) -> AllocatorState:
        self._drop_ahead()        # the window is a cache; the cursors say everything
        return AllocatorState((self.nr_free, self.allocations, self._lo, self._hi, self._cursor,
                               self._preferred, self._pcursor), tuple(self._hot))

    def _drop_ahead(self) -> None:
        """Forget the window, moving the scan back to its first unused candidate."""
        if self._ahead:
            nxt = self._ahead[-1]
            if self.policy == "lowest":
                self._lo = min(self._lo, nxt)
            else:
                self._hi = max(self._hi, nxt)
        self._ahead = []

    def _next_ahead(self) -> int:
        """lowest/highest: pop the next free pfn from a window found with numpy."""
        ahead, free = self._ahead, self._free_mv
        while ahead:
            pfn = ahead.pop()
            if free[pfn]:
                return pfn
        if self.policy == "lowest":
            lo = self._scan_up()
            window = lo + np.flatnonzero(self.free[lo: lo + _CHUNK])
            self._lo = int(window[-1]) + 1
            self._ahead = window[::-1].tolist()
        else:
            hi = self._scan_down()
            start = max(0, hi - _CHUNK + 1)
            window = start + np.flatnonzero(self.free[start: hi + 1])
            self._hi = int(window[0]) - 1
            self._ahead = window.tolist()
        return self._ahead.pop()

    def restore(self, state: AllocatorState, taken: list[tuple[int, bool]]) -> None:
        """Undo a failed call: replay its (pfn, allocated?) changes backwards."""
        for p, allocated in reversed(taken):
            self.free[p] = allocated
        self._ahead = []
        (self.nr_free, self.allocations, self._lo, self._hi, self._cursor,
         self._preferred, self._pcursor) = state.scalars
        self._hot = list(state.hot)

    # --- policies -----------------------------------------------------
    def _scan_up(self) -> int:
        lo = self._lo
        while True:
            chunk = self.free[lo : lo + _CHUNK]
            hit = int(chunk.argmax())
            if chunk[hit]:
                self._lo = lo + hit
                return lo + hit
            lo += _CHUNK

    def _scan_down(self) -> int:
        hi = self._hi
        while True:
            start = max(0, hi - _CHUNK + 1)
            chunk = self.free[start : hi + 1][::-1]
            hit = int(chunk.argmax())
            if chunk[hit]:
                self._hi = hi - hit
                return hi - hit
            hi = start - 1

    def _next_random(self) -> int:
        while self._hot:
            p = self._hot.pop()
            if self.free[p]:
                return p
        order = self._order
        while True:
            chunk = order[self._cursor : self._cursor + _CHUNK]
            ok = self.free[chunk]
            hit = int(ok.argmax())
            if ok[hit]:
                self._cursor += hit
                return int(chunk[hit])
            self._cursor += len(chunk)

    def _next_preferred(self) -> int | None:
        pref = self._preferred
        while self._pcursor < len(pref):
            chunk = pref[self._pcursor : self._pcursor + _CHUNK]
            ok = self.free[chunk]
            hit = int(ok.argmax())
            if ok[hit]:
                self._pcursor += hit
                return int(chunk[hit])
            self._pcursor += len(chunk)
        return None
