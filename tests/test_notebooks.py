"""Every notebook runs top to bottom in a real kernel, and keeps the lab's notebook conventions."""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "-", "notes"}

pytestmark = pytest.mark.slow


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_all_eight_notebooks_exist():
    assert [p.name[:2] for p in PATHS] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_conventions(path):
    nb = load(path)
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(f"# {path.name[:2]} ")
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "Why it matters" in text and "**Recipe:**" in text and "seed" in text.split("**Recipe:**")[1]
    assert "## Things to try" in text
    if path.name.startswith("04"):
        assert "## Things to try" in cells[-2].source          # the stepper is displayed last
    else:
        assert "## Things to try" in cells[-1].source
    for c in cells:
        assert c.metadata["slideshow"]["slide_type"] in SLIDE_TYPES
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, "commit notebooks without outputs"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_notebooks_match_their_generator(tmp_path):
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOKS / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for written in module.main(tmp_path):
        committed = NOTEBOOKS / written.name
        a = json.loads(written.read_text())
        b = json.loads(committed.read_text())
        for nb in (a, b):
            for cell in nb["cells"]:
                cell.pop("id", None)
        assert a == b, f"{written.name} differs from notebooks/build_notebooks.py: rerun it"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_runs(path):
    nb = load(path)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    t0 = time.perf_counter()
    client.execute()                       # raises CellExecutionError on any error
    elapsed = time.perf_counter() - t0
    print(f"{path.name}: {elapsed:.1f} s")
    assert elapsed < 30, f"{path.name} took {elapsed:.1f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    stderr = [o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, stderr
    if path.name.startswith("04"):
        last = nb.cells[-1].outputs
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in last)
