"""The whole story of DESIGN.md section 1 as one call: hibernate with kexec jump, resume with kexec_load.

Kernel A runs; it loads kernel B with ``KEXEC_PRESERVE_CONTEXT`` in stages
and passes B the backup pages map in a ``KS_FINAL`` segment overlapping B's
parameter area; kexec jump swaps B in; B checks A's logical view through the
map and saves A's image; power off; kernel C boots in B's region and loads A's
image in one ``KS_START``, many ``KS_MID`` and one ``KS_FINAL``; C jumps to A's
jump back entry; A swaps its own list back; every page A used is verified.

The procedure follows Huang Ying's 2007-2008 postings (kexec jump -v5..v11,
the multi-stage prototype of 2008-05-12); the stage semantics and the pgmap
format are labkit's reconstruction (DESIGN.md section 2).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from .content import write_page
from .formats import read_memmap
from .errors import KexecError
from .loader import Loader
from .machine import Machine
from .memmap import MemoryMap
from .memory import content_tag
from .pgmap import format_pgmap, read_pgmap
from .relocate import jump_back, kernel_kexec
from .segments import (KEXEC_PRESERVE_CONTEXT, KEXEC_SEGMENT_MAX, KS_FINAL, KS_FULL, KS_MID, KS_START,
                       Segment, with_stage)
from .trace import Costs, Recorder
from .units import PAGE_SHIFT, PAGE_SIZE, format_size, hexaddr, parse_size
from .workload import runs_of, usage_bitmap

PHASES = ("load_b", "jump", "save", "load_image", "relocate", "jump_back", "verify")


@dataclass(frozen=True)
class RoundTripParams:
    """Everything that describes a run; echoed in every output so a pasted result reproduces."""

    ram: str = "256MiB"
    memmap: str | None = None                   # a memory map file (e820 dmesg, /proc/iomem, kexec log) instead
    used: float = 0.6
    run_length: float = 32.0
    b_region: tuple[int, int] | None = None     # [start, end) bytes; default 1 MiB .. min(16 MiB, RAM/2)
    index: str = "hash"
    hash: str = "golden"
    buckets: int | None = None
    relocation: str = "swap"                    # how C relocates A's image
    rules: str = "2008"
    stage_segments: int = KEXEC_SEGMENT_MAX
    mode: str = "tags"
    policy: str = "lowest"
    seed: int = 0
    record: bool = False
    b_dirty: float = 0.25                       # fraction of B's region B writes while it runs
    entry_size: int = 8                         # bytes per entry word: 8 (x86_64) or 4 (i386, RAM <= 4 GiB)

    def __post_init__(self) -> None:
        if not 1 <= self.stage_segments <= KEXEC_SEGMENT_MAX:
            raise ValueError(f"stage_segments must be 1..{KEXEC_SEGMENT_MAX}, got {self.stage_segments}")
        if self.relocation not in ("copy", "swap"):
            raise ValueError(f"relocation must be copy or swap, got {self.relocation!r}")
        if not 0.0 <= self.b_dirty <= 1.0:
            raise ValueError(f"b_dirty must be a fraction, got {self.b_dirty}")
        if self.entry_size not in (4, 8):
            raise ValueError(f"entry_size is 8 (x86_64) or 4 (i386), got {self.entry_size}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def arg_line(self) -> str:
        """The run as ``labkit simulate`` arguments."""
        machine = f"--memmap {self.memmap}" if self.memmap else f"--ram {self.ram}"
        parts = [machine, f"--used {self.used}", f"--run-length {self.run_length:g}",
                 f"--index {self.index}", f"--hash {self.hash}", f"--relocation {self.relocation}",
                 f"--rules {self.rules}", f"--stage-segments {self.stage_segments}", f"--mode {self.mode}",
                 f"--policy {self.policy}", f"--seed {self.seed}"]
        if self.buckets is not None:
            parts.append(f"--buckets {self.buckets}")
        if self.entry_size != 8:
            parts.append(f"--entry-size {self.entry_size}")
        if self.b_region is not None:
            parts.append(f"--b-region {hexaddr(self.b_region[0])}-{hexaddr(self.b_region[1])}")
        return "labkit simulate " + " ".join(parts)


@dataclass(frozen=True)
class RoundTripResult:
    """What happened, what it cost, and whether A came back intact."""

    params: RoundTripParams
    verified: bool
    mismatched_pages: int
    mismatched: tuple[int, ...]
    logical_view_ok: bool
    ram_pages: int
    a_used_pages: int
    b_region: tuple[int, int]
    b_stage_calls: int
    pgmap_entries: int
    image_pages: int
    image_segments: int
    stage_calls: int
    entries: int
    indirection_pages: int
    jump_back_entry: int
    costs: dict[str, dict[str, int]]
    seconds: dict[str, float]
    index_stats: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    events: Recorder | None = field(default=None, compare=False, repr=False)
    machine: Machine | None = field(default=None, compare=False, repr=False)
    loader_a: Loader | None = field(default=None, compare=False, repr=False)
    loader_c: Loader | None = field(default=None, compare=False, repr=False)
    a_used: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def resume_pgmap(self) -> tuple[np.ndarray, np.ndarray]:
        """(dest_pfn, src_pfn) of C's resume load: ``/proc/kexec_pgmap`` in C before the jump."""
        if self.loader_c is None or self.loader_c.image is None:
            raise ValueError("the resume load did not complete")
        df = self.loader_c.pgmap()
        return df["dest_pfn"].to_numpy(), df["src_pfn"].to_numpy()

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__
               if k not in ("events", "machine", "loader_a", "loader_c", "a_used")}
        out["params"] = self.params.to_dict()
        out["args"] = self.params.arg_line()
        out["mismatched"] = list(self.mismatched[:1000])
        out["total_seconds"] = sum(self.seconds.values())
        return out


