"""ipywidgets apps: a stage stepper, a relocation player, a hash explorer and an image-size sweep.

Each app is a plain class: its ipywidgets are attributes, its actions are
methods (``step_to``, ``next_stage``, ``run`` ...) that tests call without a
browser, and ``.widget`` is the box to display (the object displays itself
too).  Play and slider are tied with ``widgets.link`` (kernel side, so the
methods and the browser see the same value).  Every redraw renders a small
PNG and *replaces* the ``Output``'s outputs with it, so an Output never grows
and the PNG bytes tell a test whether the picture changed.  Figures are built
without pyplot, so nothing accumulates in a global figure registry.

The CSS classes (``labkit-next-stage``, ``labkit-next-page``,
``labkit-stage-label``, ``labkit-counters``, ``labkit-figure``) are a
contract with the browser tests: keep them.
"""
from __future__ import annotations

import html
import time
from dataclasses import replace
from typing import Any, Sequence

import ipywidgets as widgets
import pandas as pd

from ..backup import JumpDemo, JumpParams, kexec_jump_demo
from ..bench import fit_slopes, sweep
from ..hashing import HASHES
from ..hibernate import RoundTripParams, hibernate_resume
from ..patterns import PATTERNS, destination_pattern
from ..steps import Replay, StepView
from .costs import plot_costs
from .hashes import plot_hash_table
from .layout import PageGridFigure
from .relocation import plot_relocation
from .. import pagestate as ps
from .style import STATE_COLORS, figure_png, png_output

#: the default stepper scenario: small enough to record every event in about a second
STEPPER_PARAMS = RoundTripParams(ram="64MiB", seed=0, record=True)
#: cost counters worth showing for a finished phase
_PHASE_COSTS = ("entries_scanned", "hash_probes", "dest_pages_scanned", "swap_trick", "parked", "page_copies",
                "pages_relocated")


def _show(out: widgets.Output, fig: Any, dpi: int, text: str, keep: bool = False) -> bytes:
    """Render ``fig`` to PNG and make it the Output's only content; the figure is cleared unless ``keep``."""
    png = figure_png(fig, dpi=dpi)
    if not keep:
        fig.clear()
    out.outputs = (png_output(png, text),)
    return png


def state_legend_html() -> str:
    """The page-state key as HTML swatches (drawn once, not on every step)."""
    items = "".join(f"<span style='display:inline-block;margin-right:0.8em;white-space:nowrap'>"
                    f"<span style='display:inline-block;width:0.9em;height:0.9em;border:1px solid #555;"
                    f"background:{STATE_COLORS[s]};vertical-align:middle'></span> {html.escape(ps.STATE_NAMES[s])}"
                    f"</span>" for s in range(1, ps.NSTATES))
    return f"<div style='font-size:85%;max-width:60em'>{items}</div>"


_TD = "padding:1px 1em 1px 0;line-height:1.25"


def _table(rows: dict[str, Any]) -> str:
    cells = "".join(f"<tr><td style='{_TD}'>{html.escape(str(k))}</td>"
                    f"<td style='{_TD};text-align:right'><b>{v:,}</b></td></tr>" if isinstance(v, int) else
                    f"<tr><td style='{_TD}'>{html.escape(str(k))}</td><td style='{_TD}'>{html.escape(str(v))}</td></tr>"
                    for k, v in rows.items())
    return f"<table style='font-size:90%;border-collapse:collapse'>{cells}</table>"


class _App:
    widget: widgets.Widget

    def _repr_mimebundle_(self, **kw: Any) -> Any:
        return self.widget._repr_mimebundle_(**kw)


