"""Throwaway local servers for the browser tests: JupyterLab and the ``labkit app`` (Voilà).

Every server listens on 127.0.0.1 only, on a port picked free, runs in its own
session (process group) and is stopped by killing that group, whatever the
test did.  Nothing is written into the repository: configuration, data,
runtime, settings and workspaces live in a temp dir, and the notebooks are
served from a copy.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

HOST = "127.0.0.1"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


class Server:
    """A child process in its own session, with its output in a log file."""

    def __init__(self, name: str, argv: Sequence[str], *, log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            if not self._log.closed:
                self._log.flush()
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode} before it was ready:\n"
                                   f"{' '.join(self.argv)}\n--- log ---\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.25)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f} s:\n{' '.join(self.argv)}\n"
                           f"--- log ---\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the whole process group (kernels included), SIGKILL it after ``grace`` seconds."""
        try:
            if self.proc.poll() is None:
                _signal_group(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
            # the group may outlive its leader (kernels): make sure nothing is left
            _signal_group(self.proc.pid, signal.SIGKILL)
            if self.proc.poll() is None:
                self.proc.wait(5)
        finally:
            self._log.close()


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when the test process dies without stopping it (killed, crashed).

    Linux's PR_SET_PDEATHSIG; it survives the exec, and the server stops its kernels on SIGTERM.
    Elsewhere a no-op: the fixtures' ``finally`` is then the only guard.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def isolated_env(home: Path) -> dict[str, str]:
    """The environment of a throwaway Jupyter: every Jupyter/IPython/matplotlib dir under ``home``."""
    env = dict(os.environ)
    for var in ("JUPYTER_TOKEN", "JUPYTER_CONFIG_PATH", "JUPYTER_PATH", "JUPYTERLAB_SETTINGS_DIR",
                "JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_PREFER_ENV_PATH"):
        env.pop(var, None)
    dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
            "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "mpl", "JUPYTERLAB_SETTINGS_DIR": "settings",
            "JUPYTERLAB_WORKSPACES_DIR": "workspaces"}
    for var, sub in dirs.items():
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    # the venv first, so that jupyter, voila, labkit and the kernel are the project's
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def configure_lab(home: Path) -> None:
    """No news or update pop-up (plugin, settings and server side all off); all cells rendered."""
    config, settings = home / "config", home / "settings"
    _write_json(config / "labconfig" / "page_config.json",
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    _write_json(config / "jupyter_server_config.json",
                {"LabApp": {"news_url": None, "check_for_updates_class":
                            "jupyterlab.handlers.announcements.NeverCheckForUpdate"}})
    _write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    # every cell in the DOM (no virtual scrolling): the checks look at all outputs
    _write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})


def start_lab(root_dir: Path, home: Path, log: Path, timeout: float = 90.0) -> tuple[Server, str]:
    """``jupyter lab`` on a free 127.0.0.1 port serving ``root_dir``; returns the server and its base URL."""
    configure_lab(home)
    port = free_port()
    argv = [str(VENV_BIN / "python"), "-m", "jupyterlab",
            f"--ServerApp.ip={HOST}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root_dir}",
            "--IdentityProvider.token=", "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",  # loopback only; lets the test shut kernels down
            f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
            "--ServerApp.terminals_enabled=False"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    server = Server("jupyter lab", argv, log=log, env=isolated_env(home), cwd=root_dir)
    base = f"http://{HOST}:{port}"
    try:
        server.wait_ready(lambda: http_status(f"{base}/api/status") == 200, timeout)
    except BaseException:
        server.stop()
        raise
    return server, base


def labkit_argv() -> list[str]:
    """How to run the ``labkit`` command of this venv (its console script, else ``python -m labkit.cli``)."""
    script = VENV_BIN / "labkit"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "labkit.cli"]


def start_app(notebook: Path | None, home: Path, log: Path, timeout: float = 60.0,
              extra: Sequence[str] = ()) -> tuple[Server, str]:
    """``labkit app --port <free> --no-browser [--notebook NB]``; returns the server and its URL."""
    port = free_port()
    argv = [*labkit_argv(), "app", "--host", HOST, "--port", str(port), "--no-browser", *extra]
    if notebook is not None:
        argv += ["--notebook", str(Path(notebook).resolve())]
    server = Server("labkit app", argv, log=log, env=isolated_env(home), cwd=home)
    base = f"http://{HOST}:{port}"
    try:
        # any HTTP answer means Voilà listens; the page itself runs the notebook, so don't GET it here
        server.wait_ready(lambda: http_status(f"{base}/voila/static/extension.js") is not None, timeout)
    except BaseException:
        server.stop()
        raise
    return server, base + "/"


def shutdown_kernels(base: str) -> None:
    """Stop every kernel of a lab server (best effort: the server's stop kills them anyway)."""
    try:
        with urllib.request.urlopen(f"{base}/api/kernels", timeout=5) as resp:
            kernels = json.load(resp)
        for kernel in kernels:
            req = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}", method="DELETE")
            urllib.request.urlopen(req, timeout=10).close()
    except (OSError, ValueError):
        pass
