"""Rendering rows for a terminal and JSON."""
import json

import numpy as np
import pandas as pd

from labkit.render import dumps, key_values, table


def test_table_aligns_and_prints_hex_columns():
    text = table([{"mem": 0x100000, "pages": 3, "ok": True}, {"mem": 0x2000, "pages": 12, "ok": False}],
                 hex_columns=("mem",))
    lines = text.splitlines()
    assert lines[0].split() == ["mem", "pages", "ok"] and "0x100000" in lines[2] and "yes" in lines[2]
    assert len({len(line) for line in lines}) == 1
    assert table([]) == "(no rows)"
    assert "... 1 more rows" in table(pd.DataFrame({"a": [1, 2]}), max_rows=1)


def test_dumps_handles_numpy_and_pandas():
    doc = json.loads(dumps({"a": np.uint64(5), "b": np.array([1, 2]), "c": float("nan"), "d": np.bool_(True),
                            "e": pd.DataFrame({"x": [1]})}))
    assert doc == {"a": 5, "b": [1, 2], "c": None, "d": True, "e": [{"x": 1}]}


def test_key_values():
    assert key_values({"entry": 0x1000, "n": 2}, hex_keys=("entry",)).splitlines() == ["entry  0x1000", "n      2"]
