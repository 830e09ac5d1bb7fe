"""The test of the test: the same checks, run on deliberately broken copies of the contract fixture, must fail.

Each copy sets ``BREAK`` in the fixture (``ui_notebooks.write_variant``):
``raise`` - the "next stage" callback raises before doing anything;
``no-redraw`` - the callback updates label and counters but never redraws the figure;
``error-output`` - the redraw raises inside the figure Output (a traceback replaces the image);
``cell-error`` - the stepper shows and works, but the last cell then raises.
Each must be caught, and for its own reason (the message is matched), so that
a check that fails for an unrelated reason (a slow page, a wrong selector)
does not pass for a detection.
"""
from __future__ import annotations

import re

import pytest

import ui_checks as ui
from ui_notebooks import BREAK_MODES, FIXTURE, write_variant

pytestmark = pytest.mark.browser

CLICK_TIMEOUT = 5.0  # seconds to wait for a redraw that will never come

EXPECTED = {
    "raise": r"after clicking \.labkit-next-stage, .* unchanged: stage label, counters, figure image\n",
    "no-redraw": r"after clicking \.labkit-next-stage, .* unchanged: figure image\n",
    "error-output": r"unchanged: .*figure image \(gone\)(.|\n)*deliberately broken redraw",
    "cell-error": r"error output\(s\) on the page:(.|\n)*deliberately failing cell",
}


def test_every_break_mode_has_an_expectation() -> None:
    assert set(EXPECTED) == set(BREAK_MODES)


@pytest.mark.parametrize("mode", BREAK_MODES)
def test_lab_checks_catch_broken_stepper(mode: str, lab, lab_page, screenshot) -> None:  # noqa: ANN001
    with pytest.raises(ui.StepperCheckError) as caught:
        ui.check_notebook_in_lab(lab_page, lab.base, f"_uitest/broken-{mode}.ipynb", lab.workspace(),
                                 click_timeout=CLICK_TIMEOUT)
    screenshot("caught", lab_page)
    print(f"caught as expected:\n{caught.value}")
    assert re.search(EXPECTED[mode], str(caught.value)), f"caught, but for another reason:\n{caught.value}"
    if mode == "raise":
        # the traceback of a callback goes to the lab's log console, and that check sees it too
        with pytest.raises(ui.StepperCheckError, match="log console(.|\n)*deliberately broken callback"):
            ui.check_lab_log_clean(lab_page)


@pytest.mark.parametrize("mode", BREAK_MODES)
def test_app_checks_catch_broken_stepper(mode: str, start_app, page, screenshot, tmp_path) -> None:  # noqa: ANN001
    notebook = write_variant(FIXTURE, tmp_path / f"broken-{mode}.ipynb", mode)
    with pytest.raises(ui.StepperCheckError) as caught:
        ui.check_app(page, start_app(notebook), click_timeout=CLICK_TIMEOUT)
    screenshot("caught", page)
    print(f"caught as expected:\n{caught.value}")
    assert re.search(EXPECTED[mode], str(caught.value)), f"caught, but for another reason:\n{caught.value}"
