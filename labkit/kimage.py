"""``struct kimage``: the entry list in indirection pages, and page allocation for it.

Models ``kernel/kexec.c`` of 2.6.27 (``kexec_core.c`` since 4.3):
``kimage_add_entry``, ``kimage_set_destination``, ``kimage_add_page``,
``kimage_terminate``, ``kimage_alloc_normal_control_pages``,
``kimage_alloc_crash_control_pages``, ``kimage_alloc_page`` (with the
``dest_pages`` parking and the swap trick), ``kimage_load_normal_segment``,
``kimage_load_crash_segment`` and ``kimage_free``.  Entry words are real
``addr | IND_*`` words stored in the indirection pages' memory, so relocation
and jump back read them from physical memory as ``relocate_kernel`` does.

labkit's own additions, for the multi-stage loading of DESIGN.md section 2:
a later stage may cover pages already loaded (its bytes replace theirs, the
destination keeps its source page), and before a stage loads, any page of the
image that its new segments cover -- control page, swap page, an indirection
page, or a source page of another destination -- is *evicted* to a fresh
non-destination page and parked, which keeps the kernel's invariant (every
source page is at its own destination or at no destination) across stages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .allocator import PageAllocator
from .errors import KexecError, RelocationError
from .index import NOT_FOUND, DestIndex, HashIndex
from .content import copy_faults, page_content, write_page
from .memory import PhysicalMemory, content_tag
from .segments import KernelConfig, RuleSet, Segment
from .trace import Costs, Recorder
from .units import PAGE_SHIFT, PAGE_SIZE, hexaddr

IND_DESTINATION = 0x1
IND_INDIRECTION = 0x2
IND_DONE = 0x4
IND_SOURCE = 0x8
IND_FLAGS = 0xF
KIMAGE_NO_DEST = -1
KEXEC_TYPE_DEFAULT = 0
KEXEC_TYPE_CRASH = 1

IND_NAMES = {IND_DESTINATION: "DESTINATION", IND_INDIRECTION: "INDIRECTION", IND_DONE: "DONE",
             IND_SOURCE: "SOURCE"}

_ROLE_NONE, _ROLE_SOURCE, _ROLE_INDIRECTION, _ROLE_CONTROL, _ROLE_SWAP = 0, 1, 2, 3, 4
_ROLE_NAMES = {_ROLE_SOURCE: "source", _ROLE_INDIRECTION: "indirection", _ROLE_CONTROL: "control",
               _ROLE_SWAP: "swap"}


def entry_kind(word: int) -> str:
    """Name of the flag in an entry word (``addr | IND_*``)."""
    return IND_NAMES.get(word & IND_FLAGS, f"0x{word & IND_FLAGS:x}")


@dataclass(frozen=True)
class EntryRow:
    """One decoded entry word of the list, as ``for_each_kimage_entry`` visits it."""

    page: int       # pfn of the indirection page holding the word (-1: image->head)
    slot: int
    word: int
    kind: str
    addr: int
    dest: int       # destination address a SOURCE entry loads (-1 otherwise)


class Kimage:
    """One image being loaded or installed.  ``index`` decides how lookups are done."""

    def __init__(self, mem: PhysicalMemory, alloc: PageAllocator, index: DestIndex, *,
                 config: KernelConfig, costs: Costs | None = None, recorder: Recorder | None = None,
                 crash: tuple[int, int] | None = None, entry_size: int = 8):
        if entry_size not in (4, 8):
            raise ValueError("entry_size is 8 (x86_64) or 4 (i386)")
        if entry_size == 4 and mem.max_pfn > (1 << 20):
            raise ValueError("i386 entries are 32-bit: at most 4 GiB of memory")
        self.mem = mem
        self.alloc = alloc
        self.index = index
        self.config = config
        self.costs = costs if costs is not None else Costs()
        self.recorder = recorder
        self.entry_size = entry_size
        self.epp = PAGE_SIZE // entry_size                 # entries per indirection page
        self.type = KEXEC_TYPE_CRASH if crash is not None else KEXEC_TYPE_DEFAULT
        self.crash = crash
        self.start = 0
        self.preserve_context = False
        self.segments: list[Segment] = []
        self.head = 0
        self._pages: list[np.ndarray] = []                 # words of each indirection page, list order
        self._ind_pfns: list[int] = []
        self._written = 0                                  # positions written in indirection pages
        self._entry = -1                                   # position of image->entry; -1 is &head
        self._last_entry = -1
        self.control_code_page = -1
        self.swap_page = -1
        self.control_pages: list[int] = []
        self.unusable_pages: list[int] = []
        self.crash_control = crash[0] >> PAGE_SHIFT if crash is not None else 0
        self.terminated = False
        self._src_pos = np.full(mem.max_pfn, -1, dtype=np.int32)     # entry positions stay < 2**31
        self._role = np.zeros(mem.max_pfn, dtype=np.int8)
        self._journal: _Journal | None = None
        self._pending: set[int] = set()                    # pages awaiting eviction (labkit)
        index.bind(mem.max_pfn, self.costs)

    # ------------------------------------------------------------------
    # atomicity: every mutation in a call is journaled and can be undone
    # ------------------------------------------------------------------
    def begin(self) -> None:
        self._journal = _Journal(self)

    def commit(self) -> None:
        if self._journal is not None:
            self._journal.commit()
        self._journal = None

    def rollback(self) -> None:
        journal, self._journal = self._journal, None
        if journal is not None:
            journal.undo()

    def _undo(self, fn: Callable[[], None]) -> None:
        """Register an undo step for a rare mutation (common ones are journaled in bulk)."""
        if self._journal is not None:
            self._journal.ops.append(fn)

    def _touch_page(self, pfn: int) -> None:
        if self._journal is not None:
            self._journal.save_page(pfn)

    def _emit(self, kind: str, **kw: object) -> None:
        if self.recorder is not None:
            self.recorder.emit(kind, **kw)  # type: ignore[arg-type]

    def _set_role(self, pfn: int, role: int, pos: int = -1) -> None:
        if self._journal is not None:
            self._journal.roles.append((pfn, int(self._role[pfn]), int(self._src_pos[pfn])))
        self._role[pfn] = role
        self._src_pos[pfn] = pos

    def _allocate(self) -> int | None:
        pfn = self.alloc.alloc()
        if pfn is not None:
            self.costs.allocations += 1
            if self._journal is not None:
                self._journal.pages_taken.append((pfn, True))
        return pfn

    def _free(self, pfn: int) -> None:
        self.alloc.free_page(pfn)
        if self._journal is not None:
            self._journal.pages_taken.append((pfn, False))

    # ------------------------------------------------------------------
    # words
    # ------------------------------------------------------------------
    def _page_words(self, pfn: int, init: bool) -> np.ndarray:
        words = self.mem.init_words(pfn) if init else self.mem.writable_words(pfn)
        return words.view(np.uint32) if self.entry_size == 4 else words

    def _read(self, pos: int) -> int:
        if pos < 0:
            return self.head
        return int(self._pages[pos // self.epp][pos % self.epp])

    def _write(self, pos: int, word: int) -> None:
        if pos < 0:
            self.head = word
            return
        k = pos // self.epp
        if self._journal is not None and pos < self._journal.written0:
            self._journal.save_words(k)
        self._pages[k][pos % self.epp] = word

    def position_page(self, pos: int) -> tuple[int, int]:
        """(indirection page pfn, slot) of an entry position; (-1, 0) for ``head``."""
        if pos < 0:
            return -1, 0
        return self._ind_pfns[pos // self.epp], pos % self.epp

    # ------------------------------------------------------------------
    # the entry list
    # ------------------------------------------------------------------
    def add_entry(self, word: int) -> int:
        """``kimage_add_entry``: append one word; returns its position."""
        if self._read(self._entry) != 0:
            self._set_entry(self._entry + 1 if self._entry >= 0 else self._entry)
        if self._entry == self._last_entry:
            page = self.alloc_page(KIMAGE_NO_DEST)
            if page is None:
                raise KexecError("ENOMEM", "no-indirection-page", "could not allocate an indirection page")
            self._new_indirection_page(page)
        pos = self._entry
        self._write(pos, word)
        self._set_entry(pos + 1)
        self._bump_written(pos + 1)
        self._write(pos + 1, 0)
        self.costs.entries_written += 1
        if self.recorder is not None:
            pfn, slot = self.position_page(pos)
            self.recorder.emit("entry", pfn=pfn, dest=slot, src=word, note=entry_kind(word))
        return pos

    def _new_indirection_page(self, page: int) -> None:
        k = len(self._pages)
        self._touch_page(page)
        words = self._page_words(page, init=True)
        self._pages.append(words)
        self._ind_pfns.append(page)
        self._set_role(page, _ROLE_INDIRECTION, k)
        self._write(self._entry, (page << PAGE_SHIFT) | IND_INDIRECTION)
        self._bump_written(self._entry + 1)
        self._set_entry(k * self.epp)
        self._last_entry = k * self.epp + self.epp - 1
        self.costs.indirection_pages += 1
        self._emit("indirection", pfn=page)

    def _set_entry(self, pos: int) -> None:
        self._entry = pos

    def _bump_written(self, n: int) -> None:
        if n > self._written:
            self._written = n

    def set_destination(self, addr: int) -> int:
        """``kimage_set_destination``."""
        return self.add_entry((addr & ~(PAGE_SIZE - 1)) | IND_DESTINATION)

    def add_page(self, page: int, dest_pfn: int) -> int:
        """``kimage_add_page``: an ``IND_SOURCE`` entry for ``page``, loading ``dest_pfn``."""
        pos = self.add_entry((page << PAGE_SHIFT) | IND_SOURCE)
        self.index.add_source(dest_pfn, pos)
        self._set_role(page, _ROLE_SOURCE if page != dest_pfn else _ROLE_NONE, pos)
        return pos

    def terminate(self) -> None:
        """``kimage_terminate``: write ``IND_DONE`` into the current slot."""
        if self._read(self._entry) != 0:
            self._set_entry(self._entry + 1 if self._entry >= 0 else self._entry)
        self._write(self._entry, IND_DONE)
        self._bump_written(self._entry + 1)
        self.terminated = True

    def walk(self) -> Iterator[EntryRow]:
        """``for_each_kimage_entry`` over the words in memory, tracking the destination.

        Reads the words from the indirection pages' physical memory, so it
        sees exactly what relocation will see.
        """
        page, slot, dest = -1, 0, 0
        word = self.head
        words: np.ndarray | None = None
        while word != 0:
            kind = word & IND_FLAGS
            addr = word & ~(PAGE_SIZE - 1)
            src_dest = -1
            if kind == IND_DESTINATION:
                dest = addr
            elif kind == IND_SOURCE:
                src_dest = dest
                dest += PAGE_SIZE
            yield EntryRow(page, slot, word, entry_kind(word), addr, src_dest)
            if kind == IND_DONE:
                return
            if kind == IND_INDIRECTION:
                page, slot = addr >> PAGE_SHIFT, 0
                words = self.mem.words(page)
                if self.entry_size == 4:
                    words = words.view(np.uint32)
            else:
                slot += 1
            if words is None or slot >= len(words):
                return
            word = int(words[slot])

    # ------------------------------------------------------------------
    # page allocation
    # ------------------------------------------------------------------
    def alloc_page(self, destination: int) -> int | None:
        """``kimage_alloc_page``: a page to hold data for ``destination`` (a pfn, or ``KIMAGE_NO_DEST``).

        Returns a page that is either at ``destination`` or at no segment's
        destination, or ``None`` when memory runs out.  (The highmem retry for
        ``GFP_KERNEL`` callers is not modelled: labkit has no highmem.)
        """
        if destination != KIMAGE_NO_DEST:
            at = self.index.unpark(destination)
            if at is not None:
                self._undo(lambda: self.index.restore_parked(destination, at))
                self._emit("unpark", pfn=destination, dest=destination)
                return destination
        limit = self.config.source_limit >> PAGE_SHIFT
        while True:
            page = self._allocate()
            if page is None:
                return None
            if page > limit:
                self.unusable_pages.append(page)
                self.costs.unusable += 1
                continue
            if page == destination:
                return page
            if not self.index.is_destination(page):
                return page
            old = self.index.dst_used(page, self._written)
            if old != NOT_FOUND:
                word = self._read(old)
                q = word >> PAGE_SHIFT
                self._touch_page(page)
                self.mem.copy_page(q, page)
                self.costs.page_copies += 1
                self._write(old, (page << PAGE_SHIFT) | (word & PAGE_MASK_WORD))
                self._set_role(page, _ROLE_NONE, old)
                self._set_role(q, _ROLE_NONE, -1)
                self.costs.swap_trick += 1
                self._emit("swap_trick", pfn=page, dest=page, src=q)
                if q in self._pending:
                    # labkit, mid-eviction: q is a new segment's destination, now free; park it
                    self._pending.discard(q)
                    self._park(q)
                    continue
                return q
            self._park(page)

    def _park(self, page: int) -> None:
        """``list_add(&page->lru, &image->dest_pages)``."""
        self.index.park(page)
        self._undo(lambda: self._unpark_silently(page))
        self.costs.parked += 1
        self._emit("parked", pfn=page)

    def _unpark_silently(self, pfn: int) -> None:
        self.index.drop_parked(pfn)

    def alloc_control_pages(self) -> int:
        """``kimage_alloc_normal_control_pages`` (order 0) or the crash variant; ENOMEM if none."""
        if self.type == KEXEC_TYPE_CRASH:
            return self._alloc_crash_control_page()
        rejected: list[int] = []
        limit = self.config.control_limit >> PAGE_SHIFT
        page = None
        while True:
            page = self._allocate()
            if page is None:
                break
            if page + 1 >= limit or self.index.is_destination(page):
                rejected.append(page)
                self.costs.control_rejects += 1
                continue
            break
        for p in rejected:
            self._free(p)
        if page is None:
            raise KexecError("ENOMEM", "no-control-page", "could not allocate a control page")
        self.control_pages.append(page)
        self._emit("control", pfn=page)
        return page

    def _alloc_crash_control_page(self) -> int:
        assert self.crash is not None
        _, cend = self.crash
        hole_start = self.crash_control << PAGE_SHIFT
        hole_end = hole_start + PAGE_SIZE - 1
        while hole_end <= cend:
            for seg in self.segments:
                mstart, mend = seg.mem, seg.mem + seg.memsz - 1
                if hole_end >= mstart and hole_start <= mend:
                    hole_start = (mend + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
                    hole_end = hole_start + PAGE_SIZE - 1
                    break
            else:
                page = hole_start >> PAGE_SHIFT
                self.crash_control = hole_end + 1 >> PAGE_SHIFT
                self.control_pages.append(page)
                self._emit("control", pfn=page)
                return page
        raise KexecError("ENOMEM", "no-crash-control-page", "no hole for a control page in the crash region")

    def alloc_control_and_swap(self) -> None:
        """The control-code page, then (normal images only) the swap page (``kimage_normal_alloc``)."""
        page = self.alloc_control_pages()
        self.control_code_page = page
        self._set_role(page, _ROLE_CONTROL)
        if self.type == KEXEC_TYPE_DEFAULT:
            swap = self.alloc_control_pages()
            self.swap_page = swap
            self._set_role(swap, _ROLE_SWAP)

    # ------------------------------------------------------------------
    # segments
    # ------------------------------------------------------------------
    def add_segments(self, segments: list[Segment]) -> int:
        """Register a call's segments as destinations; returns the index of the first."""
        first = len(self.segments)
        for i, seg in enumerate(segments):
            self.segments.append(seg)
            if seg.pages and self.type == KEXEC_TYPE_DEFAULT:
                saved = self.index.add_destinations(first + i, seg.first_pfn, seg.pages)
                self._undo(lambda s=seg, k=first + i, sv=saved: self.index.remove_destinations(k, s.first_pfn, s.pages, sv))
        if self.type == KEXEC_TYPE_DEFAULT:
            self.alloc.prefer(self.index.is_dest)
        return first

    def evict_covered(self, segments: list[Segment]) -> None:
        """labkit: move image pages out of the way of a later stage's new segments."""
        pending: list[int] = []
        for seg in segments:
            if seg.pages:
                roles = self._role[seg.first_pfn: seg.first_pfn + seg.pages]
                pending += (seg.first_pfn + np.flatnonzero(roles)).tolist()
        self._pending = set(pending)
        try:
            for page in pending:
                if page in self._pending:
                    self._evict(page)
        finally:
            self._pending = set()

    def _evict(self, page: int) -> None:
        role = int(self._role[page])
        new = self.alloc_page(KIMAGE_NO_DEST)
        if new is None:
            raise KexecError("ENOMEM", "no-page-for-eviction",
                             f"could not move the {_ROLE_NAMES[role]} page at {hexaddr(page << PAGE_SHIFT)}")
        if page not in self._pending:
            # the swap trick emptied this very page on the way and parked it
            self._free(new)
            return
        self._pending.discard(page)
        self._touch_page(new)
        self.mem.copy_page(page, new)
        self.costs.page_copies += 1
        self.costs.evictions += 1
        if role in (_ROLE_CONTROL, _ROLE_SWAP):
            setattr(self, "control_code_page" if role == _ROLE_CONTROL else "swap_page", new)
            at = self.control_pages.index(page)
            self.control_pages[at] = new
            self._undo(lambda: self.control_pages.__setitem__(at, page))
        elif role == _ROLE_INDIRECTION:
            k = int(self._src_pos[page])
            link = -1 if k == 0 else k * self.epp - 1
            self._write(link, (new << PAGE_SHIFT) | IND_INDIRECTION)
            old_words, old_pfn = self._pages[k], self._ind_pfns[k]
            self._pages[k] = self._page_words(new, init=False)
            self._ind_pfns[k] = new

            def undo() -> None:
                self._pages[k], self._ind_pfns[k] = old_words, old_pfn
            self._undo(undo)
        else:
            pos = int(self._src_pos[page])
            word = self._read(pos)
            self._write(pos, (new << PAGE_SHIFT) | (word & PAGE_MASK_WORD))
        self._set_role(new, role, int(self._src_pos[page]))
        self._set_role(page, _ROLE_NONE, -1)
        self._emit("evict", pfn=page, dest=new, note=_ROLE_NAMES[role])
        self._park(page)

    def load_segment(self, seg: Segment, seg_index: int, first_of_call: int, rules: RuleSet) -> None:
        """``kimage_load_segment``: normal images get source pages, crash images are written in place."""
        if self.type == KEXEC_TYPE_CRASH:
            self._load_crash_segment(seg, rules)
        else:
            self._load_normal_segment(seg, first_of_call, rules)

    def _fill(self, pfn: int, seg: Segment, page_index: int, rules: RuleSet) -> None:
        """``clear_page`` + ``copy_from_user`` into ``pfn``; a short user buffer faults."""
        if copy_faults(seg, page_index):
            raise KexecError(rules.copy_fault_errno, "user-copy-fault",
                             f"user buffer {hexaddr(seg.buf)} has {len(seg.data or b'')} readable bytes, "
                             f"bufsz is {hexaddr(seg.bufsz)}")
        self._touch_page(pfn)
        write_page(self.mem, pfn, page_content(seg, page_index, self.mem.mode))
        self.costs.page_copies += 1

    def _fast_path_applies(self, seg: Segment) -> bool:
        return (self.recorder is None and self.mem.mode == "tags" and seg.data is None and not self._pending
                and isinstance(self.index, HashIndex) and seg.first_pfn + seg.pages <= self.mem.max_pfn)

    def _load_normal_segment(self, seg: Segment, first_of_call: int, rules: RuleSet) -> None:
        if self._fast_path_applies(seg):
            self._load_normal_segment_fast(seg, first_of_call)
            return
        first = seg.first_pfn
        need_destination = True
        for i in range(seg.pages):
            dest = first + i
            if first_of_call > 0 and self.index.covered_before(dest, first_of_call):
                pos = self.index.dst_used(dest, self._written)
                src = self._read(pos) >> PAGE_SHIFT
                self._fill(src, seg, i, rules)
                self._emit("overlap", dest=dest, src=src)
                need_destination = True
                continue
            if need_destination:
                self.set_destination(dest << PAGE_SHIFT)
                need_destination = False
            page = self.alloc_page(dest)
            if page is None:
                raise KexecError("ENOMEM", "no-source-page",
                                 f"could not allocate a source page for {hexaddr(dest << PAGE_SHIFT)}")
            self.add_page(page, dest)
            self._fill(page, seg, i, rules)
            self._emit("alloc", pfn=page, dest=dest)
        if seg.pages == 0:
            self.set_destination(seg.mem)

    def _load_normal_segment_fast(self, seg: Segment, first_of_call: int) -> None:
        """``_load_normal_segment`` for big runs: same decisions, same counters, fewer calls.

        The hashed design in tags mode with no recorder: the page-by-page
        decisions of ``kimage_alloc_page`` are made inline, and page contents are
        written in one numpy scatter per segment (``pending``).  Tests check it
        against the step-by-step path for identical kimages, memory and counters.
        """
        n = seg.pages
        if n == 0:
            self.set_destination(seg.mem)
            return
        first = seg.first_pfn
        contents = _segment_tags(seg).tolist()
        costs, index, alloc, journal = self.costs, self.index, self.alloc, self._journal
        assert isinstance(index, HashIndex)
        table = index.table
        # memoryviews: scalar reads and writes at a third of numpy's cost
        is_dest, seg_first = memoryview(index.is_dest), memoryview(index.seg_first)
        tags, role, src_pos = self.mem.tags, memoryview(self._role), memoryview(self._src_pos)
        tags_mv = memoryview(tags)
        epp, limit = self.epp, self.config.source_limit >> PAGE_SHIFT
        taken = journal.pages_taken if journal is not None else None
        roles = journal.roles if journal is not None else None
        added = index._added
        pending: dict[int, int] = {}

        def flush() -> None:
            if pending:
                keys = np.fromiter(pending.keys(), dtype=np.int64, count=len(pending))
                if journal is not None:
                    journal.save_pages(keys)
                tags[keys] = np.fromiter(pending.values(), dtype=np.uint64, count=len(pending))
                pending.clear()

        need_destination = True
        allocations = bitmap_tests = page_copies = swap_trick = entries = 0
        try:
            for i in range(n):
                dest = first + i
                if first_of_call > 0:
                    bitmap_tests += 1
                    fs = seg_first[dest]
                    if 0 <= fs < first_of_call:
                        src = self._read(table.get(dest)) >> PAGE_SHIFT
                        pending[src] = contents[i]
                        page_copies += 1
                        need_destination = True
                        continue
                if need_destination:
                    flush()
                    self.set_destination(dest << PAGE_SHIFT)
                    need_destination = False
                # --- kimage_alloc_page(image, GFP_HIGHUSER, dest), inline ---
                at = index.unpark(dest)
                if at is not None:
                    self._undo(lambda d=dest, a=at: index.restore_parked(d, a))
                    page = dest
                else:
                    while True:
                        page = alloc.alloc()
                        if page is None:
                            flush()
                            raise KexecError("ENOMEM", "no-source-page",
                                             f"could not allocate a source page for {hexaddr(dest << PAGE_SHIFT)}")
                        allocations += 1
                        if taken is not None:
                            taken.append((page, True))
                        if page > limit:
                            self.unusable_pages.append(page)
                            costs.unusable += 1
                            continue
                        if page == dest:
                            break
                        bitmap_tests += 1
                        if not is_dest[page]:
                            break
                        old = table.get(page)
                        if old != NOT_FOUND:
                            word = self._read(old)
                            q = word >> PAGE_SHIFT
                            pending[page] = pending.pop(q) if q in pending else tags_mv[q]
                            page_copies += 1
                            self._write(old, (page << PAGE_SHIFT) | (word & PAGE_MASK_WORD))
                            if roles is not None:
                                roles.append((page, role[page], src_pos[page]))
                                roles.append((q, role[q], src_pos[q]))
                            role[page] = _ROLE_NONE
                            src_pos[page] = old
                            role[q] = _ROLE_NONE
                            src_pos[q] = -1
                            swap_trick += 1
                            page = q
                            break
                        self._park(page)
                # --- kimage_add_page(image, page), inline kimage_add_entry ---
                if self._entry == self._last_entry:
                    flush()
                    ind = self.alloc_page(KIMAGE_NO_DEST)
                    if ind is None:
                        raise KexecError("ENOMEM", "no-indirection-page", "could not allocate an indirection page")
                    self._new_indirection_page(ind)
                pos = self._entry
                words = self._pages[pos // epp]
                slot = pos % epp
                words[slot] = (page << PAGE_SHIFT) | IND_SOURCE
                words[slot + 1] = 0
                self._entry = pos + 1
                if pos + 1 > self._written:
                    self._written = pos + 1
                entries += 1
                table.put(dest, pos)
                if added is not None:
                    added.append(dest)
                if roles is not None:
                    roles.append((page, role[page], src_pos[page]))
                role[page] = _ROLE_SOURCE if page != dest else _ROLE_NONE
                src_pos[page] = pos
                # --- clear_page + copy_from_user ---
                pending[page] = contents[i]
                page_copies += 1
            flush()
        finally:
            costs.allocations += allocations
            costs.bitmap_tests += bitmap_tests
            costs.page_copies += page_copies
            costs.swap_trick += swap_trick
            costs.entries_written += entries

    def _load_crash_segment(self, seg: Segment, rules: RuleSet) -> None:
        for i in range(seg.pages):
            self._fill(seg.first_pfn + i, seg, i, rules)

    # ------------------------------------------------------------------
    # views
    # ------------------------------------------------------------------
    @property
    def indirection_pages(self) -> list[int]:
        return list(self._ind_pfns)

    @property
    def entries_written(self) -> int:
        return self._written

    def dest_pages(self) -> list[int]:
        """Parked pages, list head first (``image->dest_pages``)."""
        return self.index.parked()

    def source_map(self) -> tuple[np.ndarray, np.ndarray]:
        """(dest_pfn, src_pfn) of every ``IND_SOURCE`` entry, in list order (read from memory)."""
        src, dst, _ = decode_list(self.mem, self.head, self.entry_size, stop_at_zero=True)
        return dst.astype(np.uint64), src.astype(np.uint64)

    def pages_owned(self) -> np.ndarray:
        """Every page the image holds: control, swap, indirection, source and parked pages."""
        pfns = list(self.control_pages) + list(self._ind_pfns) + self.dest_pages() + list(self.unusable_pages)
        sources = self.source_map()[1].astype(np.int64) if self.type == KEXEC_TYPE_DEFAULT else []
        return np.unique(np.concatenate((np.array(pfns, dtype=np.int64), sources)))

    def free(self) -> None:
        """``kimage_free``: give every page back to the allocator."""
        for p in self.dest_pages():
            self.alloc.free_page(p)
        for p in self.unusable_pages:
            self.alloc.free_page(p)
        if self.type == KEXEC_TYPE_DEFAULT:
            for p in self.source_map()[1].tolist():
                self.alloc.free_page(int(p))
            for p in self._ind_pfns:
                self.alloc.free_page(p)
            for p in self.control_pages:
                self.alloc.free_page(p)

    def summary(self) -> dict[str, object]:
        return {
            "type": "crash" if self.type == KEXEC_TYPE_CRASH else "normal",
            "entry": self.start,
            "preserve_context": self.preserve_context,
            "segments": len(self.segments),
            "entries": self._written,
            "indirection_pages": len(self._ind_pfns),
            "control_code_page": self.control_code_page << PAGE_SHIFT if self.control_code_page >= 0 else None,
            "swap_page": self.swap_page << PAGE_SHIFT if self.swap_page >= 0 else None,
            "dest_pages": len(self.dest_pages()),
            "unusable_pages": len(self.unusable_pages),
            "head": self.head,
        }


PAGE_MASK_WORD = PAGE_SIZE - 1


def decode_list(mem: PhysicalMemory, head: int, entry_size: int = 8, *,
                stop_at_zero: bool = False) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The entry list walked with numpy: (src pfns, dest pfns, indirection pages read).

    Follows the links page by page and decodes each page's words at once,
    acting on words as ``relocate_kernel``'s walker does (zero words skipped),
    or, with ``stop_at_zero``, as ``for_each_kimage_entry`` does (a zero word
    ends the list: a list still being loaded).  It reads every indirection page
    up front, so during relocation it only equals the step-by-step walk while no
    destination is one of those pages (``relocate.relocate_kernel`` checks).
    """
    chunks: list[np.ndarray] = []
    pages: list[int] = []
    word = head
    while word != 0 or not stop_at_zero:
        kind = _first_flag(word)
        if kind == IND_DONE:
            break
        if kind != IND_INDIRECTION:
            raise RelocationError(f"entry list head {word:#x} is not an indirection page")
        pfn = word >> PAGE_SHIFT
        pages.append(pfn)
        words = mem.words(pfn)
        words = words.view(np.uint32).astype(np.uint64) if entry_size == 4 else words
        flags = _first_flags(words)
        ends = (flags == IND_INDIRECTION) | (flags == IND_DONE)
        if stop_at_zero:
            ends |= words == 0
        stop = np.flatnonzero(ends)
        if len(stop) == 0:
            raise RelocationError("ran off the end of an indirection page without IND_DONE")
        end = int(stop[0])
        chunks.append(words[:end])
        word = int(words[end])
    words = np.concatenate(chunks) if chunks else np.empty(0, np.uint64)
    flags = _first_flags(words)
    addr = (words >> np.uint64(PAGE_SHIFT)).astype(np.int64)
    is_dest, is_src = flags == IND_DESTINATION, flags == IND_SOURCE
    idx = np.arange(len(words))
    last_dest = np.maximum.accumulate(np.where(is_dest, idx, -1)) if len(words) else idx
    nsrc = np.cumsum(is_src)
    base = np.where(last_dest >= 0, addr[np.maximum(last_dest, 0)], 0)
    before = np.where(last_dest >= 0, nsrc[np.maximum(last_dest, 0)], 0)
    dst = base + (nsrc - 1 - before)
    return addr[is_src], dst[is_src], pages


def _first_flag(word: int) -> int:
    for flag in (IND_DESTINATION, IND_INDIRECTION, IND_DONE, IND_SOURCE):
        if word & flag:
            return flag
    return 0


def _first_flags(words: np.ndarray) -> np.ndarray:
    """Per word the flag the walker acts on: it tests DESTINATION, INDIRECTION, DONE, SOURCE in turn."""
    low = (words & np.uint64(IND_FLAGS)).astype(np.int64)
    return np.where(low & 1, 1, np.where(low & 2, 2, np.where(low & 4, 4, np.where(low & 8, 8, 0))))


def _segment_tags(seg: Segment) -> np.ndarray:
    """Tags-mode content of every destination page of ``seg`` (as ``content.page_content``)."""
    n = seg.pages
    full = seg.bufsz // PAGE_SIZE + (1 if seg.bufsz % PAGE_SIZE else 0)
    out = np.zeros(n, dtype=np.uint64)
    if seg.tags is not None:
        out[:full] = seg.tags[:full]
    elif full:
        offsets = (seg.buf >> PAGE_SHIFT) + np.arange(full, dtype=np.uint64)
        out[:full] = content_tag("userbuf", offsets)
    return out


_SCALARS = ("head", "_entry", "_last_entry", "_written", "terminated", "crash_control", "control_code_page",
            "swap_page", "start", "preserve_context")
_LISTS = ("segments", "_pages", "_ind_pfns", "control_pages", "unusable_pages")


class _Journal:
    """Undo log of one ``kexec_load`` call.

    Appends are undone by truncating lists and restoring scalars; what is
    overwritten (memory pages, words of existing indirection pages, page roles)
    is saved before the first write; rare mutations register closures.
    """

    def __init__(self, image: Kimage):
        self.image = image
        self.scalars = {name: getattr(image, name) for name in _SCALARS}
        self.lengths = {name: len(getattr(image, name)) for name in _LISTS}
        self.written0 = image._written
        self.ops: list[Callable[[], None]] = []
        self.saved: list[tuple[np.ndarray, np.ndarray]] = []   # (pfns, old contents), oldest first
        self.words: dict[int, np.ndarray] = {}
        self.roles: list[tuple[int, int, int]] = []
        self.pages_taken: list[tuple[int, bool]] = []      # (pfn, allocated?) in call order
        self.alloc_state = image.alloc.state()
        self.costs = image.costs.copy()
        tables = [getattr(image.index, n, None) for n in ("table", "parked_table")]
        self.buckets = [(t, t.nbuckets, t.lookups, t.probes, t.collisions) for t in tables if t is not None]
        if image._entry >= 0:
            self.save_words(image._entry // image.epp)       # the page new entries go into
        image.index.begin()

    def save_page(self, pfn: int) -> None:
        self.save_pages(np.array([pfn], dtype=np.int64))

    def save_pages(self, pfns: np.ndarray) -> None:
        """Keep the contents of ``pfns`` before they are written (restored newest first)."""
        self.saved.append((pfns, self.image.mem.snapshot(pfns)))

    def save_words(self, k: int) -> None:
        if k not in self.words:
            self.words[k] = self.image._pages[k].copy()

    def undo(self) -> None:
        image = self.image
        for fn in reversed(self.ops):
            fn()
        for name, n in self.lengths.items():
            del getattr(image, name)[n:]
        for name, value in self.scalars.items():
            setattr(image, name, value)
        for k, saved in self.words.items():
            image._pages[k][:] = saved
        for pfn, role, pos in reversed(self.roles):
            image._role[pfn] = role
            image._src_pos[pfn] = pos
        for pfns, old in reversed(self.saved):
            image.mem.restore(pfns, old)
        image.alloc.restore(self.alloc_state, self.pages_taken)
        image.index.rollback(self.written0)
        for table, nbuckets, lookups, probes, collisions in self.buckets:
            if table.nbuckets != nbuckets:
                table.resize(nbuckets)
            table.lookups, table.probes, table.collisions = lookups, probes, collisions
        image.costs.restore(self.costs)

    def commit(self) -> None:
        self.image.index.commit()
