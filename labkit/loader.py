"""``sys_kexec_load`` with labkit's multi-stage extension.

``Loader.kexec_load(entry, segments, flags)`` runs the kernel's checks in the
kernel's order (``segments.check_flags``, ``segments.sanity_check_segment_list``),
builds a ``Kimage`` and installs it.  The stage in ``flags``
(``KS_FULL``/``KS_START``/``KS_MID``/``KS_FINAL``, DESIGN.md section 2) is
labkit's reconstruction of the lost 2008 prototype.  A call that fails raises
``KexecError`` and is undone completely -- memory, allocator, entry list,
index -- except where the kernel itself does otherwise (a crash load frees the
installed crash image before validating the new one; the 4.8+ load-limit
counter is decremented by every call that passes it).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from .errors import KexecError
from .index import make_index
from .kimage import Kimage
from .machine import Machine
from .pgmap import format_pgmap
from .segments import (KEXEC_ON_CRASH, KEXEC_PRESERVE_CONTEXT, KS_FINAL, KS_FULL, KS_MID, KS_START,
                       LABKIT_KS_MASK, STAGE_NAMES, RuleSet, Segment, check_flags, rules_named,
                       sanity_check_segment_list, stage_of)
from .trace import Costs, Recorder
from .units import hexaddr, page_count

NORMAL, CRASH = "normal", "crash"
IDLE, LOADING, LOADED = "idle", "loading", "loaded"


@dataclass(frozen=True)
class LoadResult:
    """What one successful ``kexec_load`` call did."""

    stage: str
    slot: str
    state: str
    segments: int
    entries: int
    indirection_pages: int
    costs: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"ok": True, "stage": self.stage, "slot": self.slot, "state": self.state,
                "segments": self.segments, "entries": self.entries,
                "indirection_pages": self.indirection_pages, "costs": dict(self.costs)}


@dataclass
class _Loading:
    image: Kimage
    entry: int
    flags: int
    pages: int = 0
    calls: int = 1


class Loader:
    """The kexec side of one running kernel on a ``Machine``.

    ``in_use`` marks the pages the running kernel itself occupies (its text,
    data and workload); the rest of RAM is free for the allocator, handed out
    by ``policy``.  ``index`` is ``"linear"`` (the kernel) or ``"hash"``.
    """

    def __init__(self, machine: Machine, *, rules: str | RuleSet = "2008", index: str = "hash",
                 hash: str = "golden", buckets: int | None = None, policy: str = "lowest", seed: int = 0,
                 in_use: np.ndarray | None = None, recorder: Recorder | None = None, entry_size: int = 8,
                 capable: bool = True):
        self.machine = machine
        self.rules = rules_named(rules)
        self.index_name, self.hash_name, self.buckets = index, hash, buckets
        make_index(index, hash, buckets)          # validate the names now
        self.alloc = machine.allocator(policy, seed, in_use)
        self.recorder = recorder
        self.entry_size = entry_size
        self.capable = capable
        self.kexec_load_disabled = False
        self.load_limit = {NORMAL: -1, CRASH: -1}
        self.lock_held = False
        self.costs = Costs()
        self.images: dict[str, Kimage | None] = {NORMAL: None, CRASH: None}
        self.loading: dict[str, _Loading | None] = {NORMAL: None, CRASH: None}
        self.calls = 0

    # --- state ----------------------------------------------------------
    def state(self, slot: str = NORMAL) -> str:
        if self.loading[slot] is not None:
            return LOADING
        return LOADED if self.images[slot] is not None else IDLE

    @property
    def image(self) -> Kimage | None:
        return self.images[NORMAL]

    @property
    def crash_image(self) -> Kimage | None:
        return self.images[CRASH]

    def current(self, slot: str = NORMAL) -> Kimage | None:
        """The image being loaded, else the installed one."""
        loading = self.loading[slot]
        return loading.image if loading is not None else self.images[slot]

    @contextmanager
    def hold_lock(self) -> Iterator[None]:
        """Hold the kexec mutex (another load or exec in progress): calls fail with EBUSY."""
        self.lock_held = True
        try:
            yield
        finally:
            self.lock_held = False

    def _new_image(self, crash: bool) -> Kimage:
        bounds = self.machine.crash_bounds() if crash else None
        if crash and bounds is None:
            raise KexecError("EADDRNOTAVAIL", "no-crash-region", "the machine has no crash kernel region")
        return Kimage(self.machine.mem, self.alloc, make_index(self.index_name, self.hash_name, self.buckets),
                      config=self.machine.config, costs=self.costs, recorder=self.recorder, crash=bounds,
                      entry_size=self.entry_size)

    # --- the system call ------------------------------------------------------
    def kexec_load(self, entry: int, segments: Sequence[Segment], flags: int = 0) -> LoadResult:
        """``sys_kexec_load(entry, nr_segments, segments, flags)``."""
        segments = list(segments)
        rules, config = self.rules, self.machine.config
        slot = CRASH if flags & KEXEC_ON_CRASH else NORMAL
        if not self.capable:
            raise KexecError("EPERM", "no-cap-sys-boot", "caller lacks CAP_SYS_BOOT")
        if rules.load_permitted:
            if self.kexec_load_disabled:
                raise KexecError("EPERM", "kexec-load-disabled", "sysctl kernel.kexec_load_disabled is 1")
            if self.load_limit[slot] == 0:
                raise KexecError("EPERM", "load-limit-reached", f"kexec_load_limit_{'panic' if slot == CRASH else 'reboot'} is 0")
            if self.load_limit[slot] > 0:
                self.load_limit[slot] -= 1
        check_flags(flags, len(segments), config, rules)
        if self.lock_held:
            raise KexecError("EBUSY", "kexec-lock-held", "another kexec load or exec holds the lock")
        stage = stage_of(flags)
        self._check_stage(slot, stage, entry, flags)
        self.calls += 1
        if self.recorder is not None:
            self.recorder.costs = self.costs
            self.recorder.stage = STAGE_NAMES[stage]
            self.recorder.emit("stage", note=STAGE_NAMES[stage])
        mark = len(self.recorder) if self.recorder is not None else 0
        try:
            result = self._load(slot, stage, entry, segments, flags)
        except KexecError as exc:
            if self.recorder is not None:
                self.recorder.truncate(mark)
                self.recorder.emit("done", note=f"rejected {exc.errno} {exc.rule}")
            raise
        if self.recorder is not None:
            self.recorder.emit("done", note=f"{result.stage} -> {result.state}")
        return result

    def _check_stage(self, slot: str, stage: int, entry: int, flags: int) -> None:
        """labkit: stages must come in order; entry and flags come from ``KS_START``."""
        loading = self.loading[slot]
        name = STAGE_NAMES[stage]
        if stage in (KS_FULL, KS_START) and loading is not None:
            raise KexecError("EINVAL", "stage-order",
                             f"{name} while a multi-stage loading is in progress (expected KS_MID or KS_FINAL)")
        if stage in (KS_MID, KS_FINAL):
            if loading is None:
                raise KexecError("EINVAL", "stage-order", f"{name} without a preceding KS_START")
            if entry != loading.entry:
                raise KexecError("EINVAL", "stage-entry-mismatch",
                                 f"{name} entry {hexaddr(entry)} differs from KS_START's {hexaddr(loading.entry)}")
            if (flags & ~LABKIT_KS_MASK) != (loading.flags & ~LABKIT_KS_MASK):
                raise KexecError("EINVAL", "stage-flags-mismatch",
                                 f"{name} flags {hexaddr(flags & ~LABKIT_KS_MASK)} differ from KS_START's "
                                 f"{hexaddr(loading.flags & ~LABKIT_KS_MASK)}")

    def _load(self, slot: str, stage: int, entry: int, segments: list[Segment], flags: int) -> LoadResult:
        crash = slot == CRASH
        if stage == KS_FULL and not segments:
            old, self.images[slot] = self.images[slot], None
            if old is not None:
                old.free()
            return self._result(stage, slot, None, Costs())
        if crash and stage in (KS_FULL, KS_START) and self.images[CRASH] is not None:
            # kernel: "Free any current crash dump kernel before we corrupt it."
            old, self.images[CRASH] = self.images[CRASH], None
            old.free()
        before = self.costs.copy()
        if stage in (KS_FULL, KS_START):
            image = self._new_image(crash)
            if crash:
                cstart, cend = image.crash  # type: ignore[misc]
                if entry < cstart or entry > cend:
                    raise KexecError("EADDRNOTAVAIL", "entry-outside-crash-region",
                                     f"entry {hexaddr(entry)} outside crash region [{hexaddr(cstart)}, {hexaddr(cend)}]")
            pages_so_far, first_call = 0, True
        else:
            loading = self.loading[slot]
            assert loading is not None
            image, pages_so_far, first_call = loading.image, loading.pages, False
        sanity_check_segment_list(segments, self.rules, self.machine.config, ram_pages=self.machine.ram_pages,
                                  pages_so_far=pages_so_far, crash=image.crash)
        image.begin()
        try:
            first = image.add_segments(segments)
            if first_call:
                image.start = entry
                image.preserve_context = bool(flags & KEXEC_PRESERVE_CONTEXT)
                image.alloc_control_and_swap()
            elif not crash:
                image.evict_covered(segments)
            for i, seg in enumerate(segments):
                image.load_segment(seg, first + i, first, self.rules)
            if stage in (KS_FULL, KS_FINAL):
                image.terminate()
        except KexecError:
            image.rollback()
            raise
        image.commit()
        pages = pages_so_far + sum(page_count(s.memsz) for s in segments)
        if stage == KS_START:
            self.loading[slot] = _Loading(image, entry, flags, pages)
        elif stage == KS_MID:
            loading = self.loading[slot]
            loading.pages, loading.calls = pages, loading.calls + 1  # type: ignore[union-attr]
        else:
            self.loading[slot] = None
            old, self.images[slot] = self.images[slot], image
            if old is not None:
                old.free()
        return self._result(stage, slot, image, self.costs - before)

    def _result(self, stage: int, slot: str, image: Kimage | None, costs: Costs) -> LoadResult:
        return LoadResult(STAGE_NAMES[stage], slot, self.state(slot),
                          len(image.segments) if image else 0, image.entries_written if image else 0,
                          len(image.indirection_pages) if image else 0, costs.to_dict())

    # --- views -------------------------------------------------------------
    def pgmap(self, slot: str = NORMAL) -> pd.DataFrame:
        """The destination->source map of the current image (the backup pages map), by dest pfn."""
        image = self.current(slot)
        if image is None:
            return pd.DataFrame({"dest_pfn": np.empty(0, np.uint64), "src_pfn": np.empty(0, np.uint64)})
        dest, src = image.source_map()
        order = np.argsort(dest, kind="stable")
        return pd.DataFrame({"dest_pfn": dest[order], "src_pfn": src[order]})

    def pgmap_text(self, slot: str = NORMAL) -> str:
        """``/proc/kexec_pgmap`` as the lab defines it (docs/pgmap-format.md)."""
        df = self.pgmap(slot)
        state = LOADING if self.loading[slot] is not None else LOADED
        return format_pgmap(df["dest_pfn"].to_numpy(), df["src_pfn"].to_numpy(), state)

    def snapshot(self) -> dict[str, object]:
        """A comparable description of everything the loader holds (used by atomicity tests)."""
        out: dict[str, object] = {"free": self.alloc.free.copy(), "nr_free": self.alloc.nr_free,
                                  "costs": self.costs.to_dict()}
        for slot in (NORMAL, CRASH):
            image = self.current(slot)
            out[slot] = None if image is None else (self.state(slot), image.summary(),
                                                    [(r.page, r.slot, r.word) for r in image.walk()],
                                                    image.dest_pages(), list(image.control_pages))
        return out
