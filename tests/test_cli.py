"""The labkit command: subcommands, exit status, version."""
import pytest

from labkit import __version__
from labkit.cli import COMMANDS, build_parser, main


def test_every_command_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and __version__ in capsys.readouterr().out


def test_missing_file_is_exit_2(capsys):
    assert main(["segments", "/nonexistent/kexec.log"]) == 2
    assert "nonexistent" in capsys.readouterr().err
