"""GaussianPosterior: the KL term against NumPy's closed form, sampling, gradients, saving."""

import doctest

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import GaussianPosterior
from keras_s2s.layers import latent as latent_module
from tests.helpers import assert_config_roundtrip, assert_saving_roundtrip


def _np(x):
    return ops.convert_to_numpy(x)


def _numpy_kl(posterior, h):
    """Per-example, per-dimension KL(N(mu, sigma^2) || N(0, 1)) from the layer's dense weights."""
    kernel, bias = (_np(w) for w in posterior.mean.weights)
    mean = h @ kernel + bias
    kernel, bias = (_np(w) for w in posterior.log_variance.weights)
    log_variance = h @ kernel + bias
    return 0.5 * (mean ** 2 + np.exp(log_variance) - 1.0 - log_variance), mean, log_variance


def _features(rows=16, features=6, seed=0):
    return np.random.default_rng(seed).normal(size=(rows, features)).astype("float32")


def _set_dense_weights(posterior, features=6, seed=0):
    """Backend-independent weights, so that the per-dimension KLs are known in advance."""
    rng = np.random.default_rng(seed)
    for dense in (posterior.mean, posterior.log_variance):
        dense.set_weights([rng.normal(0, 0.4, (features, posterior.latent_dim)).astype("float32"),
                           rng.normal(0, 0.4, posterior.latent_dim).astype("float32")])


@pytest.mark.parametrize("free_bits", [0.0, 0.3])
def test_kl_loss_and_variables_equal_the_closed_form(free_bits):
    h = _features()
    posterior = GaussianPosterior(5, free_bits=free_bits, kl_weight=0.5, seed=0)
    posterior.build(h.shape)
    _set_dense_weights(posterior)
    posterior(h, training=True)
    kl, _, _ = _numpy_kl(posterior, h)  # (batch, latent_dim)
    per_dimension = kl.mean(axis=0)
    if free_bits:
        assert np.any(per_dimension < free_bits) and np.any(per_dimension > free_bits)
    expected_loss = 0.5 * np.maximum(per_dimension, free_bits).sum()
    assert len(posterior.losses) == 1
    np.testing.assert_allclose(_np(posterior.losses[0]), expected_loss, rtol=1e-5)
    # the recorded KL is raw: no weight, no free bits
    np.testing.assert_allclose(_np(posterior.kl), kl.sum(axis=1).mean(), rtol=1e-5)
    np.testing.assert_allclose(_np(posterior.kl_per_dimension), per_dimension, rtol=1e-5)


def test_kl_in_compiled_fit_equals_the_closed_form():
    """Inside `fit(jit_compile=True)` the model's loss is exactly `kl_weight * KL` (free bits)."""
    h = _features()
    inputs = keras.Input((6,))
    posterior = GaussianPosterior(5, free_bits=0.3, kl_weight=0.7, seed=1, name="posterior")
    model = keras.Model(inputs, posterior(inputs))
    _set_dense_weights(posterior)
    model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=True)  # the KL is the loss
    history = model.fit(h, batch_size=16, epochs=1, verbose=0)
    kl, _, _ = _numpy_kl(posterior, h)
    per_dimension = kl.mean(axis=0)
    assert per_dimension.min() < 0.3 < per_dimension.max()  # free bits matter here
    np.testing.assert_allclose(history.history["loss"][0],
                               0.7 * np.maximum(per_dimension, 0.3).sum(), rtol=1e-5)
    np.testing.assert_allclose(_np(posterior.kl), kl.sum(axis=1).mean(), rtol=1e-5)
    np.testing.assert_allclose(_np(posterior.kl_per_dimension), per_dimension, rtol=1e-5)
    # evaluation adds the KL too (the validation loss of a VAE is the negative ELBO)
    np.testing.assert_allclose(model.evaluate(h, verbose=0), history.history["loss"][0],
                               rtol=1e-5)


