"""Data-parallel training (`keras_s2s.distribution`) on the host CPU split into 2 devices.

Each backend runs `tests/fixtures/distributed_check.py` in a fresh process, because the CPU
must be split before the backend starts. The reference is one device on the same global
batch: the 2-replica step must give the same loss and weights (1e-5), with the two replicas'
shares holding different numbers of real tokens and every gradient clipped, so that a
per-replica loss normalisation or a per-replica clipping would show.
"""

import json
import os
import subprocess
import sys

import pytest

from keras_s2s.distribution import DeviceError, check_devices, data_parallel, is_replicated

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests", "fixtures", "distributed_check.py")


_REPORTS = {}


@pytest.fixture(scope="module")
def report_of(tmp_path_factory):
    """`report_of(backend)`: the fixture script's report, run once per backend."""
    def run(backend):
        if backend not in _REPORTS:
            folder = tmp_path_factory.mktemp(backend)
            out = folder / "report.json"
            env = {**os.environ, "KERAS_BACKEND": backend}
            env.pop("XLA_FLAGS", None)
            proc = subprocess.run([sys.executable, SCRIPT, backend, str(folder / "run"),
                                   str(out)], env=env, capture_output=True, text=True,
                                  timeout=600)
            assert proc.returncode == 0, proc.stderr[-3000:]
            with open(out) as f:
                _REPORTS[backend] = {**json.load(f), "run": str(folder / "run")}
        return _REPORTS[backend]
    return run


# the runs took 67 s (TensorFlow) and 127 s (JAX, with the (2, 2) ModelParallel mesh) here:
# `make test-all` runs the tests that read them, `make test` the device checks below
@pytest.mark.extended
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_two_replicas_equal_one_device_on_the_global_batch(backend, report_of):
    report = report_of(backend)
    assert len(report["devices"]) == (4 if backend == "jax" else 2)
    step = report["step"]
    assert step["single_loss"] == pytest.approx(step["replicated_loss"], abs=1e-5)
    assert step["max_weight_difference"] < 1e-5
    # every variable lives on both devices (replicated, not placed on one)
    assert report["sharding"] == [2]
    assert report["odd_batch_error"].startswith("--batch-size 33 does not split over 2 replicas")
    # the recipe trains with devices=2 and writes one run
    train = report["train"]
    assert train["training"]["devices"] == 2
    assert train["results"]["epochs_run"] == 1
    assert train["chosen"]["devices"]["value"] == 2
    # TensorFlow runs mirrored steps as graphs (XLA can't compile them) and says so
    assert train["training"]["jit"] is (backend == "jax")
    assert ("jit" in train["chosen"]) is (backend == "tensorflow")
    # TensorFlow's mirrored steps clip with ReplicaAdam, which saves and reloads
    assert report["reloaded_optimizer"] == ("ReplicaAdam" if backend == "tensorflow" else "Adam")
    assert report["reloaded_clipnorm"] == 1.0
    assert sorted(os.listdir(report["run"])) == [
        "best.json", "config.json", "epochs", "model.keras", "source_tokenizer.json",
        "target_tokenizer.json"]


def test_one_device_changes_nothing():
    with data_parallel(1):
        assert not is_replicated()


@pytest.mark.parametrize("devices, batch_size, message", [
    (4, 64, "--devices 4: the tensorflow backend sees 1 device(s)"),
    (0, 64, "--devices must be a positive whole number"),
    (True, 64, "--devices must be a positive whole number"),
])
def test_device_errors_name_the_problem(devices, batch_size, message):
    with pytest.raises(DeviceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_devices(devices, batch_size)


def test_cli_refuses_more_devices_than_there_are(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "keras_s2s.cli", "train", "luong_bilstm",
                           "--task", "reverse", "--out", str(tmp_path / "run"), "--devices",
                           "2"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "keras-s2s train: error:" in line]
    assert len(lines) == 1 and "--devices 2" in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert not os.path.exists(tmp_path / "run")


@pytest.mark.extended  # reads JAX's run (see above)
def test_model_parallel_transformer_base_is_sharded_and_trains_as_one_device(report_of):
    report = report_of("jax")["model_parallel"]
    assert report["sharded_loss"] == pytest.approx(report["single_loss"], abs=1e-5)
    assert report["max_weight_difference"] < 1e-5
    variables = report["variables"]
    query = variables["encoder/block_0/self_attention_layer/query/kernel"]
    assert query[1] == [8, 1, 4] and query[2] == [8, 2, 4]  # one head per device
    ffn = variables["decoder/block_0/feedforward_intermediate_dense/kernel"]
    assert ffn[1] == [8, 8] and ffn[2] == [8, 16]
    assert variables["encoder_embedding/embeddings"][1] == [50, 4]
    # layer norms stay whole on every device
    assert variables["encoder/block_0/feedforward_layer_norm/gamma"][1] == [8]


def test_model_parallel_is_refused_on_tensorflow():
    with pytest.raises(DeviceError, match="--model-parallel runs on the JAX backend"):
        check_devices(4, 64, model_axis=2)
