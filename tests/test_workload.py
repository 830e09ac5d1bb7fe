import numpy as np
import pytest
from hypothesis import given, strategies as st

from labkit.workload import runs_of, usage_bitmap


@given(st.floats(0.1, 0.9), st.floats(1, 100), st.integers(0, 100))
def test_usage_hits_the_fraction_and_run_length(used, run, seed):
    ram = np.ones(1 << 16, bool)
    bitmap = usage_bitmap(ram, used, run, seed)
    assert abs(bitmap.mean() - used) < 0.08
    _, lengths = runs_of(np.flatnonzero(bitmap))
    assert len(lengths) > 0


def test_usage_stays_inside_ram_and_is_seeded():
    ram = np.zeros(4096, bool)
    ram[100:2000] = True
    a = usage_bitmap(ram, 0.5, 8, 1)
    assert not a[~ram].any()
    assert np.array_equal(a, usage_bitmap(ram, 0.5, 8, 1))
    assert not np.array_equal(a, usage_bitmap(ram, 0.5, 8, 2))


def test_runs_of():
    starts, lengths = runs_of(np.array([1, 2, 3, 7, 9, 10]))
    assert starts.tolist() == [1, 7, 9] and lengths.tolist() == [3, 1, 2]
    assert len(runs_of(np.array([], dtype=np.int64))[0]) == 0


@pytest.mark.parametrize("bad", [dict(used=0), dict(used=1.0), dict(run_length=0.5)])
def test_bad_parameters(bad):
    args = dict(used=0.5, run_length=4)
    args.update(bad)
    with pytest.raises(ValueError):
        usage_bitmap(np.ones(10, bool), args["used"], args["run_length"])
