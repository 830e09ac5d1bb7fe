import pytest

from labkit.units import PAGE_SIZE, format_size, is_page_aligned, page_count, parse_size


@pytest.mark.parametrize("text,expected", [
    ("64MiB", 64 << 20), ("2GiB", 2 << 30), ("2G", 2 << 30), ("0x40000000", 1 << 30), ("4096", 4096),
    ("1.5GiB", 3 << 29), (" 16 mb ", 16 << 20), ("1TiB", 1 << 40), (8192, 8192),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "MiB", "-1", "12 parsecs", "0x10MiB", "1.3B", "abc"])
def test_parse_size_rejects(bad):
    with pytest.raises(ValueError):
        parse_size(bad)


def test_format_size_round_trips():
    for n in (4096, 64 << 20, 3 << 30, 12345):
        assert parse_size(format_size(n)) == n


def test_page_helpers():
    assert page_count(0) == 0 and page_count(1) == 1 and page_count(PAGE_SIZE) == 1 and page_count(PAGE_SIZE + 1) == 2
    assert is_page_aligned(0x100000) and not is_page_aligned(0x100001)
