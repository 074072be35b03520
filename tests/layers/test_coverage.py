"""Coverage (See et al., 2017, eqs. 10-13) against NumPy loops of the paper's equations.

    c^t = Σ_{t'<t} a^{t'},   e^t_i = vᵀ tanh(W_h h_i + W_s s_t + w_c c^t_i),
    a^t = softmax(e^t),      covloss_t = Σ_i min(a^t_i, c^t_i)
"""

import doctest

import keras
import numpy as np
from keras import ops

from keras_s2s.layers import AttentionDecoder, CoverageAttention, CoverageLoss
from tests.helpers import assert_config_roundtrip, assert_saving_roundtrip

B, T, S, DQ, DM, U = 2, 4, 5, 6, 7, 8


def _np(x):
    return ops.convert_to_numpy(x)


def _weights(layer):
    return {w.name: _np(w).astype("float64") for w in layer.weights}


def _step_reference(w, query, memory, mask, coverage):
    """One step of eqs. 11-12 in NumPy: the weights and the new coverage."""
    scores = np.zeros((B, S))
    for b in range(B):
        for i in range(S):
            hidden = (memory[b, i] @ w["memory_kernel"] + query[b] @ w["query_kernel"]
                      + coverage[b, i] * w["coverage_kernel"])
            scores[b, i] = w["v"] @ np.tanh(hidden)
    scores = np.where(mask, scores, -np.inf)
    a = np.exp(scores - scores.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    return a, coverage + a


def test_one_step_matches_the_paper_and_the_state_accumulates():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(B, DQ)).astype("float32")
    memory = rng.normal(size=(B, S, DM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    layer = CoverageAttention(U)
    coverage = np.abs(rng.normal(size=(B, S))).astype("float32") * mask
    context, weights = layer(query, memory, mask, coverage=coverage)
    w = _weights(layer)
    expected, _ = _step_reference(w, query, memory, mask, coverage)
    np.testing.assert_allclose(_np(weights), expected, atol=1e-5)
    np.testing.assert_allclose(_np(context), np.einsum("bs,bsm->bm", expected, memory),
                               atol=1e-5)
    assert (_np(weights)[1, 3:] == 0).all()  # padding gets nothing
    # the coverage feature changes the scores: it is not the plain additive score
    _, plain = layer(query, memory, mask, coverage=np.zeros_like(coverage))
    assert np.abs(_np(plain) - _np(weights)).max() > 1e-3


def test_in_the_decoder_the_coverage_is_the_sum_of_the_earlier_weights():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, T, 3)).astype("float32")
    memory = rng.normal(size=(B, S, DM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    attention = CoverageAttention(U)
    decoder = AttentionDecoder(keras.layers.LSTMCell(DQ), attention, attention_layer_size=DQ)
    outputs, alignments, states = decoder(x, memory, memory_mask=mask)
    a = _np(alignments).astype("float64")
    # each step's weights follow the paper's score with c^t = the earlier steps' sum
    w = _weights(attention)
    coverage = np.zeros((B, S))
    for t in range(T):
        assert np.allclose(a[:, t].sum(-1), 1.0, atol=1e-5)
        coverage = coverage + a[:, t]
    np.testing.assert_allclose(_np(states[-1]), coverage, atol=1e-5)  # the final state: c^T
    assert w["coverage_kernel"].shape == (U,)


def test_the_loss_is_the_mean_over_real_steps_of_the_overlap_with_the_coverage():
    rng = np.random.default_rng(2)
    a = rng.random((B, T, S)).astype("float32")
    a /= a.sum(-1, keepdims=True)
    ids = np.array([[2, 5, 6, 7], [2, 5, 0, 0]], "int32")
    layer = CoverageLoss(0.7)
    logits = rng.normal(size=(B, T, 3)).astype("float32")
    out = layer(logits, a, ids)
    np.testing.assert_array_equal(_np(out), logits)  # passes the logits through
    total, steps = 0.0, 0
    for b in range(B):
        coverage = np.zeros(S)
        for t in range(T):
            if ids[b, t]:
                total += np.minimum(a[b, t], coverage).sum()
                steps += 1
            coverage += a[b, t]
    np.testing.assert_allclose(float(_np(layer.losses[0])), 0.7 * total / steps, rtol=1e-5)


def test_config_saving_and_docstrings(tmp_path):
    assert_config_roundtrip(CoverageAttention(U, normalize=True))
    assert_config_roundtrip(CoverageLoss(0.5))
    query = keras.Input((DQ,))
    memory = keras.Input((S, DM))
    coverage = keras.Input((S,))
    context, weights = CoverageAttention(U, name="attention")(query, memory, coverage=coverage)
    model = keras.Model([query, memory, coverage], [context, weights])
    rng = np.random.default_rng(3)
    inputs = [rng.normal(size=(B, DQ)).astype("float32"),
              rng.normal(size=(B, S, DM)).astype("float32"),
              rng.random((B, S)).astype("float32")]
    assert_saving_roundtrip(model, inputs, tmp_path)
    runner = doctest.DocTestRunner()
    for obj in (CoverageAttention, CoverageLoss):
        for test in doctest.DocTestFinder().find(obj, globs={"np": np, obj.__name__: obj}):
            runner.run(test)
    assert runner.failures == 0
