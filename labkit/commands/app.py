"""``labkit app``: serve the stage stepper notebook as a web app with Voilà, on 127.0.0.1 by default.

Runs ``python -m voila NOTEBOOK`` of this Python (so the kernel sees labkit)
in place of the ``labkit`` process: Ctrl-C or a signal stops the server.
The page shows the notebook's outputs (widgets included) without its code.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import sys
from pathlib import Path
from typing import Any

STEPPER = Path("notebooks") / "04_stage_stepper.ipynb"
THEMES = ("light", "dark")
EXIT_USAGE = 2


def package_root() -> Path:
    """The folder holding the ``labkit`` package: the checkout, for a source tree or an editable install."""
    return Path(__file__).resolve().parents[2]


def default_notebook(cwd: Path | None = None) -> Path | None:
    """The stepper notebook: beside the package (a source checkout or editable install), else under ``cwd``."""
    for base in (package_root(), (cwd or Path.cwd()).resolve()):
        candidate = base / STEPPER
        if candidate.is_file():
            return candidate
    return None


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("app", help="serve the stage stepper notebook as a web app (Voila)",
                                   description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8866, help="port to listen on (default 8866)")
    parser.add_argument("--notebook", default=None, metavar="PATH",
                        help=f"notebook to serve (default: {STEPPER.as_posix()} of the labkit checkout "
                             "or of the current directory)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--theme", choices=THEMES, default="light", help="page theme (default light)")
    parser.add_argument("--dry-run", action="store_true", help="print the voila command instead of running it")
    parser.set_defaults(func=run)
    return parser


def resolve_notebook(arg: str | None, cwd: Path | None = None) -> Path:
    """The notebook to serve, or ``FileNotFoundError`` with a message that says what to do."""
    if arg is not None:
        path = Path(arg).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no notebook at {path}: give --notebook PATH to an existing .ipynb")
        return path.resolve()
    found = default_notebook(cwd)
    if found is None:
        places = dict.fromkeys([str(package_root()), str((cwd or Path.cwd()).resolve())])
        raise FileNotFoundError(f"stepper notebook {STEPPER.as_posix()} not found under {' nor '.join(places)}: "
                                "run from the labkit checkout or give --notebook PATH")
    return found


def voila_argv(notebook: Path, *, host: str, port: int, no_browser: bool, theme: str) -> list[str]:
    """The command line that serves ``notebook``: this Python's voila, listening on ``host:port`` only."""
    argv = [sys.executable, "-m", "voila", str(notebook),
            f"--Voila.ip={host}", f"--port={port}", f"--theme={theme}",
            # a failing cell shows its traceback on the page instead of a bare "there was an error"
            "--show_tracebacks=True"]
    if no_browser:
        argv.append("--no-browser")
    return argv


def run(args: argparse.Namespace, execv: Any = os.execv) -> int:
    try:
        notebook = resolve_notebook(args.notebook)
    except FileNotFoundError as exc:
        print(f"labkit app: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.port < 65536:
        print(f"labkit app: port {args.port} out of range 1..65535", file=sys.stderr)
        return EXIT_USAGE
    argv = voila_argv(notebook, host=args.host, port=args.port, no_browser=args.no_browser, theme=args.theme)
    if args.dry_run:
        print(shlex.join(argv))
        return 0
    if importlib.util.find_spec("voila") is None:
        print(f"labkit app: voila is not installed in {sys.prefix}: pip install -e '.[lab]' (or make venv)",
              file=sys.stderr)
        return EXIT_USAGE
    print(f"labkit app: serving {notebook} at http://{_url_host(args.host)}:{args.port}/ (Ctrl-C stops it)",
          flush=True)
    sys.stderr.flush()
    execv(argv[0], argv)
    return 0  # not reached unless execv is replaced (tests)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

