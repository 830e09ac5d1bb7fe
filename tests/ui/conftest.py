"""Fixtures of the browser suite: headless chromium (Debian's), a throwaway JupyterLab, screenshots.

Without chromium the suite skips, saying how to install it; in CI
(``CI=true``) it fails instead, so that a CI without a browser is not green
by skipping.  Servers run in their own process group and are stopped in a
``finally``, also when a test fails.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

import ui_servers as servers  # noqa: E402
from ui_notebooks import BREAK_MODES, FIXTURE, NOTEBOOKS, write_variant  # noqa: E402

CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage",
                 # no name resolves: the pages may only reach the servers on 127.0.0.1
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
LOOPBACK = ("127.0.0.1", "localhost")
INSTALL_HINT = "install it with: apt-get update && apt-get install -y chromium"
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
    blocked: list[str] = []

    def only_loopback(route) -> None:  # noqa: ANN001
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:  # e.g. Voilà's page asks a CDN for Font Awesome: not from a test
            blocked.append(url)
            route.abort()

    context.route("**/*", only_loopback)
    p = context.new_page()
    p.blocked_requests = blocked  # type: ignore[attr-defined]
    p.console_errors = []  # type: ignore[attr-defined]
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.console_errors.append(f"page error: {e}"))
    try:
        yield p
    finally:
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            if p.console_errors:
                print("browser console errors:\n  " + "\n  ".join(e[:500] for e in p.console_errors[-20:]))
            try:
                screenshot("FAILED", p)
            except Exception as exc:  # noqa: BLE001 - a dead page must not hide the failure
                print(f"no failure screenshot: {exc}")
        if blocked:
            print(f"blocked {len(blocked)} request(s) to other hosts than 127.0.0.1: {sorted(set(blocked))}")
        context.close()


def _stem(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``screenshot(name, page)`` saves test-artifacts/ui/<test>-<name>.png and prints its path."""
    def save(name: str, p) -> Path:  # noqa: ANN001
        path = artifacts_dir(request.config) / f"{_stem(request)}-{name}.png"
        p.screenshot(path=str(path), full_page=True)
        _screenshots.append(path)
        print(f"screenshot: {path}")
        return path

    return save


# --------------------------------------------------------------------------- notebooks and servers


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


def artifacts_dir(config: pytest.Config) -> Path:
    folder = Path(config.rootpath) / "test-artifacts" / "ui"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_log(server: servers.Server, target: Path) -> None:
    try:
        shutil.copy(server.log_path, target)
    except OSError:
        pass


@pytest.fixture(scope="session")
def lab(chromium_path: str, lab_root: Path, pytestconfig: pytest.Config) -> Iterator[Lab]:
    home = Path(tempfile.mkdtemp(prefix="labkit-ui-lab-"))
    server = None
    try:
        server, base = servers.start_lab(lab_root, home, home / "lab.log")
        yield Lab(base, lab_root)
    finally:
        if server is not None:
            server.stop()
            keep_log(server, artifacts_dir(pytestconfig) / "jupyter-lab.log")
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
def start_app(chromium_path: str, app_home: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., str]]:
    """``start_app(notebook=None)`` runs ``labkit app --port <free> --no-browser``; returns the page URL.

    The server's log is kept as test-artifacts/ui/<test>-app.log.
    """
    started: list[servers.Server] = []

    def start(notebook: Path | None = None) -> str:
        server, url = servers.start_app(notebook, app_home, app_home / f"app{len(started)}.log")
        started.append(server)
        return url

    try:
        yield start
    finally:
        for i, server in enumerate(started):
            server.stop()
            keep_log(server, artifacts_dir(request.config) / f"{_stem(request)}-app{i or ''}.log")
