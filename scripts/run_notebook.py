"""Execute tutorial notebooks top to bottom, as `make test` does.

Usage: python scripts/run_notebook.py tutorials/01_data.ipynb [...] [--full]

By default the notebooks run in smoke mode (`KERAS_S2S_SMOKE=1`: fewer examples and epochs);
`--full` runs them at full size. Each runs in a fresh temporary directory, so the files it
writes (runs, logs, PNGs) go there; a failing cell raises with the cell's traceback.

`run` starts one kernel per notebook, as a user's Jupyter does. `Kernel` runs several
notebooks in one kernel, each in an emptied namespace (`%reset -f`), its own temporary
directory, and Keras' global state reset (float32 policy, a cleared session); the tests use
it because starting a kernel and importing TensorFlow cost ~4-7 s a notebook on this CPU.
Modules imported by an earlier notebook stay loaded, but their names do not: a notebook that
forgets an import still fails.
"""

import argparse
import contextlib
import os
import sys
import tempfile
import time

import nbclient
import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.util import run_sync

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs first in a shared kernel, before each notebook's own cells.
PREAMBLE = """\
%reset -f
import os as _os
import keras as _keras
import matplotlib.pyplot as _plt
_keras.mixed_precision.set_global_policy("float32")
_keras.backend.clear_session()
_plt.close("all")
_os.chdir({workdir!r})
del _os, _keras, _plt
"""


@contextlib.contextmanager
def _environment(smoke):
    """This process's environment with the notebook settings; kernels inherit it."""
    env = dict(KERAS_S2S_SMOKE="1" if smoke else "0",
               KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "tensorflow"),
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    old = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(old)


def run(path, smoke=True, timeout=600):
    """Execute one notebook in a new kernel and a temporary directory; return the seconds."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir, _environment(smoke):
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": workdir}})
        client.execute()
    return time.perf_counter() - start


class Kernel:
    """One kernel that executes several notebooks, each as if it were alone (see the module
    docstring for what "alone" covers).

    Example:

    >>> kernel = Kernel(smoke=True)
    >>> seconds = kernel.run("tutorials/01_data.ipynb")
    >>> kernel.close()
    """

    def __init__(self, smoke=True, timeout=600):
        self.smoke, self.timeout = smoke, timeout
        self._home = tempfile.TemporaryDirectory()
        self.km = AsyncKernelManager(kernel_name="python3")
        with _environment(smoke):
            run_sync(self.km.start_kernel)(cwd=self._home.name)

    def run(self, path):
        """Execute notebook `path` in this kernel; return the seconds it took."""
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as workdir:
            notebook.cells.insert(0, nbformat.v4.new_code_cell(PREAMBLE.format(workdir=workdir)))
            try:
                self._execute(notebook, self.timeout)
            finally:
                # leave the directory before it is deleted
                self._execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
                    f"import os as _os; _os.chdir({self._home.name!r}); del _os")]), 60)
        return time.perf_counter() - start

    def _execute(self, notebook, timeout):
        client = nbclient.NotebookClient(notebook, km=self.km, timeout=timeout,
                                         kernel_name="python3")
        try:
            client.execute()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()

    def close(self):
        """Shut the kernel down and remove its directory."""
        run_sync(self.km.shutdown_kernel)(now=True)
        self._home.cleanup()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--full", action="store_true", help="full size instead of smoke mode")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        seconds = run(path, smoke=not args.full)
        print(f"{path}: ok in {seconds:.1f}s ({'full' if args.full else 'smoke'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
