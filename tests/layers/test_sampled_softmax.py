"""Sampled softmax (Jean et al., 2015) against a NumPy statement of it, and in `model.fit`.

    s_y = h·W[:, y] + b[y] - log Q(y),   s_c = h·W[:, c] + b[c] - log Q(c)  (-inf where c = y)
    nll = log(exp(s_y) + Σ_c exp(s_c)) - s_y,   Q(k) = S · log((k+2)/(k+1)) / log(V+1)
"""

import doctest
import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s import losses, zoo
from keras_s2s.layers import sampled_softmax as sampled
from keras_s2s.layers.sampled_softmax import SampledSoftmaxProjection, sampled_softmax_nll
from keras_s2s.training.recipe import compile_model
from tests.helpers import assert_config_roundtrip

B, T, D, V = 2, 3, 5, 12


def _np(x):
    return ops.convert_to_numpy(x)


def _reference_nll(labels, hidden, kernel, bias, candidates, candidate_log_q, label_log_q):
    """A loop over positions, in float64."""
    out = np.zeros(labels.shape)
    for b in range(labels.shape[0]):
        for t in range(labels.shape[1]):
            h, y = hidden[b, t].astype("float64"), labels[b, t]
            true = h @ kernel[:, y] + bias[y] - label_log_q[b, t]
            terms = [true]
            for c, q in zip(candidates, candidate_log_q):
                if c != y:  # an accidental hit is left out
                    terms.append(h @ kernel[:, c] + bias[c] - q)
            out[b, t] = np.log(np.sum(np.exp(terms))) - true
    return out


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(1, V, (B, T)), rng.normal(size=(B, T, D)).astype("float32"),
            rng.normal(size=(D, V)).astype("float32"), rng.normal(size=(V,)).astype("float32"))


