"""``struct kexec_segment``, the ``kexec_load`` flags and the kernel's checks.

The checks follow ``sys_kexec_load`` / ``kimage_normal_alloc`` /
``kimage_crash_alloc`` of 2.6.27 (rule set ``2008``) and ``kexec_load_check`` /
``sanity_check_segment_list`` of 4.8+ (rule set ``2016``), in the kernel's
order, so that when several rules are broken the kernel's errno wins.
Arithmetic on ``mem + memsz`` is done modulo 2**64 as in C.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .errors import KexecError
from .units import PAGE_SIZE, hexaddr, page_count

U64 = (1 << 64) - 1

# --- flags (include/uapi/linux/kexec.h) --------------------------------
KEXEC_ON_CRASH = 0x00000001
KEXEC_PRESERVE_CONTEXT = 0x00000002
KEXEC_UPDATE_ELFCOREHDR = 0x00000004
KEXEC_CRASH_HOTPLUG_SUPPORT = 0x00000008
KEXEC_ARCH_MASK = 0xFFFF0000
KEXEC_SEGMENT_MAX = 16

#: labkit's multi-stage extension (DESIGN.md section 2): two bits above the real ones.
LABKIT_KS_SHIFT = 8
LABKIT_KS_MASK = 0x300
KS_FULL, KS_START, KS_MID, KS_FINAL = 0, 1, 2, 3
STAGE_NAMES = {KS_FULL: "KS_FULL", KS_START: "KS_START", KS_MID: "KS_MID", KS_FINAL: "KS_FINAL"}

#: ELF machine numbers used as ``KEXEC_ARCH_*`` (value << 16).
ARCHES = {"default": 0, "386": 3, "x86_64": 62, "ppc": 20, "ppc64": 21, "ia64": 50, "arm": 40,
          "s390": 22, "sh": 42, "mips": 8, "mips_le": 10, "aarch64": 183, "riscv": 243,
          "68k": 4, "parisc": 15}


def stage_of(flags: int) -> int:
    """The labkit stage encoded in ``flags`` (0 = ``KS_FULL``)."""
    return (flags & LABKIT_KS_MASK) >> LABKIT_KS_SHIFT


def with_stage(flags: int, stage: int) -> int:
    return (flags & ~LABKIT_KS_MASK) | (stage << LABKIT_KS_SHIFT)


def arch_flag(name: str) -> int:
    try:
        return ARCHES[name] << 16
    except KeyError:
        raise ValueError(f"unknown arch {name!r}; known: {', '.join(ARCHES)}") from None


@dataclass(frozen=True)
class Segment:
    """One ``struct kexec_segment``: copy ``bufsz`` bytes from ``buf`` to ``mem``, region ``memsz`` long.

    ``buf`` is the user-space address (kept for display and parsed logs).  The
    content comes from ``data`` (real bytes) or ``tags`` (one content tag per
    page of the buffer, labkit's tags mode); with neither, the user buffer
    holds deterministic content derived from ``buf``.  A ``data`` shorter than
    ``bufsz`` models an unreadable user buffer: the copy faults while loading.
    """

    mem: int
    memsz: int
    bufsz: int = 0
    buf: int = 0
    data: bytes | None = field(default=None, compare=False, repr=False)
    tags: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("mem", "memsz", "bufsz", "buf"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= U64:
                raise ValueError(f"segment.{name} must be an unsigned 64-bit integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.data is not None and self.tags is not None:
            raise ValueError("a segment has either data bytes or page tags, not both")
        if self.tags is not None:
            object.__setattr__(self, "tags", np.asarray(self.tags, dtype=np.uint64))
            if len(self.tags) < page_count(self.bufsz):
                raise ValueError(f"{len(self.tags)} tags for a {self.bufsz}-byte buffer "
                                 f"({page_count(self.bufsz)} pages)")

    @property
    def end(self) -> int:
        """``mem + memsz`` as the kernel computes it (wraps at 2**64)."""
        return (self.mem + self.memsz) & U64

    @property
    def pages(self) -> int:
        return page_count(self.memsz)

    @property
    def first_pfn(self) -> int:
        return self.mem // PAGE_SIZE

    def overlaps(self, other: "Segment") -> bool:
        """The kernel's test on half-open ranges: ``mend > pstart && mstart < pend``."""
        return self.end > other.mem and self.mem < other.end

    def to_dict(self) -> dict[str, int]:
        return {"buf": self.buf, "bufsz": self.bufsz, "mem": self.mem, "memsz": self.memsz}

    def __str__(self) -> str:
        return (f"buf={hexaddr(self.buf)} bufsz={hexaddr(self.bufsz)} "
                f"mem={hexaddr(self.mem)} memsz={hexaddr(self.memsz)}")


@dataclass(frozen=True)
class RuleSet:
    """Which kernel's ``kexec_load`` checks to apply."""

    name: str
    #: ``mem > mem + memsz`` (wrap-around) -> EADDRNOTAVAIL, first loop of sanity_check_segment_list
    wrap_check: bool
    #: per segment and in total at most half of ``totalram_pages`` (4.8, July 2016)
    half_ram: bool
    #: errno of a failed copy from the user buffer while loading (EIO in 2.6.2x/3x, EFAULT since 3.x)
    copy_fault_errno: str
    #: 4.8+: EPERM also for kexec_load_disabled and used-up load limits; flags before nr_segments before arch
    load_permitted: bool


RULES = {
    "2008": RuleSet("2008", wrap_check=False, half_ram=False, copy_fault_errno="EIO", load_permitted=False),
    "2016": RuleSet("2016", wrap_check=True, half_ram=True, copy_fault_errno="EFAULT", load_permitted=True),
}


def rules_named(name: str | RuleSet) -> RuleSet:
    if isinstance(name, RuleSet):
        return name
    try:
        return RULES[str(name)]
    except KeyError:
        raise ValueError(f"unknown rule set {name!r}; choose 2008 or 2016") from None


@dataclass(frozen=True)
class KernelConfig:
    """What the running kernel was built with and where it is."""

    arch: str = "x86_64"
    kexec_jump: bool = True          # CONFIG_KEXEC_JUMP: makes KEXEC_PRESERVE_CONTEXT a known flag
    multistage: bool = True          # labkit's KS_* bits accepted (the 2008 prototype)
    #: KEXEC_DESTINATION_MEMORY_LIMIT (x86_64: MAXMEM-1 with 4-level paging, 64 TiB)
    destination_limit: int = (1 << 46) - 1
    #: KEXEC_SOURCE_MEMORY_LIMIT / KEXEC_CONTROL_MEMORY_LIMIT
    source_limit: int = (1 << 46) - 1
    control_limit: int = (1 << 46) - 1

    @property
    def kexec_flags(self) -> int:
        flags = KEXEC_ON_CRASH
        if self.kexec_jump:
            flags |= KEXEC_PRESERVE_CONTEXT
        if self.multistage:
            flags |= LABKIT_KS_MASK
        return flags


def check_flags(flags: int, nr_segments: int, config: KernelConfig, rules: RuleSet) -> None:
    """Flag, arch and segment-count checks of ``sys_kexec_load`` (after the EPERM checks).

    2.6.27 checks flags, arch, count; ``kexec_load_check`` of 4.8+ checks
    flags, count, then arch (in ``sys_kexec_load``).
    """
    def bad_flags() -> None:
        if (flags & config.kexec_flags) != (flags & ~KEXEC_ARCH_MASK):
            unknown = (flags & ~KEXEC_ARCH_MASK) & ~config.kexec_flags
            raise KexecError("EINVAL", "unknown-flags", f"flag bits {unknown:#x} are not known to this kernel")

    def bad_arch() -> None:
        arch = flags & KEXEC_ARCH_MASK
        if arch not in (0, arch_flag(config.arch)):
            raise KexecError("EINVAL", "wrong-arch",
                             f"arch {arch >> 16} is neither default (0) nor native {config.arch} "
                             f"({ARCHES[config.arch]})")

    def too_many() -> None:
        if nr_segments > KEXEC_SEGMENT_MAX:
            raise KexecError("EINVAL", "too-many-segments",
                             f"{nr_segments} segments, KEXEC_SEGMENT_MAX is {KEXEC_SEGMENT_MAX}")

    order = (bad_flags, too_many, bad_arch) if rules.load_permitted else (bad_flags, bad_arch, too_many)
    for check in order:
        check()


def sanity_check_segment_list(segments: Sequence[Segment], rules: RuleSet, config: KernelConfig,
                              *, ram_pages: int, pages_so_far: int = 0,
                              crash: tuple[int, int] | None = None) -> None:
    """The per-segment loops of ``sanity_check_segment_list`` (2.6.27: ``do_kimage_alloc`` + crash alloc).

    ``crash`` is ``(crashk_res.start, crashk_res.end)`` with an inclusive end
    for crash images.  ``pages_so_far`` carries the half-of-RAM total across
    the stages of one labkit multi-stage loading.
    """
    limit = config.destination_limit
    for i, seg in enumerate(segments):
        mstart, mend = seg.mem, seg.end
        if rules.wrap_check and mstart > mend:
            raise KexecError("EADDRNOTAVAIL", "segment-wraps",
                             f"segment {i}: mem {hexaddr(mstart)} + memsz {hexaddr(seg.memsz)} wraps around", [i])
        if mstart % PAGE_SIZE or mend % PAGE_SIZE:
            raise KexecError("EADDRNOTAVAIL", "segment-unaligned",
                             f"segment {i}: mem {hexaddr(mstart)} or end {hexaddr(mend)} is not page aligned", [i])
        if mend >= limit:
            raise KexecError("EADDRNOTAVAIL", "segment-beyond-limit",
                             f"segment {i}: end {hexaddr(mend)} >= KEXEC_DESTINATION_MEMORY_LIMIT {hexaddr(limit)}", [i])
    for i, seg in enumerate(segments):
        for j in range(i):
            if seg.overlaps(segments[j]):
                raise KexecError("EINVAL", "segment-overlap",
                                 f"segments {j} and {i} overlap: [{hexaddr(segments[j].mem)}, "
                                 f"{hexaddr(segments[j].end)}) and [{hexaddr(seg.mem)}, {hexaddr(seg.end)})", [j, i])
    for i, seg in enumerate(segments):
        if seg.bufsz > seg.memsz:
            raise KexecError("EINVAL", "bufsz-exceeds-memsz",
                             f"segment {i}: bufsz {hexaddr(seg.bufsz)} > memsz {hexaddr(seg.memsz)}", [i])
    if rules.half_ram:
        half = ram_pages // 2
        total = pages_so_far
        for i, seg in enumerate(segments):
            pages = page_count(seg.memsz)
            if pages > half:
                raise KexecError("EINVAL", "segment-exceeds-half-ram",
                                 f"segment {i}: {pages} pages > totalram_pages/2 = {half}", [i])
            total += pages
        if total > half:
            raise KexecError("EINVAL", "total-exceeds-half-ram",
                             f"{total} pages in all > totalram_pages/2 = {half}",
                             list(range(len(segments))))
    if crash is not None:
        cstart, cend = crash
        for i, seg in enumerate(segments):
            mend = (seg.mem + seg.memsz - 1) & U64
            if seg.mem < cstart or mend > cend:
                raise KexecError("EADDRNOTAVAIL", "segment-outside-crash-region",
                                 f"segment {i}: [{hexaddr(seg.mem)}, {hexaddr(mend)}] not inside crash region "
                                 f"[{hexaddr(cstart)}, {hexaddr(cend)}]", [i])


def destination_pfns(segments: Iterable[Segment]) -> np.ndarray:
    """All destination page frames of ``segments``, in segment order."""
    parts = [np.arange(s.mem // PAGE_SIZE, s.mem // PAGE_SIZE + s.pages, dtype=np.int64) for s in segments]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
