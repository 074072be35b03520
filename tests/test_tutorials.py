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


@pytest.fixture(scope="module")
def kernel():
    """One kernel per test worker: each notebook still runs in an emptied namespace and its
    own directory (scripts/run_notebook.py, `Kernel`), without paying ~5 s of kernel start and
    TensorFlow import each."""
    kernel = load_script("run_notebook").Kernel(smoke=True, timeout=300)
    yield kernel
    kernel.close()


# `make test` runs the first notebook (its 25-minute budget: the smoke runs took 15-77 s
# each on the 2-core CPU, 387 s in all); `make test-all` runs every one
EXTENDED = {"02_encoder_decoder.ipynb", "03_recurrent_cells.ipynb", "04_going_deeper.ipynb", "05_attention.ipynb",
            "06_decoding.ipynb", "07_transformers.ipynb", "08_language_models.ipynb",
            "09_autoencoders.ipynb", "10_your_data_and_tensorboard.ipynb",
            "11_pointers_and_copying.ipynb"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.extended) if n in EXTENDED
                                  else n for n in NOTEBOOKS])
def test_notebook_runs_in_smoke_mode(name, kernel):
    # a failing cell raises nbclient's CellExecutionError with the cell's traceback
    kernel.run(os.path.join(TUTORIALS, name))


def test_the_shared_kernel_runs_each_notebook_as_if_alone(kernel, tmp_path):
    """What one notebook leaves behind (names, files, Keras' policy) is not there for the next."""
    first = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import keras\nleaked = 1\nopen('left.txt', 'w').close()\n"
        "keras.mixed_precision.set_global_policy('mixed_bfloat16')")])
    second = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nimport keras\nassert 'leaked' not in globals()\n"
        "assert os.listdir('.') == [], os.listdir('.')\n"
        "assert keras.mixed_precision.global_policy().name == 'float32'")])
    for name, notebook in [("first", first), ("second", second)]:
        nbformat.write(notebook, str(tmp_path / f"{name}.ipynb"))
        kernel.run(str(tmp_path / f"{name}.ipynb"))
    with pytest.raises(Exception, match="leaked"):  # a name it never defined is missing
        third = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(leaked)")])
        nbformat.write(third, str(tmp_path / "third.ipynb"))
        kernel.run(str(tmp_path / "third.ipynb"))


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
