"""relocate_kernel's walk, copy and swap, kexec jump and jump back (reference section 5)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from labkit.content import verify_segments
from labkit.errors import KexecError
from labkit.loader import Loader
from labkit.machine import Machine
from labkit.memmap import MemoryMap
from labkit.relocate import RelocationError, jump_back, kernel_kexec, relocate_kernel, walk_words
from labkit.segments import KEXEC_PRESERVE_CONTEXT, Segment
from labkit.trace import Costs

PAGE = 4096


def _disjoint_segments(raw):
    """Segments from (first page, pages) pairs, dropping any that would overlap an earlier one."""
    used, segs = set(), []
    for start, n in raw:
        pages = set(range(start, start + n))
        if not pages & used:
            used |= pages
            segs.append(Segment(start * PAGE, n * PAGE, n * PAGE - 100, buf=start * PAGE))
    return segs


def test_worked_example_5_4():
    """RAM pages 0..9; A has "A2", "A3"; B loads "B2","B3" at page 2 with sources 7 and 8."""
    m = Machine.build(MemoryMap.from_ram(10 * PAGE), mode="bytes")
    in_use = np.zeros(10, bool)
    in_use[[2, 3, 4, 5, 6, 9]] = True          # A's pages; free: 0, 1 (control, swap), 7, 8 ... and an indirection page
    in_use[6] = False                          # indirection page
    m.mem.write_bytes(2, b"A2")
    m.mem.write_bytes(3, b"A3")
    ld = Loader(m, in_use=in_use)
    b = Segment(2 * PAGE, 2 * PAGE, 2 * PAGE, data=b"B2".ljust(PAGE, b"\0") + b"B3".ljust(PAGE, b"\0"))
    ld.kexec_load(2 * PAGE, [b], KEXEC_PRESERVE_CONTEXT)
    img = ld.image
    assert (img.control_code_page, img.swap_page, img.indirection_pages) == (0, 1, [6])
    assert [(s, d) for s, d in walk_words(m.mem, img.head)] == [(7, 2), (8, 3)]
    jump = kernel_kexec(ld)
    page = lambda p: m.mem.read_bytes(p)[:3].rstrip(b"\0")
    assert [page(p) for p in (2, 3, 7, 8)] == [b"B2", b"B3", b"A2", b"A3"]
    assert jump.mode == "swap" and jump.costs["page_copies"] == 6
    assert jump.jump_back_entry == 0 * PAGE + 0x1F0
    m.mem.write_bytes(2, b"b2'")               # B runs and writes page 2
    jump_back(m.mem, jump.jump_back_entry)
    assert [page(p) for p in (2, 3, 7, 8)] == [b"A2", b"A3", b"b2'", b"B3"]


def test_alternating_a_and_b():
    m = Machine.build("4MiB", mode="bytes")
    ld = Loader(m)
    segs = [Segment(0x100000, 4 * PAGE, 4 * PAGE, data=b"B" * 4 * PAGE)]
    a_pages = np.arange(0x100, 0x104)
    for p in a_pages.tolist():
        m.mem.write_bytes(p, b"A")
    ld.kexec_load(0x100000, segs, KEXEC_PRESERVE_CONTEXT)
    a_view = m.mem.snapshot(a_pages)
    jump = kernel_kexec(ld)
    b_view = m.mem.snapshot(a_pages)
    for _ in range(3):
        jump_back(m.mem, jump.jump_back_entry)
        assert len(m.mem.mismatches(a_pages, a_view)) == 0
        jump = kernel_kexec(ld)
        assert len(m.mem.mismatches(a_pages, b_view)) == 0


def test_copy_mode_loses_the_old_kernel_pages():
    m = Machine.build("4MiB", mode="bytes")
    ld = Loader(m)
    m.mem.write_bytes(0x100, b"A")
    ld.kexec_load(0x100000, [Segment(0x100000, PAGE, PAGE, data=b"B" * PAGE)], KEXEC_PRESERVE_CONTEXT)
    jump = kernel_kexec(ld, mode="copy")
    assert jump.costs["page_copies"] == 1
    jump_back(m.mem, jump.jump_back_entry)
    assert m.mem.read_bytes(0x100)[:1] == b"B"      # the copy kept no backup: A's page is gone


def test_plain_kexec_copies_once_and_does_not_return():
    m = Machine.build("4MiB")
    ld = Loader(m)
    ld.kexec_load(0x100000, [Segment(0x100000, 3 * PAGE, 3 * PAGE)])
    jump = kernel_kexec(ld)
    assert (jump.mode, jump.pages, jump.jump_back_entry, jump.costs["page_copies"]) == ("copy", 3, 0, 3)


def test_exec_with_nothing_loaded_or_lock_held():
    ld = Loader(Machine.build("4MiB"))
    with pytest.raises(KexecError, match="no-image-loaded"):
        kernel_kexec(ld)
    ld.kexec_load(0, [Segment(0x100000, PAGE)])
    with ld.hold_lock(), pytest.raises(KexecError) as info:
        kernel_kexec(ld)
    assert info.value.errno == "EBUSY"


def test_jump_back_needs_the_control_page():
    m = Machine.build("4MiB")
    ld = Loader(m)
    ld.kexec_load(0x100000, [Segment(0x100000, PAGE)], KEXEC_PRESERVE_CONTEXT)
    jump = kernel_kexec(ld)
    m.mem.write_tag(jump.jump_back_entry >> 12, 12345)
    with pytest.raises(RelocationError, match="control page"):
        jump_back(m.mem, jump.jump_back_entry)


def test_check_catches_a_broken_list():
    """Hand-build a list that breaks the invariant: the checker must say so."""
    m = Machine.build("1MiB")
    words = m.mem.init_words(5)
    words[:5] = [0x10 * PAGE | 1, 0x20 * PAGE | 8, 0x11 * PAGE | 1, 0x10 * PAGE | 8, 4]
    # entry 1 writes page 0x10, which is the source of entry 2 -> overwritten before consumed
    with pytest.raises(RelocationError, match="overwritten"):
        relocate_kernel(m.mem, 5 * PAGE | 2, "copy", 6, check=True)
    assert relocate_kernel(m.mem, 5 * PAGE | 2, "copy", 6) == 2     # without the check it just runs


def test_walker_skips_zero_words_and_stops_at_done():
    m = Machine.build("1MiB")
    words = m.mem.init_words(5)
    words[:6] = [0x10 * PAGE | 1, 0, 0x20 * PAGE | 8, 0x0, 0x21 * PAGE | 8, 4]
    assert list(walk_words(m.mem, 5 * PAGE | 2)) == [(0x20, 0x10), (0x21, 0x11)]


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0x10, 0x300), st.integers(1, 20)), min_size=1, max_size=16),
       st.sampled_from(["lowest", "highest", "random", "dest-first"]), st.sampled_from(["copy", "swap"]),
       st.sampled_from(["linear", "hash"]), st.integers(0, 5))
def test_relocation_yields_segments_and_swap_is_an_involution(raw, policy, mode, index, seed):
    m = Machine.build("4MiB", mode="bytes")
    rng = np.random.default_rng(seed)
    a_pages = np.flatnonzero(rng.random(m.max_pfn) < 0.3)
    for p in a_pages.tolist():
        m.mem.write_bytes(p, p.to_bytes(4, "little") * 8)
    segs = _disjoint_segments(raw)
    in_use = np.zeros(m.max_pfn, bool)
    in_use[a_pages] = True
    ld = Loader(m, policy=policy, index=index, seed=seed, in_use=in_use)
    ld.kexec_load(0, segs, KEXEC_PRESERVE_CONTEXT)
    before = m.mem.snapshot(a_pages)
    jump = kernel_kexec(ld, mode=mode, check=True)
    assert len(verify_segments(m.mem, segs)) == 0
    if mode == "swap":
        jump_back(m.mem, jump.jump_back_entry)
        assert len(m.mem.mismatches(a_pages, before)) == 0


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0x10, 0x300), st.integers(1, 20)), min_size=1, max_size=16),
       st.sampled_from(["lowest", "random", "dest-first"]), st.sampled_from(["copy", "swap"]),
       st.sampled_from(["tags", "bytes"]), st.integers(0, 5))
def test_bulk_relocation_equals_the_step_by_step_walk(raw, policy, mode, memmode, seed):
    from labkit.relocate import decode_list
    results = []
    for bulk in (True, False):
        m = Machine.build("4MiB", mode=memmode)
        segs = _disjoint_segments(raw)
        ld = Loader(m, policy=policy, seed=seed)
        ld.kexec_load(0, segs, KEXEC_PRESERVE_CONTEXT)
        img = ld.image
        src, dst, pages = decode_list(m.mem, img.head)
        assert list(zip(src.tolist(), dst.tolist())) == list(walk_words(m.mem, img.head))
        assert pages == img.indirection_pages
        costs = Costs()
        relocate_kernel(m.mem, img.head, mode, img.swap_page, costs=costs, check=not bulk)
        results.append((m.mem.content_keys(np.arange(m.max_pfn)), costs.to_dict()))
    assert np.array_equal(results[0][0], results[1][0]) and results[0][1] == results[1][1]
