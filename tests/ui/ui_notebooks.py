"""The notebooks the browser tests run: the real stepper, the contract fixture and its broken copies."""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parents[1]
NOTEBOOKS = REPO / "notebooks"
STEPPER = NOTEBOOKS / "04_stage_stepper.ipynb"
STEPPER_MISSING = f"{STEPPER.relative_to(REPO)} not in the repository yet"
FIXTURE = HERE / "fixtures" / "stepper_contract.ipynb"
#: the ways write_variant breaks the fixture (see the fixture's BREAK cell)
BREAK_MODES = ("raise", "no-redraw", "error-output", "cell-error")


def write_variant(source: Path, target: Path, mode: str) -> Path:
    """A copy of the contract fixture with ``BREAK`` set to ``mode`` (a way to break it)."""
    nb = json.loads(source.read_text())
    hook = 'BREAK = ""'
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and hook in "".join(c["source"])]
    assert len(cells) == 1, f"{source} has no single {hook} line"
    src = "".join(cells[0]["source"]).replace(hook, f"BREAK = {json.dumps(mode)}")
    cells[0]["source"] = src.splitlines(keepends=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nb, indent=1))
    return target
