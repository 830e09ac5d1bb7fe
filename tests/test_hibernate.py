"""The hibernate -> resume round trip of DESIGN.md section 1."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from labkit.hibernate import RoundTripParams, default_b_region, hibernate_resume


def test_default_round_trip_is_verified_and_reports_everything():
    r = hibernate_resume(RoundTripParams(ram="64MiB"))
    assert r.verified and r.mismatched_pages == 0 and r.logical_view_ok
    assert r.image_segments > 16 and r.stage_calls == math.ceil(r.image_segments / 16)
    assert r.b_stage_calls == 3 and r.pgmap_entries == (r.b_region[1] - r.b_region[0]) // 4096
    assert set(r.costs) == set(r.seconds) == {"load_b", "jump", "save", "load_image", "relocate", "jump_back", "verify"}
    assert r.costs["relocate"]["page_copies"] == 3 * r.costs["relocate"]["pages_relocated"]
    d = r.to_dict()
    for key in ("verified", "mismatched_pages", "image_pages", "image_segments", "stage_calls", "costs", "seconds"):
        assert key in d
    assert d["args"].startswith("labkit simulate --ram 64MiB")


def test_copy_relocation_of_the_image_also_works():
    r = hibernate_resume(RoundTripParams(ram="32MiB", relocation="copy"))
    assert r.verified and r.costs["relocate"]["page_copies"] == r.costs["relocate"]["pages_relocated"]


def test_rules_2016_forbid_resuming_an_image_over_half_of_ram():
    r = hibernate_resume(RoundTripParams(ram="64MiB", used=0.6, rules="2016"))
    assert not r.verified and r.error["errno"] == "EINVAL" and r.error["rule"] == "total-exceeds-half-ram"
    assert hibernate_resume(RoundTripParams(ram="64MiB", used=0.3, rules="2016")).verified


def test_both_indexes_give_the_same_machine():
    lin = hibernate_resume(RoundTripParams(ram="32MiB", index="linear", seed=3))
    hsh = hibernate_resume(RoundTripParams(ram="32MiB", index="hash", seed=3))
    assert lin.verified and hsh.verified
    assert (lin.entries, lin.indirection_pages, lin.image_pages) == (hsh.entries, hsh.indirection_pages, hsh.image_pages)
    assert lin.machine.mem.tags.tobytes() == hsh.machine.mem.tags.tobytes()


def test_a_broken_relocation_is_caught(monkeypatch):
    """The verifier is not vacuous: lose one page copy of C's relocation and it says which."""
    import labkit.memory as memory
    import labkit.relocate as relocate
    monkeypatch.setattr(relocate, "_vectorised", lambda *a, **k: None)
    original_copy, original_walk = memory.PhysicalMemory.copy_page, relocate.relocate_kernel
    state = {"on": False, "n": 0}

    def lossy(self, src, dst):
        if state["on"]:
            state["n"] += 1
            if state["n"] > 300 and src != dst and "dropped" not in state:
                state["dropped"] = dst        # a real move in the middle of the walk
                return
        original_copy(self, src, dst)

    def walk(mem, head, mode, swap_page, **kw):
        state["on"] = mode == "copy"
        try:
            return original_walk(mem, head, mode, swap_page, **kw)
        finally:
            state["on"] = False
    monkeypatch.setattr(memory.PhysicalMemory, "copy_page", lossy)
    monkeypatch.setattr(relocate, "relocate_kernel", walk)
    r = hibernate_resume(RoundTripParams(ram="32MiB", relocation="copy"))
    assert state["n"] > 301
    assert not r.verified and r.mismatched == (state["dropped"],)


def test_b_region_validation():
    with pytest.raises(ValueError):
        hibernate_resume(RoundTripParams(ram="32MiB", b_region=(0x100800, 0x200000)))
    with pytest.raises(ValueError):
        default_b_region(256 * 1024, 0.6)
    with pytest.raises(ValueError):
        RoundTripParams(stage_segments=17)


@settings(max_examples=12, deadline=None)
@given(ram=st.sampled_from(["8MiB", "12MiB", "24MiB"]), used=st.floats(0.2, 0.7), run=st.floats(1, 64),
       index=st.sampled_from(["linear", "hash"]), hash_name=st.sampled_from(["golden", "modulo", "weak"]),
       relocation=st.sampled_from(["copy", "swap"]), policy=st.sampled_from(["lowest", "highest", "random", "dest-first"]),
       stage=st.integers(1, 16), seed=st.integers(0, 1000), b_frac=st.floats(0.05, 0.3))
def test_round_trip_property_tags(ram, used, run, index, hash_name, relocation, policy, stage, seed, b_frac):
    from labkit.units import parse_size
    size = parse_size(ram)
    b_start = (size // 16) & ~4095
    b_end = b_start + max(16 * 4096, int(size * (1 - used) * b_frac) & ~4095)
    r = hibernate_resume(RoundTripParams(ram=ram, used=used, run_length=run, index=index, hash=hash_name,
                                         relocation=relocation, policy=policy, stage_segments=stage, seed=seed,
                                         b_region=(b_start, b_end)))
    assert r.error is None and r.verified, r.mismatched[:10]


@settings(max_examples=6, deadline=None)
@given(used=st.floats(0.2, 0.6), index=st.sampled_from(["linear", "hash"]),
       relocation=st.sampled_from(["copy", "swap"]), policy=st.sampled_from(["lowest", "random", "dest-first"]),
       seed=st.integers(0, 1000))
def test_round_trip_property_bytes(used, index, relocation, policy, seed):
    r = hibernate_resume(RoundTripParams(ram="8MiB", used=used, index=index, relocation=relocation, policy=policy,
                                         seed=seed, mode="bytes"))
    assert r.error is None and r.verified, r.mismatched[:10]


def test_costs_linear_walk_quadratic_hash_linear():
    """The 2008 argument, on counters: from ~2^12 to ~2^14 image pages."""
    rows = {}
    for ram in ("28MiB", "56MiB", "112MiB"):
        lin = hibernate_resume(RoundTripParams(ram=ram, index="linear"))
        hsh = hibernate_resume(RoundTripParams(ram=ram, index="hash"))
        assert lin.verified and hsh.verified
        rows[ram] = (lin.image_pages, lin.costs["load_image"]["entries_scanned"], hsh.costs["load_image"]["hash_probes"])
    (n0, lin0, h0), (n1, lin1, h1) = rows["28MiB"], rows["112MiB"]
    assert 2 ** 12 <= n0 < 2 ** 13 and 2 ** 14 <= n1 < 2 ** 15
    slope_linear = math.log(lin1 / lin0) / math.log(n1 / n0)
    slope_hash = math.log(h1 / h0) / math.log(n1 / n0)
    assert 1.7 < slope_linear < 2.3, rows
    assert 0.8 < slope_hash < 1.2, rows
    # about 4x per doubling for the walk, about 2x for the hash
    _, linm, hm = rows["56MiB"]
    assert 3.0 < linm / lin0 < 5.5 and 1.6 < hm / h0 < 2.6


def test_recorded_events_cover_every_phase():
    r = hibernate_resume(RoundTripParams(ram="8MiB", record=True))
    phases = {e.phase for e in r.events}
    assert {"load_b", "jump", "load_image", "relocate", "jump_back"} <= phases
    kinds = {e.kind for e in r.events}
    assert {"stage", "control", "indirection", "alloc", "entry", "relocate", "done"} <= kinds
