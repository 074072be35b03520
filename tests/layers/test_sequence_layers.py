"""PaddingMask, ReverseSequence, StateBridge and StackedCells."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import PaddingMask, ReverseSequence, StackedCells, StateBridge
from tests.helpers import assert_config_roundtrip, assert_jit_parity_and_gradients, assert_saving_roundtrip


def test_padding_mask():
    mask = ops.convert_to_numpy(PaddingMask()(np.array([[5, 6, 0], [0, 0, 0]])))
    assert mask.tolist() == [[True, True, False], [False, False, False]]
    assert_config_roundtrip(PaddingMask(padding_id=0))


def test_reverse_sequence_reverses_real_tokens_only_and_is_an_involution():
    ids = np.array([[5, 6, 7, 0, 0], [4, 0, 0, 0, 0], [4, 5, 6, 7, 8], [0, 0, 0, 0, 0]])
    out = ops.convert_to_numpy(ReverseSequence()(ids))
    expected = [[7, 6, 5, 0, 0], [4, 0, 0, 0, 0], [8, 7, 6, 5, 4], [0, 0, 0, 0, 0]]
    assert out.tolist() == expected
    np.testing.assert_array_equal(ops.convert_to_numpy(ReverseSequence()(out)), ids)
    # 3D inputs with an explicit mask
    features = np.arange(2 * 3 * 2).reshape(2, 3, 2).astype("float32")
    mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    rev = ops.convert_to_numpy(ReverseSequence()(features, mask=mask))
    np.testing.assert_array_equal(rev[0], features[0][[1, 0, 2]])
    np.testing.assert_array_equal(rev[1], features[1][::-1])


@pytest.mark.parametrize("mode", ["copy", "sum", "dense", "zeros"])
def test_state_bridge_modes(mode):
    rng = np.random.default_rng(0)
    bidirectional = mode in ("sum", "dense")
    n = 4 if bidirectional else 2
    states = [rng.normal(size=(3, 5)).astype("float32") for _ in range(n)]
    bridge = StateBridge([5, 5], mode=mode, bidirectional=bidirectional)
    out = [ops.convert_to_numpy(s) for s in bridge(states)]
    assert [o.shape for o in out] == [(3, 5), (3, 5)]
    # both bridged states, h (index 0) and c (index 1); backward states follow the forward ones
    if mode == "copy":
        np.testing.assert_array_equal(out[0], states[0])
        np.testing.assert_array_equal(out[1], states[1])
    if mode == "sum":
        np.testing.assert_allclose(out[0], states[0] + states[2], atol=1e-6)
        np.testing.assert_allclose(out[1], states[1] + states[3], atol=1e-6)
    if mode == "zeros":
        np.testing.assert_array_equal(out[0], np.zeros((3, 5)))
        np.testing.assert_array_equal(out[1], np.zeros((3, 5)))
    if mode == "dense":
        kernel = ops.convert_to_numpy(bridge.projection.kernel)
        bias = ops.convert_to_numpy(bridge.projection.bias)
        ref = np.concatenate(states, -1) @ kernel + bias
        np.testing.assert_allclose(np.concatenate(out, -1), ref, atol=1e-5)
    assert_config_roundtrip(bridge)


def test_state_bridge_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="mode='copy'"):
        StateBridge([8, 8], mode="copy")([np.zeros((2, 4), "float32")] * 2)
    with pytest.raises(ValueError, match="mode='sum'"):
        StateBridge([8], mode="sum", bidirectional=True)([np.zeros((2, 4), "float32")] * 2)
    with pytest.raises(ValueError, match="mode"):
        StateBridge([8], mode="average")
    with pytest.raises(ValueError, match="decoder_state_sizes"):
        StateBridge([0])


def test_stacked_cells_residual_matches_numpy():
    x = np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32")
    cells = StackedCells([keras.layers.SimpleRNNCell(5) for _ in range(3)], residual=True)
    out = ops.convert_to_numpy(keras.layers.RNN(cells, return_sequences=True)(x))
    weights = [[ops.convert_to_numpy(w) for w in c.weights] for c in cells.cells]
    h = [np.zeros((2, 5)) for _ in range(3)]
    outs = []
    for t in range(4):
        inp = x[:, t]
        for layer, (k, rk, b) in enumerate(weights):
            h[layer] = np.tanh(inp @ k + h[layer] @ rk + b)
            inp = h[layer] + inp if layer > 0 else h[layer]
        outs.append(inp)
    np.testing.assert_allclose(out, np.stack(outs, 1), atol=1e-5)


@pytest.mark.extended_on_jax  # 17 s on JAX
def test_stacked_cells_save_jit_and_gradients(tmp_path):
    def make():
        inputs = keras.Input((None, 4))
        cells = StackedCells([keras.layers.LSTMCell(4), keras.layers.GRUCell(4)], residual=True)
        return keras.Model(inputs, keras.layers.RNN(cells)(inputs))

    x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
    assert_jit_parity_and_gradients(make, x, np.zeros((2, 4), "float32"))
    assert_saving_roundtrip(make(), x, tmp_path)
    with pytest.raises(ValueError, match="cells"):
        StackedCells([])
