"""``labkit app``: the stepper served by Voilà, driven by headless chromium."""
from __future__ import annotations

import pytest

import ui_checks as ui
from ui_notebooks import FIXTURE, STEPPER, STEPPER_MISSING

pytestmark = pytest.mark.browser


def test_app_serves_contract_fixture(start_app, page, screenshot) -> None:  # noqa: ANN001
    ui.check_app(page, start_app(FIXTURE), screenshot=lambda name: screenshot(name, page))


@pytest.mark.skipif(not STEPPER.is_file(), reason=STEPPER_MISSING)
def test_app_serves_stage_stepper(start_app, page, screenshot) -> None:  # noqa: ANN001
    # no --notebook: the command finds notebooks/04_stage_stepper.ipynb itself
    ui.check_app(page, start_app(None), screenshot=lambda name: screenshot(name, page))
