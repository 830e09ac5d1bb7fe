"""``python -m labkit.viz.figures OUTDIR`` writes the key figures."""
from __future__ import annotations

from labkit.viz import figures

KEY = {"layout.png", "entries.png", "hashes.png", "relocation.png", "costs.png"}


def test_the_key_figures_are_listed():
    names = set(figures.build_figures())
    assert KEY <= names
    assert {"layout-small.png", "entries-resume.png", "segments.png", "pgmap.png"} <= names


def test_write_all_figures(tmp_path, capsys):
    written = figures.write_figures(tmp_path, dpi=40, sweep_sizes=("4MiB", "8MiB"))
    assert {p.name for p in written} == set(figures.build_figures())
    for p in written:
        assert p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 2000
    out = capsys.readouterr().out
    assert "labkit simulate --ram 64MiB" in out and "seed=0" in out


def test_main_with_only(tmp_path):
    assert figures.main([str(tmp_path / "out"), "--dpi", "30", "--only", "relocation.png", "entries.png"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["entries.png", "relocation.png"]
