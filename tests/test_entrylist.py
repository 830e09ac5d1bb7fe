"""The entry list as a table, and how words are labelled."""
from __future__ import annotations

from labkit.entrylist import decode_word, entry_frame, page_columns, word_label
from labkit.examples import worked_example
from labkit.kimage import IND_DESTINATION, IND_DONE, IND_INDIRECTION, IND_SOURCE


def test_worked_example_words():
    df = entry_frame(worked_example().loader.image)
    assert df["kind"].tolist() == ["INDIRECTION", "DESTINATION", "SOURCE", "SOURCE", "SOURCE", "DESTINATION",
                                   "SOURCE", "DONE"]
    sources = df[df["kind"] == "SOURCE"]
    assert sources["dest"].tolist() == [0x100000, 0x101000, 0x102000, 0x200000]
    assert df["page"].iloc[0] == -1 and (df["page"].iloc[1:] >= 0).all()
    assert [len(c) for c in page_columns(df)] == [1, 7]


def test_word_labels():
    assert word_label(0x100000 | IND_DESTINATION) == "D 0x100000"
    assert word_label(0x3000 | IND_SOURCE, 0x100000) == "S 0x3000 \u2192 0x100000"
    assert word_label(0x2000 | IND_INDIRECTION) == "I 0x2000"
    assert word_label(IND_DONE) == "DONE"
    assert decode_word(0x5000 | IND_SOURCE) == ("SOURCE", 0x5000)


def test_page_columns_of_empty_frame():
    import pandas as pd
    assert page_columns(pd.DataFrame(columns=["page"])) == []
