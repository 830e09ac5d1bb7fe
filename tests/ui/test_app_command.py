"""``labkit app`` without a browser: arguments, the notebook it finds, the voila command it runs."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from labkit import cli
from labkit.commands import app

FIXTURE = Path(__file__).parent / "fixtures" / "stepper_contract.ipynb"


def parse(*argv: str):  # noqa: ANN201
    return cli.build_parser().parse_args(["app", *argv])


def test_defaults() -> None:
    args = parse()
    assert (args.host, args.port, args.notebook, args.no_browser, args.theme) == ("127.0.0.1", 8866, None, False, "light")


def test_runs_this_pythons_voila_on_the_given_host_and_port() -> None:
    calls = []
    rc = app.run(parse("--notebook", str(FIXTURE), "--port", "9123", "--no-browser"),
                 execv=lambda path, argv: calls.append((path, argv)))
    assert rc == 0
    [(path, argv)] = calls
    assert path == sys.executable and argv[:4] == [sys.executable, "-m", "voila", str(FIXTURE.resolve())]
    assert {"--Voila.ip=127.0.0.1", "--port=9123", "--no-browser", "--theme=light"} <= set(argv)


def test_browser_opens_unless_no_browser() -> None:
    argv = app.voila_argv(FIXTURE, host="127.0.0.1", port=8866, no_browser=False, theme="dark")
    assert "--no-browser" not in argv and "--theme=dark" in argv


def test_dry_run_prints_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["app", "--notebook", str(FIXTURE), "--dry-run", "--host", "127.0.0.2"]) == 0
    out = capsys.readouterr().out
    assert "-m voila" in out and "--Voila.ip=127.0.0.2" in out and str(FIXTURE.resolve()) in out


def test_missing_notebook_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["app", "--notebook", str(tmp_path / "nope.ipynb")]) == app.EXIT_USAGE
    err = capsys.readouterr().err
    assert "nope.ipynb" in err and "--notebook" in err


def test_default_notebook_beside_the_package_else_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    checkout, cwd = tmp_path / "checkout", tmp_path / "cwd"
    checkout.mkdir(), cwd.mkdir()
    monkeypatch.setattr(app, "package_root", lambda: checkout)
    monkeypatch.chdir(cwd)
    assert cli.main(["app", "--dry-run"]) == app.EXIT_USAGE
    err = capsys.readouterr().err
    assert "04_stage_stepper.ipynb not found" in err and str(checkout) in err and "--notebook" in err
    for base in (cwd, checkout):  # the checkout's wins over the current dir's
        (base / app.STEPPER).parent.mkdir(exist_ok=True)
        (base / app.STEPPER).write_text("{}")
        assert app.resolve_notebook(None) == (base / app.STEPPER).resolve()


def test_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["app", "--notebook", str(FIXTURE), "--port", "70000"]) == app.EXIT_USAGE
    assert "out of range" in capsys.readouterr().err
