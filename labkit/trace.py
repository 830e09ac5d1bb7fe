"""Cost counters and typed events that every layer reports into.

Counters are always on and cheap (plain integer fields); benchmarks and the
lab's cost plots read them.  Events are recorded only when a ``Recorder`` is
attached, so big runs stay fast while widgets can step through small ones.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Iterator


@dataclass
class Costs:
    """Integer work counters of one loader / relocation run.

    ``entries_scanned``: words read by ``kimage_dst_used``'s walk (head, data
    and link words).  ``hash_probes``: chain entries compared in a
    ``HashIndex``.  ``segment_checks``: segments compared by
    ``kimage_is_destination_range``.  ``dest_pages_scanned``: parked pages
    compared in ``kimage_alloc_page``'s first loop.  ``swap_trick``: moves
    where an allocated destination page took over an old source page.
    ``page_copies``: 4 KiB copies (loading, swap trick, relocation).
    """

    allocations: int = 0
    entries_written: int = 0
    indirection_pages: int = 0
    entries_scanned: int = 0
    hash_probes: int = 0
    segment_checks: int = 0
    bitmap_tests: int = 0
    rehash_moves: int = 0
    dest_pages_scanned: int = 0
    parked: int = 0
    swap_trick: int = 0
    unusable: int = 0
    control_rejects: int = 0
    evictions: int = 0
    page_copies: int = 0
    pages_relocated: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def lookup_work(self) -> int:
        """What ``kimage_alloc_page``'s three questions cost: words, probes, list and segment scans."""
        return (self.entries_scanned + self.hash_probes + self.dest_pages_scanned + self.segment_checks
                + self.bitmap_tests)

    def copy(self) -> "Costs":
        return Costs(**vars(self))

    def restore(self, other: "Costs") -> None:
        vars(self).update(vars(other))

    def __sub__(self, other: "Costs") -> "Costs":
        return Costs(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})

    def __add__(self, other: "Costs") -> "Costs":
        return Costs(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


#: event kinds, in the order a load produces them
EVENT_KINDS = (
    "stage",        # a kexec_load call began: stage name in ``note``
    "control",      # control or swap page allocated (pfn)
    "indirection",  # a new indirection page (pfn)
    "alloc",        # a source page chosen for dest (pfn, dest)
    "parked",       # a destination page parked on dest_pages (pfn)
    "unpark",       # a parked page taken for its own destination (pfn)
    "swap_trick",   # old source page (src) handed out, pfn now holds dest's data in place
    "evict",        # a page moved out of the way of a later stage's segment (pfn -> dest)
    "entry",        # an entry word written (pfn = page, note = kind, dest, src)
    "overlap",      # a later stage rewrote an existing destination (dest, src)
    "relocate",     # relocation moved src to dest (note = copy|swap)
    "done",         # a call finished: note = outcome
)


@dataclass(frozen=True, slots=True)
class Event:
    """One step of the story.  Fields not relevant to ``kind`` are -1 / ''."""

    seq: int
    kind: str
    phase: str = ""
    stage: str = ""
    pfn: int = -1
    dest: int = -1
    src: int = -1
    note: str = ""
    work: int = -1          # Costs.lookup_work of the run so far (-1: no counters attached)


@dataclass
class Recorder:
    """Collects events; attach one to a loader or relocation to step through a run."""

    events: list[Event] = field(default_factory=list)
    limit: int = 2_000_000
    phase: str = ""
    stage: str = ""
    costs: Costs | None = None      # the counters whose lookup work each event records

    def emit(self, kind: str, *, pfn: int = -1, dest: int = -1, src: int = -1, note: str = "") -> None:
        if len(self.events) >= self.limit:
            raise RuntimeError(f"recorder limit of {self.limit} events reached; record a smaller run")
        work = self.costs.lookup_work if self.costs is not None else -1
        self.events.append(Event(len(self.events), kind, self.phase, self.stage, pfn, dest, src, note, work))

    def truncate(self, n: int) -> None:
        del self.events[n:]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]
