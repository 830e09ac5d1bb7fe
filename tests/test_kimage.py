"""The entry list, page allocation and the swap trick (reference sections 2-4)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from labkit.index import LinearScan
from labkit.kimage import IND_DESTINATION, IND_DONE, IND_INDIRECTION, IND_SOURCE
from labkit.loader import Loader
from labkit.machine import Machine
from labkit.segments import Segment

PAGE = 4096


def test_worked_example_2_4():
    m = Machine.build("16MiB")
    ld = Loader(m)
    ld.kexec_load(0x100000, [Segment(0x100000, 3 * PAGE, 3 * PAGE), Segment(0x200000, PAGE, PAGE)])
    img = ld.image
    # lowest-first: control page 0, swap page 1, indirection page P = 2, sources 3, 4, 5, 6
    assert (img.control_code_page, img.swap_page, img.indirection_pages) == (0, 1, [2])
    assert img.head == (2 * PAGE) | IND_INDIRECTION
    words = m.mem.words(2)
    a, b, c, d = 3, 4, 5, 6
    assert list(words[:7]) == [0x100000 | IND_DESTINATION, a * PAGE | IND_SOURCE, b * PAGE | IND_SOURCE,
                               c * PAGE | IND_SOURCE, 0x200000 | IND_DESTINATION, d * PAGE | IND_SOURCE, IND_DONE]
    assert not words[7:].any()
    # entry count = pages + segments + 1
    assert img.entries_written == 4 + 2 + 1


def _load_pages(n, entry_size=8, ram="64MiB"):
    ld = Loader(Machine.build(ram), entry_size=entry_size)
    ld.kexec_load(0x1000000, [Segment(0x1000000, n * PAGE)])
    return ld


@pytest.mark.parametrize("entry_size,per_page", [(8, 511), (4, 1023)])
def test_last_slot_of_each_indirection_page_links_the_next(entry_size, per_page):
    n = 2 * per_page           # + 1 DESTINATION entry -> spills into a third page
    ld = _load_pages(n, entry_size)
    img = ld.image
    assert len(img.indirection_pages) == 3
    dtype = np.uint32 if entry_size == 4 else np.uint64
    for k in range(2):
        words = ld.machine.mem.words(img.indirection_pages[k]).view(dtype)
        assert len(words) == per_page + 1
        assert int(words[-1]) == (img.indirection_pages[k + 1] * PAGE) | IND_INDIRECTION
    rows = list(img.walk())
    assert sum(r.kind == "SOURCE" for r in rows) == n
    assert rows[-1].kind == "DONE"
    # pages + segments + DONE + one link per extra indirection page
    assert img.entries_written == n + 1 + 1 + 2


def test_done_may_take_the_reserved_last_slot():
    ld = _load_pages(510)             # D + 510 S fill slots 0..510; DONE goes into slot 511
    img = ld.image
    assert len(img.indirection_pages) == 1
    assert int(ld.machine.mem.words(img.indirection_pages[0])[511]) == IND_DONE


def test_i386_entries_need_32_bit_memory():
    with pytest.raises(ValueError):
        Loader(Machine.build("8GiB"), entry_size=4).kexec_load(0, [Segment(0, PAGE)])


def test_control_page_is_never_a_destination():
    # the segment covers the lowest free pages, so lowest-first must skip them
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0, [Segment(0, 8 * PAGE)])
    img = ld.image
    assert img.control_code_page >= 8 and img.swap_page >= 8
    assert ld.costs.control_rejects == 8 + 8     # rejected for the control page, freed, rejected again for swap


def _pairs(ld):
    df = ld.pgmap()
    return list(zip(df.dest_pfn.tolist(), df.src_pfn.tolist()))


def test_page_allocated_at_its_own_destination():
    # control 0, swap 1, indirection 2; then the allocator returns 3..6 exactly for destinations 3..6
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0, [Segment(3 * PAGE, 4 * PAGE)])
    assert _pairs(ld) == [(3, 3), (4, 4), (5, 5), (6, 6)]
    assert ld.costs.swap_trick == 0 and ld.costs.parked == 0


def test_swap_trick_chain():
    # dest 4 gets page 3; then page 4 comes back for dest 5: it is dest 4's destination, so the
    # swap trick copies 3 -> 4, rewrites the entry to 4 <- 4 and hands out 3 again, and so on
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0, [Segment(4 * PAGE, 4 * PAGE)])
    assert _pairs(ld) == [(4, 4), (5, 5), (6, 6), (7, 3)]
    assert ld.costs.swap_trick == 3 and ld.costs.parked == 0


def test_destination_not_yet_loaded_is_parked_then_used():
    ld = Loader(Machine.build("16MiB"))
    ld.kexec_load(0, [Segment(10 * PAGE, PAGE), Segment(3 * PAGE, PAGE)])
    assert _pairs(ld) == [(3, 3), (10, 4)]
    assert ld.costs.parked == 1 and ld.image.dest_pages() == []


def test_swap_trick_keeps_the_content():
    from labkit.content import verify_segments
    from labkit.relocate import kernel_kexec
    segs = [Segment(4 * PAGE, 4 * PAGE, 4 * PAGE, data=bytes(range(256)) * 64)]
    m = Machine.build("16MiB", mode="bytes")
    ld = Loader(m)
    ld.kexec_load(0, segs)
    kernel_kexec(ld, check=True)
    assert len(verify_segments(m.mem, segs)) == 0


def test_swap_trick_moves_an_old_source():
    """A later page of the same segment is allocated where an earlier dest was: the swap trick fires."""
    m = Machine.build("16MiB")
    in_use = np.zeros(m.max_pfn, bool)
    in_use[:16] = True
    in_use[[16, 17]] = False                      # control + swap come from 16, 17
    # free pages: 16, 17 then 30.. ; the segment's destinations 20..29 are in use by "kernel A"
    in_use[16:30] = False
    in_use[20:30] = True
    ld = Loader(m, in_use=in_use)
    # second segment's destination (30, 31) is where sources of the first land
    ld.kexec_load(0, [Segment(20 * PAGE, 4 * PAGE), Segment(30 * PAGE, 2 * PAGE)])
    costs = ld.costs
    df = ld.pgmap()
    assert costs.swap_trick + costs.parked > 0
    # invariant: every source is its own destination or no destination
    dests = set(df.dest_pfn.tolist())
    for d, s in zip(df.dest_pfn.tolist(), df.src_pfn.tolist()):
        assert s == d or s not in dests


def test_linear_scan_cost_matches_a_word_by_word_walk():
    ld = Loader(Machine.build("16MiB"), index="linear")
    ld.kexec_load(0, [Segment(0x100000, 700 * PAGE)])
    img = ld.image
    rows = list(img.walk())
    # visit order of for_each_kimage_entry: head, then words; find each dest's position
    for probe in (0x100, 0x100 + 350, 0x100 + 699):
        before = img.costs.entries_scanned
        pos = img.index.dst_used(probe, img.entries_written)
        walked = next(i for i, r in enumerate(rows) if r.kind == "SOURCE" and r.dest >> 12 == probe)
        assert img.costs.entries_scanned - before == walked + 1
        assert img.position_page(pos) == (rows[walked].page, rows[walked].slot)
    before = img.costs.entries_scanned
    assert img.index.dst_used(0x9999, img.entries_written) == -1
    assert img.costs.entries_scanned - before == img.entries_written + 2


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 40)), min_size=1, max_size=12),
       st.sampled_from(["lowest", "highest", "random", "dest-first"]), st.integers(0, 3))
def test_entry_count_formula_and_invariant(raw, policy, seed):
    segs, used = [], set()
    for start, n in raw:
        pages = set(range(start, start + n))
        if pages & used:
            continue
        used |= pages
        segs.append(Segment(start * PAGE, n * PAGE, n * PAGE - 7))
    segs = segs[:16]
    ld = Loader(Machine.build("16MiB"), policy=policy, seed=seed)
    ld.kexec_load(0, segs)
    img = ld.image
    pages = sum(s.pages for s in segs)
    data = pages + len(segs) + 1
    links = len(img.indirection_pages) - 1
    assert img.entries_written == data + links
    assert len(img.indirection_pages) == max(1, -(-data // 511)) or data % 511 == 1
    dests = {s.first_pfn + i for s in segs for i in range(s.pages)}
    for r in img.walk():
        if r.kind == "SOURCE":
            assert r.addr >> 12 == r.dest >> 12 or r.addr >> 12 not in dests
    owned = set(img.indirection_pages) | {img.control_code_page, img.swap_page}
    assert not owned & dests


@settings(max_examples=25)
@given(st.sampled_from(["lowest", "highest", "random", "dest-first"]), st.integers(0, 50),
       st.sampled_from(["golden", "weak"]), st.sampled_from([None, 8]), st.floats(0.3, 0.7))
def test_fast_path_equals_event_recording_path(policy, seed, hash_name, buckets, used):
    """Same seed: identical kimages, memory, pgmap and counters with and without a recorder."""
    from labkit.hibernate import RoundTripParams, hibernate_resume
    runs = []
    for record in (False, True):
        r = hibernate_resume(RoundTripParams(ram="12MiB", used=used, policy=policy, seed=seed, hash=hash_name,
                                             buckets=buckets, record=record))
        assert r.verified
        img = r.loader_c.image
        runs.append((r.costs, [w.word for w in img.walk()], img.indirection_pages, img.dest_pages(),
                     r.machine.mem.content_keys(np.arange(r.machine.max_pfn)), img.index.stats(),
                     r.loader_c.pgmap().values.tolist()))
    fast, slow = runs
    assert fast[0] == slow[0]
    for a, b in zip(fast[1:], slow[1:]):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)
        else:
            assert a == b


@pytest.mark.parametrize("stages", [1, 3])
def test_source_map_equals_the_word_walk_while_loading_and_after(stages):
    from labkit.segments import KS_FINAL, KS_MID, KS_START, with_stage
    ld = Loader(Machine.build("16MiB"), policy="random", seed=2)
    segs = [Segment((0x100 + 40 * i) * PAGE, 30 * PAGE) for i in range(6)]
    calls = [segs] if stages == 1 else [segs[:2], segs[2:4], segs[4:]]
    for i, call in enumerate(calls):
        stage = 0 if stages == 1 else with_stage(0, KS_START if i == 0 else KS_FINAL if i == 2 else KS_MID)
        ld.kexec_load(0, call, stage)
        img = ld.current()
        walked = [(r.dest >> 12, r.addr >> 12) for r in img.walk() if r.kind == "SOURCE"]
        dest, src = img.source_map()
        assert list(zip(dest.tolist(), src.tolist())) == walked
