"""Test defaults: TensorFlow backend unless KERAS_BACKEND says otherwise, quiet logs, seeds."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield


# The longest tests (measured with --durations, about a minute or more each) start first, so
# that the two xdist workers don't end with one of them alone on a long test. Tests that share
# an expensive module-scoped fixture (the VAEs of test_autoencoders, the quick bench of
# test_bench_suite) stay where they are: moving one of them away from its module made both
# workers build the fixture (about 160 s of CPU in the clean-clone run).
_LONG_FIRST = (
    "test_learning_real_data.py::test_short_fit",
    "test_models.py::test_entry_learns_reversal",
    "test_evaluation.py::test_luong_bilstm_learns_g2p",
    "test_tutorials.py::test_notebook_runs_in_smoke_mode",
    "test_resume.py",
    "test_autoencoders.py::test_sequence_autoencoder",
    "faults/test_run_dir.py::test_kill_9",
    "faults/test_run_dir.py::test_two_trainings",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        for position, prefix in enumerate(_LONG_FIRST):
            if prefix in item.nodeid:
                return position
        return len(_LONG_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order
