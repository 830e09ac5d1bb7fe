"""The stepper notebook in a real JupyterLab, driven by headless chromium."""
from __future__ import annotations

import pytest

import ui_checks as ui
from ui_notebooks import FIXTURE, STEPPER, STEPPER_MISSING

pytestmark = pytest.mark.browser


def test_contract_fixture_in_lab(lab, lab_page, screenshot) -> None:  # noqa: ANN001
    ui.check_notebook_in_lab(lab_page, lab.base, f"_uitest/{FIXTURE.name}", lab.workspace(),
                             screenshot=lambda name: screenshot(name, lab_page))


@pytest.mark.skipif(not STEPPER.is_file(), reason=STEPPER_MISSING)
def test_stage_stepper_notebook_in_lab(lab, lab_page, screenshot) -> None:  # noqa: ANN001
    ui.check_notebook_in_lab(lab_page, lab.base, STEPPER.name, lab.workspace(),
                             screenshot=lambda name: screenshot(name, lab_page))
