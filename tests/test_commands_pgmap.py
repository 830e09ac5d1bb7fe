"""``labkit pgmap``: labkit.commands.pgmap, driven through its own register()."""
from __future__ import annotations

import argparse
import gzip
import io
import json

import pandas as pd
import pytest

from labkit.commands import pgmap as command
from labkit.errors import ParseError

GOOD = (b"# kexec_pgmap v1 page_size=4096 entries=5 state=loaded\n"
        b"100 7f3a1\n101 7f3a2\n102 102\n103 5c010\n1000 1000\n")
# 2 is 1's source and has a source of its own: kimage_alloc_page's invariant is broken
BROKEN = b"# kexec_pgmap v1 page_size=4096 entries=2 state=loading\n1 2\n2 9\n"
MESSY = b"# capture\n0x3 0x30\r\n1 10\n\n2 20\n"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="labkit")
    command.register(parser.add_subparsers())
    args = parser.parse_args(["pgmap", *argv])
    return args.func(args)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.txt").write_bytes(GOOD)
    (tmp_path / "good.gz").write_bytes(gzip.compress(GOOD))
    (tmp_path / "broken.txt").write_bytes(BROKEN)
    (tmp_path / "messy.txt").write_bytes(MESSY)
    return tmp_path


def test_text_summary_of_a_consistent_map(files, capsys):
    assert run(str(files / "good.txt")) == 0
    out = capsys.readouterr().out
    for fragment in ("state                 loaded", "entries               5", "in_place              2",
                     "dest_runs             2", "dest_pfn_min          0x100", "dest_addr_end         0x1001000",
                     "hash                  golden, 1024 buckets", "findings: none"):
        assert fragment in out


def test_gzip_input(files, capsys):
    assert run(str(files / "good.gz")) == 0
    assert "entries               5" in capsys.readouterr().out


def test_invariant_violation_exits_1(files, capsys):
    assert run(str(files / "broken.txt")) == 1
    out = capsys.readouterr().out
    assert "error source-is-destination" in out and "pfns: 0x2" in out


def test_max_pfn_accepts_hex(files, capsys):
    assert run(str(files / "good.txt"), "--max-pfn", "0x1000") == 1
    assert "error outside-machine" in capsys.readouterr().out
    assert run(str(files / "good.txt"), "--max-pfn", "0x80000") == 0


def test_json(files, capsys):
    assert run(str(files / "broken.txt"), "--json", "--hash", "weak", "--buckets", "16") == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"source", "state", "entries", "summary", "findings"}
    assert (data["state"], data["entries"]) == ("loading", 2)
    assert data["summary"]["hash"]["name"] == "weak" and data["summary"]["hash"]["buckets"] == 16
    assert data["summary"]["dest_runs"]["count"] == 1
    [finding] = data["findings"]
    assert finding["kind"] == "source-is-destination" and finding["severity"] == "error"
    assert finding["rows"] == [0] and finding["pfns"] == ["0x2"]


def test_lenient_input(files, capsys):
    with pytest.raises(ParseError) as err:
        run(str(files / "messy.txt"))
    assert err.value.line == 1
    assert run(str(files / "messy.txt"), "--lenient", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entries"] is None and data["state"] is None and data["summary"]["entries"] == 3
    assert {t["kind"] for t in data["tolerated"]} >= {"missing-header", "comment", "crlf", "0x-prefix", "unsorted"}
    assert run(str(files / "messy.txt"), "--lenient") == 0
    assert "tolerated (--lenient):" in capsys.readouterr().out


def test_csv_and_parquet_have_the_same_columns(files, capsys):
    assert run(str(files / "good.txt"), "--csv", str(files / "rows.csv")) == 0
    assert "entries" in capsys.readouterr().out
    assert run(str(files / "good.txt"), "--parquet", str(files / "rows.parquet")) == 0
    from_csv = pd.read_csv(files / "rows.csv")
    from_parquet = pd.read_parquet(files / "rows.parquet")
    assert list(from_csv.columns) == list(from_parquet.columns) == ["dest_pfn", "src_pfn", "in_place"]
    assert from_parquet["dest_pfn"].dtype == "uint64" and from_parquet["in_place"].dtype == bool
    assert from_csv["dest_pfn"].tolist() == from_parquet["dest_pfn"].tolist() == [0x100, 0x101, 0x102, 0x103, 0x1000]
    assert from_csv["in_place"].tolist() == [False, False, True, False, True]


def test_csv_to_stdout(files, capsys):
    assert run(str(files / "good.txt"), "--csv", "-") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == ["dest_pfn,src_pfn,in_place", "256,521121,False"]


def test_output_options_are_exclusive(files):
    with pytest.raises(SystemExit):
        run(str(files / "good.txt"), "--json", "--csv", "x.csv")


def test_plot(files, capsys):
    out = files / "map.png"
    assert run(str(files / "good.txt"), "--plot", str(out)) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stdin(files, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(GOOD))))
    assert run("-", "--json") == 0
    assert json.loads(capsys.readouterr().out)["source"] == "<stdin>"


def test_unreadable_input_raises_parse_error(files):
    (files / "bad.txt").write_bytes(b"# kexec_pgmap v1 page_size=4096 entries=1 state=loaded\n1 zz\n")
    with pytest.raises(ParseError) as err:
        run(str(files / "bad.txt"))
    assert (err.value.file, err.value.line) == (str(files / "bad.txt"), 2)


@pytest.mark.parametrize("argv", [["--buckets", "0"], ["--max-pfn", "-1"], ["--max-pfn", "lots"],
                                  ["--hash", "md5"]])
def test_bad_options(files, argv):
    with pytest.raises(SystemExit):
        run(str(files / "good.txt"), *argv)


def test_cli_main_maps_parse_error_to_status_2(files, capsys):
    try:
        from labkit import cli
        cli.build_parser()
    except ImportError as exc:          # another command module is not written yet
        pytest.skip(f"labkit.cli cannot build its parser yet: {exc}")
    (files / "bad.txt").write_bytes(b"nope\n")
    assert cli.main(["pgmap", str(files / "bad.txt")]) == 2
    assert "bad.txt:1:" in capsys.readouterr().err
    assert cli.main(["pgmap", str(files / "broken.txt")]) == 1
