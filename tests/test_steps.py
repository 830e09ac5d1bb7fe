"""Replaying recorded events: page states, stages, counters and the entry-list tail at any step."""
from __future__ import annotations

import numpy as np
import pytest

from labkit import pagestate as ps
from labkit.hibernate import RoundTripParams, hibernate_resume
from labkit.steps import (LOAD_PHASES, PAGE_KINDS, Replay, describe_event, event_writes,
                          round_trip_backgrounds)
from labkit.trace import EVENT_KINDS, Event


@pytest.fixture(scope="module")
def trip():
    return hibernate_resume(RoundTripParams(ram="16MiB", seed=0, record=True))


@pytest.fixture(scope="module")
def replay(trip):
    return Replay.from_round_trip(trip)


def ev(kind, **kw):
    return Event(0, kind, **kw)


def test_event_writes():
    assert event_writes(ev("control", pfn=5), 0) == [(5, ps.CONTROL)]
    assert event_writes(ev("control", pfn=6), 1) == [(6, ps.SWAP)]
    assert event_writes(ev("indirection", pfn=7), 0) == [(7, ps.INDIRECTION)]
    assert event_writes(ev("alloc", pfn=8, dest=9), 0) == [(8, ps.SOURCE)]
    assert event_writes(ev("alloc", pfn=9, dest=9), 0) == [(9, ps.IN_PLACE)]
    assert event_writes(ev("parked", pfn=3), 0) == [(3, ps.PARKED)]
    assert event_writes(ev("unpark", pfn=3, dest=3), 0) == [(3, ps.IN_PLACE)]
    assert event_writes(ev("swap_trick", pfn=4, dest=4, src=8), 0) == [(8, ps.FREE), (4, ps.IN_PLACE)]
    assert event_writes(ev("evict", pfn=4, dest=11, note="indirection"), 0) == [(4, ps.FREE), (11, ps.INDIRECTION)]
    assert event_writes(ev("relocate", pfn=2, dest=2, src=8, note="swap"), 0) == [(8, ps.BACKUP), (2, ps.RELOCATED)]
    assert event_writes(ev("relocate", pfn=2, dest=2, src=8, note="copy"), 0) == [(8, ps.FREE), (2, ps.RELOCATED)]
    assert event_writes(ev("relocate", pfn=2, dest=2, src=2, note="swap"), 0) == [(2, ps.RELOCATED)]
    for kind in ("stage", "entry", "overlap", "done"):
        assert event_writes(ev(kind), 0) == []


def test_every_event_kind_is_described():
    for kind in EVENT_KINDS:
        assert describe_event(ev(kind, pfn=1, dest=2, src=3, note="x"))


def test_replay_matches_the_static_view_of_the_loaded_image(trip, replay):
    """After the resume load, replaying events gives exactly what the kimage itself says."""
    end = replay.phase_range(["load_image"])[1]
    static = ps.image_page_states(trip.loader_c.image, round_trip_backgrounds(trip)["load_image"])
    assert np.array_equal(replay.states_at(end), static)


def test_random_access_equals_sequential_replay(trip, replay):
    fine = Replay.from_round_trip(trip, checkpoint_every=97)
    rng = np.random.default_rng(1)
    for k in sorted(rng.integers(0, replay.n + 1, 25).tolist()) + [0, replay.n]:
        assert np.array_equal(replay.states_at(k), fine.states_at(k)), k
    # and against a brute-force replay of a prefix
    k = replay.phase_range(["load_b"])[1]
    state = replay.backgrounds["load_b"].copy()
    controls = 0
    for e in replay.events[:k]:
        for pfn, st in event_writes(e, controls):
            state[pfn] = st
        controls += e.kind == "control"
    assert np.array_equal(replay.states_at(k), state)


def test_states_at_returns_a_copy(replay):
    a = replay.states_at(10)
    a[:] = ps.CONTROL
    assert not (replay.states_at(10) == ps.CONTROL).all()


def test_phases_and_worlds(replay):
    assert replay.phases == ["load_b", "jump", "load_image", "relocate", "jump_back"]
    first_c = replay.phase_range(["load_image"])[0]
    before, after = replay.states_at(first_c), replay.states_at(first_c + 1)
    # power off between the worlds: C's world starts from its own background
    assert (before == ps.RELOCATED).any() and not (after == ps.RELOCATED).any()
    assert replay.phase_at(first_c + 1) == "load_image"


def test_next_stage_lands_after_stage_events(replay):
    k, seen = 0, []
    while True:
        nxt = replay.next_stage(k)
        if nxt == replay.n:
            break
        assert nxt > k
        e = replay.events[nxt - 1]
        assert e.kind == "stage" or replay.phase_at(nxt) != replay.phase_at(nxt - 1) or nxt == 1
        seen.append(replay.stage_at(nxt))
        k = nxt
    names = [s[1] for s in seen if s[0] in LOAD_PHASES]
    assert names[0] == "KS_START" and "KS_MID" in names and "KS_FINAL" in names
    assert replay.prev_stage(k) < k