def test_fixed_samples_match_numpy_with_hits_and_log_q():
    labels, hidden, kernel, bias = _inputs()
    candidates = np.array([labels[0, 0], 3, 7, 3, 0])  # one accidental hit, one repeat
    candidate_log_q = np.array([-0.5, 0.2, -1.0, 0.2, 0.7], "float32")
    label_log_q = np.random.default_rng(1).normal(size=(B, T)).astype("float32")
    got = _np(sampled_softmax_nll(labels, hidden, kernel, bias, candidates, candidate_log_q,
                                  label_log_q))
    want = _reference_nll(labels, hidden, kernel, bias, candidates, candidate_log_q,
                          label_log_q)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_every_class_sampled_once_is_the_full_softmax():
    labels, hidden, kernel, bias = _inputs(2)
    got = _np(sampled_softmax_nll(labels, hidden, kernel, bias, np.arange(V), np.zeros(V),
                                  np.zeros((B, T))))
    logits = hidden.astype("float64") @ kernel + bias
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    want = -np.take_along_axis(log_softmax, labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_log_uniform_sampler_probabilities_and_draws():
    vocab = 50
    k = np.arange(vocab)
    want = np.log((k + 2) / (k + 1)) / math.log(vocab + 1)
    got = np.exp(_np(sampled.log_uniform_log_probs(k, vocab)))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert abs(got.sum() - 1.0) < 1e-5
    draws = _np(sampled.sample_log_uniform(vocab, 40000, seed=3))
    assert draws.min() >= 0 and draws.max() < vocab
    counts = np.bincount(draws, minlength=vocab) / len(draws)
    # the frequent ids within a few standard errors of P(k); the tail summed
    for i in range(5):
        assert abs(counts[i] - want[i]) < 4 * math.sqrt(want[i] / len(draws)) + 1e-3, i
    assert abs(counts[25:].sum() - want[25:].sum()) < 0.01


def test_projection_modes_and_config():
    layer = SampledSoftmaxProjection(V, num_sampled=4, seed=1)
    x = np.random.default_rng(0).normal(size=(B, T, D)).astype("float32")
    logits = _np(layer(x))
    np.testing.assert_allclose(logits, x @ _np(layer.kernel) + _np(layer.bias), rtol=1e-5,
                               atol=1e-5)
    passed = _np(layer(x, training=True))
    np.testing.assert_array_equal(passed, x)
    candidates = _np(layer.candidates)
    assert candidates.shape == (4,) and candidates.min() >= 0 and candidates.max() < V
    assert_config_roundtrip(layer)
    with pytest.raises(ValueError, match="as wide as the vocabulary"):
        SampledSoftmaxProjection(D, num_sampled=2)(x)


def test_loss_is_sampled_on_states_and_full_on_logits():
    layer = SampledSoftmaxProjection(V, num_sampled=6, seed=2)
    labels, hidden, _, _ = _inputs(3)
    labels[1, 2] = 0  # padding
    layer(hidden, training=True)
    loss = losses.SampledSoftmaxLoss(layer)
    candidates = _np(layer.candidates)
    log_q = lambda ids: (np.log(np.log((ids + 2.0) / (ids + 1.0)) / math.log(V + 1))  # noqa: E731
                         + math.log(6))
    nll = _reference_nll(labels, hidden, _np(layer.kernel), _np(layer.bias), candidates,
                         log_q(candidates), log_q(labels))
    real = labels != 0
    np.testing.assert_allclose(float(loss(labels, hidden)), nll[real].mean(), rtol=1e-5)
    logits = _np(layer(hidden))
    full = losses.MaskedSparseCategoricalCrossentropy()(labels, logits)
    np.testing.assert_allclose(float(loss(labels, logits)), float(full), rtol=1e-6)
    with pytest.raises(ValueError, match="compile the model again"):
        losses.SampledSoftmaxLoss()(labels, hidden)


def _data(rng, n=64):
    source = rng.integers(4, 30, (n, 6)).astype("int32")
    # ids 4..23 of 80: the frequent end, as with a frequency-sorted vocabulary
    target = np.concatenate([np.full((n, 1), 2), (source[:, :4] * 3) % 20 + 4], 1)
    return ({"encoder_token_ids": source, "decoder_token_ids": target[:, :-1].astype("int32")},
            target[:, 1:].astype("int32"))


@pytest.mark.extended_on_jax  # 15 s on JAX
def test_one_step_touches_only_labels_and_candidates():
    """With Adam, a column of the output kernel whose gradient is zero does not move: after one
    sampled step only the columns of the batch's labels and the step's candidates change."""
    keras.utils.set_random_seed(0)
    model = zoo.build("vanilla_lstm", source_vocab_size=30, target_vocab_size=80, units=8,
                      embedding_dim=8, sampled_softmax=5)
    compile_model(model, learning_rate=1e-2)
    x, y = _data(np.random.default_rng(0), n=8)
    projection = model.get_layer("output_projection")
    before = _np(projection.kernel).copy()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    moved = np.flatnonzero(np.abs(_np(projection.kernel) - before).max(0) > 0)
    allowed = set(np.unique(y)) | set(_np(projection.candidates).tolist())
    assert set(moved) <= allowed
    assert set(np.unique(y)) <= set(moved)
    assert len(moved) < 80 // 2  # far from every column


@pytest.mark.extended_on_jax  # 42 s on JAX
def test_fit_learns_and_evaluate_uses_the_full_softmax(tmp_path):
    keras.utils.set_random_seed(1)
    model = zoo.build("luong_bilstm", source_vocab_size=30, target_vocab_size=80, units=16,
                      embedding_dim=16, sampled_softmax=20)
    compile_model(model, learning_rate=2e-2)
    x, y = _data(np.random.default_rng(1), n=256)
    history = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    full = losses.MaskedSparseCategoricalCrossentropy()(y, model.predict(x, verbose=0))
    # the full-softmax loss of what was learned, well below the targets' unigram entropy
    # (log 20 = 3.0; the full softmax itself reaches 0.2 here, and log 80 = 4.4 at the start)
    assert float(full) < 0.75 * math.log(20), history.history["loss"]
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), float(full), rtol=1e-4)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


def test_argument_errors():
    with pytest.raises(ValueError, match="tie_embeddings"):
        zoo.build("vanilla_lstm", source_vocab_size=30, target_vocab_size=80, units=8,
                  embedding_dim=8, tie_embeddings=True, sampled_softmax=5)
    with pytest.raises(ValueError, match="smaller than the target vocabulary"):
        zoo.build("vanilla_lstm", source_vocab_size=30, target_vocab_size=80, units=8,
                  embedding_dim=8, sampled_softmax=80)


@pytest.mark.extended_on_jax  # 10 s on JAX
def test_doctests():
    for module in (sampled, losses):
        result = doctest.testmod(module, extraglobs={"np": np, "keras": keras},
                                 optionflags=doctest.ELLIPSIS)
        assert result.failed == 0
