"""Training on several hosts (`keras_s2s.workers`): two worker processes on localhost.

The cluster test starts two `keras-s2s train --recipe` processes with a `TF_CONFIG` of two
workers on ports of 127.0.0.1 that the test picks, bounded in time. The reference is the
same recipe trained in one process on the CPU split into 2 logical devices
(`tests/fixtures/multi_worker_reference.py`): the same 2 replicas, so the weights agree only
when every worker got exactly its replica's rows of every global batch (a duplicated or a
dropped example changes the gradient). One step on 2 replicas equals one device already
(`tests/test_distributed.py`).
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from keras_s2s import workers
from keras_s2s.distribution import DeviceError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "tests", "fixtures", "multi_worker_reference.py")

# 40 reversals of 3-12 letters at batch 8: 6 global batches in 2 length buckets, one of them
# partial (filled up with all-padding rows)
RECIPE = """
task = "reverse"
[task_options]
num_train = 40
num_validation = 16
num_test = 8
seed = 0
[model]
name = "luong_bilstm"
units = 8
embedding_dim = 8
dropout = 0.0
[training]
epochs = 1
batch_size = 8
learning_rate = 1e-2
schedule = "constant"
seed = 0
jit = false
metric = "sequence_accuracy"
max_eval_examples = 16
"""


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def _run_workers(tmp_path, recipe, out, name, timeout=300):
    """Both workers' `(returncode, stderr)`, and each worker's TMPDIR."""
    ports = _free_ports(2)
    processes, scratch = [], []
    for index in range(2):
        tmp = tmp_path / f"{name}_tmp{index}"
        tmp.mkdir()
        scratch.append(tmp)
        env = {**os.environ, "TF_CONFIG": _tf_config(ports, index), "TMPDIR": str(tmp),
               "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "keras_s2s.cli", "train", "--recipe", str(recipe), "--out",
             str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    try:
        for process in processes:
            _, stderr = process.communicate(timeout=timeout)
            results.append((process.returncode, stderr))
    finally:
        for process in processes:
            process.kill()
    return results, scratch


def _weights(run_dir):
    from keras_s2s.training.recipe import load_run

    return load_run(str(run_dir))[0].get_weights()


# two worker processes and the reference process: about 100 s of both cores here
@pytest.mark.extended
def test_two_workers_on_localhost_train_as_two_replicas_and_write_one_run(tmp_path):
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(RECIPE)
    out = tmp_path / "run"
    results, scratch = _run_workers(tmp_path, recipe, out, "first")
    for code, stderr in results:
        assert code == 0, stderr[-3000:]
    # one run, written by the chief: one epoch's checkpoint
    assert sorted(os.listdir(out)) == ["best.json", "config.json", "epochs", "model.keras",
                                       "source_tokenizer.json", "target_tokenizer.json"]
    assert os.listdir(out / "epochs") == ["epoch-0001.weights.npz"]
    config = json.loads((out / "config.json").read_text())
    assert config["complete"] and config["training"]["devices"] == 2
    assert config["chosen"]["workers"]["value"] == 2
    assert "worker 0, which writes the run" in config["chosen"]["workers"]["why"]
    assert config["results"]["epochs_run"] == 1
    # the other worker's scratch run is gone, and nothing else was written beside the run
    assert os.listdir(scratch[1]) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["tiny.toml", "run", ".run.lock", "first_tmp0", "first_tmp1"])

    reference = tmp_path / "reference"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    env.pop("TF_CONFIG", None)
    proc = subprocess.run([sys.executable, REFERENCE, str(recipe), str(reference)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reference_config = json.loads((reference / "config.json").read_text())
    assert config["results"]["history"]["loss"] == pytest.approx(
        reference_config["results"]["history"]["loss"], abs=1e-5)
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(
        _weights(out), _weights(reference)))
    assert difference < 1e-5

    # a run directory the chief refuses stops both workers with one line, and no hang
    results, _ = _run_workers(tmp_path, recipe, out, "again", timeout=120)
    (chief_code, chief_err), (other_code, other_err) = results
    assert chief_code == 2 and "holds a finished run" in chief_err.strip().splitlines()[-1]
    assert other_code == 2
    assert other_err.strip().splitlines()[-1].endswith(
        "the chief worker refused the run directory; its log says why")
    assert "Traceback" not in chief_err + other_err


@pytest.mark.parametrize("text, message", [
    ("{not json", "TF_CONFIG is not a cluster description (JSONDecodeError"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}}', "TF_CONFIG is not a cluster description "
                                                "(KeyError"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
     "TF_CONFIG's task worker:2 is not one of its cluster's chief or workers"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
     "TF_CONFIG's task ps:0 is not one of"),
])
def test_tf_config_mistakes_are_one_line(monkeypatch, text, message):
    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(DeviceError, match=None) as error:
        workers.Cluster.from_environment()
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_cluster_roles(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert workers.Cluster.from_environment() is None
    monkeypatch.setenv("TF_CONFIG", _tf_config([1], 0))  # one worker: one process
    assert workers.Cluster.from_environment() is None
    monkeypatch.setenv("TF_CONFIG", _tf_config([1, 2, 3], 2))
    cluster = workers.Cluster.from_environment()
    assert (cluster.workers, cluster.index, cluster.is_chief) == (3, 2, False)
    monkeypatch.setenv("TF_CONFIG", _tf_config([1, 2], 0))
    assert workers.Cluster.from_environment().is_chief
    with_chief = {"cluster": {"chief": ["c:1"], "worker": ["a:1"]},
                  "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(with_chief))
    cluster = workers.Cluster.from_environment()
    assert cluster.workers == 2 and not cluster.is_chief  # worker 0 is not the chief here
    with_chief["task"] = {"type": "chief", "index": 0}
    monkeypatch.setenv("TF_CONFIG", json.dumps(with_chief))
    assert workers.Cluster.from_environment().is_chief


def test_one_process_changes_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert workers.multi_worker_strategy() is None
    assert workers.chief_value(3.5) == 3.5 and workers.agree(False) is False
    with workers.run_directory(str(tmp_path / "run")) as directory:
        assert directory == str(tmp_path / "run")


def test_other_workers_write_a_scratch_directory_that_is_removed(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_CONFIG", _tf_config([1, 2], 1))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(workers, "_STARTED",  # as if the cluster had started
                        [(object(), workers.Cluster.from_environment())])
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    with workers.run_directory("runs/shared") as directory:
        assert directory.startswith(str(tmp_path)) and directory.endswith("run")
        os.makedirs(directory)
        open(os.path.join(directory, "model.keras"), "w").close()
    assert os.listdir(tmp_path) == []


def test_cli_names_a_bad_tf_config_in_one_line(monkeypatch, capsys, tmp_path):
    from keras_s2s.cli import main

    monkeypatch.setenv("TF_CONFIG", "{oops")
    code = main(["train", "luong_bilstm", "--task", "reverse", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("keras-s2s train: error: TF_CONFIG is not a cluster description")
    assert not os.path.exists(tmp_path / "r")
