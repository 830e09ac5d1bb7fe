"""Widget callbacks, driven without a browser: set values, click buttons, compare the PNGs shown."""
from __future__ import annotations

import base64
import re

import ipywidgets as widgets
import numpy as np
import pytest

from labkit.backup import JumpParams, kexec_jump_demo
from labkit.hibernate import RoundTripParams, hibernate_resume
from labkit.steps import Replay
from labkit.viz.widgets import HashExplorer, RelocationPlayer, SweepExplorer, StageStepper


def shown_png(out: widgets.Output) -> bytes:
    """The one PNG an Output holds (each redraw replaces it)."""
    assert len(out.outputs) == 1
    data = out.outputs[0]["data"]
    png = base64.b64decode(data["image/png"])
    assert png.startswith(b"\x89PNG")
    return png


def counters(html: str) -> dict[str, int]:
    return {k: int(v.replace(",", "")) for k, v in re.findall(r"<td[^>]*>([^<]+)</td><td[^>]*><b>([\d,]+)</b>", html)}


@pytest.fixture(scope="module")
def replay():
    return Replay.from_round_trip(hibernate_resume(RoundTripParams(ram="16MiB", seed=0, record=True)))


@pytest.fixture
def stepper(replay):
    return StageStepper(replay)


def test_contract_with_the_browser_tests(stepper):
    assert stepper.next_stage_button.description == "next stage"
    assert "labkit-next-stage" in stepper.next_stage_button._dom_classes
    assert stepper.next_page_button.description == "next page"
    assert "labkit-next-page" in stepper.next_page_button._dom_classes
    assert isinstance(stepper.stage_label, widgets.HTML) and "labkit-stage-label" in stepper.stage_label._dom_classes
    assert isinstance(stepper.counters, widgets.HTML) and "labkit-counters" in stepper.counters._dom_classes
    assert isinstance(stepper.figure, widgets.Output) and "labkit-figure" in stepper.figure._dom_classes
    assert type(stepper.link) is widgets.link                    # kernel-side link, not jslink
    assert stepper.link.source == (stepper.play, "value") and stepper.link.target == (stepper.slider, "value")
    shown_png(stepper.figure)
    bundle = stepper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle or "text/plain" in bundle


def test_next_stage_button(stepper):
    before = shown_png(stepper.figure)
    stepper.next_stage_button.click()
    assert stepper.k == 1
    assert "KS_START" in stepper.stage_label.value and "load_b" in stepper.stage_label.value
    stepper.next_stage_button.click()
    label = stepper.stage_label.value
    assert "KS_MID" in label and "load_b" in label and "call 2 of 3" in label
    assert shown_png(stepper.figure) != before
    assert counters(stepper.counters.value)["stage calls"] == 2


def test_next_page_button_places_a_page(stepper):
    stepper.step_to(stepper.replay.next_stage(0))
    before_png, before = shown_png(stepper.figure), counters(stepper.counters.value)
    stepper.next_page_button.click()
    assert stepper.replay.events[stepper.k - 1].kind in ("alloc", "relocate")
    after = counters(stepper.counters.value)
    assert after["source pages"] == before.get("source pages", 0) + 1
    assert shown_png(stepper.figure) != before_png
    assert "source page" in stepper.stage_label.value


def test_slider_and_play_move_together(stepper):
    stepper.slider.value = 500
    assert stepper.play.value == 500 and stepper.view.k == 500
    png = shown_png(stepper.figure)
    stepper.play.value = 3000
    assert stepper.slider.value == 3000 and stepper.view.k == 3000
    assert shown_png(stepper.figure) != png
    assert "event 3000 of" in stepper.stage_label.value


def test_step_to_clamps_and_redraws(stepper):
    stepper.step_to(10 ** 9)
    assert stepper.k == stepper.replay.n
    assert "jump_back" in stepper.stage_label.value
    n_timings = len(stepper.timings)
    stepper.step_to(stepper.k)                       # same value: still redraws
    assert len(stepper.timings) == n_timings + 1
    assert "relocated" in counters(stepper.counters.value)
    assert "entry list tail" in stepper.entries.value and "SOURCE" in stepper.entries.value


def test_phases_limit_the_slider(replay):
    s = StageStepper(replay, phases=["load_image", "relocate"])
    first, last = replay.phase_range(["load_image", "relocate"])
    assert (s.slider.min, s.slider.max, s.k) == (first, last, first)
    s.next_stage()
    assert "load_image" in s.stage_label.value


@pytest.mark.slow
def test_stepper_on_a_64k_page_machine():
    """The stepper steps a 65536-page round trip; per-step time is measured by ``make bench``."""
    s = StageStepper.from_params(RoundTripParams(ram="256MiB", seed=0, record=True))
    assert s.replay.max_pfn == 65536 and s.replay.n > 100_000
    s.timings.clear()
    before = s.stage_label.value
    for k in np.random.default_rng(0).integers(0, s.replay.n, 5).tolist():
        s.step_to(k)
    s.next_stage_button.click()
    s.next_page_button.click()
    assert len(s.timings) == 7 and s.stage_label.value != before


def test_relocation_player():
    p = RelocationPlayer(kexec_jump_demo(JumpParams(pages=3)))
    assert "loaded" in p.label.value
    first = shown_png(p.figure)
    p.next_button.click()
    assert p.k == 1 and "kexec jump: swap" in p.label.value
    assert shown_png(p.figure) != first
    p.play.value = 4
    assert p.slider.value == 4 and "B runs" in p.label.value
    p.to_phase("jump_back")
    assert p.k == len(p.demo.frames) - 1 and "jump back" in p.label.value
    p.next_button.click()                                      # at the end: stays
    assert p.k == len(p.demo.frames) - 1
    with pytest.raises(ValueError):
        p.to_phase("nonsense")


def test_hash_explorer():
    h = HashExplorer(pages=2048)
    first = shown_png(h.figure)
    h.hash.value = "weak"
    weak = shown_png(h.figure)
    assert weak != first
    h.set(buckets=1000, pattern="strided")
    assert 1000 in h.buckets.options and h.pattern.value == "strided"
    assert shown_png(h.figure) != weak
    assert "modulo" in h.hash.options


def test_sweep_explorer():
    s = SweepExplorer(sizes=("4MiB", "8MiB"), seed=0)
    assert s.figure.outputs == ()
    s.run_button.click()
    assert s.df is not None and len(s.df) == 4 and s.df["verified"].all()
    assert s.progress.value == s.progress.max == 4
    shown_png(s.figure)
    assert "slope" in s.table.value and "<table" in s.table.value
    s.sizes.value = ()
    with pytest.raises(ValueError):
        s.run()
