"""The entry list as a table: one row per word ``for_each_kimage_entry`` visits, plus terse labels.

The figure of the list (``labkit.viz.entries``) and the stepper's entry-list
tail both read this table, so "what a word means" is decided once, here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .kimage import Kimage, entry_kind
from .units import PAGE_SIZE

#: one-letter names used in compact displays of entry words
KIND_LETTERS = {"DESTINATION": "D", "SOURCE": "S", "INDIRECTION": "I", "DONE": "DONE"}
#: order of entry kinds in legends and colour tables
KINDS = ("DESTINATION", "SOURCE", "INDIRECTION", "DONE")


def entry_frame(image: Kimage) -> pd.DataFrame:
    """Every word of ``image``'s list in walk order: page (-1 = ``head``), slot, word, kind, addr, dest."""
    rows = [(r.page, r.slot, r.word, r.kind, r.addr, r.dest) for r in image.walk()]
    df = pd.DataFrame(rows, columns=["page", "slot", "word", "kind", "addr", "dest"])
    for col in ("word", "addr"):
        df[col] = df[col].astype(np.uint64)
    return df.astype({"page": np.int64, "slot": np.int64, "dest": np.int64})


def word_label(word: int, dest: int = -1) -> str:
    """``D 0x100000``, ``S 0x4000 -> 0x101000``, ``I 0x5000``, ``DONE``: a word as a slide shows it."""
    kind = entry_kind(int(word))
    letter = KIND_LETTERS.get(kind, kind)
    if kind == "DONE":
        return letter
    addr = int(word) & ~(PAGE_SIZE - 1)
    text = f"{letter} {addr:#x}"
    if kind == "SOURCE" and dest >= 0:
        text += f" \u2192 {dest:#x}"
    return text


def decode_word(word: int) -> tuple[str, int]:
    """(kind, page address) of an entry word: ``addr = word & ~0xfff``, ``kind = word & 0xf``."""
    return entry_kind(int(word)), int(word) & ~(PAGE_SIZE - 1)


def page_columns(df: pd.DataFrame) -> list[pd.DataFrame]:
    """The table split by the page holding each word (``head`` first), in list order."""
    if df.empty:
        return []
    change = np.flatnonzero(df["page"].to_numpy()[1:] != df["page"].to_numpy()[:-1]) + 1
    bounds = np.concatenate(([0], change, [len(df)]))
    return [df.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
