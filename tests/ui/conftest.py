"""Fixtures of the browser suite: headless chromium (Debian's), a throwaway JupyterLab, screenshots.

Without chromium the suite skips, saying how to install it; in CI
(``CI=true``) it fails instead, so that a CI without a browser is not green
by skipping.  Servers run in their own process group and are stopped in a
``finally``, also when a test fails.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

import ui_servers as servers  # noqa: E402

CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
INSTALL_HINT = "install it with: apt-get update && apt-get install -y chromium"
HERE = Path(__file__).parent
REPO = HERE.parents[1]
NOTEBOOKS = REPO / "notebooks"
STEPPER = NOTEBOOKS / "04_stage_stepper.ipynb"
FIXTURE = HERE / "fixtures" / "stepper_contract.ipynb"
BREAK_MODES = ("raise", "no-redraw", "error-output", "cell-error")
VIEWPORT = {"width": 1400, "height": 1000}

_screenshots: list[Path] = []


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(message: str) -> None:
    """Skip locally; fail in CI (CI=true), where the browser suite must run."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: the browser suite must run, not skip)", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_report_{report.when}", report)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    if _screenshots:
        terminalreporter.section("browser screenshots")
        for path in _screenshots:
            terminalreporter.write_line(str(path))


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"no chromium at {CHROMIUM} for the browser tests: {INSTALL_HINT}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("playwright is not installed: pip install -e '.[test]'")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str):  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # playwright gives the browser a fresh temporary profile (user data dir) and removes it on close
        b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest, screenshot):  # noqa: ANN001, ANN201
    """A page in a fresh browser context; its console errors in ``page.console_errors``."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    p = context.new_page()
    p.console_errors = []  # type: ignore[attr-defined]
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.console_errors.append(f"page error: {e}"))
    try:
        yield p
    finally:
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            try:
                screenshot("FAILED", p)
            except Exception as exc:  # noqa: BLE001 - a dead page must not hide the failure
                print(f"no failure screenshot: {exc}")
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``screenshot(name, page)`` saves test-artifacts/ui/<test>-<name>.png and prints its path."""
    folder = Path(request.config.rootpath) / "test-artifacts" / "ui"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")

    def save(name: str, p) -> Path:  # noqa: ANN001
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}-{name}.png"
        p.screenshot(path=str(path))
        _screenshots.append(path)
        print(f"screenshot: {path}")
        return path

    return save


# --------------------------------------------------------------------------- notebooks and servers


def write_variant(source: Path, target: Path, mode: str) -> Path:
    """A copy of the contract fixture with ``BREAK`` set to ``mode`` (a way to break it)."""
    nb = json.loads(source.read_text())
    hook = 'BREAK = ""'
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and hook in "".join(c["source"])]
    assert len(cells) == 1, f"{source} has no single {hook} line"
    src = "".join(cells[0]["source"]).replace(hook, f"BREAK = {json.dumps(mode)}")
    cells[0]["source"] = src.splitlines(keepends=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nb, indent=1))
    return target


class Lab:
    """A running throwaway lab: its URL and notebook dir."""

    def __init__(self, base: str, root: Path) -> None:
        self.base, self.root = base, root
        self._workspaces = 0

    def workspace(self) -> str:
        """A new workspace name: each test opens its notebook in a lab layout of its own."""
        self._workspaces += 1
        return f"uitest{self._workspaces}"


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's notebook dir: a copy of notebooks/ plus _uitest/ with the contract fixture and its broken copies."""
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    if NOTEBOOKS.is_dir():
        shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    (root / "_uitest").mkdir()
    shutil.copy(FIXTURE, root / "_uitest" / FIXTURE.name)
    for mode in BREAK_MODES:
        write_variant(FIXTURE, root / "_uitest" / f"broken-{mode}.ipynb", mode)
    return root


@pytest.fixture(scope="session")
def lab(chromium_path: str, lab_root: Path) -> Iterator[Lab]:
    home = Path(tempfile.mkdtemp(prefix="labkit-ui-lab-"))
    server = None
    try:
        server, base = servers.start_lab(lab_root, home, home / "lab.log")
        yield Lab(base, lab_root)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def lab_page(lab: Lab, page):  # noqa: ANN001, ANN201
    """A page for the lab; the test's kernels are shut down afterwards."""
    try:
        yield page
    finally:
        servers.shutdown_kernels(lab.base)


@pytest.fixture
def app_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="labkit-ui-app-"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def start_app(chromium_path: str, app_home: Path) -> Iterator[Callable[..., str]]:
    """``start_app(notebook=None)`` runs ``labkit app --port <free> --no-browser``; returns the page URL."""
    started: list[servers.Server] = []

    def start(notebook: Path | None = None) -> str:
        server, url = servers.start_app(notebook, app_home, app_home / f"app{len(started)}.log")
        started.append(server)
        return url

    try:
        yield start
    finally:
        for server in started:
            server.stop()
