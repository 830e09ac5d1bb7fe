"""labkit's multi-stage loading and the atomicity of every rejected call."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from labkit.content import verify_segments
from labkit.errors import KexecError
from labkit.loader import Loader
from labkit.machine import Machine
from labkit.relocate import kernel_kexec
from labkit.segments import (KEXEC_ON_CRASH, KEXEC_PRESERVE_CONTEXT, KS_FINAL, KS_FULL, KS_MID, KS_START,
                             Segment, with_stage)

PAGE = 4096
MiB = 1 << 20
START, MID, FINAL, FULL = (with_stage(0, s) for s in (KS_START, KS_MID, KS_FINAL, KS_FULL))


def seg(page, n, fill=None):
    data = None if fill is None else bytes([fill]) * (n * PAGE)
    return Segment(page * PAGE, n * PAGE, n * PAGE, buf=0x10000000 + page * PAGE, data=data)


def same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert np.array_equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


def test_stage_encoding():
    assert (START, MID, FINAL, FULL) == (0x100, 0x200, 0x300, 0)


def test_start_mid_final_builds_one_image():
    m = Machine.build("16MiB", mode="bytes")
    ld = Loader(m)
    parts = [[seg(0x100, 2, 1)], [seg(0x200, 3, 2), seg(0x300, 1, 3)], [seg(0x400, 1, 4)]]
    assert ld.kexec_load(0x100000, parts[0], START).state == "loading"
    assert ld.image is None and ld.current() is not None
    assert ld.kexec_load(0x100000, parts[1], MID).state == "loading"
    r = ld.kexec_load(0x100000, parts[2], FINAL)
    assert r.state == "loaded" and r.segments == 4
    kernel_kexec(ld, check=True)
    assert len(verify_segments(m.mem, [s for p in parts for s in p])) == 0


def test_no_total_segment_limit_across_stages():
    ld = Loader(Machine.build("64MiB"))
    ld.kexec_load(0, [seg(0x100 + i, 1) for i in range(16)], START)
    for k in range(1, 4):
        ld.kexec_load(0, [seg(0x100 + 16 * k + i, 1) for i in range(16)], MID)
    assert ld.kexec_load(0, [seg(0x1000, 1)], FINAL).segments == 65


@pytest.mark.parametrize("stage,rule", [(MID, "stage-order"), (FINAL, "stage-order")])
def test_mid_or_final_without_start(stage, rule):
    ld = Loader(Machine.build("16MiB"))
    with pytest.raises(KexecError) as info:
        ld.kexec_load(0, [seg(0x100, 1)], stage)
    assert (info.value.errno, info.value.rule) == ("EINVAL", rule)


@pytest.mark.parametrize("stage", [START, FULL])
def test_start_or_full_while_loading(stage):
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0, [seg(0x100, 1)], START)
    with pytest.raises(KexecError) as info:
        ld.kexec_load(0, [seg(0x200, 1)], stage)
    assert (info.value.errno, info.value.rule) == ("EINVAL", "stage-order")


def test_later_stage_must_agree_on_entry_and_flags():
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0x100000, [seg(0x100, 1)], START | KEXEC_PRESERVE_CONTEXT)
    with pytest.raises(KexecError, match="stage-entry-mismatch"):
        ld.kexec_load(0x200000, [seg(0x200, 1)], MID | KEXEC_PRESERVE_CONTEXT)
    with pytest.raises(KexecError, match="stage-flags-mismatch"):
        ld.kexec_load(0x100000, [seg(0x200, 1)], MID)
    ld.kexec_load(0x100000, [seg(0x200, 1)], FINAL | KEXEC_PRESERVE_CONTEXT)
    assert ld.image.preserve_context and ld.image.start == 0x100000


def test_overlap_within_a_call_is_einval_but_across_stages_later_bytes_win():
    m = Machine.build("16MiB", mode="bytes")
    ld = Loader(m)
    with pytest.raises(KexecError, match="segment-overlap"):
        ld.kexec_load(0, [seg(0x100, 4, 1), seg(0x102, 1, 2)], START)
    ld.kexec_load(0, [seg(0x100, 4, 1)], START)
    before = ld.pgmap()
    ld.kexec_load(0, [seg(0x102, 4, 2)], FINAL)        # covers 0x102, 0x103 again, adds 0x104, 0x105
    after = ld.pgmap()
    # a destination keeps its single source page
    assert before.set_index("dest_pfn").src_pfn.to_dict().items() <= after.set_index("dest_pfn").src_pfn.to_dict().items()
    assert len(after) == 6
    kernel_kexec(ld, check=True)
    assert m.mem.read_bytes(0x101)[0] == 1 and m.mem.read_bytes(0x102)[0] == 2 and m.mem.read_bytes(0x105)[0] == 2


def test_half_of_ram_is_cumulative_over_a_loading():
    ld = Loader(Machine.build("64MiB"), rules="2016")   # half of RAM = 8192 pages
    ld.kexec_load(0, [seg(0x1000, 4000)], START)
    ld.kexec_load(0, [seg(0x2000, 4000)], MID)
    with pytest.raises(KexecError) as info:
        ld.kexec_load(0, [seg(0x3000, 200)], FINAL)
    assert info.value.rule == "total-exceeds-half-ram"
    assert ld.state() == "loading"


def test_unload_with_zero_segments():
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0, [seg(0x100, 1)])
    free_loaded = ld.alloc.nr_free
    assert ld.kexec_load(0, []).state == "idle" and ld.image is None
    assert ld.alloc.nr_free > free_loaded


def test_new_image_replaces_and_frees_old():
    ld = Loader(Machine.build("16MiB"))
    start = ld.alloc.nr_free
    ld.kexec_load(0, [seg(0x100, 8)])
    ld.kexec_load(0, [seg(0x200, 8)])
    owned = len(ld.image.pages_owned())
    assert ld.alloc.nr_free == start - owned


def test_failed_normal_load_keeps_old_image():
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0x100000, [seg(0x100, 2)])
    old = ld.image
    with pytest.raises(KexecError):
        ld.kexec_load(0, [seg(0x100, 2), seg(0x101, 1)])
    assert ld.image is old


def test_failed_crash_load_frees_the_installed_crash_image():
    m = Machine.build("64MiB", crash=(32 * MiB, 48 * MiB))
    ld = Loader(m)
    ld.kexec_load(33 * MiB, [Segment(33 * MiB, PAGE)], KEXEC_ON_CRASH)
    with pytest.raises(KexecError):
        ld.kexec_load(33 * MiB, [Segment(60 * MiB, PAGE)], KEXEC_ON_CRASH)
    assert ld.crash_image is None        # the kernel frees it "before we corrupt it"


def _tiny_loader(mode="tags", pages_free=40):
    m = Machine.build("1MiB", mode=mode)
    in_use = np.ones(m.max_pfn, bool)
    in_use[:pages_free] = False
    return m, Loader(m, in_use=in_use)


@pytest.mark.parametrize("mode", ["tags", "bytes"])
def test_enomem_midway_is_undone_completely(mode):
    m, ld = _tiny_loader(mode)
    ld.kexec_load(0, [seg(0x80, 4, 7)], START)
    snap, memory = ld.snapshot(), m.mem.snapshot(np.arange(m.max_pfn))
    pgmap = ld.pgmap()
    with pytest.raises(KexecError) as info:
        ld.kexec_load(0, [seg(0xA0, 30, 8), seg(0xC0, 30, 9)], MID)   # 60 pages, ~33 free
    assert info.value.errno == "ENOMEM"
    same(ld.snapshot(), snap)
    assert len(m.mem.mismatches(np.arange(m.max_pfn), memory)) == 0
    assert ld.pgmap().equals(pgmap)
    # and the loading goes on as if nothing happened
    ld.kexec_load(0, [seg(0xA0, 10, 8)], FINAL)
    kernel_kexec(ld, check=True)
    assert len(verify_segments(m.mem, [seg(0x80, 4, 7), seg(0xA0, 10, 8)])) == 0


def test_copy_fault_in_a_later_stage_is_undone():
    m, ld = _tiny_loader("bytes")
    ld.kexec_load(0, [seg(0x80, 2, 1)], START)
    snap, memory = ld.snapshot(), m.mem.snapshot(np.arange(m.max_pfn))
    bad = Segment(0x90 * PAGE, 3 * PAGE, 3 * PAGE, data=b"z" * (2 * PAGE))
    with pytest.raises(KexecError) as info:
        ld.kexec_load(0, [seg(0x88, 2, 3), bad], MID)
    assert info.value.errno == "EIO"
    same(ld.snapshot(), snap)
    assert len(m.mem.mismatches(np.arange(m.max_pfn), memory)) == 0


def test_rejected_stage_leaves_events_marked():
    from labkit.trace import Recorder
    rec = Recorder()
    ld = Loader(Machine.build("16MiB"), recorder=rec)
    with pytest.raises(KexecError):
        ld.kexec_load(0, [seg(0x100, 1)], MID)
    ld.kexec_load(0, [seg(0x100, 1)], START)
    n = len(rec)
    with pytest.raises(KexecError):
        ld.kexec_load(0, [seg(0x100, 1), seg(0x100, 1)], MID)
    assert rec.events[-1].kind == "done" and "rejected" in rec.events[-1].note
    assert len(rec) == n + 2          # "stage" then "done: rejected"


@settings(max_examples=30)
@given(st.lists(st.lists(st.tuples(st.integers(0x40, 0x3F0), st.integers(1, 12)), min_size=1, max_size=5),
                min_size=2, max_size=6),
       st.sampled_from(["lowest", "highest", "random", "dest-first"]), st.sampled_from(["linear", "hash"]),
       st.integers(0, 9))
def test_multistage_relocation_always_yields_the_segments(calls, policy, index, seed):
    """Random stages with cross-stage overlaps: the walk never overwrites an unconsumed source
    and every destination ends up with the bytes of the last segment that covered it."""
    m = Machine.build("4MiB", mode="bytes")
    ld = Loader(m, policy=policy, index=index, seed=seed)
    loaded = []
    for i, call in enumerate(calls):
        segs, taken = [], set()
        for start, n in call:
            pages = set(range(start, start + n))
            if pages & taken:
                continue
            taken |= pages
            segs.append(seg(start, n, (len(loaded) + len(segs)) % 251 + 1))
        stage = START if i == 0 else FINAL if i == len(calls) - 1 else MID
        ld.kexec_load(0x40000, segs, stage)
        loaded += segs
    kernel_kexec(ld, check=True)
    assert len(verify_segments(m.mem, loaded)) == 0