def test_next_page_lands_on_page_events(replay):
    k = 0
    for _ in range(50):
        k = replay.next_page(k)
        assert replay.events[k - 1].kind in PAGE_KINDS
        assert len(replay.touched(k)) >= 1


def test_stage_at_counts_calls(trip, replay):
    k = replay.next_stage(0)
    phase, stage, call, calls = replay.stage_at(k)
    assert (phase, stage, call) == ("load_b", "KS_START", 1)
    assert calls == trip.b_stage_calls
    end = replay.phase_range(["load_image"])[1]
    phase, stage, call, calls = replay.stage_at(end)
    assert (phase, stage) == ("load_image", "KS_FINAL") and call == calls == trip.stage_calls


def test_counters(trip, replay):
    end = replay.phase_range(["load_image"])[1]
    c = replay.counters_at(end)
    assert c["source pages"] == trip.image_pages
    assert c["swap trick"] == trip.costs["load_image"]["swap_trick"]
    assert c["parked"] == trip.costs["load_image"]["parked"]
    assert c["stage calls"] == trip.stage_calls
    assert replay.counters_at(replay.n)["relocated"] == trip.costs["jump_back"]["pages_relocated"]
    assert "load_image" in replay.finished_costs(end) and "relocate" not in replay.finished_costs(end)


def test_entry_tail(replay):
    k = replay.next_page(replay.next_page(replay.phase_range(["load_image"])[0]))
    tail = replay.entry_tail(k, 5)
    assert 0 < len(tail) <= 5
    assert all(r["seq"] < k and r["phase"] == "load_image" for r in tail)
    # the jump back walks A's own list again: its tail is the end of load_b's list
    back = replay.entry_tail(replay.n, 4)
    load_b_end = replay.phase_range(["load_b"])[1]
    assert back == replay.entry_tail(load_b_end, 4)
    assert replay.entry_tail(0) == []


def test_view_bundles_everything(replay):
    v = replay.view(replay.next_stage(0))
    assert "KS_START" in v.stage_text and "load_b" in v.stage_text
    assert v.event_text.startswith("event 1 of")
    assert replay.view(0).event is None and "before" in replay.view(0).event_text


def test_phase_range_and_bounds(replay):
    a, b = replay.phase_range(["relocate"])
    assert all(e.phase == "relocate" for e in replay.events[a:b])
    assert replay.phase_range(None) == (0, replay.n)
    with pytest.raises(ValueError):
        replay.phase_range(["verify"])
    with pytest.raises(IndexError):
        replay.states_at(replay.n + 1)


def test_unrecorded_round_trip_is_refused():
    with pytest.raises(ValueError, match="record=True"):
        Replay.from_round_trip(hibernate_resume(RoundTripParams(ram="16MiB")))


def test_empty_replay():
    r = Replay([], 8)
    assert r.n == 0 and r.states_at(0).tolist() == [ps.FREE] * 8 and r.next_stage(0) == 0


def test_event_table_round_trips_events():
    from labkit.steps import EventTable
    events = [Event(0, "stage", "load_b", "KS_START", note="KS_START"),
              Event(1, "alloc", "load_b", "KS_START", pfn=5, dest=9),
              Event(2, "mystery", "p", "", pfn=1, note="new kind")]
    table = EventTable(events)
    assert len(table) == 3
    assert [table[i] for i in range(3)] == events
    assert table[-1] == events[-1] and table[1:] == events[1:]
    assert table.kind_codes()[2] >= len(EVENT_KINDS)
    with pytest.raises(IndexError):
        table[3]
    replay = Replay(events, 16)
    assert replay.events is not events and replay.codes[2] == len(EVENT_KINDS)
    assert replay.states_at(2)[5] == ps.SOURCE


@pytest.mark.parametrize("index", ["linear", "hash"])
def test_lookup_work_grows_with_the_events(index):
    """The stepper's "lookup work" is the loader's own counters, event by event."""
    from labkit.hibernate import RoundTripParams, hibernate_resume
    from labkit.steps import Replay
    r = hibernate_resume(RoundTripParams(ram="8MiB", index=index, record=True))
    replay = Replay.from_round_trip(r)
    first, last = replay.phase_range(["load_image"])
    c = r.costs["load_image"]
    expected = (c["entries_scanned"] + c["hash_probes"] + c["dest_pages_scanned"] + c["segment_checks"]
                + c["bitmap_tests"])
    assert replay.counters_at(last)["lookup work"] == expected > 0
    mid = replay.counters_at((first + last) // 2)["lookup work"]
    assert 0 < mid < expected
