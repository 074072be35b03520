"""Local attention against NumPy written from Luong et al. (2015), section 3.2 (eqs. 9-10)."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import AttentionDecoder, LuongLocalAttention
from tests.helpers import assert_config_roundtrip

B, T, S, D = 2, 4, 9, 6


def _data(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(B, T, D)).astype("float32")
    memory = rng.normal(size=(B, S, D)).astype("float32")
    mask = np.ones((B, S), bool)
    mask[1, 6:] = False
    return query, memory, mask


def _reference(layer, query, memory, mask, positions):
    """Softmax of the general score over the window ∩ real source, times the Gaussian for
    local-p; exactly zero elsewhere."""
    W = ops.convert_to_numpy(layer.memory_kernel)
    scores = np.einsum("btd,bsd->bts", query, memory @ W)
    s = np.arange(S)[None, None, :]
    inside = (np.abs(s - positions[..., None]) <= layer.window) & mask[:, None, :]
    e = np.where(inside, scores, -np.inf)
    weights = np.exp(e - e.max(-1, keepdims=True)) * inside
    weights = weights / weights.sum(-1, keepdims=True)
    if layer.mode == "predictive":
        sigma = layer.window / 2
        weights = weights * np.exp(-(s - positions[..., None]) ** 2 / (2 * sigma ** 2))
    return weights


def test_local_p_matches_numpy_with_the_predicted_position():
    query, memory, mask = _data()
    layer = LuongLocalAttention(window=2, mode="predictive")
    context, weights = layer(query, memory, memory_mask=mask)
    Wp = ops.convert_to_numpy(layer.position_kernel)
    vp = ops.convert_to_numpy(layer.position_v)
    length = mask.sum(-1)[:, None]
    positions = length / (1 + np.exp(-(np.tanh(query @ Wp) @ vp)))  # S · sigmoid(v_pᵀ tanh(W_p h))
    np.testing.assert_allclose(ops.convert_to_numpy(layer.aligned_positions(query, memory, mask)),
                               positions, atol=1e-5)
    expected = _reference(layer, query, memory, mask, positions)
    w = ops.convert_to_numpy(weights)
    np.testing.assert_allclose(w, expected, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(context),
                               np.einsum("bts,bsd->btd", expected, memory), atol=1e-5)
    outside = np.abs(np.arange(S)[None, None] - positions[..., None]) > 2
    assert np.all(w[outside] == 0.0) and np.all(w[1, :, 6:] == 0.0)


def test_local_m_matches_numpy_and_counts_steps():
    query, memory, mask = _data(1)
    mask[1, 2:] = False  # a source shorter than the target
    layer = LuongLocalAttention(window=1, mode="monotonic")
    _, weights = layer(query, memory, memory_mask=mask)
    # p_t = t, held at the last real position (row 1 has 2 real positions)
    positions = np.minimum(np.arange(T, dtype="float64")[None], mask.sum(-1)[:, None] - 1)
    w = ops.convert_to_numpy(weights)
    np.testing.assert_allclose(w, _reference(layer, query, memory, mask, positions), atol=1e-5)
    # window [t - 1, t + 1]: at most three positions carry weight, exactly zero elsewhere
    assert np.all((w > 0).sum(-1) <= 3) and w[0, 0, 2:].max() == 0.0
    # one step at a time from the state: the counter moves the window
    keys = layer.precompute(memory)
    state = layer.initial_state(memory, mask)
    for t in range(T):
        _, w_t, state = layer.attend_step(query[:, t], memory, keys, mask, state)
        np.testing.assert_allclose(ops.convert_to_numpy(w_t), w[:, t], atol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(state[0]), np.full((B, 1), T))


@pytest.mark.parametrize("mode", ["monotonic", "predictive"])
def test_decoder_call_equals_its_steps(mode):
    from tests.layers.test_attention_decoder import _data as decoder_data
    from tests.layers.test_attention_decoder import _loop_over_step

    x, memory, mask = decoder_data()
    decoder = AttentionDecoder(keras.layers.LSTMCell(5), LuongLocalAttention(window=1, mode=mode),
                               attention_layer_size=5, input_feeding=(mode == "predictive"))
    outputs, alignments, _ = decoder(x, memory, memory_mask=mask)
    ref_out, ref_w, _ = _loop_over_step(decoder, x, memory, mask)
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), ref_out, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(alignments), ref_w, atol=1e-5)


def test_config_roundtrip_jit_gradients_and_bad_arguments():
    layer = LuongLocalAttention("concat", window=3, mode="predictive", units=4, scale=True,
                                position_units=5)
    clone = assert_config_roundtrip(layer)
    assert (clone.window, clone.mode, clone.position_units) == (3, "predictive", 5)
    query, memory, mask = _data(2)
    q_in, m_in = keras.Input((T, D)), keras.Input((S, D))
    context, weights = LuongLocalAttention(window=2, name="attention")(q_in, m_in)
    model = keras.Model([q_in, m_in], keras.layers.Concatenate()([context, weights]))
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    before = [ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    model.train_on_batch([query, memory], np.ones((B, T, D + S), "float32"))
    for w, b in zip(model.trainable_weights, before):
        assert np.abs(ops.convert_to_numpy(w) - b).max() > 0, w.path
    with pytest.raises(ValueError, match="window"):
        LuongLocalAttention(window=0)
    with pytest.raises(ValueError, match="mode"):
        LuongLocalAttention(mode="global")
