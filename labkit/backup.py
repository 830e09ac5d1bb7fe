"""Backup pages, watched page by page: a kexec jump out to kernel B and back again.

A tiny, fully labelled version of steps 2, 3 and 7 of the story (DESIGN.md
section 1) on the real loader and relocation code: kernel A loads B with
``KEXEC_PRESERVE_CONTEXT`` into a few pages of its own memory; ``kernel_kexec``
swaps every source page with its destination (B now runs there, A's old
contents sit in the source pages -- the *backup pages*); B dirties some of
its pages; B calls A's jump back entry and the same walk swaps every pair
back.  A recorder that snapshots the pages of interest after every relocation
step turns the run into frames for a figure or a player.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .content import write_page
from .loader import Loader
from .machine import Machine
from .memory import PhysicalMemory, content_tag
from .relocate import jump_back, kernel_kexec
from .segments import KEXEC_PRESERVE_CONTEXT, Segment
from .trace import Recorder
from .units import PAGE_SHIFT, PAGE_SIZE, parse_size

OWNERS = ("A", "B", "B'", "free", "?")


@dataclass(frozen=True)
class JumpParams:
    """The demo's knobs; ``arg_line`` echoes them so a figure can be reproduced."""

    pages: int = 6            # pages of kernel B's single segment (= B's region)
    ram: str = "1MiB"
    b_first_pfn: int = 16     # where B's region starts
    a_pages: int = 96         # kernel A owns pfns [0, a_pages): B's region lies inside
    writes: int = 2           # pages B writes while it runs
    relocation: str = "swap"  # how the jump out relocates (copy shows why kexec jump must swap)
    policy: str = "lowest"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.pages < 1:
            raise ValueError(f"pages must be at least 1, got {self.pages}")
        if not self.b_first_pfn + self.pages <= self.a_pages:
            raise ValueError("B's region must lie inside kernel A's pages (b_first_pfn + pages <= a_pages)")
        if not 0 <= self.writes <= self.pages:
            raise ValueError(f"writes must be 0..pages, got {self.writes}")
        if self.relocation not in ("swap", "copy"):
            raise ValueError(f"relocation must be swap or copy, got {self.relocation!r}")

    def arg_line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in asdict(self).items())


@dataclass(frozen=True)
class JumpFrame:
    """Contents of the pages of interest after one step."""

    phase: str                        # loaded, jump, B runs, jump_back
    note: str
    labels: tuple[str, ...]           # what each page holds: A16, B0, B1', free
    owners: tuple[str, ...]           # whose content: A, B, B', free, ?
    pair: tuple[int, int] | None      # (source pfn, destination pfn) swapped at this step


@dataclass(frozen=True)
class JumpDemo:
    params: JumpParams
    pfns: tuple[int, ...]             # pages of interest: B's region, then the source (backup) pages
    roles: tuple[str, ...]            # "B region" or "backup" per page
    pairs: tuple[tuple[int, int], ...]  # (destination, source) of every IND_SOURCE entry, list order
    frames: tuple[JumpFrame, ...]
    restored: bool                    # A's B-region contents are back after the jump back
    jump_back_entry: int
    extra: dict[str, Any] = field(default_factory=dict)

    def key_frames(self) -> list[int]:
        """Frames worth a slide: loaded, after the swap walk, after B ran, after the jump back."""
        last: dict[str, int] = {}
        for i, f in enumerate(self.frames):
            last[f.phase] = i
        return [last[p] for p in ("loaded", "jump", "B runs", "jump_back") if p in last]

    def column(self, pfn: int) -> int:
        return self.pfns.index(pfn)


class _Snapshots(Recorder):
    """A recorder that also keeps the pages of interest after every event."""

    def __init__(self, mem: PhysicalMemory, pfns: np.ndarray):
        super().__init__()
        self.mem, self.pfns = mem, pfns
        self.snaps: list[tuple[str, np.ndarray, tuple[int, int] | None]] = []

    def __bool__(self) -> bool:      # an empty recorder must still count as "given"
        return True

    def emit(self, kind: str, *, pfn: int = -1, dest: int = -1, src: int = -1, note: str = "") -> None:
        super().emit(kind, pfn=pfn, dest=dest, src=src, note=note)
        self.snap(self.phase, (src, dest) if kind == "relocate" else None)

    def snap(self, phase: str, pair: tuple[int, int] | None = None) -> None:
        self.snaps.append((phase, self.mem.tags[self.pfns].copy(), pair))


