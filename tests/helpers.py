"""Small reusable checks, in the spirit of keras-hub's run_layer_test (ours, not keras' private one)."""

import importlib.util
import os

import keras
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script(name):
    """Import `scripts/<name>.py` (the scripts are not a package) and return the module."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_config_roundtrip(layer):
    """`from_config(get_config())` rebuilds a layer with the same config."""
    config = layer.get_config()
    clone = layer.__class__.from_config(config)
    assert clone.get_config() == config
    return clone


def assert_saving_roundtrip(model, inputs, tmp_path, atol=1e-6):
    """The model saves to `.keras`, reloads with `safe_mode=True`, and predicts the same."""
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    expected = keras.tree.flatten(model.predict(inputs, verbose=0))
    actual = keras.tree.flatten(reloaded.predict(inputs, verbose=0))
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(a, e, atol=atol)
    return reloaded


def assert_jit_parity_and_gradients(make_model, inputs, targets, atol=1e-5):
    """Forward and backward agree with and without XLA, and every weight gets a gradient.

    Two copies of the model with the same weights take one SGD step of learning rate 1 on an
    MSE loss, one compiled with `jit_compile=True` and one without; the weight deltas are the
    gradients. `make_model()` must return a fresh single-output model.
    """
    models = [make_model(), make_model()]
    models[1].set_weights(models[0].get_weights())
    for model, jit in zip(models, (True, False)):
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse", jit_compile=jit)
    outputs = [m.predict(inputs, verbose=0) for m in models]
    np.testing.assert_allclose(outputs[0], outputs[1], atol=atol)
    before = [[keras.ops.convert_to_numpy(w).copy() for w in m.trainable_weights] for m in models]
    losses = [float(np.asarray(m.train_on_batch(inputs, targets)).ravel()[0]) for m in models]
    assert np.isfinite(losses[0])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5, atol=atol)
    after = [[keras.ops.convert_to_numpy(w) for w in m.trainable_weights] for m in models]
    for w, b0, a0, b1, a1 in zip(models[0].trainable_weights, before[0], after[0], before[1], after[1]):
        grad_jit, grad_eager = b0 - a0, b1 - a1
        assert np.abs(grad_jit).max() > 0, f"weight {w.path} got no gradient"
        np.testing.assert_allclose(grad_jit, grad_eager, atol=atol, err_msg=w.path)
