"""Location-sensitive attention (Chorowski et al., 2015, section 2.2; the cumulative channel of
Tacotron 2) against NumPy loops of the equations.

    f_{t,j} = Σ_k Σ_c F[k, c, :] · a_c[j + k - (r - 1) / 2]     (zero outside the source)
    e_{t,j} = vᵀ tanh(W_q q_t + W_m m_j + W_f f_{t,j}),  α_t = softmax(e_t) over real positions
    a = [α_{t-1}, Σ_{t'<t} α_{t'}]
"""

import doctest

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import AttentionDecoder, LocationSensitiveAttention
from tests.helpers import assert_config_roundtrip, assert_saving_roundtrip

B, T, S, DQ, DM, U, F, R = 2, 4, 6, 5, 7, 8, 3, 3


def _np(x):
    return ops.convert_to_numpy(x)


def _weights(layer):
    return {w.name: _np(w).astype("float64") for w in layer.weights}


def _step_reference(w, query, memory, mask, previous, cumulative=None):
    """One step in NumPy loops: the weights."""
    channels = [previous] if cumulative is None else [previous, cumulative]
    half = (R - 1) // 2
    scores = np.zeros((B, S))
    for b in range(B):
        for j in range(S):
            f = np.zeros(F)
            for k in range(R):
                i = j + k - half
                if 0 <= i < S:
                    for c, a in enumerate(channels):
                        f += w["location_filters"][k, c] * a[b, i]
            hidden = (query[b] @ w["query_kernel"] + memory[b, j] @ w["memory_kernel"]
                      + f @ w["location_kernel"])
            scores[b, j] = w["v"] @ np.tanh(hidden)
    scores = np.where(mask, scores, -np.inf)
    a = np.exp(scores - scores.max(-1, keepdims=True))
    return a / a.sum(-1, keepdims=True)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(B, DQ)).astype("float32")
    memory = rng.normal(size=(B, S, DM)).astype("float32")
    mask = np.array([[1] * S, [1] * (S - 2) + [0, 0]], bool)
    previous = rng.random((B, S)).astype("float32") * mask
    previous /= previous.sum(-1, keepdims=True)
    return rng, query, memory, mask, previous


@pytest.mark.parametrize("cumulative", [True, False])
def test_one_step_matches_the_equations(cumulative):
    rng, query, memory, mask, previous = _data()
    total = (previous + rng.random((B, S)).astype("float32")) * mask
    layer = LocationSensitiveAttention(U, filters=F, kernel_size=R, cumulative=cumulative)
    context, weights = layer(query, memory, mask, previous_alignments=previous,
                             cumulative_alignments=total if cumulative else None)
    w = _weights(layer)
    assert w["location_filters"].shape == (R, 2 if cumulative else 1, F)
    expected = _step_reference(w, query, memory, mask, previous, total if cumulative else None)
    np.testing.assert_allclose(_np(weights), expected, atol=1e-5)
    np.testing.assert_allclose(_np(context), np.einsum("bs,bsm->bm", expected, memory),
                               atol=1e-5)
    assert (_np(weights)[1, S - 2:] == 0).all()  # padding gets nothing
    # the location features change the scores: the same query elsewhere reads differently
    _, moved = layer(query, memory, mask, previous_alignments=np.roll(previous, 2, axis=-1),
                     cumulative_alignments=total if cumulative else None)
    assert np.abs(_np(moved) - _np(weights)).max() > 1e-3


def test_in_the_decoder_the_state_is_the_last_and_the_summed_weights():
    keras.utils.set_random_seed(1)
    rng, _, memory, mask, _ = _data(1)
    x = rng.normal(size=(B, T, 3)).astype("float32")
    attention = LocationSensitiveAttention(U, filters=F, kernel_size=R)
    decoder = AttentionDecoder(keras.layers.LSTMCell(DQ), attention, attention_layer_size=DQ)
    outputs, alignments, states = decoder(x, memory, memory_mask=mask)
    a = _np(alignments).astype("float64")
    np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(_np(states[-2]), a[:, -1], atol=1e-6)  # α_{T}
    np.testing.assert_allclose(_np(states[-1]), a.sum(1), atol=1e-5)  # Σ_t α_t
    # each step's weights follow the equations from the earlier steps' weights; the query
    # is the cell's output h_t, read back from the decoder one step at a time
    w = _weights(attention)
    states_t = decoder.get_initial_state(B, memory=memory, memory_mask=mask)
    keys = attention.precompute(memory)
    for t in range(T):
        out, weights, states_t = decoder.step(x[:, t], states_t, memory, mask, keys)
        np.testing.assert_allclose(_np(weights), a[:, t], atol=1e-5)
        np.testing.assert_allclose(_np(states_t[-1]), a[:, :t + 1].sum(1), atol=1e-5)
    assert w["location_kernel"].shape == (F, U)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="kernel_size"):
        LocationSensitiveAttention(U, kernel_size=4)
    with pytest.raises(ValueError, match="filters"):
        LocationSensitiveAttention(U, filters=0)
    _, query, memory, _, _ = _data()
    with pytest.raises(ValueError, match="one decoder step at a time"):
        layer = LocationSensitiveAttention(U)
        layer(query, memory)  # builds
        layer.attend_step(np.ones((B, T, DQ), "float32"), memory, layer.precompute(memory),
                          None, layer.initial_state(memory))


def test_config_saving_and_docstrings(tmp_path):
    assert_config_roundtrip(LocationSensitiveAttention(U, filters=4, kernel_size=5,
                                                       cumulative=False, normalize=True))
    query = keras.Input((DQ,))
    memory = keras.Input((S, DM))
    previous = keras.Input((S,))
    context, weights = LocationSensitiveAttention(U, name="attention")(
        query, memory, previous_alignments=previous)
    model = keras.Model([query, memory, previous], [context, weights])
    rng, q, m, _, p = _data(3)
    assert_saving_roundtrip(model, [q, m, p], tmp_path)
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(
            LocationSensitiveAttention,
            globs={"np": np, "LocationSensitiveAttention": LocationSensitiveAttention}):
        runner.run(test)
    assert runner.failures == 0
