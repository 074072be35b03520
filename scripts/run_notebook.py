"""Execute tutorial notebooks top to bottom, as `make test` does.

Usage: python scripts/run_notebook.py tutorials/01_data.ipynb [...] [--full]

By default the notebooks run in smoke mode (`KERAS_S2S_SMOKE=1`: fewer examples and epochs);
`--full` runs them at full size. Each runs in a fresh temporary directory, so the files it
writes (runs, logs, PNGs) go there; a failing cell raises with the cell's traceback.
"""

import argparse
import os
import sys
import tempfile
import time

import nbclient
import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(path, smoke=True, timeout=600):
    """Execute one notebook in a temporary directory; return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    env = dict(os.environ, KERAS_S2S_SMOKE="1" if smoke else "0",
               KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "tensorflow"),
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        old = dict(os.environ)
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                             resources={"metadata": {"path": workdir}})
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(old)
    return time.perf_counter() - start


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
