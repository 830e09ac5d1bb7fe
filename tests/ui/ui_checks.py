"""What the browser tests check, as functions of a playwright ``Page``: reusable on any page that shows the stepper.

The contract with the stepper notebook (``notebooks/04_stage_stepper.ipynb``,
and the stand-in ``tests/ui/fixtures/stepper_contract.ipynb``): buttons with
CSS classes ``labkit-next-stage`` and ``labkit-next-page``, an HTML widget
``labkit-stage-label`` whose text names the stage (``KS_START``...), an HTML
widget ``labkit-counters``, and an Output ``labkit-figure`` whose content a
redraw replaces with a new PNG.

The check functions raise ``StepperCheckError`` (an ``AssertionError``) with a
message that says what was seen, so that a test of the test can assert that a
broken notebook is caught, and for the right reason.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

NEXT_STAGE = ".labkit-next-stage"
NEXT_PAGE = ".labkit-next-page"
LABEL = ".labkit-stage-label"
COUNTERS = ".labkit-counters"
FIGURE = ".labkit-figure"
STAGE_NAME = re.compile(r"\bKS_[A-Z]+\b")
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
ERROR_TEXT = re.compile(r"Traceback|^\s*\w*(Error|Exception)\b|There was an error when executing cell", re.MULTILINE)
RUN_ALL_COMMAND = "runmenu:run-all"
GRACE = 10.0  # seconds for the rest of the stepper to show once its first widget has


class StepperCheckError(AssertionError):
    """A check on the page failed; the message says what the page showed."""


@dataclass(frozen=True)
class StepperState:
    label: str
    counters: str
    image: str  # the src of the figure's <img> ("" when there is none)

    def brief(self) -> str:
        return f"label={self.label!r} counters={self.counters!r} image={_short(self.image)}"


def _short(src: str) -> str:
    return f"<{len(src)} chars ...{src[-24:]}>" if src else "<no image>"


# --------------------------------------------------------------------------- stepper (lab and Voilà alike)

_STATE_JS = """([label, counters, figure]) => {
    const text = sel => { const e = document.querySelector(sel); return e ? e.innerText.trim() : null; };
    const fig = document.querySelector(figure);
    const img = fig ? fig.querySelector('img') : null;
    return {label: text(label), counters: text(counters), image: img ? (img.getAttribute('src') || '') : ''};
}"""


def stepper_state(page: Page) -> StepperState:
    raw = page.evaluate(_STATE_JS, [LABEL, COUNTERS, FIGURE])
    return StepperState(raw["label"] or "", raw["counters"] or "", raw["image"] or "")


def check_widgets_render(page: Page, timeout: float = 60.0) -> StepperState:
    """The stepper's buttons, label, counters and figure are visible, the label names a stage, the figure is a PNG."""
    # the first widget may wait for the kernel; once it shows, the rest must follow within a few seconds
    waits = [(NEXT_STAGE, timeout)] + [(sel, GRACE) for sel in (NEXT_PAGE, LABEL, COUNTERS, FIGURE)]
    for selector, wait in waits:
        try:
            page.locator(selector).first.wait_for(state="visible", timeout=wait * 1000)
        except PlaywrightTimeout:
            raise StepperCheckError(f"stepper widget {selector} not visible after {wait:.0f} s: "
                                    f"{_describe(page, selector)}; errors on the page: "
                                    f"{error_outputs(page) or 'none'}") from None
    for selector in (NEXT_STAGE, NEXT_PAGE, LABEL, COUNTERS, FIGURE):
        count = page.locator(selector).count()
        if count != 1:
            raise StepperCheckError(f"expected one {selector} on the page, found {count}")
    if page.locator(NEXT_STAGE).inner_text().strip() != "next stage":
        raise StepperCheckError(f"{NEXT_STAGE} says {page.locator(NEXT_STAGE).inner_text()!r}, not 'next stage'")
    try:
        page.locator(f"{FIGURE} img").first.wait_for(state="visible", timeout=GRACE * 1000)
    except PlaywrightTimeout:
        raise StepperCheckError(f"no image in the figure {FIGURE}; errors on the page: "
                                f"{error_outputs(page) or 'none'}") from None
    state = stepper_state(page)
    if not STAGE_NAME.search(state.label):
        raise StepperCheckError(f"stage label names no stage (KS_...): {state.label!r}")
    if not state.image.startswith("data:image/png") and not state.image.startswith("blob:"):
        raise StepperCheckError(f"figure image is not a PNG: {_short(state.image)}")
    if not state.counters:
        raise StepperCheckError("the counters are empty")
    return state


def _describe(page: Page, selector: str) -> str:
    """Why an element is not visible: absent, or its size and display."""
    return page.evaluate("""(sel) => {
        const all = document.querySelectorAll(sel);
        if (!all.length) return 'not on the page';
        const e = all[0], r = e.getBoundingClientRect(), c = getComputedStyle(e);
        return `${all.length} on the page, the first ${Math.round(r.width)}x${Math.round(r.height)} px `
               + `at (${Math.round(r.x)}, ${Math.round(r.y)}), display ${c.display}, visibility ${c.visibility}`;
    }""", selector)