class StageStepper(_App):
    """Step through a recorded round trip event by event: layout, stage, entry-list tail, counters.

    ``phases`` limits the slider to those phases (the state still includes
    everything before them).  ``timings`` keeps the seconds every redraw took.
    """

    def __init__(self, replay: Replay, *, phases: Sequence[str] | None = None, tail: int = 8, dpi: int = 80,
                 interval_ms: int = 250):
        self.replay = replay
        self.tail = tail
        self.dpi = dpi
        self.timings: list[float] = []
        self.last_png = b""
        self.grid = PageGridFigure(replay.max_pfn, legend=False)
        kmin, kmax = replay.phase_range(phases)
        self.play = widgets.Play(min=kmin, max=kmax, value=kmin, step=1, interval=interval_ms, description="play")
        self.slider = widgets.IntSlider(min=kmin, max=kmax, value=kmin, description="event",
                                        continuous_update=False, layout=widgets.Layout(width="60%"))
        self.link = widgets.link((self.play, "value"), (self.slider, "value"))
        self.next_page_button = widgets.Button(description="next page", tooltip="to the next page placed or moved")
        self.next_page_button.add_class("labkit-next-page")
        self.next_stage_button = widgets.Button(description="next stage", tooltip="to the next kexec_load call or phase")
        self.next_stage_button.add_class("labkit-next-stage")
        self.stage_label = widgets.HTML()
        self.stage_label.add_class("labkit-stage-label")
        self.counters = widgets.HTML()
        self.counters.add_class("labkit-counters")
        self.entries = widgets.HTML()
        self.entries.add_class("labkit-entries")
        self.figure = widgets.Output(layout=widgets.Layout(min_height="320px"))
        self.figure.add_class("labkit-figure")
        self.legend = widgets.HTML(state_legend_html())
        self.legend.add_class("labkit-legend")
        self.slider.observe(self._on_value, names="value")
        self.next_page_button.on_click(lambda _b: self.next_page())
        self.next_stage_button.on_click(lambda _b: self.next_stage())
        controls = widgets.HBox([self.play, self.slider, self.next_page_button, self.next_stage_button])
        self.counters.layout = widgets.Layout(min_width="18em", margin="0 2em 0 0")
        self.entries.layout = widgets.Layout(min_width="30em")
        # a plain vertical stack: an Output beside other widgets in an HBox may squeeze them to nothing
        self.widget = widgets.VBox([controls, self.stage_label, widgets.HBox([self.counters, self.entries]),
                                    self.figure, self.legend])
        self.redraw()

    @classmethod
    def from_params(cls, params: RoundTripParams = STEPPER_PARAMS, **kw: Any) -> "StageStepper":
        """Record ``hibernate_resume(params)`` and step through it."""
        result = hibernate_resume(replace(params, record=True))
        return cls(Replay.from_round_trip(result), **kw)

    @property
    def k(self) -> int:
        return int(self.slider.value)

    def step_to(self, k: int) -> StepView:
        """Go to step ``k`` (clamped to the slider's range) and redraw."""
        k = max(self.slider.min, min(self.slider.max, int(k)))
        if k == self.slider.value:
            return self.redraw()
        self.slider.value = k          # the observer redraws
        return self.view

    def next_page(self) -> StepView:
        return self.step_to(self.replay.next_page(self.k))

    def next_stage(self) -> StepView:
        return self.step_to(self.replay.next_stage(self.k))

    def _on_value(self, change: dict[str, Any]) -> None:
        self.redraw()

    def redraw(self) -> StepView:
        t0 = time.perf_counter()
        v = self.replay.view(self.k, self.tail)
        self.view = v
        self.stage_label.value = (f"<b>{html.escape(v.stage_text)}</b><br>"
                                  f"<span style='font-size:90%'>{html.escape(v.event_text)}</span>")
        rows: dict[str, Any] = {f"{v.phase} so far": ""}
        rows.update({k: n for k, n in v.counters.items() if n or k == "stage calls"})
        for phase, costs in v.finished.items():
            shown = {f"{phase}: {k}": int(costs[k]) for k in _PHASE_COSTS if costs.get(k)}
            rows.update(shown)
        self.counters.value = _table(rows)
        lines = [f"{('head' if r['page'] < 0 else hex(r['page'] << 12)):>10} {r['slot']:>4}  "
                 f"{r['word']:#018x}  {r['kind']}" for r in v.tail]
        self.entries.value = ("<b>entry list tail</b><pre style='font-size:85%;margin:0'>"
                              + html.escape("\n".join(lines) or "(no entries yet)") + "</pre>")
        fig = self.grid.update(v.states, v.touched, f"{v.phase} \u00b7 {v.stage} \u00b7 step {v.k}")
        self.last_png = _show(self.figure, fig, self.dpi, f"page states at step {v.k}", keep=True)
        self.timings.append(time.perf_counter() - t0)
        return v


class RelocationPlayer(_App):
    """Swap by swap through a kexec jump and its jump back (``labkit.backup``)."""

    def __init__(self, demo: JumpDemo | None = None, *, dpi: int = 80, interval_ms: int = 600):
        self.demo = demo or kexec_jump_demo(JumpParams())
        self.dpi = dpi
        self.last_png = b""
        last = len(self.demo.frames) - 1
        self.play = widgets.Play(min=0, max=last, value=0, step=1, interval=interval_ms, description="play")
        self.slider = widgets.IntSlider(min=0, max=last, value=0, description="step", continuous_update=False)
        self.link = widgets.link((self.play, "value"), (self.slider, "value"))
        self.next_button = widgets.Button(description="next step")
        self.next_button.add_class("labkit-next-step")
        self.label = widgets.HTML()
        self.label.add_class("labkit-relocation-label")
        self.figure = widgets.Output()
        self.figure.add_class("labkit-figure")
        self.slider.observe(lambda _c: self.redraw(), names="value")
        self.next_button.on_click(lambda _b: self.step_to(self.k + 1))
        self.widget = widgets.VBox([widgets.HBox([self.play, self.slider, self.next_button]), self.label,
                                    self.figure])
        self.redraw()

    @property
    def k(self) -> int:
        return int(self.slider.value)

    def step_to(self, k: int) -> None:
        k = max(0, min(self.slider.max, int(k)))
        if k == self.slider.value:
            self.redraw()
        else:
            self.slider.value = k

    def to_phase(self, phase: str) -> None:
        """Jump to the last frame of ``phase`` (loaded, jump, B runs, jump_back)."""
        frames = [i for i, f in enumerate(self.demo.frames) if f.phase == phase]
        if not frames:
            raise ValueError(f"no frame of phase {phase!r}")
        self.step_to(frames[-1])

    def redraw(self) -> None:
        frame = self.demo.frames[self.k]
        self.label.value = f"<b>{html.escape(frame.phase)}</b>: {html.escape(frame.note)}"
        rows = [0] if self.k == 0 else [0, self.k]
        fig = plot_relocation(self.demo, rows, step_arrows=True, title=f"step {self.k} of {self.slider.max}")
        self.last_png = _show(self.figure, fig, self.dpi, frame.note)


