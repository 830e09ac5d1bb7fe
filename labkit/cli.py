"""The ``labkit`` command.

Each subcommand lives in ``labkit/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
Exit status: 0 success, 2 unreadable input (``ParseError``) or bad usage,
3 a call the simulated kernel rejected (``KexecError``).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from .errors import KexecError, ParseError

COMMANDS = ("simulate", "load", "segments", "memmap", "pgmap", "app")
EXIT_PARSE = 2
EXIT_REJECTED = 3


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(prog="labkit", description="An exploratory lab for the Linux kexec loader "
                                     "and kexec-based hibernation (the 2008 multi-stage proposal).")
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"labkit.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (`labkit ... | head`): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except ParseError as exc:
        print(f"labkit: {exc}", file=sys.stderr)
        return EXIT_PARSE
    except KexecError as exc:
        print(f"labkit: kexec_load rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except (OSError, ValueError) as exc:
        print(f"labkit: {exc}", file=sys.stderr)
        return EXIT_PARSE


if __name__ == "__main__":
    sys.exit(main())
