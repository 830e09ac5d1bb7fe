"""Entry-list figures: every word of a small list, the shape of a big one."""
from __future__ import annotations

import pandas as pd
import pytest

from labkit.entrylist import entry_frame
from labkit.examples import worked_example
from labkit.loader import Loader
from labkit.machine import Machine
from labkit.segments import Segment
from labkit.viz.entries import plot_entries


def by_gid(fig, gid):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def test_small_list_word_by_word():
    df = entry_frame(worked_example().loader.image)
    fig = plot_entries(df)
    assert len(by_gid(fig, "entry-word")) == len(df) == 8
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "DONE" in texts and "D 0x100000" in texts and "S 0x6000 \u2192 0x200000" in texts
    assert "head" in texts and any(t.startswith("page 0x") for t in texts)
    assert len(by_gid(fig, "link")) == 1                      # head -> first indirection page
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["DESTINATION", "SOURCE", "INDIRECTION", "DONE"]


def test_two_pages_get_two_links():
    machine = Machine.build("8MiB")
    loader = Loader(machine)
    loader.kexec_load(0x100000, [Segment(0x100000, 600 * 4096, 600 * 4096)], 0)
    df = entry_frame(loader.image)
    fig = plot_entries(df, max_words=1000)
    assert len(by_gid(fig, "entry-word")) == len(df)
    assert len(by_gid(fig, "link")) == 2


def test_big_list_as_a_map():
    machine = Machine.build("16MiB")
    loader = Loader(machine)
    loader.kexec_load(0x100000, [Segment(0x100000, 2000 * 4096, 2000 * 4096)], 0)
    df = entry_frame(loader.image)
    fig = plot_entries(df)
    (img,) = by_gid(fig, "entry-map")
    pages = len(loader.image.indirection_pages)
    assert img.get_array().shape == (pages, 512)
    assert f"{pages} indirection pages" in fig.axes[0].get_title(loc="left")
    assert not by_gid(fig, "entry-word")


def test_empty_list_is_refused():
    with pytest.raises(ValueError):
        plot_entries(pd.DataFrame(columns=["page", "slot", "word", "kind", "addr", "dest"]))
