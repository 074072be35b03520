"""`AttentionDecoder(attention_first=True)`: RNNsearch, Bahdanau et al. (2015), appendix A.

The previous state s_{i-1} queries the memory, the context enters the cell with the previous
token, and a maxout deep output reads [s_i; y_{i-1}; c_i]. Checked against NumPy written from
the paper's equations, against its own `step`, and under XLA.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import AttentionDecoder, BahdanauAttention, LuongAttention
from tests.helpers import (
    assert_config_roundtrip,
    assert_jit_parity_and_gradients,
    assert_saving_roundtrip,
)
from tests.layers.test_attention_decoder import B, D_IN, D_MEM, S, T, UNITS, _cell, _data
from tests.layers.test_attention_decoder import assert_call_equals_steps


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _decoder(cell="gru", size=UNITS, attention=None):
    return AttentionDecoder(_cell(cell), attention or BahdanauAttention(4),
                            attention_layer_size=size, input_feeding=False,
                            attention_first=True)


def test_matches_numpy_rnnsearch_equations():
    """GRU decoder, additive attention, maxout deep output, from the paper's appendix A."""
    x, memory, mask = _data()
    decoder = _decoder("gru")
    rng = np.random.default_rng(3)
    s0 = rng.normal(size=(B, UNITS)).astype("float32")
    outputs, alignments, states = decoder(x, memory, memory_mask=mask, initial_state=[s0])
    n = lambda v: ops.convert_to_numpy(v)  # noqa: E731
    W, U, b = n(decoder.cell.kernel), n(decoder.cell.recurrent_kernel), n(decoder.cell.bias)
    Wq, Wm, v = (n(decoder.attention.query_kernel), n(decoder.attention.memory_kernel),
                 n(decoder.attention.v))
    Wo, bo = n(decoder.deep_output.kernel), n(decoder.deep_output.bias)
    s = s0.astype("float64")
    outs, aligns = [], []
    for i in range(T):
        # e_ij = vᵀ tanh(W_q s_{i-1} + W_m h_j); α = softmax over the real source
        e = np.tanh((s @ Wq)[:, None, :] + memory @ Wm) @ v
        e = np.where(mask, e, -np.inf)
        a = np.exp(e - e.max(-1, keepdims=True)) * mask
        a = a / a.sum(-1, keepdims=True)
        c = np.einsum("bs,bsd->bd", a, memory)
        # s_i = GRU([y_{i-1}; c_i], s_{i-1})  (Keras' reset_after GRU, two biases)
        xin = np.concatenate([x[:, i], c], -1)
        xz, xr, xh = np.split(xin @ W + b[0], 3, -1)
        hz, hr, hh = np.split(s @ U + b[1], 3, -1)
        z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
        s = z * s + (1 - z) * np.tanh(xh + r * hh)
        # t_i = maxout(W_o [s_i; y_{i-1}; c_i] + b_o), pool 2 over consecutive units
        pre = np.concatenate([s, x[:, i], c], -1) @ Wo + bo
        outs.append(pre.reshape(B, UNITS, 2).max(-1))
        aligns.append(a)
    np.testing.assert_allclose(n(outputs), np.stack(outs, 1), atol=1e-5)
    np.testing.assert_allclose(n(alignments), np.stack(aligns, 1), atol=1e-5)
    np.testing.assert_allclose(n(states[0]), s, atol=1e-5)


def test_the_query_is_the_previous_state_not_the_new_one():
    """At step 1 the alignment depends on the initial state only, not on the first token."""
    x, memory, mask = _data()
    decoder = _decoder("lstm")
    init = [np.full((B, UNITS), 0.3, "float32"), np.zeros((B, UNITS), "float32")]
    _, a1, _ = decoder(x, memory, memory_mask=mask, initial_state=init)
    _, a2, _ = decoder(x * 5.0, memory, memory_mask=mask, initial_state=init)
    a1, a2 = ops.convert_to_numpy(a1), ops.convert_to_numpy(a2)
    np.testing.assert_allclose(a1[:, 0], a2[:, 0], atol=1e-6)
    assert np.abs(a1[:, 1] - a2[:, 1]).max() > 1e-4  # later steps see the tokens


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole", "stacked"])
@pytest.mark.parametrize("size", [UNITS, None])
def test_call_equals_loop_over_step(cell, size):
    x, memory, mask = _data()
    decoder = _decoder(cell, size)
    outputs, _, _ = assert_call_equals_steps(decoder, x, memory, mask)
    assert outputs.shape == (B, T, size or (UNITS + D_IN + D_MEM))


def _functional_model(dropout=0.0):
    inputs = keras.Input((None, D_IN), name="x")
    memory = keras.Input((None, D_MEM), name="memory")
    cell = keras.layers.GRUCell(UNITS, dropout=dropout)
    decoder = AttentionDecoder(cell, BahdanauAttention(4, normalize=True),
                               attention_layer_size=UNITS, input_feeding=False,
                               attention_first=True, name="decoder")
    outputs, alignments, _ = decoder(inputs, memory)
    return keras.Model([inputs, memory], keras.layers.Concatenate()([outputs, alignments]))


@pytest.mark.extended_on_jax  # 9 s on JAX
def test_jit_parity_and_every_weight_gets_a_gradient():
    x, memory, _ = _data()
    target = np.zeros((B, T, UNITS + S), "float32")
    assert_jit_parity_and_gradients(_functional_model, [x, memory], target)


def test_config_and_saving_roundtrip(tmp_path):
    decoder = _decoder("lstm", attention=LuongAttention("concat", units=3))
    clone = assert_config_roundtrip(decoder)
    assert clone.attention_first and not clone.input_feeding
    x, memory, _ = _data()
    assert_saving_roundtrip(_functional_model(), [x, memory], tmp_path)


def test_input_feeding_with_attention_first_is_refused():
    with pytest.raises(ValueError, match="input_feeding=False"):
        AttentionDecoder(keras.layers.GRUCell(4), BahdanauAttention(4), attention_first=True)