def test_samples_have_the_posterior_mean_and_variance():
    n = 4096
    h = np.repeat(_features(rows=1), n, axis=0)  # one posterior, n draws
    posterior = GaussianPosterior(3, seed=2)
    z = _np(posterior(h, training=True))
    _, mean, log_variance = _numpy_kl(posterior, h[:1])
    std = np.exp(0.5 * log_variance[0])
    # within 5 standard errors: of the mean, sigma / sqrt(n); of the variance, sigma^2 sqrt(2 / n)
    assert np.all(np.abs(z.mean(axis=0) - mean[0]) < 5 * std / np.sqrt(n))
    assert np.all(np.abs(z.var(axis=0) - std ** 2) < 5 * std ** 2 * np.sqrt(2 / n))
    # inference returns the mean, exactly as `mean_and_log_variance` gives it
    at_inference = _np(posterior(h[:2]))
    np.testing.assert_array_equal(at_inference, _np(posterior(h[:2], training=False)))
    mu, log_var = posterior.mean_and_log_variance(h[:2])
    np.testing.assert_allclose(at_inference, _np(mu), rtol=1e-6)
    np.testing.assert_allclose(_np(log_var), log_variance.repeat(2, axis=0), rtol=1e-5, atol=1e-6)


def test_seeded_sampling_is_reproducible():
    h = _features()
    first, twin, other = (GaussianPosterior(4, seed=s) for s in (5, 5, 6))
    first(h)
    twin(h)
    other(h)
    twin.set_weights(first.get_weights())
    other.set_weights(first.get_weights())
    a, b = _np(first(h, training=True)), _np(first(h, training=True))
    assert not np.allclose(a, b)  # the noise advances
    np.testing.assert_array_equal(_np(twin(h, training=True)), a)
    np.testing.assert_array_equal(_np(twin(h, training=True)), b)
    assert not np.allclose(_np(other(h, training=True)), a)


def test_gradients_reach_both_dense_layers_through_the_sample():
    """With `kl_weight=0` only the reparameterised sample carries gradients to `log_variance`."""
    h = _features()
    inputs = keras.Input((6,))
    posterior = GaussianPosterior(4, kl_weight=0.0, seed=3)
    model = keras.Model(inputs, posterior(inputs))
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse", jit_compile=True)
    before = [_np(w).copy() for w in model.trainable_weights]
    model.train_on_batch(h, np.full((16, 4), 3.0, "float32"))
    for weight, old in zip(model.trainable_weights, before):
        assert np.abs(_np(weight) - old).max() > 0, f"{weight.path} got no gradient"
    assert {w.path.split("/")[-2] for w in model.trainable_weights} == {"mean", "log_variance"}


def test_config_saving_and_kl_weight_variable(tmp_path):
    posterior = GaussianPosterior(4, free_bits=0.25, kl_weight=0.1, seed=7, name="posterior")
    config = assert_config_roundtrip(posterior).get_config()
    assert config["latent_dim"] == 4 and config["free_bits"] == 0.25 and config["kl_weight"] == 0.1
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(posterior(hidden)))
    assert tuple(model.output.shape) == (None, 3)
    assert {v.path.split("/")[-1] for v in posterior.non_trainable_variables} >= {
        "kl_weight", "kl", "kl_per_dimension"}
    assert tuple(posterior.kl_per_dimension.shape) == (4,)
    np.testing.assert_allclose(_np(posterior.kl_weight), 0.1)
    posterior.kl_weight.assign(0.6)  # an annealed weight is saved with the model
    reloaded = assert_saving_roundtrip(model, _features(), tmp_path)
    np.testing.assert_allclose(_np(reloaded.get_layer("posterior").kl_weight), 0.6)
    assert reloaded.get_layer("posterior").get_config() == posterior.get_config()


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="`latent_dim`"):
        GaussianPosterior(0)
    with pytest.raises(ValueError, match="`free_bits`"):
        GaussianPosterior(4, free_bits=-0.1)
    with pytest.raises(ValueError, match="`kl_weight`"):
        GaussianPosterior(4, kl_weight="1")
    with pytest.raises(ValueError, match="`seed`"):
        GaussianPosterior(4, seed=0.5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow doctests only")
def test_docstring_examples():
    result = doctest.testmod(latent_module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