class _Phases:
    """Per-phase wall time and cost deltas."""

    def __init__(self, recorder: Recorder | None):
        self.costs: dict[str, dict[str, int]] = {}
        self.seconds: dict[str, float] = {}
        self.recorder = recorder

    def run(self, name: str, counters: Costs, fn: Callable[[], Any]) -> Any:
        if self.recorder is not None:
            self.recorder.phase = name
        before, t0 = counters.copy(), time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[name] = time.perf_counter() - t0
            self.costs[name] = (counters - before).to_dict()


def default_b_region(ram_bytes: int, used: float = 0.6) -> tuple[int, int]:
    """The 2008 recipe's ``--mem-min=0x100000 --mem-max=0xffffff``, shrunk on small machines.

    B's region needs one free page of A's per page, so it is at most a third
    of A's free memory.
    """
    start = min(1 << 20, ram_bytes // 16) & ~(PAGE_SIZE - 1)
    size = min((16 << 20) - start, int(ram_bytes * (1.0 - used) / 3)) & ~(PAGE_SIZE - 1)
    if size < 16 * PAGE_SIZE:
        raise ValueError(f"{format_size(ram_bytes)} of RAM with {used:.0%} used is too small for kernel B's region")
    return start, start + size


def pgmap_capacity(b_pages: int, max_pfn: int) -> int:
    """Bytes the parameter area must hold: header plus one line per page of B's region."""
    digits = max(1, (max(max_pfn - 1, 1).bit_length() + 3) // 4)
    return 96 + b_pages * (2 * digits + 2)


def _b_segments(b_start: int, b_end: int, param_bytes: int, seed: int) -> tuple[list[Segment], list[Segment], Segment]:
    """B's kernel, initrd and reserved parameter area (KS_START), and backup segments (KS_MID)."""
    region = b_end - b_start
    kernel = max(PAGE_SIZE, (region // 4) & ~(PAGE_SIZE - 1))
    initrd = max(PAGE_SIZE, (region // 8) & ~(PAGE_SIZE - 1))
    param = -(-param_bytes // PAGE_SIZE) * PAGE_SIZE
    if kernel + initrd + param > region:
        raise ValueError("kernel B's region is too small for its kernel, initrd and parameter area")
    k_pages, i_pages = kernel // PAGE_SIZE, initrd // PAGE_SIZE
    seg_kernel = Segment(b_start, kernel, kernel - PAGE_SIZE // 2, buf=0x7F0000000000,
                         tags=content_tag("B-kernel", np.arange(k_pages), seed))
    seg_initrd = Segment(b_start + kernel, initrd, initrd, buf=0x7F1000000000,
                         tags=content_tag("B-initrd", np.arange(i_pages), seed))
    param_at = b_start + kernel + initrd
    seg_param = Segment(param_at, param, 0, buf=0)
    rest = b_start + kernel + initrd + param
    backups = []
    step = max(PAGE_SIZE, -(-(b_end - rest) // 8) // PAGE_SIZE * PAGE_SIZE) if b_end > rest else 0
    addr = rest
    while addr < b_end:                          # kexec-tools' add_backup_segments: buf=NULL, bufsz=0
        size = min(step, b_end - addr)
        backups.append(Segment(addr, size, 0, buf=0))
        addr += size
    return [seg_kernel, seg_initrd, seg_param], backups, seg_param


def _chunks(items: list[Segment], n: int) -> list[list[Segment]]:
    return [items[i: i + n] for i in range(0, len(items), n)]


def _staged_load(loader: Loader, entry: int, calls: list[list[Segment]], flags: int,
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Load ``calls`` as one KS_FULL, or KS_START + KS_MID... + KS_FINAL; returns the call count."""
    if len(calls) == 1:
        loader.kexec_load(entry, calls[0], with_stage(flags, KS_FULL))
        return 1
    for i, segs in enumerate(calls):
        stage = KS_START if i == 0 else KS_FINAL if i == len(calls) - 1 else KS_MID
        loader.kexec_load(entry, segs, with_stage(flags, stage))
        if progress is not None:
            progress(i + 1, len(calls))
    return len(calls)


def hibernate_resume(params: RoundTripParams | None = None, *, memmap: MemoryMap | None = None,
                     progress: Callable[[str, int, int], None] | None = None) -> RoundTripResult:
    """Run the round trip of DESIGN.md section 1.  A rules rejection is reported in ``error``."""
    p = params or RoundTripParams()
    recorder = Recorder() if p.record else None
    if memmap is None and p.memmap is not None:
        memmap = read_memmap(p.memmap).map
    machine = Machine.build(memmap if memmap is not None else parse_size(p.ram), mode=p.mode)  # type: ignore[arg-type]
    mem = machine.mem
    ram = machine.ram_bitmap()
    b_start, b_end = p.b_region or default_b_region(machine.memmap.ram_bytes, p.used)
    if b_start % PAGE_SIZE or b_end % PAGE_SIZE or not machine.memmap.is_ram(b_start, b_end):
        raise ValueError(f"B's region [{hexaddr(b_start)}, {hexaddr(b_end)}) must be page aligned RAM")
    b_pfns = np.arange(b_start >> PAGE_SHIFT, b_end >> PAGE_SHIFT)
    in_b = np.zeros(machine.max_pfn, dtype=bool)
    in_b[b_pfns] = True

    # --- kernel A and its memory -----------------------------------------------
    a_used = usage_bitmap(ram, p.used, p.run_length, p.seed)
    a_pfns = np.flatnonzero(a_used)
    all_ram = np.flatnonzero(ram)
    mem.fill_tags(all_ram, content_tag("junk", all_ram, p.seed))
    mem.fill_tags(a_pfns, content_tag("A", a_pfns, p.seed))
    phases = _Phases(recorder)
    loader_a = Loader(machine, rules=p.rules, index=p.index, hash=p.hash, buckets=p.buckets, policy=p.policy,
                      seed=p.seed, in_use=a_used, recorder=recorder, entry_size=p.entry_size)
    common = dict(params=p, ram_pages=machine.ram_pages, a_used_pages=len(a_pfns), b_region=(b_start, b_end),
                  events=recorder, machine=machine, loader_a=loader_a, a_used=a_used)

    def failed(exc: KexecError, b_calls: int = 0, pg: int = 0, img: int = 0, segs: int = 0, calls: int = 0) -> RoundTripResult:
        return RoundTripResult(verified=False, mismatched_pages=0, mismatched=(), logical_view_ok=False,
                               b_stage_calls=b_calls, pgmap_entries=pg, image_pages=img, image_segments=segs,
                               stage_calls=calls, entries=0, indirection_pages=0, jump_back_entry=0,
                               costs=phases.costs, seconds=phases.seconds, error=exc.to_dict(), **common)

    # --- A loads B in stages, passing the backup pages map ---------------------
    param_bytes = pgmap_capacity(len(b_pfns), machine.max_pfn)
    start_segs, backups, seg_param = _b_segments(b_start, b_end, param_bytes, p.seed)
    entry_b = start_segs[0].mem
    flags_b = KEXEC_PRESERVE_CONTEXT

    def load_b() -> tuple[int, str]:
        calls = [start_segs] + _chunks(backups, p.stage_segments)
        for i, segs in enumerate(calls):
            loader_a.kexec_load(entry_b, segs, with_stage(flags_b, KS_START if i == 0 else KS_MID))
        df = loader_a.pgmap()
        text = format_pgmap(df["dest_pfn"].to_numpy(), df["src_pfn"].to_numpy(), "loaded")
        final = Segment(seg_param.mem, seg_param.memsz, len(text), buf=0x7F2000000000, data=text.encode())
        loader_a.kexec_load(entry_b, [final], with_stage(flags_b, KS_FINAL))
        return len(calls) + 1, text

    try:
        b_calls, pgmap_text = phases.run("load_b", loader_a.costs, load_b)
    except KexecError as exc:
        return failed(exc)
    image_a = loader_a.image
    assert image_a is not None
    pgmap_entries = pgmap_text.count("\n") - 1
    a_before = mem.snapshot(a_pfns)

    # --- kexec jump: B runs in its region; A's old contents sit in the backup pages -----
    jump_counter = Costs()
    jump = phases.run("jump", jump_counter, lambda: kernel_kexec(loader_a, costs=jump_counter, recorder=recorder))

    # --- in B: read the map, check A's logical view, save A's image ---------------------
    save_counter = Costs()

    def in_b_kernel() -> tuple[bool, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(p.seed + 1)
        dirty = rng.choice(b_pfns, size=int(len(b_pfns) * p.b_dirty), replace=False)
        param_pfns = range(seg_param.mem >> PAGE_SHIFT, (seg_param.mem + seg_param.memsz) >> PAGE_SHIFT)
        raw = b"".join(mem.read_bytes(q) for q in param_pfns)
        text = raw[: raw.index(b"\0")] if b"\0" in raw else raw
        got = read_pgmap(text, name="kernel B parameter area").df
        src_of = np.full(machine.max_pfn, -1, dtype=np.int64)
        src_of[got["dest_pfn"].to_numpy().astype(np.int64)] = got["src_pfn"].to_numpy().astype(np.int64)
        logical = np.where(in_b[a_pfns], src_of[a_pfns], a_pfns)    # where A's page X lives now
        ok = bool((logical >= 0).all()) and len(mem.mismatches(logical, a_before)) == 0
        # B's own work dirties its region after the check (it only matters that A gets it back)
        param_set = set(param_pfns)
        for q in dirty.tolist():
            if q not in param_set:
                write_page(mem, q, int(content_tag("B-run", q, p.seed)))
        owned = a_used.copy()
        owned[image_a.pages_owned()] = True
        image_pfns = np.flatnonzero(owned & ~in_b)
        save_counter.page_copies += len(image_pfns)
        return ok, image_pfns, mem.snapshot(image_pfns)

    logical_ok, image_pfns, disk = phases.run("save", save_counter, in_b_kernel)

    # --- power off; kernel C boots inside B's region ------------------------------------
    mem.fill_tags(all_ram, content_tag("poweroff", all_ram, p.seed))
    loader_c = Loader(machine, rules=p.rules, index=p.index, hash=p.hash, buckets=p.buckets, policy=p.policy,
                      seed=p.seed + 2, in_use=in_b, recorder=recorder, entry_size=p.entry_size)
    starts, lengths = runs_of(image_pfns)
    segments: list[Segment] = []
    offset = 0
    for s, n in zip(starts.tolist(), lengths.tolist()):
        chunk = disk[offset: offset + n]
        if mem.mode == "tags":
            seg = Segment(s << PAGE_SHIFT, n * PAGE_SIZE, n * PAGE_SIZE, buf=0x7F3000000000 + offset * PAGE_SIZE,
                          tags=chunk)
        else:
            seg = Segment(s << PAGE_SHIFT, n * PAGE_SIZE, n * PAGE_SIZE, buf=0x7F3000000000 + offset * PAGE_SIZE,
                          data=chunk.tobytes())
        segments.append(seg)
        offset += n
    calls = _chunks(segments, p.stage_segments)

    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress("load_image", done, total)

    try:
        stage_calls = phases.run("load_image", loader_c.costs,
                                 lambda: _staged_load(loader_c, jump.jump_back_entry, calls, 0, tick))
    except KexecError as exc:
        common["loader_c"] = loader_c
        return failed(exc, b_calls, pgmap_entries, len(image_pfns), len(segments), loader_c.calls)
    image_c = loader_c.image
    assert image_c is not None

    # --- C jumps to A's jump back entry ---------------------------------------------
    reloc_counter = Costs()
    phases.run("relocate", reloc_counter,
               lambda: kernel_kexec(loader_c, mode=p.relocation, costs=reloc_counter, recorder=recorder))
    back_counter = Costs()
    phases.run("jump_back", back_counter,
               lambda: jump_back(mem, jump.jump_back_entry, costs=back_counter, recorder=recorder,
                                 entry_size=p.entry_size))
    verify_counter = Costs()
    bad = phases.run("verify", verify_counter, lambda: mem.mismatches(a_pfns, a_before))
    stats = image_c.index.stats() if hasattr(image_c.index, "stats") else {}
    return RoundTripResult(
        verified=len(bad) == 0 and logical_ok, mismatched_pages=len(bad), mismatched=tuple(bad.tolist()),
        logical_view_ok=logical_ok, b_stage_calls=b_calls, pgmap_entries=pgmap_entries,
        image_pages=len(image_pfns), image_segments=len(segments), stage_calls=stage_calls,
        entries=image_c.entries_written, indirection_pages=len(image_c.indirection_pages),
        jump_back_entry=jump.jump_back_entry, costs=phases.costs, seconds=phases.seconds,
        index_stats=stats, loader_c=loader_c, **common)
