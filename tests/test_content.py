import numpy as np

from labkit.content import copy_faults, expected_contents, page_content, user_chunk, verify_segments, write_page
from labkit.memory import PhysicalMemory
from labkit.segments import Segment

PAGE = 4096


def test_zero_fill_past_bufsz():
    seg = Segment(0, 3 * PAGE, PAGE + 10, data=b"a" * (PAGE + 10))
    assert [user_chunk(seg, i) for i in range(3)] == [PAGE, 10, 0]
    assert page_content(seg, 1, "bytes") == b"a" * 10 and page_content(seg, 2, "bytes") == 0


def test_copy_fault_only_where_the_buffer_ends():
    seg = Segment(0, 3 * PAGE, 3 * PAGE, data=b"a" * (PAGE + 1))
    assert [copy_faults(seg, i) for i in range(3)] == [False, True, True]


def test_later_segments_win_and_verify_detects_differences():
    a = Segment(0, 2 * PAGE, 2 * PAGE, data=b"x" * 2 * PAGE)
    b = Segment(PAGE, PAGE, 5, data=b"hello")
    assert expected_contents([a, b], "bytes")[1] == b"hello"
    for mode in ("tags", "bytes"):
        mem = PhysicalMemory(4, mode)
        for pfn, content in expected_contents([a, b], mode).items():
            write_page(mem, pfn, content)
        assert len(verify_segments(mem, [a, b])) == 0
        mem.write_bytes(0, b"y")
        assert verify_segments(mem, [a, b]).tolist() == [0]


def test_synthetic_buffers_depend_on_the_user_address():
    one, two = Segment(0, PAGE, PAGE, buf=0x1000), Segment(0, PAGE, PAGE, buf=0x2000)
    assert page_content(one, 0, "tags") != page_content(two, 0, "tags")
    tags = Segment(0, 2 * PAGE, PAGE + 1, tags=np.array([5, 6], np.uint64))
    assert page_content(tags, 1, "tags") == 6 and len(page_content(tags, 1, "bytes")) == 1
