"""LinearScan and HashIndex answer alike; only their counters differ."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from labkit.hashing import GOLDEN_RATIO_64, buckets_of, chain_histogram, hash_function, occupancy
from labkit.index import HashIndex, HashTable, LinearScan, make_index
from labkit.loader import Loader
from labkit.machine import Machine
from labkit.segments import KS_FINAL, KS_MID, KS_START, Segment, with_stage
from labkit.trace import Costs

PAGE = 4096


def test_golden_is_hash_64_for_powers_of_two():
    for pfn in (0, 1, 0x12345, 0xFFFFFFFFF):
        for bits in (1, 10, 16):
            assert hash_function("golden")(pfn, 1 << bits) == ((pfn * GOLDEN_RATIO_64) % (1 << 64)) >> (64 - bits)


@pytest.mark.parametrize("name", ["golden", "modulo", "weak"])
@pytest.mark.parametrize("n", [1, 7, 1024, 1000, 1 << 20])
def test_vectorised_hash_matches_scalar(name, n):
    pfns = np.random.default_rng(1).integers(0, 1 << 40, 500, dtype=np.uint64)
    f = hash_function(name)
    assert buckets_of(pfns, n, name).tolist() == [f(int(p), n) for p in pfns.tolist()]


def test_weak_hash_clusters_contiguous_runs():
    run = np.arange(0x1000, 0x1000 + 512)
    weak, golden = occupancy(buckets_of(run, 1024, "weak"), 1024), occupancy(buckets_of(run, 1024, "golden"), 1024)
    assert weak["max_chain"] == 512 and golden["max_chain"] <= 3
    assert chain_histogram(buckets_of(run, 1024, "weak"), 1024)[512] == 1


def test_unknown_hash_and_bad_buckets():
    with pytest.raises(ValueError, match="golden"):
        hash_function("crc")
    with pytest.raises(ValueError):
        HashTable("golden", 0)
    with pytest.raises(ValueError):
        make_index("tree")


def test_hash_table_probes_and_growth():
    t = HashTable("modulo", 4)
    for k in (0, 4, 8, 1):
        t.put(k, k * 10)
    assert t.get(8) == 80 and t.probes == 3          # third in bucket 0's chain
    assert t.get(12) == -1 and t.probes == 6         # miss scans the chain of three
    assert t.collisions == 2 and t.stats()["max_chain"] == 3
    grow = HashTable("golden")
    for k in range(5000):
        grow.put(k, k)
    assert grow.nbuckets >= 5000 and grow.stats()["max_chain"] < 12
    assert grow.remove(77) == 77 and grow.get(77) == -1


def _staged(index, hash_name="golden", buckets=None, policy="lowest", seed=0):
    ld = Loader(Machine.build("16MiB"), index=index, hash=hash_name, buckets=buckets, policy=policy, seed=seed)
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.choice(np.arange(0x10, 0xF00, 24), 48, replace=False))
    segs = [Segment(int(s) * PAGE, int(rng.integers(1, 20)) * PAGE) for s in starts]
    for i in range(0, 48, 16):
        stage = KS_START if i == 0 else KS_FINAL if i == 32 else KS_MID
        ld.kexec_load(0, segs[i: i + 16], with_stage(0, stage))
    return ld


@settings(max_examples=20)
@given(st.sampled_from(["lowest", "highest", "random", "dest-first"]), st.integers(0, 20),
       st.sampled_from(["golden", "modulo", "weak"]), st.sampled_from([None, 1, 64]))
def test_both_indexes_build_identical_kimages(policy, seed, hash_name, buckets):
    lin = _staged("linear", policy=policy, seed=seed)
    hsh = _staged("hash", hash_name, buckets, policy=policy, seed=seed)
    a, b = lin.image, hsh.image
    assert [r.word for r in a.walk()] == [r.word for r in b.walk()]
    assert a.dest_pages() == b.dest_pages() and a.indirection_pages == b.indirection_pages
    same = ("allocations", "entries_written", "parked", "swap_trick", "evictions", "page_copies")
    assert {k: getattr(lin.costs, k) for k in same} == {k: getattr(hsh.costs, k) for k in same}
    assert lin.costs.hash_probes == 0 and hsh.costs.entries_scanned == 0


def test_hash_index_reports_statistics():
    ld = _staged("hash", "modulo", 16)
    stats = ld.image.index.stats()
    assert stats["buckets"] == 16 and stats["keys"] == len(ld.pgmap())
    assert sum(stats["chain_histogram"]) == 16 and stats["probes_per_lookup"] >= 1


def test_linear_parked_scan_counts_from_the_list_head():
    idx = LinearScan()
    costs = Costs()
    idx.bind(64, costs)
    for p in (5, 6, 7):
        idx.park(p)
    assert idx.parked() == [7, 6, 5]
    assert idx.unpark(6) and costs.dest_pages_scanned == 2
    assert not idx.unpark(9) and costs.dest_pages_scanned == 4


@settings(max_examples=50)
@given(st.lists(st.integers(0, 6000), min_size=1, max_size=600, unique=True), st.sampled_from(["golden", "modulo", "weak"]),
       st.sampled_from([None, 1, 3, 64]), st.lists(st.integers(0, 6000), max_size=50), st.integers(0, 20))
def test_pfn_table_counts_exactly_like_list_chains(keys, hash_name, buckets, probes, undo):
    from labkit.index import PfnHashTable
    a, b = HashTable(hash_name, buckets), PfnHashTable(4096, hash_name, buckets)
    for k in keys:
        assert a.put(k, k * 3) == b.put(k, k * 3)
    for k in reversed(keys[len(keys) - min(undo, len(keys)):]):
        assert a.remove(k) == b.remove(k)
    for k in keys[: min(undo, len(keys)) // 2]:          # removals from the middle of chains too
        if k in a.keys():
            assert a.remove(k) == b.remove(k)
    for k in probes + keys:
        assert a.get(k) == b.get(k)
    assert (a.probes, a.collisions, a.nbuckets, a.size) == (b.probes, b.collisions, b.nbuckets, b.size)
    assert a.items() == b.items() and a.chain_lengths().tolist() == b.chain_lengths().tolist()
