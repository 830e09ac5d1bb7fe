"""The backup-pages figure: a labelled cell per page per moment."""
from __future__ import annotations

import pytest

from labkit.backup import JumpParams, kexec_jump_demo
from labkit.viz.relocation import plot_relocation


def by_gid(fig, gid):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


@pytest.fixture(scope="module")
def demo():
    return kexec_jump_demo(JumpParams(pages=5, writes=2))


def test_key_frames(demo):
    fig = plot_relocation(demo)
    assert len(by_gid(fig, "page-cell")) == 4 * len(demo.pfns) == 40
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("A16") == 4 and texts.count("B0'") == 2   # A16: region, backup, backup, region
    assert "after kexec jump (swap walk, 5 pairs)" in texts and "after jump back (swap walk, 5 pairs)" in texts
    assert not by_gid(fig, "swap-arrow")
    assert "A's pages are back" in fig.axes[0].get_title(loc="left")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["kernel A's data", "kernel B's image",
                                                                 "written by B", "free page"]


def test_single_steps_have_arrows(demo):
    fig = plot_relocation(demo, [0, 2], step_arrows=True)
    assert len(by_gid(fig, "page-cell")) == 2 * len(demo.pfns)
    assert len(by_gid(fig, "swap-arrow")) == 1
    assert "after kexec jump (swap 2)" in [t.get_text() for t in fig.axes[0].texts]


def test_lost_pages_are_reported():
    fig = plot_relocation(kexec_jump_demo(JumpParams(pages=3, relocation="copy")))
    assert "NOT restored" in fig.axes[0].get_title(loc="left")
