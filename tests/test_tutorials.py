"""The tutorials: every notebook runs top to bottom in smoke mode, is committed without
outputs, and is listed in tutorials/README.md with a one-line description."""

import glob
import os
import re

import nbformat
import pytest

from tests.helpers import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = os.path.join(ROOT, "tutorials")
NOTEBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(TUTORIALS, "*.ipynb")))


def _runner():
    return load_script("run_notebook")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_smoke_mode(name):
    # a failing cell raises nbclient's CellExecutionError with the cell's traceback
    _runner().run(os.path.join(TUTORIALS, name), smoke=True, timeout=300)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs_and_names_its_sources(name):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", name), "name them NN_topic.ipynb"
    notebook = nbformat.read(os.path.join(TUTORIALS, name), as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}: clear the outputs before committing")
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "KERAS_S2S_SMOKE" in "\n".join(c.source for c in notebook.cells)
    assert re.search(r"\b(19|20)\d\d\b", text), f"{name}: name the paper(s)"
    assert "try next" in text.lower(), f"{name}: end with what to try next"


def test_every_notebook_is_listed_with_a_description():
    readme = open(os.path.join(TUTORIALS, "README.md"), encoding="utf-8").read()
    listed = re.findall(r"\[([^\]]+\.ipynb)\]\(\1\)\s*\|\s*([^|\n]+?)\s*\|", readme)
    assert sorted(name for name, _ in listed) == NOTEBOOKS
    assert all(len(description.split()) >= 4 for _, description in listed)
    assert "tutorials/README.md" in open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
