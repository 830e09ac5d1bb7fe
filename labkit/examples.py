"""Small loads small enough to read page by page: the worked examples of the figures and notebooks.

``worked_example`` is the reference's x86_64 example (two segments: three
pages at 1 MiB, one at 2 MiB): its entry list is ``D, S, S, S, D, S, DONE``.
``small_load`` puts three segments on a 1 MiB machine whose kernel owns the
first pages, so the allocator hands out pages that are destinations and the
swap trick leaves some source pages in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .loader import Loader
from .machine import Machine
from .segments import Segment
from .units import PAGE_SIZE


@dataclass
class Example:
    """A machine, the loader that loaded something onto it, and the kernel's own pages."""

    machine: Machine
    loader: Loader
    owned: np.ndarray
    description: str
    segments: list[Segment] = field(default_factory=list)


def _segment(mem: int, pages: int) -> Segment:
    return Segment(mem, pages * PAGE_SIZE, pages * PAGE_SIZE, buf=0x7F0000000000 + mem)


def worked_example(ram: str = "4MiB") -> Example:
    """S0 = 3 pages at 0x100000, S1 = 1 page at 0x200000, one ``KS_FULL`` load (reference section 2.4)."""
    machine = Machine.build(ram)
    owned = np.zeros(machine.max_pfn, dtype=bool)
    loader = Loader(machine, in_use=owned)
    segments = [_segment(0x100000, 3), _segment(0x200000, 1)]
    loader.kexec_load(0x100000, segments, 0)
    return Example(machine, loader, owned, "two segments: 3 pages at 0x100000, 1 page at 0x200000", segments)


def small_load(policy: str = "lowest", seed: int = 1, owned_pages: int = 8) -> Example:
    """Three segments on a 1 MiB machine whose kernel owns pfns ``[0, owned_pages)``."""
    machine = Machine.build("1MiB")
    owned = np.zeros(machine.max_pfn, dtype=bool)
    owned[:owned_pages] = True
    loader = Loader(machine, policy=policy, seed=seed, in_use=owned)
    segments = [_segment(0x9000, 3), _segment(0x10000, 6), _segment(0x20000, 4)]
    loader.kexec_load(0x9000, segments, 0)
    return Example(machine, loader, owned,
                   f"three segments on 1 MiB, kernel owns {owned_pages} pages, policy {policy}, seed {seed}",
                   segments)


def data_path(name: str = "") -> Path:
    """A file of the project's ``data/`` samples (the directory beside the ``labkit`` package)."""
    root = Path(__file__).resolve().parent.parent / "data"
    path = root / name
    if not path.exists():
        raise FileNotFoundError(f"no sample {name!r} in {root}")
    return path
