"""Test defaults: TensorFlow backend unless KERAS_BACKEND says otherwise, quiet logs, seeds."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# the tokenizer cache (keras_s2s.data.tokenizer_cache) of the tests: out of the user's home,
# shared by the xdist workers (entries are keyed by their content, never stale)
os.environ.setdefault("KERAS_S2S_CACHE", os.path.join(
    __import__("tempfile").gettempdir(), "keras_s2s_test_cache"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

if os.environ.get("PYTEST_XDIST_WORKER") and keras.backend.backend() == "tensorflow":
    # `make test` runs one worker per core: one TensorFlow thread each avoids oversubscribing
    # the cores (measured: 13 per-entry tests in 123 s instead of 140 s with -n 2, 2 cores)
    # ... and so do the processes the tests start (CLI subprocesses, notebook kernels): TF
    # reads these before it makes its thread pools
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    import tensorflow as tf  # noqa: E402

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield

