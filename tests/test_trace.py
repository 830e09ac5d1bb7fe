"""Cost counters and recorded events."""
import pytest

from labkit.trace import Costs, Event, Recorder


def test_costs_arithmetic_copy_and_restore():
    a = Costs(allocations=3, hash_probes=5)
    b = a.copy()
    b.allocations += 2
    assert (b - a).allocations == 2 and (a + b).hash_probes == 10
    a.restore(b)
    assert a == b and a.lookup_work == 5


def test_recorder_stamps_phase_stage_and_lookup_work():
    costs = Costs()
    rec = Recorder(costs=costs)
    rec.phase, rec.stage = "load_image", "KS_MID"
    rec.emit("alloc", pfn=7, dest=9)
    costs.entries_scanned += 40
    rec.emit("parked", pfn=8)
    assert rec.events[0] == Event(0, "alloc", "load_image", "KS_MID", 7, 9, -1, "", 0)
    assert rec.events[1].work == 40 and len(rec.of_kind("parked")) == 1
    rec.truncate(1)
    assert len(rec) == 1


def test_recorder_limit():
    rec = Recorder(limit=2)
    rec.emit("stage")
    rec.emit("stage")
    with pytest.raises(RuntimeError, match="limit"):
        rec.emit("stage")