class HashExplorer(_App):
    """Pick a hash function, a bucket count and a destination pattern; see the table fill."""

    BUCKETS = (64, 256, 1000, 1024, 4096, 16384)

    def __init__(self, pages: int = 16384, *, seed: int = 0, dpi: int = 80):
        self.pages, self.seed, self.dpi = pages, seed, dpi
        self.last_png = b""
        self._patterns: dict[str, Any] = {}
        self.hash = widgets.Dropdown(options=list(HASHES), value="golden", description="hash")
        self.buckets = widgets.Dropdown(options=list(self.BUCKETS), value=4096, description="buckets")
        self.pattern = widgets.Dropdown(options=list(PATTERNS), value="runs", description="pattern")
        self.figure = widgets.Output()
        self.figure.add_class("labkit-figure")
        for w in (self.hash, self.buckets, self.pattern):
            w.observe(lambda _c: self.redraw(), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.hash, self.buckets, self.pattern]), self.figure])
        self.redraw()

    def set(self, *, hash: str | None = None, buckets: int | None = None, pattern: str | None = None) -> None:
        """Change any of the three choices (one redraw per change)."""
        if hash is not None:
            self.hash.value = hash
        if buckets is not None:
            if buckets not in self.buckets.options:
                self.buckets.options = sorted(set(self.buckets.options) | {buckets})
            self.buckets.value = buckets
        if pattern is not None:
            self.pattern.value = pattern

    def pfns(self) -> Any:
        name = self.pattern.value
        if name not in self._patterns:
            self._patterns[name] = destination_pattern(name, self.pages, seed=self.seed)
        return self._patterns[name]

    def redraw(self) -> None:
        fig = plot_hash_table(self.pfns(), int(self.buckets.value), self.hash.value)
        self.last_png = _show(self.figure, fig, self.dpi,
                              f"{self.hash.value} {self.buckets.value} buckets {self.pattern.value}")


class SweepExplorer(_App):
    """Choose RAM sizes and indexes, run the round trip for each, plot costs with fitted slopes."""

    SIZES = ("4MiB", "8MiB", "16MiB", "32MiB", "64MiB", "128MiB", "256MiB")

    def __init__(self, sizes: Sequence[str] = ("8MiB", "16MiB", "32MiB"), *, dpi: int = 80, **params: Any):
        self.params = params
        self.dpi = dpi
        self.df: pd.DataFrame | None = None
        self.last_png = b""
        self.sizes = widgets.SelectMultiple(options=list(dict.fromkeys([*self.SIZES, *sizes])), value=tuple(sizes),
                                            description="RAM", rows=len(self.SIZES))
        self.indexes = widgets.SelectMultiple(options=["linear", "hash"], value=("linear", "hash"),
                                              description="index", rows=2)
        self.run_button = widgets.Button(description="run sweep", button_style="primary")
        self.run_button.add_class("labkit-run-sweep")
        self.progress = widgets.IntProgress(min=0, max=1, value=0, description="runs")
        self.table = widgets.HTML()
        self.figure = widgets.Output()
        self.figure.add_class("labkit-figure")
        self.run_button.on_click(lambda _b: self.run())
        self.widget = widgets.VBox([widgets.HBox([self.sizes, self.indexes,
                                                  widgets.VBox([self.run_button, self.progress])]),
                                    self.figure, self.table])

    def run(self) -> pd.DataFrame:
        """Run the sweep for the selected sizes and indexes and redraw."""
        sizes = sorted(self.sizes.value, key=lambda s: self.sizes.options.index(s))
        if not sizes or not self.indexes.value:
            raise ValueError("select at least one RAM size and one index")
        self.progress.max = len(sizes) * len(self.indexes.value)
        self.progress.value = 0

        def tick(done: int, total: int, what: str) -> None:
            self.progress.value = done

        self.df = sweep(sizes, list(self.indexes.value), progress=tick, **self.params)
        slopes = fit_slopes(self.df) if len(sizes) > 1 else {}
        cols = ["ram", "index", "image_pages", "image_segments", "lookup_work", "seconds", "verified"]
        self.table.value = (self.df[cols].to_html(index=False, float_format=lambda x: f"{x:.3f}")
                            + "".join(f"<p>{html.escape(k)}: slope {v:.2f}</p>" for k, v in slopes.items()))
        self.last_png = _show(self.figure, plot_costs(self.df), self.dpi, "costs against image size")
        return self.df
