"""The PyTorch backend (`KERAS_BACKEND=torch`, run by `make test-torch`; skipped elsewhere).

Three entries of three families (`luong_bilstm`, `transformer_small`, `seq_vae_lstm`), each
checked against an independent reference: the same saved model loaded on the TensorFlow
backend in a subprocess (`tests/fixtures/backend_reference.py`) gives the same logits and the
same greedy and beam decodes. Then `model.fit` (eager: Keras' `jit_compile` on PyTorch is
`torch.compile`, see docs/ARCHITECTURE.md "Backends") overfits a batch, and `keras-s2s train`
and `decode` run end to end on PyTorch.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_s2s import losses, metrics, zoo
from tests.fixtures.backend_reference import outputs
from tests.zoo.test_models import _batch, _tiny

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="PyTorch backend tests: KERAS_BACKEND=torch "
                                       "(make test-torch)")

ENTRIES = ["luong_bilstm", "transformer_small", "seq_vae_lstm"]
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _reference(path, x, source, tmp_path, backend="tensorflow"):
    given, written = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(given, source=source, **{f"x_{k}": v for k, v in x.items()})
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": REPO}
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "fixtures",
                                                 "backend_reference.py"),
                    str(path), str(given), str(written)], env=env, check=True, timeout=300)
    reference = np.load(written)
    assert str(reference["backend"]) == backend
    return reference


@pytest.mark.parametrize("name", ENTRIES)
def test_logits_and_decodes_equal_tensorflows(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = _tiny(name)
    x, _ = _batch()
    source = x["encoder_token_ids"]
    path = tmp_path / f"{name}.keras"
    model.save(path)
    got = outputs(keras.saving.load_model(path, safe_mode=True), x, source)
    want = _reference(path, x, source, tmp_path)
    np.testing.assert_allclose(got["logits"], want["logits"], atol=1e-5)
    for method in ("greedy", "beam"):
        np.testing.assert_array_equal(got[f"{method}_token_ids"], want[f"{method}_token_ids"])
        for field in ("log_probs", "scores"):
            np.testing.assert_allclose(got[f"{method}_{field}"], want[f"{method}_{field}"],
                                       atol=1e-4, err_msg=f"{name} {method} {field}")


@pytest.mark.parametrize("name", ENTRIES)
def test_fit_overfits_a_batch(name):
    keras.utils.set_random_seed(0)
    model = _tiny(name)
    x, y = _batch()
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=losses.MaskedSparseCategoricalCrossentropy(),
                  metrics=[metrics.MaskedAccuracy()], jit_compile=False)
    history = model.fit(x, y, epochs=40, verbose=0).history["loss"]
    assert np.all(np.isfinite(history))
    assert history[-1] < 0.5 * history[0], history
    if not zoo.get_spec(name).stochastic:
        loss = losses.MaskedSparseCategoricalCrossentropy()(y, model(x))
        assert float(keras.ops.convert_to_numpy(loss)) < 0.5 * history[0]


def test_cli_trains_and_decodes_on_torch(tmp_path):
    """`keras-s2s --backend torch train` and `decode`: the backend and the eager training
    (with the reason) are recorded in the run's config.json."""
    import json

    words = ["abc", "bca", "cab", "abd", "dab", "bad", "cad", "dca", "acd", "dbc"] * 6
    lines = [f"{' '.join(w)}\t{' '.join(reversed(w))}\n" for w in words]
    train, validation = tmp_path / "train.tsv", tmp_path / "validation.tsv"
    train.write_text("".join(lines[:50]))
    validation.write_text("".join(lines[50:]))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    cli = [sys.executable, "-m", "keras_s2s.cli", "--backend", "torch"]
    run = tmp_path / "run"
    done = subprocess.run(cli + ["train", "luong_bilstm", "--train", str(train),
                                 "--validation", str(validation), "--source-tokenizer", "word",
                                 "--target-tokenizer", "word", "--units", "16", "--epochs", "2",
                                 "--out", str(run)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["backend"] == "torch" and config["training"]["jit"] is False, config
    assert "torch.compile" in config["chosen"]["jit"]["why"]
    decoded = subprocess.run(cli + ["decode", str(run)], input="a b c\n", env=env,
                             capture_output=True, text=True, timeout=300)
    assert decoded.returncode == 0, decoded.stderr
    # one line of target tokens (2 epochs on 50 pairs: right or not)
    assert len(decoded.stdout.splitlines()) == 1
    assert set(decoded.stdout.split()) <= {*"abcd", "<unk>"} and decoded.stdout.strip()
