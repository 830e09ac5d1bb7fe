"""Replaying recorded events up to step k: page states, stage, counters and the entry-list tail.

The loader and relocation report what they do as ``labkit.trace.Event``s;
this module turns the first ``k`` of them back into "what the machine looks
like now" so a widget can step forwards and backwards freely.  Step ``k``
means "after ``events[:k]``" (step 0 is before the first event).

Speed matters (a stepper must answer in well under 0.2 s on a 64K-page
machine), so everything is precomputed once: the events are kept as numpy
columns (``EventTable``), every event becomes a few ``(pfn, state)``
writes, and a copy of the page-state array is kept every
``checkpoint_every`` events and wherever a new kernel's world begins (power
off between saving and resuming: A's world, then C's).  ``states_at(k)``
copies the nearest checkpoint and applies at most ``checkpoint_every``
events' writes with one vectorised assignment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from . import pagestate as ps
from .segments import destination_pfns
from .trace import EVENT_KINDS, Event
from .units import PAGE_SHIFT

#: events a "next page" step stops at: a page placed by the loader or moved by relocation
PAGE_KINDS = ("alloc", "relocate")
#: phases of a round trip whose events come from a loader (their stage field is meaningful)
LOAD_PHASES = ("load_b", "load_image")
#: which load wrote the entry list a round-trip phase works on (jump back walks A's own list again)
LIST_OF = {"load_b": "load_b", "jump": "load_b", "load_image": "load_image", "relocate": "load_image",
           "jump_back": "load_b"}

_KIND_CODE = {k: i for i, k in enumerate(EVENT_KINDS)}
_EVICT_ROLE = {"control": ps.CONTROL, "swap": ps.SWAP, "indirection": ps.INDIRECTION, "source": ps.SOURCE}
#: kinds whose events change page states (the others are skipped quickly while precomputing)
_PAGE_WRITING = frozenset(_KIND_CODE[k] for k in ("control", "indirection", "alloc", "parked", "unpark",
                                                  "swap_trick", "evict", "relocate"))


def event_writes(e: Event, controls_seen: int) -> list[tuple[int, int]]:
    """The page-state changes one event stands for, in order (a later write wins).

    ``controls_seen`` counts the ``control`` events of the current image:
    ``kimage_alloc_init`` takes the control-code page first, then the swap page.
    """
    kind = e.kind
    if kind == "control":
        return [(e.pfn, ps.CONTROL if controls_seen == 0 else ps.SWAP)]
    if kind == "indirection":
        return [(e.pfn, ps.INDIRECTION)]
    if kind == "alloc":
        return [(e.pfn, ps.IN_PLACE if e.pfn == e.dest else ps.SOURCE)]
    if kind == "parked":
        return [(e.pfn, ps.PARKED)]
    if kind == "unpark":
        return [(e.pfn, ps.IN_PLACE)]
    if kind == "swap_trick":       # the old source page is handed out; pfn now holds its own data
        return [(e.src, ps.FREE), (e.pfn, ps.IN_PLACE)]
    if kind == "evict":            # the page moves out of a later segment's way, to e.dest
        return [(e.pfn, ps.FREE), (e.dest, _EVICT_ROLE.get(e.note, ps.SOURCE))]
    if kind == "relocate":
        out: list[tuple[int, int]] = []
        if e.src != e.dest:
            out.append((e.src, ps.BACKUP if e.note == "swap" else ps.FREE))
        out.append((e.dest, ps.RELOCATED))
        return out
    return []


def describe_event(e: Event) -> str:
    """One line for a human: ``alloc 0x1234000 for dest 0x5678000``."""
    def a(pfn: int) -> str:
        return f"{pfn << PAGE_SHIFT:#x}"
    kind = e.kind
    if kind == "stage":
        return f"kexec_load call begins: {e.note}"
    if kind == "done":
        return f"call finished: {e.note}"
    if kind == "alloc":
        where = "in place" if e.pfn == e.dest else f"for dest {a(e.dest)}"
        return f"source page {a(e.pfn)} {where}"
    if kind == "entry":
        return f"entry word {e.src:#x} ({e.note}) in page {a(e.pfn)} slot {e.dest}" if e.pfn >= 0 else \
            f"entry word {e.src:#x} ({e.note}) in head"
    if kind == "swap_trick":
        return f"swap trick: {a(e.pfn)} takes over its own data from {a(e.src)}"
    if kind == "evict":
        return f"evict {e.note} page {a(e.pfn)} to {a(e.dest)}"
    if kind == "relocate":
        return f"relocate ({e.note}) {a(e.src)} \u2192 {a(e.dest)}"
    if kind == "overlap":
        return f"later stage rewrites dest {a(e.dest)} (source {a(e.src)})"
    return f"{kind} page {a(e.pfn)}"


class EventTable(Sequence[Event]):
    """Recorded events as numpy columns; indexing rebuilds ``Event`` objects on demand.

    A 256 MiB round trip records ~170 000 events; as dataclass instances they
    are ~340 000 objects the cyclic garbage collector walks on every full
    collection (a 150 ms stall in the middle of a stepper redraw).  As
    columns they are a handful of arrays.
    """

    def __init__(self, events: Sequence[Event]):
        self._kinds: list[str] = list(EVENT_KINDS)
        self._strings: dict[str, int] = {}
        kind_code = {k: i for i, k in enumerate(self._kinds)}
        intern = self._intern
        seq, kind, pfn, dest, src, work = [], [], [], [], [], []
        phase, stage, note = [], [], []
        for e in events:
            code = kind_code.get(e.kind)
            if code is None:
                code = kind_code[e.kind] = len(self._kinds)
                self._kinds.append(e.kind)
            kind.append(code)
            seq.append(e.seq)
            pfn.append(e.pfn)
            dest.append(e.dest)
            src.append(e.src)
            work.append(e.work)
            phase.append(intern(e.phase))
            stage.append(intern(e.stage))
            note.append(intern(e.note))
        self.seq, self.pfn, self.dest, self.src, self.work = (np.array(c, dtype=np.int64)
                                                              for c in (seq, pfn, dest, src, work))
        self.kind = np.array(kind, dtype=np.int16)
        self.phase, self.stage, self.note = (np.array(c, dtype=np.int32) for c in (phase, stage, note))
        self._names = list(self._strings)

    def _intern(self, text: str) -> int:
        code = self._strings.get(text)
        if code is None:
            code = self._strings[text] = len(self._strings)
        return code

    def __len__(self) -> int:
        return len(self.kind)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        names = self._names
        return Event(int(self.seq[i]), self._kinds[self.kind[i]], names[self.phase[i]], names[self.stage[i]],
                     int(self.pfn[i]), int(self.dest[i]), int(self.src[i]), names[self.note[i]], int(self.work[i]))

    def kind_codes(self) -> np.ndarray:
        """Kinds as indices into ``EVENT_KINDS`` (unknown kinds get ``len(EVENT_KINDS)`` and up)."""
        return self.kind

    def name(self, code: int) -> str:
        return self._names[code]


@dataclass(frozen=True)
class StepView:
    """Everything a stepper shows at step ``k``."""

    k: int
    n: int
    event: Event | None
    phase: str
    stage: str
    call: int                     # stage calls begun so far in this phase
    calls: int                    # stage calls in this phase altogether
    states: np.ndarray = field(repr=False)
    touched: np.ndarray = field(repr=False)
    counters: dict[str, int] = field(default_factory=dict)
    tail: list[dict[str, Any]] = field(default_factory=list)
    finished: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def stage_text(self) -> str:
        """``KS_MID call 3 of 12 · phase load_image`` (a relocation phase names the stage that built its list)."""
        if self.phase in LOAD_PHASES:
            return f"{self.stage} call {self.call} of {self.calls} \u00b7 phase {self.phase}"
        return f"{self.stage} list \u00b7 phase {self.phase}"

    @property
    def event_text(self) -> str:
        if self.event is None:
            return "before the first event"
        return f"event {self.k} of {self.n}: {describe_event(self.event)}"


class Replay:
    """Random access to the machine's page states after any prefix of ``events``."""

    def __init__(self, events: Sequence[Event], max_pfn: int, *,
                 backgrounds: Mapping[str, np.ndarray] | None = None,
                 phase_costs: Mapping[str, Mapping[str, int]] | None = None,
                 list_of: Mapping[str, str] | None = None, checkpoint_every: int = 2048):
        """``backgrounds[phase]`` is the state array a phase starts from (a new kernel's world);
        phases without one continue from where the previous phase left off.  ``list_of[phase]``
        names the phase whose entries the phase walks (default ``LIST_OF``)."""
        self.events = events if isinstance(events, EventTable) else EventTable(events)
        self.n = len(self.events)
        self.max_pfn = max_pfn
        self.backgrounds = dict(backgrounds or {})
        self.phase_costs = {k: dict(v) for k, v in (phase_costs or {}).items()}
        self.list_of = dict(LIST_OF if list_of is None else list_of)
        self.checkpoint_every = max(1, int(checkpoint_every))
        self._build()
        self._cache: tuple[int, np.ndarray] | None = None

    # --- precomputation ----------------------------------------------------
    def _initial(self) -> np.ndarray:
        first = self.events[0].phase if self.n else ""
        if first in self.backgrounds:
            return np.array(self.backgrounds[first], dtype=np.int8, copy=True)
        return np.full(self.max_pfn, ps.FREE, dtype=np.int8)

    def _build(self) -> None:
        n, ev = self.n, self.events
        self.codes = np.minimum(ev.kind_codes(), len(EVENT_KINDS)).astype(np.int8)
        phases: list[str] = []
        self.phase_id = np.zeros(n, dtype=np.int16)
        self.phase_first: list[int] = []
        state = self._initial()
        ck_k, ck_states = [0], [state.copy()]
        w_evt: list[int] = []
        w_pfn: list[int] = []
        w_state: list[int] = []
        controls = 0
        phase_codes = ev.phase.tolist()
        kind_codes = self.codes.tolist()
        stage_code = _KIND_CODE["stage"]
        for i in range(n):
            phase = ev.name(phase_codes[i])
            reset = False
            if not phases or phase != phases[-1]:
                phases.append(phase)
                self.phase_first.append(i)
                if phase in self.backgrounds and i > 0:
                    state = np.array(self.backgrounds[phase], dtype=np.int8, copy=True)
                    reset = True
                if phase in self.backgrounds:
                    controls = 0
            self.phase_id[i] = len(phases) - 1
            kind = kind_codes[i]
            if kind == stage_code or kind in _PAGE_WRITING:
                e = ev[i]
                if e.kind == "stage" and e.note in ("KS_START", "KS_FULL"):
                    controls = 0
                for pfn, st in event_writes(e, controls):
                    if 0 <= pfn < self.max_pfn:
                        state[pfn] = st
                        w_evt.append(i)
                        w_pfn.append(pfn)
                        w_state.append(st)
                if e.kind == "control":
                    controls += 1
            if reset or (i + 1) % self.checkpoint_every == 0:
                ck_k.append(i + 1)
                ck_states.append(state.copy())
        self.phases = phases
        self._ck_k = np.array(ck_k, dtype=np.int64)
        self._ck_states = ck_states
        self._w_evt = np.array(w_evt, dtype=np.int64)
        self._w_pfn = np.array(w_pfn, dtype=np.int64)
        self._w_state = np.array(w_state, dtype=np.int8)
        self._stage_marks = np.unique(np.concatenate((
            np.flatnonzero(self.codes == _KIND_CODE["stage"]) + 1,
            np.array(self.phase_first, dtype=np.int64) + 1))) if n else np.empty(0, np.int64)
        page_codes = [_KIND_CODE[k] for k in PAGE_KINDS]
        self._page_marks = np.flatnonzero(np.isin(self.codes, page_codes)) + 1
        self._entries = np.flatnonzero(self.codes == _KIND_CODE["entry"])

    # --- queries -------------------------------------------------------------
    def _check(self, k: int) -> int:
        k = int(k)
        if not 0 <= k <= self.n:
            raise IndexError(f"step {k} outside 0..{self.n}")
        return k

    def states_at(self, k: int) -> np.ndarray:
        """Page-state array after ``events[:k]`` (a fresh copy; callers may keep it)."""
        k = self._check(k)
        if self._cache is not None and self._cache[0] == k:
            return self._cache[1].copy()
        c = int(np.searchsorted(self._ck_k, k, side="right")) - 1
        kc = int(self._ck_k[c])
        state = self._ck_states[c].copy()
        a, b = np.searchsorted(self._w_evt, [kc, k])
        if b > a:
            pfns = self._w_pfn[a:b][::-1]
            vals = self._w_state[a:b][::-1]
            uniq, first = np.unique(pfns, return_index=True)   # first in reversed order = last write
            state[uniq] = vals[first]
        self._cache = (k, state)
        return state.copy()

    def touched(self, k: int) -> np.ndarray:
        """pfns the ``k``-th event (``events[k - 1]``) changed."""
        k = self._check(k)
        if k == 0:
            return np.empty(0, dtype=np.int64)
        a, b = np.searchsorted(self._w_evt, [k - 1, k])
        return self._w_pfn[a:b].copy()

    def phase_at(self, k: int) -> str:
        k = self._check(k)
        if self.n == 0:
            return ""
        return self.phases[int(self.phase_id[max(k - 1, 0)])]

    def phase_range(self, phases: Sequence[str] | None = None) -> tuple[int, int]:
        """(first, last) step covering every event of ``phases`` (all events when None)."""
        if phases is None or self.n == 0:
            return (0, self.n)
        wanted = [i for i, p in enumerate(self.phases) if p in set(phases)]
        if not wanted:
            raise ValueError(f"no events in phases {list(phases)}; recorded phases: {self.phases}")
        first = self.phase_first[wanted[0]]
        last_id = wanted[-1]
        last = self.phase_first[last_id + 1] if last_id + 1 < len(self.phase_first) else self.n
        return (first, last)

    def next_stage(self, k: int) -> int:
        """The step right after the next ``stage`` event or phase start (``n`` if none is left)."""
        k = self._check(k)
        i = int(np.searchsorted(self._stage_marks, k, side="right"))
        return int(self._stage_marks[i]) if i < len(self._stage_marks) else self.n

    def prev_stage(self, k: int) -> int:
        k = self._check(k)
        i = int(np.searchsorted(self._stage_marks, k, side="left")) - 1
        return int(self._stage_marks[i]) if i >= 0 else 0

    def next_page(self, k: int) -> int:
        """The step right after the next event that places or moves a page (``alloc``, ``relocate``)."""
        k = self._check(k)
        i = int(np.searchsorted(self._page_marks, k, side="right"))
        return int(self._page_marks[i]) if i < len(self._page_marks) else self.n

    def counters_at(self, k: int, states: np.ndarray | None = None) -> dict[str, int]:
        """Event counts of the current phase so far, and page counts of the current state."""
        k = self._check(k)
        start = self.phase_first[int(self.phase_id[k - 1])] if k > 0 else 0
        counts = np.bincount(self.codes[start:k].astype(np.int64), minlength=len(EVENT_KINDS) + 1)
        c = {kind: int(counts[_KIND_CODE[kind]]) for kind in EVENT_KINDS}
        states = self.states_at(k) if states is None else states
        now = np.bincount(states.astype(np.int64), minlength=ps.NSTATES)
        work = self.events.work
        lookups = int(work[k - 1] - work[start]) if k > start and work[start] >= 0 and work[k - 1] >= 0 else 0
        return {
            "lookup work": lookups,
            "stage calls": c["stage"],
            "source pages": c["alloc"],
            "entries written": c["entry"],
            "indirection pages": c["indirection"],
            "parked": c["parked"],
            "unparked": c["unpark"],
            "swap trick": c["swap_trick"],
            "evictions": c["evict"],
            "relocated": c["relocate"],
            "parked now": int(now[ps.PARKED]),
            "moved now": int(now[ps.SOURCE]),
            "in place now": int(now[ps.IN_PLACE]),
        }

    def finished_costs(self, k: int) -> dict[str, dict[str, int]]:
        """Cost counters of the phases that are complete at step ``k`` (from the run's own totals)."""
        k = self._check(k)
        done = {}
        for i, p in enumerate(self.phases):
            end = self.phase_first[i + 1] if i + 1 < len(self.phases) else self.n
            if end <= k and p in self.phase_costs:
                done[p] = self.phase_costs[p]
        return done

    def stage_at(self, k: int) -> tuple[str, str, int, int]:
        """(phase, stage, call, calls) at step ``k``."""
        k = self._check(k)
        if self.n == 0:
            return ("", "", 0, 0)
        i = max(k - 1, 0)
        pid = int(self.phase_id[i])
        start = self.phase_first[pid]
        end = self.phase_first[pid + 1] if pid + 1 < len(self.phase_first) else self.n
        stage_code = _KIND_CODE["stage"]
        call = int(np.count_nonzero(self.codes[start:k] == stage_code))
        calls = int(np.count_nonzero(self.codes[start:end] == stage_code))
        e = self.events[i]
        stage = e.note if e.kind == "stage" and k > 0 else e.stage
        return (self.phases[pid], stage or "KS_FULL", call, calls)

    def entry_tail(self, k: int, count: int = 8) -> list[dict[str, Any]]:
        """The last ``count`` words of the entry list step ``k`` works on (oldest first).

        In a load phase: the words written so far.  In a relocation phase: the
        end of the list it walks (``list_of``), e.g. jump back walks A's list.
        """
        k = self._check(k)
        if self.n == 0:
            return []
        pid = int(self.phase_id[max(k - 1, 0)])
        phase = self.phases[pid]
        owner = self.list_of.get(phase, phase)
        start, end = self.phase_first[pid], k
        if owner != phase:
            owners = [i for i in range(pid) if self.phases[i] == owner]
            if not owners:
                return []
            o = owners[-1]
            start = self.phase_first[o]
            end = self.phase_first[o + 1] if o + 1 < len(self.phase_first) else self.n
        lo, j = (int(x) for x in np.searchsorted(self._entries, [start, end], side="left"))
        rows = []
        for i in self._entries[max(lo, j - count): j].tolist():
            e = self.events[i]
            rows.append({"seq": e.seq, "page": e.pfn, "slot": e.dest, "word": e.src, "kind": e.note,
                         "phase": e.phase, "stage": e.stage})
        return rows

    def view(self, k: int, tail: int = 8) -> StepView:
        """Everything at step ``k`` at once."""
        k = self._check(k)
        states = self.states_at(k)
        phase, stage, call, calls = self.stage_at(k)
        return StepView(k=k, n=self.n, event=self.events[k - 1] if k > 0 else None, phase=phase, stage=stage,
                        call=call, calls=calls, states=states, touched=self.touched(k),
                        counters=self.counters_at(k, states), tail=self.entry_tail(k, tail),
                        finished=self.finished_costs(k))

    # --- construction from a round trip ----------------------------------------------
    @classmethod
    def from_round_trip(cls, result: Any, **kw: Any) -> "Replay":
        """A replay of ``hibernate_resume(..., record=True)``: A's world, then (after power off) C's.

        A's world starts with A's own pages and B's region pending; C's with C
        running in B's region and the image's destinations pending.
        """
        if result.events is None or result.machine is None:
            raise ValueError("the round trip was not recorded: run it with RoundTripParams(record=True)")
        return cls(result.events.events, result.machine.max_pfn, backgrounds=round_trip_backgrounds(result),
                   phase_costs=result.costs, **kw)


def round_trip_backgrounds(result: Any) -> dict[str, np.ndarray]:
    """The page states each world of a round trip starts from (see ``Replay.from_round_trip``).

    A's used pages come from the result (``RoundTripResult.a_used``).
    """
    machine = result.machine
    ram = machine.ram_bitmap()
    b_start, b_end = result.b_region
    b_pfns = np.arange(b_start >> PAGE_SHIFT, b_end >> PAGE_SHIFT)
    a_used = result.a_used
    out = {"load_b": ps.background(ram, owned=a_used, target=b_pfns)}
    image = None
    if result.loader_c is not None:
        image = result.loader_c.image or result.loader_c.current()
    dests = destination_pfns(image.segments) if image is not None else None
    if dests is not None:
        dests = dests[dests < machine.max_pfn]
    out["load_image"] = ps.background(ram, owned=b_pfns, target=dests)
    return out
