"""The small worked examples behave as the figures and notebooks say."""
from __future__ import annotations

import pytest

from labkit.examples import data_path, small_load, worked_example


def test_worked_example_is_the_reference_example():
    ex = worked_example()
    assert [(s.mem, s.memsz) for s in ex.segments] == [(0x100000, 0x3000), (0x200000, 0x1000)]
    assert ex.loader.image.entries_written == 4 + 2 + 1     # pages + segments + DONE (reference 2.4)


def test_small_load_fires_the_swap_trick():
    ex = small_load(policy="lowest", seed=1)
    assert ex.loader.costs.swap_trick > 0
    assert ex.owned[:8].all() and not ex.owned[8:].any()


def test_data_path():
    assert data_path("proc-iomem.txt").is_file()
    with pytest.raises(FileNotFoundError):
        data_path("no-such-sample.txt")
