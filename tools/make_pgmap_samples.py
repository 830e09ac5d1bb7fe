#!/usr/bin/env python3
"""Regenerate the pgmap samples in data/ (deterministic: same files every run).

    python tools/make_pgmap_samples.py

* data/pgmap-t42-256MiB.txt.gz -- /proc/kexec_pgmap of kernel C's resume load on a
  ThinkPad-T42-sized machine (256 MiB, as shipped), the output of
  ``labkit simulate --ram 256MiB --seed 42 --pgmap-out ...``;
* data/pgmap-small.txt -- the same for a 16 MiB machine, small enough to read;
* data/pgmap-damaged.txt -- the small map with a non-hex digit on line 8:
  the strict reader stops there (exit status 2);
* data/pgmap-inconsistent.txt -- parses in lenient mode, but its header count
  is wrong, two lines are swapped, one source page is used twice and one source
  page is another entry's destination: ``labkit pgmap --lenient`` lists each.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labkit.cli import main  # noqa: E402

DATA = ROOT / "data"


def simulate(ram: str, out: Path) -> None:
    code = main(["simulate", "--ram", ram, "--seed", "42", "--no-progress", "--json", "--pgmap-out", str(out)])
    if code != 0:
        raise SystemExit(f"simulate --ram {ram} failed with {code}")


def damage(small: Path) -> None:
    lines = small.read_text().splitlines()
    bad = list(lines)
    dest, src = bad[7].split()
    bad[7] = f"{dest} {src[:-1]}g"
    (DATA / "pgmap-damaged.txt").write_text("\n".join(bad) + "\n")

    header, rows = lines[0], [r.split() for r in lines[1:]]
    moved = [(d, s) for d, s in rows if d != s]
    (d1, s1), (d2, s2), (d3, _) = moved[10], moved[11], moved[12]
    out = []
    for d, s in rows:
        if d == d2:
            s = s1                      # a source page used twice
        if d == d3:
            s = d1                      # a source page that is another entry's destination
        out.append(f"{d} {s}")
    out[20], out[21] = out[21], out[20]  # unsorted
    header = header.replace(f"entries={len(rows)}", f"entries={len(rows) + 3}")
    (DATA / "pgmap-inconsistent.txt").write_text("\n".join([header] + out) + "\n")


if __name__ == "__main__":
    simulate("256MiB", DATA / "pgmap-t42-256MiB.txt.gz")
    simulate("16MiB", DATA / "pgmap-small.txt")
    damage(DATA / "pgmap-small.txt")
    print("wrote", ", ".join(p.name for p in sorted(DATA.glob("pgmap-*"))))