def click_and_check_redraw(page: Page, button: str = NEXT_STAGE, timeout: float = 30.0) -> tuple[StepperState, StepperState]:
    """Click ``button``; the label (next stage only), the counters and the figure's image must all change.

    Waits for the new image itself (a different ``src`` on the ``<img>`` in the
    figure Output), not only for the label: a callback that updates the text
    but does not redraw fails here.
    """
    before = stepper_state(page)
    if not before.image:
        raise StepperCheckError(f"no figure image before the click: {before.brief()}")
    page.locator(button).click()
    need_label = button == NEXT_STAGE
    try:
        page.wait_for_function(
            """([label, counters, figure, before, needLabel]) => {
                const text = sel => { const e = document.querySelector(sel); return e ? e.innerText.trim() : ''; };
                const fig = document.querySelector(figure);
                const img = fig ? fig.querySelector('img') : null;
                const src = img ? (img.getAttribute('src') || '') : '';
                return (!needLabel || text(label) !== before.label) && text(counters) !== before.counters
                       && src !== '' && src !== before.image && img.complete && img.naturalWidth > 0;
            }""",
            arg=[LABEL, COUNTERS, FIGURE, {"label": before.label, "counters": before.counters, "image": before.image},
                 need_label],
            timeout=timeout * 1000, polling=100)
    except PlaywrightTimeout:
        after = stepper_state(page)
        unchanged = [name for name, a, b in (("stage label", before.label, after.label),
                                              ("counters", before.counters, after.counters),
                                              ("figure image", before.image, after.image))
                     if a == b and (name != "stage label" or need_label)]
        if not after.image:
            unchanged.append("figure image (gone)")
        raise StepperCheckError(
            f"after clicking {button}, {timeout:.0f} s later, unchanged: {', '.join(unchanged) or 'nothing?'}\n"
            f"  before: {before.brief()}\n  after:  {after.brief()}\n"
            f"  errors on the page: {error_outputs(page) or 'none'}") from None
    after = stepper_state(page)
    if need_label:
        if not STAGE_NAME.search(after.label):
            raise StepperCheckError(f"stage label names no stage after {button}: {after.label!r}")
    return before, after


def error_outputs(page: Page) -> list[str]:
    """Texts of the error outputs on the page: stderr with a traceback, and any rendered traceback."""
    texts = page.evaluate(
        """([stderrSel]) => {
            const out = [];
            for (const e of document.querySelectorAll(stderrSel)) out.push(e.innerText);
            for (const e of document.querySelectorAll('.jp-OutputArea-output, .output_error, .output_stderr')) {
                if (!e.matches(stderrSel) && /Traceback \\(most recent call last\\)/.test(e.innerText)) out.push(e.innerText);
            }
            return out;
        }""", [STDERR_OUTPUT])
    return [t.strip()[:2000] for t in texts if ERROR_TEXT.search(t)]


def check_no_error_outputs(page: Page) -> None:
    errors = error_outputs(page)
    if errors:
        raise StepperCheckError(f"{len(errors)} error output(s) on the page:\n" + "\n----\n".join(errors))


def check_stepper(page: Page, screenshot: Callable[[str], Any] | None = None, timeout: float = 60.0,
                  click_timeout: float = 30.0) -> None:
    """Everything: renders, "next stage" changes label, counters and figure, no error anywhere.

    ``screenshot(name)`` is called with "before" and "after" (the first "next stage").
    """
    check_widgets_render(page, timeout)
    check_no_error_outputs(page)
    page.locator(FIGURE).scroll_into_view_if_needed()
    if screenshot:
        screenshot("before")
    click_and_check_redraw(page, NEXT_STAGE, click_timeout)
    page.locator(FIGURE).scroll_into_view_if_needed()
    if screenshot:
        screenshot("after")
    # one more stage and a page step: the callbacks keep working, not only once
    click_and_check_redraw(page, NEXT_STAGE, click_timeout)
    click_and_check_redraw(page, NEXT_PAGE, click_timeout)
    check_no_error_outputs(page)


# --------------------------------------------------------------------------- JupyterLab


def open_notebook(page: Page, base: str, path: str, workspace: str, timeout: float = 90.0) -> None:
    """Open ``path`` (relative to the server's root) in a fresh workspace and wait for its kernel to be idle."""
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible", timeout=timeout * 1000)
    page.locator('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(
        state="attached", timeout=timeout * 1000)
    page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=timeout * 1000)


_PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt'))
                   .map(e => e.innerText.replace(/\\s+/g, ''))"""


def _prompts(page: Page) -> list[str]:
    return page.evaluate(_PROMPTS_JS)


def _started(prompts: list[str]) -> bool:
    return any(re.fullmatch(r"\[(\*|\d+)\]:", p) for p in prompts)


def _run_all_by_menu(page: Page) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).first.click()
    page.locator(f'.lm-Menu-item[data-command="{RUN_ALL_COMMAND}"]').click(timeout=5000)


def _run_all_by_palette(page: Page) -> None:
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")
    search = page.locator(".jp-ModalCommandPalette input, #modal-command-palette input").first
    search.wait_for(state="visible", timeout=5000)
    search.fill("Run All Cells")
    page.locator(".jp-ModalCommandPalette .lm-CommandPalette-item", has_text=re.compile(r"^Run All Cells")).first.click()


def run_all_cells(page: Page, timeout: float = 120.0) -> None:
    """Run > Run All Cells (the command palette if the menu did nothing), then wait for the kernel to finish.

    A cell that raises stops the run: the cells after it keep an empty prompt,
    and ``check_all_cells_ran`` says so.
    """
    attempts: list[tuple[str, Callable[[Page], None]]] = [("Run menu", _run_all_by_menu),
                                                          ("command palette", _run_all_by_palette),
                                                          ("Run menu", _run_all_by_menu)]
    tried = []
    for name, attempt in attempts:
        # focus the notebook (a click on the first cell's prompt selects it; it edits nothing)
        page.locator(".jp-NotebookPanel .jp-Cell .jp-InputPrompt").first.click()
        try:
            attempt(page)
        except (PlaywrightTimeout, PlaywrightError) as exc:
            tried.append(f"{name}: {str(exc).splitlines()[0]}")
            page.keyboard.press("Escape")
            continue
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _started(_prompts(page)):
            time.sleep(0.2)
        if _started(_prompts(page)):
            break
        tried.append(f"{name}: no cell started")
    else:
        raise StepperCheckError(f"could not run the notebook's cells ({'; '.join(tried)}); prompts: {_prompts(page)}")
    try:
        page.wait_for_function(f"() => !({_PROMPTS_JS})().some(p => p === '[*]:')", timeout=timeout * 1000,
                               polling=250)
    except PlaywrightTimeout:
        raise StepperCheckError(f"cells still running after {timeout:.0f} s: {_prompts(page)}") from None


def check_all_cells_ran(page: Page) -> None:
    prompts = _prompts(page)
    missing = [i for i, p in enumerate(prompts, 1) if not re.fullmatch(r"\[\d+\]:", p)]
    if missing:
        raise StepperCheckError(f"code cell(s) {missing} of {len(prompts)} did not run (prompts {prompts}); "
                                f"errors: {error_outputs(page) or 'none'}")


def lab_log_messages(page: Page) -> int:
    """How many messages the lab's log console counts (a widget callback's traceback lands there)."""
    item = page.locator(".jp-LogConsoleStatusItem")
    if not item.count() or not item.first.is_visible():
        return 0
    digits = re.findall(r"\d+", item.first.inner_text())
    return int(digits[0]) if digits else 0


def lab_log_errors(page: Page) -> list[str]:
    """The tracebacks in the lab's log console: where output of a widget callback that raised goes."""
    if not lab_log_messages(page):
        return []
    page.locator(".jp-LogConsoleStatusItem").first.click()
    panel = page.locator(".jp-LogConsolePanel").first
    panel.wait_for(state="visible", timeout=10_000)
    try:
        panel.locator(".jp-OutputArea-output").first.wait_for(state="attached", timeout=5_000)
    except PlaywrightTimeout:
        return []
    texts = panel.locator(".jp-OutputArea-output").all_inner_texts()
    return [t.strip()[:2000] for t in texts if ERROR_TEXT.search(t)]


def check_lab_log_clean(page: Page) -> None:
    errors = lab_log_errors(page)
    if errors:
        raise StepperCheckError(f"{len(errors)} error(s) in the lab's log console (a widget callback raised?):\n"
                                + "\n----\n".join(errors))


def check_app_clean(page: Page) -> None:
    """No error output on a Voilà page (with ``--show_tracebacks=True`` a failing cell shows its traceback)."""
    check_no_error_outputs(page)
    body = page.locator("body").inner_text()
    if "There was an error when executing cell" in body or "Traceback (most recent call last)" in body:
        raise StepperCheckError(f"the app page shows an error: {body[-2000:]}")


# --------------------------------------------------------------------------- whole runs


def check_notebook_in_lab(page: Page, base: str, path: str, workspace: str,
                          screenshot: Callable[[str], Any] | None = None, click_timeout: float = 30.0) -> None:
    """Open ``path`` in the lab at ``base``, Run All Cells, check the stepper it shows and the log console."""
    open_notebook(page, base, path, workspace)
    run_all_cells(page)
    check_all_cells_ran(page)
    check_stepper(page, screenshot=screenshot, click_timeout=click_timeout)
    check_lab_log_clean(page)


def check_app(page: Page, url: str, screenshot: Callable[[str], Any] | None = None,
              click_timeout: float = 30.0) -> None:
    """Load the Voilà app at ``url`` and check the stepper on it."""
    page.goto(url)
    check_stepper(page, screenshot=screenshot, timeout=90.0, click_timeout=click_timeout)
    check_app_clean(page)
