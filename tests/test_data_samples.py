"""The pgmap samples in data/ are what tools/make_pgmap_samples.py says they are."""
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import ParseError
from labkit.pgmap import read_pgmap, validate_pgmap

DATA = Path(__file__).resolve().parents[1] / "data"


def test_small_sample_is_reproducible(tmp_path, capsys):
    out = tmp_path / "pgmap.txt"
    assert main(["simulate", "--ram", "16MiB", "--seed", "42", "--no-progress", "--json", "--pgmap-out", str(out)]) == 0
    capsys.readouterr()
    assert out.read_text() == (DATA / "pgmap-small.txt").read_text()


def test_t42_sample_is_consistent():
    pg = read_pgmap(DATA / "pgmap-t42-256MiB.txt.gz")
    assert len(pg.df) == 39709 and pg.state == "loaded"
    assert validate_pgmap(pg, max_pfn=65536) == []


def test_damaged_sample_names_line_8():
    with pytest.raises(ParseError) as info:
        read_pgmap(DATA / "pgmap-damaged.txt")
    assert info.value.line == 8


def test_inconsistent_sample_findings():
    kinds = {f.kind for f in validate_pgmap(read_pgmap(DATA / "pgmap-inconsistent.txt", lenient=True))}
    assert {"count-mismatch", "source-reused", "source-is-destination"} <= kinds
