"""Rendering of analysis rows for a terminal, JSON, CSV and Parquet.

Analysis code returns values and DataFrames; this module only formats them,
so every command prints the same columns whatever the output format
(volatility3's split between a plugin's rows and its renderers).
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd


def jsonable(obj: Any) -> Any:
    """Turn numpy scalars, arrays, DataFrames and dataclass-ish values into JSON values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        obj = float(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=2, sort_keys=False)


def _cell(value: Any, hexcols: bool) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) and hexcols:
        return f"{int(value):#x}"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def table(rows: pd.DataFrame | Sequence[dict[str, Any]], hex_columns: Iterable[str] = (),
          max_rows: int | None = None) -> str:
    """A plain-text table with right-aligned numbers; ``hex_columns`` print as ``0x...``."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty:
        return "(no rows)"
    hexset = set(hex_columns)
    shown = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
    cols = list(shown.columns)
    cells = [[_cell(v, c in hexset) for c, v in zip(cols, row)] for row in shown.itertuples(index=False)]
    widths = [max(len(str(c)), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(str(c).rjust(w) for c, w in zip(cols, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    if len(shown) < len(df):
        lines.append(f"... {len(df) - len(shown)} more rows")
    return "\n".join(lines)


def key_values(pairs: dict[str, Any], hex_keys: Iterable[str] = ()) -> str:
    """``key: value`` lines, keys padded to one column."""
    hexset = set(hex_keys)
    width = max((len(k) for k in pairs), default=0)
    return "\n".join(f"{k.ljust(width)}  {_cell(v, k in hexset)}" for k, v in pairs.items())
