import numpy as np
import pytest

from labkit.memory import PhysicalMemory, content_tag, fingerprint, is_blob, tag_page_bytes
from labkit.units import PAGE_SIZE


@pytest.mark.parametrize("mode", ["tags", "bytes"])
def test_copy_swap_and_snapshot(mode):
    mem = PhysicalMemory(8, mode)
    mem.write_tag(1, 111)
    mem.write_bytes(2, b"hello")
    before = mem.snapshot(np.arange(8))
    mem.copy_page(1, 3)
    assert mem.content_keys(np.array([3]))[0] == mem.content_keys(np.array([1]))[0]
    assert list(mem.mismatches(np.arange(8), before)) == [3]
    assert mem.read_bytes(2)[:5] == b"hello" and mem.read_bytes(2)[5:] == bytes(PAGE_SIZE - 5)


def test_tags_mode_blobs_move_with_their_tag():
    mem = PhysicalMemory(4, "tags")
    words = mem.init_words(0)
    words[0] = 0xABC
    assert is_blob(mem.read_tag(0))
    mem.copy_page(0, 2)
    assert int(mem.words(2)[0]) == 0xABC
    with pytest.raises(ValueError):
        mem.words(2)[0] = 1   # read-only view


def test_bytes_mode_words_are_the_page_bytes():
    mem = PhysicalMemory(2, "bytes")
    words = mem.init_words(1)
    words[1] = 0x0102030405060708
    assert mem.read_bytes(1)[8:16] == (0x0102030405060708).to_bytes(8, "little")


def test_zero_page_and_fingerprints():
    pages = np.zeros((3, PAGE_SIZE), np.uint8)
    pages[1, 100] = 1
    fp = fingerprint(pages)
    assert fp[0] == 0 and fp[2] == 0 and fp[1] != 0
    assert int(tag_page_bytes(0).sum()) == 0


def test_content_tag_is_deterministic_and_nonzero():
    a = content_tag("A", np.arange(1000), seed=3)
    assert np.array_equal(a, content_tag("A", np.arange(1000), seed=3))
    assert (a != 0).all() and not (a >> np.uint64(63)).any()
    assert len(np.unique(a)) == 1000
    assert not np.array_equal(a, content_tag("A", np.arange(1000), seed=4))


def test_bytes_mode_refuses_huge_machines_and_bad_mode():
    with pytest.raises(ValueError):
        PhysicalMemory(1 << 20, "bytes")
    with pytest.raises(ValueError):
        PhysicalMemory(4, "bits")
