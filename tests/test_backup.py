"""The kexec-jump demo: swap out, B runs, swap back -- on the real loader and relocation."""
from __future__ import annotations

import pytest

from labkit.backup import JumpParams, kexec_jump_demo


@pytest.fixture(scope="module")
def demo():
    return kexec_jump_demo(JumpParams(pages=4, writes=1, seed=3))


def test_frames_follow_the_story(demo):
    phases = [f.phase for f in demo.frames]
    assert phases == ["loaded"] + ["jump"] * 4 + ["B runs"] + ["jump_back"] * 4
    assert demo.key_frames() == [0, 4, 5, 9]
    assert demo.restored


def test_contents_move_as_in_the_reference_example(demo):
    first, out, ran, back = (demo.frames[i] for i in demo.key_frames())
    n = 4
    assert first.labels[:n] == ("A16", "A17", "A18", "A19") and first.labels[n:] == ("B0", "B1", "B2", "B3")
    assert out.labels[:n] == ("B0", "B1", "B2", "B3") and out.labels[n:] == first.labels[:n]
    assert ran.labels[0] == "B0'" and ran.owners[0] == "B'"
    assert back.labels[:n] == first.labels[:n]                  # A is back
    assert back.labels[n] == "B0'"                              # B's work sits in the backup page


def test_each_walk_step_names_its_pair(demo):
    steps = [f for f in demo.frames if f.pair is not None]
    assert len(steps) == 8
    assert {f.pair for f in steps} == {(s, d) for d, s in demo.pairs}
    assert all("\u2194" in f.note for f in steps)


def test_copy_relocation_loses_a():
    lost = kexec_jump_demo(JumpParams(pages=4, relocation="copy"))
    assert not lost.restored
    assert "copy" in lost.frames[1].note


def test_params_are_checked():
    with pytest.raises(ValueError):
        JumpParams(pages=0)
    with pytest.raises(ValueError):
        JumpParams(b_first_pfn=90, pages=10, a_pages=96)
    with pytest.raises(ValueError):
        JumpParams(relocation="move")
    assert "relocation=swap" in JumpParams().arg_line()
