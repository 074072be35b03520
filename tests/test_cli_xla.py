"""The CLI's XLA setting (`keras_s2s/cli/_xla.py`): LLVM optimisation level 1 on the CPU, set
in the `keras-s2s` process only, and a flag that XLA still accepts."""

import os
import subprocess
import sys

import keras

from keras_s2s import cli
from keras_s2s.cli import _xla

# a fresh process runs the CLI, then compiles with XLA: an unknown flag in XLA_FLAGS aborts
# it (parse_flags_from_env.cc), so a renamed flag fails here, loudly, with XLA's own message
_FRESH = """
import os, sys
from keras_s2s import cli
status = cli.main(["list"])
import tensorflow as tf
compiled = tf.function(lambda x: tf.matmul(x, x) + 1.0, jit_compile=True)
value = float(compiled(tf.ones((4, 4)))[0, 0])
print("STATUS", status, "VALUE", value, "FLAGS", os.environ.get("XLA_FLAGS", ""))
"""


def _fresh(xla_flags=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow",
           "CUDA_VISIBLE_DEVICES": ""}
    env.pop("XLA_FLAGS", None)
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    proc = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, f"XLA refused the CLI's flags:\n{proc.stderr[-2000:]}"
    line = [l for l in proc.stdout.splitlines() if l.startswith("STATUS")][-1]
    assert "STATUS 0 VALUE 5.0" in line, line
    return line.split("FLAGS", 1)[1].strip()


def test_cli_process_sets_level_1_and_xla_accepts_it():
    assert _fresh() == "--xla_backend_optimization_level=1"


def test_a_users_level_stands_and_other_flags_are_kept():
    assert _fresh("--xla_backend_optimization_level=2") == "--xla_backend_optimization_level=2"
    if keras.backend.backend() != "tensorflow":  # the setting is TensorFlow's alone
        assert not _xla.cpu_compile_flags({})
        return
    env = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=false"}
    assert _xla.cpu_compile_flags(env)
    assert env["XLA_FLAGS"] == ("--xla_cpu_enable_fast_math=false "
                                "--xla_backend_optimization_level=1")


def test_a_process_that_imported_tensorflow_first_is_left_alone(monkeypatch, capsys):
    import tensorflow  # noqa: F401  (the test process: TensorFlow is loaded already)

    monkeypatch.delenv("XLA_FLAGS", raising=False)
    assert cli.main(["list"]) == 0
    assert "XLA_FLAGS" not in os.environ
