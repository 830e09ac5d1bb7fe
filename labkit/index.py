"""Destination index: how ``kimage_alloc_page`` answers its three questions.

1. Is a parked page sitting at this destination?  (``dest_pages`` scan)
2. Is this freshly allocated page somebody's destination?
   (``kimage_is_destination_range``)
3. Which entry already loads this destination?  (``kimage_dst_used``)

``LinearScan`` answers them as the kernel does -- a walk of the parked list,
of the segment array and of the entry list -- and counts the work exactly.
``HashIndex`` is labkit's version of the 2008 proposal: a chained hash table
from destination pfn to entry position, another for parked pages, and a
bitmap of destination pages.  Both give identical answers, so the kimage
they build is identical; only the counters differ.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from .hashing import GOLDEN_RATIO_64, buckets_of, check_buckets, hash_function
from .trace import Costs

_U64 = (1 << 64) - 1

NOT_FOUND = -1


class DestIndex(Protocol):
    name: str

    def bind(self, max_pfn: int, costs: Costs) -> None: ...
    def add_destinations(self, seg_index: int, first_pfn: int, npages: int) -> None: ...
    def remove_destinations(self, seg_index: int, first_pfn: int, npages: int, saved: object) -> None: ...
    def is_destination(self, pfn: int) -> bool: ...
    def covered_before(self, pfn: int, first_seg: int) -> bool: ...
    def add_source(self, dest_pfn: int, position: int) -> None: ...
    def dst_used(self, dest_pfn: int, written: int) -> int: ...
    def park(self, pfn: int) -> None: ...
    def unpark(self, pfn: int) -> object | None: ...
    def restore_parked(self, pfn: int, at: object) -> None: ...
    def drop_parked(self, pfn: int) -> None: ...
    def parked(self) -> list[int]: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self, written: int) -> None: ...


class _Destinations:
    """Shared bookkeeping of destination pages: a bitmap and, per pfn, the first segment covering it.

    Destinations beyond physical memory pass the kernel's checks (only
    ``KEXEC_DESTINATION_MEMORY_LIMIT`` bounds them) and crash the machine at
    relocation; they are kept in a short list instead of the per-pfn arrays.
    """

    def bind(self, max_pfn: int, costs: Costs) -> None:
        self.costs = costs
        self.max_pfn = max_pfn
        self.is_dest = np.zeros(max_pfn, dtype=bool)
        self.seg_first = np.full(max_pfn, -1, dtype=np.int32)
        self.far: list[tuple[int, int, int]] = []          # (seg_index, first_pfn, end_pfn) beyond memory
        self.nsegs = 0

    def add_destinations(self, seg_index: int, first_pfn: int, npages: int) -> object:
        sl = slice(first_pfn, first_pfn + npages)
        saved = (self.is_dest[sl].copy(), self.seg_first[sl].copy(), self.nsegs, len(self.far))
        self.is_dest[sl] = True
        view = self.seg_first[sl]
        view[view < 0] = seg_index
        if first_pfn + npages > self.max_pfn:
            self.far.append((seg_index, max(first_pfn, self.max_pfn), first_pfn + npages))
        self.nsegs = max(self.nsegs, seg_index + 1)
        return saved

    def remove_destinations(self, seg_index: int, first_pfn: int, npages: int, saved: object) -> None:
        sl = slice(first_pfn, first_pfn + npages)
        self.is_dest[sl], self.seg_first[sl], self.nsegs, nfar = saved  # type: ignore[misc]
        del self.far[nfar:]

    def first_segment(self, pfn: int) -> int:
        """Index of the first segment whose destination covers ``pfn``, or -1."""
        if pfn < self.max_pfn:
            return int(self.seg_first[pfn])
        return min((k for k, a, b in self.far if a <= pfn < b), default=-1)


class LinearScan(_Destinations):
    """The kernel's walks, with their cost counted in items compared.

    ``dst_used`` scans the entry positions in list order (head, then every
    indirection page's words including link words) for the ``IND_SOURCE``
    entry whose tracked destination is the page: ``kimage_dst_used``.  The scan
    runs over a visit-order array of destinations kept beside the encoded words
    (numpy does the comparing); tests check it against a word-by-word walk.
    """

    name = "linear"

    def bind(self, max_pfn: int, costs: Costs) -> None:
        super().bind(max_pfn, costs)
        self._dest_at = np.full(1024, -1, dtype=np.int64)
        self._parked: list[int] = []          # list head is the END of this list
        self._parked_set: set[int] = set()

    def is_destination(self, pfn: int) -> bool:
        first = self.first_segment(pfn)
        self.costs.segment_checks += first + 1 if first >= 0 else self.nsegs
        return first >= 0

    def covered_before(self, pfn: int, first_seg: int) -> bool:
        """Whether a segment of an earlier call (index < ``first_seg``) covers ``pfn``."""
        first = self.first_segment(pfn)
        hit = 0 <= first < first_seg
        self.costs.segment_checks += first + 1 if hit else first_seg
        return hit

    def add_source(self, dest_pfn: int, position: int) -> None:
        if position >= len(self._dest_at):
            grown = np.full(max(2 * len(self._dest_at), position + 1), -1, dtype=np.int64)
            grown[: len(self._dest_at)] = self._dest_at
            self._dest_at = grown
        self._dest_at[position] = dest_pfn

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self, written: int) -> None:
        """Forget the sources a failed call added (they sit at positions >= ``written``)."""
        self._dest_at[written:] = -1

    def dst_used(self, dest_pfn: int, written: int) -> int:
        hits = np.flatnonzero(self._dest_at[:written] == dest_pfn)
        if len(hits):
            pos = int(hits[0])
            self.costs.entries_scanned += pos + 2        # head word + words up to the match
            return pos
        self.costs.entries_scanned += written + 2        # head, every word, the terminating 0
        return NOT_FOUND

    def park(self, pfn: int) -> None:
        self._parked.append(pfn)
        self._parked_set.add(pfn)

    def unpark(self, pfn: int) -> int | None:
        """Take ``pfn`` off the parked list if it is there; returns where it was (for undo)."""
        if pfn not in self._parked_set:
            self.costs.dest_pages_scanned += len(self._parked)
            return None
        idx = self._parked.index(pfn)
        self.costs.dest_pages_scanned += len(self._parked) - idx
        del self._parked[idx]
        self._parked_set.discard(pfn)
        return idx

    def restore_parked(self, pfn: int, at: object) -> None:
        self._parked.insert(int(at), pfn)  # type: ignore[call-overload]
        self._parked_set.add(pfn)

    def drop_parked(self, pfn: int) -> None:
        self._parked.remove(pfn)
        self._parked_set.discard(pfn)

    def parked(self) -> list[int]:
        """Parked pages from list head (most recently parked) to tail."""
        return self._parked[::-1]

    def stats(self) -> dict[str, object]:
        return {"index": self.name, "parked": len(self._parked)}


class HashTable:
    """A chained hash table of int keys to int values that counts its probes.

    Chains hold the keys (a probe compares one key); values live beside them.
    ``nbuckets=None`` grows the table (doubling, like rhashtable) whenever
    the load factor would pass 1; a fixed count never resizes, so a lab user
    can watch chains grow.
    """

    def __init__(self, hash_name: str = "golden", nbuckets: int | None = None, costs: Costs | None = None):
        self.hash_name = hash_name
        self._hash = hash_function(hash_name)
        self.fixed = nbuckets is not None
        self.nbuckets = check_buckets(nbuckets) if nbuckets is not None else 1024
        self._chains: list[list[int] | None] = [None] * self.nbuckets
        self._vals: dict[int, int] = {}
        self.costs = costs if costs is not None else Costs()
        self.lookups = 0
        self.probes = 0
        self.collisions = 0

    @property
    def size(self) -> int:
        return len(self._vals)

    def get(self, key: int) -> int:
        chain = self._chains[self._hash(key, self.nbuckets)]
        self.lookups += 1
        if chain is None:
            n = 1
        elif key in self._vals:
            n = chain.index(key) + 1
        else:
            n = len(chain)
        self.probes += n
        self.costs.hash_probes += n
        return self._vals.get(key, NOT_FOUND)

    def contains(self, key: int) -> bool:
        return self.get(key) != NOT_FOUND

    def put(self, key: int, value: int) -> bool:
        """Insert (or overwrite); returns whether the table grew."""
        if key in self._vals:
            self._vals[key] = value
            return False
        b = self._hash(key, self.nbuckets)
        chain = self._chains[b]
        if chain is None:
            self._chains[b] = [key]
        else:
            chain.append(key)
            self.collisions += 1
        self._vals[key] = value
        if not self.fixed and len(self._vals) > self.nbuckets:
            self.resize(self.nbuckets * 2)
            return True
        return False

    def remove(self, key: int) -> int:
        value = self._vals.pop(key)
        b = self._hash(key, self.nbuckets)
        chain = self._chains[b]
        assert chain is not None
        chain.remove(key)
        if not chain:
            self._chains[b] = None
        return value

    def items(self) -> list[tuple[int, int]]:
        """(key, value) in bucket order, chain order within a bucket."""
        return [(k, self._vals[k]) for chain in self._chains if chain for k in chain]

    def resize(self, nbuckets: int) -> None:
        keys = np.fromiter((k for chain in self._chains if chain for k in chain), dtype=np.uint64,
                           count=len(self._vals))
        buckets = buckets_of(keys, nbuckets, self.hash_name)
        order = np.argsort(buckets, kind="stable")
        chains: list[list[int] | None] = [None] * nbuckets
        sorted_keys, sorted_buckets = keys[order].tolist(), buckets[order]
        bounds = np.flatnonzero(np.diff(sorted_buckets)) + 1
        starts = np.concatenate(([0], bounds)).tolist()
        ends = np.concatenate((bounds, [len(sorted_keys)])).tolist()
        for a, e in zip(starts, ends):
            if e > a:
                chains[int(sorted_buckets[a])] = sorted_keys[a:e]
        self.nbuckets = nbuckets
        self._chains = chains
        self.costs.rehash_moves += len(keys)

    def keys(self) -> list[int]:
        return [k for chain in self._chains if chain for k in chain]

    def chain_lengths(self) -> np.ndarray:
        return np.fromiter((len(c) if c else 0 for c in self._chains), dtype=np.int64, count=self.nbuckets)

    def stats(self) -> dict[str, object]:
        lengths = self.chain_lengths()
        used = int((lengths > 0).sum())
        return {
            "hash": self.hash_name,
            "buckets": self.nbuckets,
            "keys": self.size,
            "load_factor": self.size / self.nbuckets,
            "used_buckets": used,
            "max_chain": int(lengths.max()) if len(lengths) else 0,
            "collisions": self.collisions,
            "lookups": self.lookups,
            "probes_per_lookup": self.probes / self.lookups if self.lookups else 0.0,
            "chain_histogram": np.bincount(lengths).tolist(),
        }


class PfnHashTable(HashTable):
    """The same chained table for keys that are page frame numbers, stored in arrays.

    Keys are only ever appended to a chain (and, when a failed call is undone,
    removed from its tail), so a key's place in its chain is a number kept per
    pfn; probe counts are exactly those of list chains, and doubling the table
    is a stable sort instead of a Python loop.
    """

    def __init__(self, max_pfn: int, hash_name: str = "golden", nbuckets: int | None = None,
                 costs: Costs | None = None):
        super().__init__(hash_name, nbuckets, costs)
        self._chains = []
        self._val = np.full(max_pfn, NOT_FOUND, dtype=np.int32)       # values are entry positions
        self._rank = np.zeros(max_pfn, dtype=np.int32)
        self._val_mv, self._rank_mv = memoryview(self._val), memoryview(self._rank)
        self._len = [0] * self.nbuckets
        self._size = 0
        self._golden = hash_name == "golden"
        self._far: dict[int, list[int]] = {}        # keys beyond max_pfn: key -> [value, rank]

    def _bucket(self, key: int) -> int:
        if self._golden:
            return (((key * GOLDEN_RATIO_64) & _U64) * self.nbuckets) >> 64
        return self._hash(key, self.nbuckets)

    @property
    def size(self) -> int:
        return self._size

    def get(self, key: int) -> int:
        self.lookups += 1
        if key < len(self._val):
            value = self._val_mv[key]
            rank = self._rank_mv[key]
        else:
            value, rank = self._far.get(key, (NOT_FOUND, 0))
        if value != NOT_FOUND:
            n = rank + 1
        else:
            n = max(1, self._len[self._bucket(key)])
        self.probes += n
        self.costs.hash_probes += n
        return value

    def put(self, key: int, value: int) -> bool:
        if key < len(self._val):
            if self._val_mv[key] != NOT_FOUND:
                self._val_mv[key] = value
                return False
            self._rank_mv[key] = self._append(key)
            self._val_mv[key] = value
        elif key in self._far:
            self._far[key][0] = value
            return False
        else:
            self._far[key] = [value, self._append(key)]
        if not self.fixed and self._size > self.nbuckets:
            self.resize(self.nbuckets * 2)
            return True
        return False

    def _append(self, key: int) -> int:
        """Put ``key`` at the tail of its chain; returns its place in the chain."""
        b = self._bucket(key)
        rank = self._len[b]
        if rank:
            self.collisions += 1
        self._len[b] = rank + 1
        self._size += 1
        return rank

    def remove(self, key: int) -> int:
        if key >= len(self._val):
            value, rank = self._far.pop(key)
            b = self._bucket(key)
            self._shift_after(b, rank)
            self._len[b] -= 1
            self._size -= 1
            return value
        value = int(self._val[key])
        if value == NOT_FOUND:
            raise KeyError(key)
        b = self._bucket(key)
        rank = int(self._rank[key])
        self._val[key] = NOT_FOUND
        self._shift_after(b, rank)
        self._len[b] -= 1
        self._size -= 1
        return value

    def _shift_after(self, b: int, rank: int) -> None:
        """Close the gap a removed key leaves in chain ``b`` (only when it was not the tail)."""
        if rank == self._len[b] - 1:
            return
        others = np.flatnonzero(self._val != NOT_FOUND)
        later = others[(buckets_of(others, self.nbuckets, self.hash_name) == b) & (self._rank[others] > rank)]
        self._rank[later] -= 1
        for k, vr in self._far.items():
            if self._bucket(k) == b and vr[1] > rank:
                vr[1] -= 1

    def _ordered_keys(self) -> np.ndarray:
        near = np.flatnonzero(self._val != NOT_FOUND)
        far = np.array(sorted(self._far), dtype=np.int64)
        keys = np.concatenate((near, far))
        ranks = np.concatenate((self._rank[near], np.array([self._far[k][1] for k in far.tolist()], dtype=np.int32)))
        buckets = buckets_of(keys, self.nbuckets, self.hash_name)
        return keys[np.lexsort((ranks, buckets))]

    def _value(self, key: int) -> int:
        return int(self._val[key]) if key < len(self._val) else self._far[key][0]

    def items(self) -> list[tuple[int, int]]:
        return [(k, self._value(k)) for k in self._ordered_keys().tolist()]

    def keys(self) -> list[int]:
        return self._ordered_keys().tolist()

    def resize(self, nbuckets: int) -> None:
        keys = self._ordered_keys()
        buckets = buckets_of(keys, nbuckets, self.hash_name)
        order = np.argsort(buckets, kind="stable")
        sorted_buckets = buckets[order]
        first = np.searchsorted(sorted_buckets, sorted_buckets, side="left")
        ranks = np.arange(len(keys)) - first
        moved = keys[order]
        near = moved < len(self._val)
        self._rank[moved[near]] = ranks[near]
        for k, r in zip(moved[~near].tolist(), ranks[~near].tolist()):
            self._far[k][1] = r
        self._len = np.bincount(buckets, minlength=nbuckets).tolist()
        self.nbuckets = nbuckets
        self.costs.rehash_moves += len(keys)

    def chain_lengths(self) -> np.ndarray:
        return np.array(self._len, dtype=np.int64)


class HashIndex(_Destinations):
    """The hashed design: O(1) expected work for all three questions."""

    name = "hash"

    def __init__(self, hash_name: str = "golden", nbuckets: int | None = None):
        hash_function(hash_name)
        if nbuckets is not None:
            check_buckets(nbuckets)
        self.hash_name = hash_name
        self.nbuckets = nbuckets

    def bind(self, max_pfn: int, costs: Costs) -> None:
        super().bind(max_pfn, costs)
        self.table = PfnHashTable(max_pfn, self.hash_name, self.nbuckets, costs)
        self.parked_table = HashTable(self.hash_name, self.nbuckets, costs)
        self._seq = 0
        self._added: list[int] | None = None

    def is_destination(self, pfn: int) -> bool:
        self.costs.bitmap_tests += 1
        return bool(self.is_dest[pfn])

    def covered_before(self, pfn: int, first_seg: int) -> bool:
        self.costs.bitmap_tests += 1
        first = self.first_segment(pfn)
        return 0 <= first < first_seg

    def add_source(self, dest_pfn: int, position: int) -> None:
        self.table.put(dest_pfn, position)
        if self._added is not None:
            self._added.append(dest_pfn)

    def dst_used(self, dest_pfn: int, written: int) -> int:
        return self.table.get(dest_pfn)

    def begin(self) -> None:
        self._added = []

    def commit(self) -> None:
        self._added = None

    def rollback(self, written: int) -> None:
        for key in reversed(self._added or []):
            self.table.remove(key)
        self._added = None

    def park(self, pfn: int) -> None:
        """Parked pages carry a sequence number, so their list order is kept without a list."""
        self._seq += 1
        self.parked_table.put(pfn, self._seq)

    def unpark(self, pfn: int) -> int | None:
        seq = self.parked_table.get(pfn)
        if seq == NOT_FOUND:
            return None
        self.parked_table.remove(pfn)
        return seq

    def restore_parked(self, pfn: int, at: object) -> None:
        self.parked_table.put(pfn, int(at))  # type: ignore[call-overload]

    def drop_parked(self, pfn: int) -> None:
        self.parked_table.remove(pfn)

    def parked(self) -> list[int]:
        return [k for k, _ in sorted(self.parked_table.items(), key=lambda kv: kv[1], reverse=True)]

    def stats(self) -> dict[str, object]:
        out = {"index": self.name, "parked": self.parked_table.size}
        out.update(self.table.stats())
        return out


def make_index(name: str = "hash", hash_name: str = "golden", buckets: int | None = None) -> DestIndex:
    """``linear`` or ``hash`` (with a hash function and optional fixed bucket count)."""
    if name == "linear":
        return LinearScan()
    if name == "hash":
        return HashIndex(hash_name, buckets)
    raise ValueError(f"unknown index {name!r}; choose linear or hash")
