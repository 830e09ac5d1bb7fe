import numpy as np
import pytest
from hypothesis import given, strategies as st

from labkit.allocator import POLICIES, PageAllocator


def test_lowest_and_highest():
    free = np.array([0, 1, 1, 0, 1], bool)
    lo = PageAllocator(free, "lowest")
    assert [lo.alloc() for _ in range(4)] == [1, 2, 4, None]
    hi = PageAllocator(free, "highest")
    assert [hi.alloc() for _ in range(3)] == [4, 2, 1]


def test_freed_pages_are_reused():
    a = PageAllocator(np.ones(10, bool), "lowest")
    pages = [a.alloc() for _ in range(5)]
    a.free_page(pages[1])
    assert a.alloc() == pages[1]
    with pytest.raises(ValueError):
        a.free_page(9)


def test_random_is_seeded():
    seq = lambda seed: [PageAllocator(np.ones(100, bool), "random", seed).alloc() for _ in range(1)]
    a = PageAllocator(np.ones(100, bool), "random", 7)
    b = PageAllocator(np.ones(100, bool), "random", 7)
    assert [a.alloc() for _ in range(50)] == [b.alloc() for _ in range(50)]
    assert seq(1) != seq(2) or seq(1) != seq(3)


def test_dest_first_prefers_destinations():
    a = PageAllocator(np.ones(16, bool), "dest-first")
    dest = np.zeros(16, bool)
    dest[[9, 12]] = True
    a.prefer(dest)
    assert [a.alloc() for _ in range(4)] == [9, 12, 0, 1]


def test_unknown_policy():
    with pytest.raises(ValueError, match="dest-first"):
        PageAllocator(np.ones(4, bool), "best")


@given(st.lists(st.booleans(), min_size=1, max_size=300), st.sampled_from(POLICIES), st.integers(0, 5))
def test_every_policy_hands_out_each_free_page_once(bits, policy, seed):
    free = np.array(bits, bool)
    a = PageAllocator(free, policy, seed)
    if policy == "dest-first":
        a.prefer(np.arange(len(bits)) % 3 == 0)
    got = []
    while (p := a.alloc()) is not None:
        got.append(p)
    assert sorted(got) == list(np.flatnonzero(free)) and a.nr_free == 0


@given(st.integers(1, 200), st.sampled_from(POLICIES), st.data())
def test_restore_undoes_a_run_of_changes(n, policy, data):
    a = PageAllocator(np.ones(n, bool), policy, 1)
    state, before = a.state(), a.free.copy()
    taken = []
    for _ in range(data.draw(st.integers(0, n))):
        p = a.alloc()
        taken.append((p, True))
        if data.draw(st.booleans()):
            a.free_page(p)
            taken.append((p, False))
    a.restore(state, taken)
    assert np.array_equal(a.free, before) and a.nr_free == n