def kexec_jump_demo(params: JumpParams | None = None) -> JumpDemo:
    """Run the jump out and back on a small machine and return its frames."""
    p = params or JumpParams()
    machine = Machine.build(p.ram, mode="tags")
    mem = machine.mem
    if p.a_pages >= machine.max_pfn:
        raise ValueError(f"a_pages={p.a_pages} leaves no free page on a {p.ram} machine")
    all_pfns = np.flatnonzero(machine.ram_bitmap())
    a_pfns = np.arange(p.a_pages)
    mem.fill_tags(all_pfns, content_tag("junk", all_pfns, p.seed))
    mem.fill_tags(a_pfns, content_tag("A", a_pfns, p.seed))
    a_used = np.zeros(machine.max_pfn, dtype=bool)
    a_used[a_pfns] = True
    b_tags = content_tag("B", np.arange(p.pages), p.seed)
    seg = Segment(p.b_first_pfn << PAGE_SHIFT, p.pages * PAGE_SIZE, p.pages * PAGE_SIZE, buf=0x7F0000000000,
                  tags=b_tags)
    loader = Loader(machine, policy=p.policy, seed=p.seed, in_use=a_used)
    loader.kexec_load(seg.mem, [seg], KEXEC_PRESERVE_CONTEXT)
    image = loader.image
    assert image is not None
    dest, src = (a.astype(np.int64) for a in image.source_map())
    b_region = np.arange(p.b_first_pfn, p.b_first_pfn + p.pages)
    backups = np.array([s for s in src.tolist() if s not in set(b_region.tolist())], dtype=np.int64)
    pfns = np.concatenate((b_region, backups))
    a_before = mem.tags[b_region].copy()

    names: dict[int, tuple[str, str]] = {}
    for q in pfns.tolist():
        names[int(content_tag("A", q, p.seed))] = (f"A{q}", "A")
        names[int(content_tag("junk", q, p.seed))] = ("free", "free")
        names[int(content_tag("B-run", q, p.seed))] = (f"B{q - p.b_first_pfn}'", "B'")
    for i, t in enumerate(b_tags.tolist()):
        names[int(t)] = (f"B{i}", "B")

    rec = _Snapshots(mem, pfns)
    rec.snap("loaded")
    rec.phase = "jump"
    jump = kernel_kexec(loader, mode=p.relocation, recorder=rec)  # type: ignore[arg-type]
    for q in b_region[: p.writes].tolist():
        write_page(mem, q, int(content_tag("B-run", q, p.seed)))
    rec.snap("B runs")
    rec.phase = "jump_back"
    jump_back(mem, jump.jump_back_entry, recorder=rec)
    restored = bool((mem.tags[b_region] == a_before).all())

    notes = {"loaded": "A loaded B: B's pages wait in source pages, A's data fills B's region",
             "B runs": f"B runs in its region and writes {p.writes} page{'s' if p.writes != 1 else ''}"}
    frames = []
    for phase, tags, pair in rec.snaps:
        decoded = [names.get(int(t), ("?", "?")) for t in tags.tolist()]
        if pair is not None:
            s, d = pair
            how = "jump back: swap" if phase == "jump_back" else f"kexec jump: {p.relocation}"
            arrow = "\u2194" if phase == "jump_back" or p.relocation == "swap" else "\u2192"
            note = f"{how} {s << PAGE_SHIFT:#x} {arrow} {d << PAGE_SHIFT:#x}"
        else:
            note = notes.get(phase, phase)
        frames.append(JumpFrame(phase, note, tuple(x[0] for x in decoded), tuple(x[1] for x in decoded),
                                (int(pair[0]), int(pair[1])) if pair is not None else None))
    roles = tuple("B region" if i < len(b_region) else "backup" for i in range(len(pfns)))
    return JumpDemo(params=p, pfns=tuple(int(x) for x in pfns), roles=roles,
                    pairs=tuple((int(d), int(s)) for d, s in zip(dest.tolist(), src.tolist())),
                    frames=tuple(frames), restored=restored, jump_back_entry=jump.jump_back_entry,
                    extra={"control_page": image.control_code_page, "swap_page": image.swap_page,
                           "ram_bytes": parse_size(p.ram)})
