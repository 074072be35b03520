"""Tests for the peephole LSTM and coupled-gate (CIFG) LSTM cells and layers.

The numerics are checked against an independent NumPy implementation of the equations in the
docstrings, with random weights, random non-zero peepholes and random non-zero initial states.
"""

import copy

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import (
    CoupledGateLSTM,
    CoupledGateLSTMCell,
    PeepholeLSTM,
    PeepholeLSTMCell,
)
from tests.helpers import (
    assert_config_roundtrip,
    assert_jit_parity_and_gradients,
    assert_saving_roundtrip,
)

B, T, D_IN, UNITS = 3, 5, 3, 4


# --------------------------------------------------------------------------------------------
# NumPy reference
# --------------------------------------------------------------------------------------------

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_peephole_lstm(x, h, c, kernel, recurrent_kernel, bias, input_gate_peephole_weights,
                     forget_gate_peephole_weights, output_gate_peephole_weights):
    """Peephole LSTM over a whole sequence; returns (all h, final h, final c)."""
    p_i, p_f, p_o = (input_gate_peephole_weights, forget_gate_peephole_weights,
                     output_gate_peephole_weights)
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
        i = _sigmoid(z_i + p_i * c)
        f = _sigmoid(z_f + p_f * c)
        c = f * c + i * np.tanh(z_c)
        o = _sigmoid(z_o + p_o * c)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def np_cifg_lstm(x, h, c, kernel, recurrent_kernel, bias, forget_gate_peephole_weights=None,
                 output_gate_peephole_weights=None):
    """Coupled input-forget gate LSTM (gates f, c, o); returns (all h, final h, final c)."""
    p_f, p_o = forget_gate_peephole_weights, output_gate_peephole_weights
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        z_f, z_c, z_o = np.split(z, 3, axis=-1)
        if p_f is not None:
            z_f = z_f + p_f * c
        f = _sigmoid(z_f)
        c = f * c + (1.0 - f) * np.tanh(z_c)
        if p_o is not None:
            z_o = z_o + p_o * c
        o = _sigmoid(z_o)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def _rand(rng, *shape, scale=0.7):
    return (rng.standard_normal(shape) * scale).astype("float32")


def _random_peephole_weights(rng, input_dim=D_IN, units=UNITS):
    return {
        "kernel": _rand(rng, input_dim, 4 * units),
        "recurrent_kernel": _rand(rng, units, 4 * units),
        "bias": _rand(rng, 4 * units),
        "input_gate_peephole_weights": _rand(rng, units, scale=1.0),
        "forget_gate_peephole_weights": _rand(rng, units, scale=1.0),
        "output_gate_peephole_weights": _rand(rng, units, scale=1.0),
    }


def _random_cifg_weights(rng, use_peepholes, input_dim=D_IN, units=UNITS):
    weights = {
        "kernel": _rand(rng, input_dim, 3 * units),
        "recurrent_kernel": _rand(rng, units, 3 * units),
        "bias": _rand(rng, 3 * units),
    }
    if use_peepholes:
        weights["forget_gate_peephole_weights"] = _rand(rng, units, scale=1.0)
        weights["output_gate_peephole_weights"] = _rand(rng, units, scale=1.0)
    return weights


def _assign(cell, weights):
    for name, value in weights.items():
        variable = getattr(cell, name)
        assert tuple(variable.shape) == value.shape, name
        variable.assign(value)


def _np(x):
    return ops.convert_to_numpy(x)


def _data(rng, batch=B, steps=T, input_dim=D_IN, units=UNITS):
    x = _rand(rng, batch, steps, input_dim, scale=1.0)
    h0 = _rand(rng, batch, units, scale=0.5)
    c0 = _rand(rng, batch, units, scale=1.0)
    return x, h0, c0


def _run_rnn(rnn, x, h0, c0):
    seq, h, c = rnn(x, initial_state=[h0, c0])
    return _np(seq), _np(h), _np(c)


# --------------------------------------------------------------------------------------------
# Numerics against NumPy
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("implementation", [1, 2])
def test_peephole_cell_matches_numpy(implementation):
    rng = np.random.default_rng(0)
    x, h0, c0 = _data(rng)
    cell = PeepholeLSTMCell(UNITS, implementation=implementation)
    assert cell.implementation == implementation
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn(x, initial_state=[h0, c0])  # build
    weights = _random_peephole_weights(rng)
    assert all(np.abs(weights[f"{g}_gate_peephole_weights"]).min() > 0
               for g in ("input", "forget", "output"))
    _assign(cell, weights)

    seq, h, c = _run_rnn(rnn, x, h0, c0)
    ref_seq, ref_h, ref_c = np_peephole_lstm(x, h0, c0, **weights)
    np.testing.assert_allclose(seq, ref_seq, atol=1e-5)
    np.testing.assert_allclose(h, ref_h, atol=1e-5)
    np.testing.assert_allclose(c, ref_c, atol=1e-5)
    np.testing.assert_allclose(seq[:, -1], h, atol=1e-7)


@pytest.mark.parametrize("use_peepholes", [False, True])
def test_cifg_cell_matches_numpy(use_peepholes):
    rng = np.random.default_rng(1)
    x, h0, c0 = _data(rng)
    cell = CoupledGateLSTMCell(UNITS, use_peepholes=use_peepholes)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn(x, initial_state=[h0, c0])
    assert tuple(cell.kernel.shape) == (D_IN, 3 * UNITS)
    assert tuple(cell.recurrent_kernel.shape) == (UNITS, 3 * UNITS)
    assert tuple(cell.bias.shape) == (3 * UNITS,)
    assert hasattr(cell, "forget_gate_peephole_weights") == use_peepholes
    assert hasattr(cell, "output_gate_peephole_weights") == use_peepholes
    assert not hasattr(cell, "input_gate_peephole_weights")
    expected_weights = 5 if use_peepholes else 3
    assert len(cell.trainable_weights) == expected_weights

    weights = _random_cifg_weights(rng, use_peepholes)
    _assign(cell, weights)
    seq, h, c = _run_rnn(rnn, x, h0, c0)
    ref_seq, ref_h, ref_c = np_cifg_lstm(x, h0, c0, **weights)
    np.testing.assert_allclose(seq, ref_seq, atol=1e-5)
    np.testing.assert_allclose(h, ref_h, atol=1e-5)
    np.testing.assert_allclose(c, ref_c, atol=1e-5)


def test_cifg_peepholes_change_the_result():
    """The peephole terms are really used: the same weights without them give another result."""
    rng = np.random.default_rng(2)
    x, h0, c0 = _data(rng)
    weights = _random_cifg_weights(rng, use_peepholes=True)
    ref_with, _, _ = np_cifg_lstm(x, h0, c0, **weights)
    ref_without, _, _ = np_cifg_lstm(x, h0, c0, weights["kernel"], weights["recurrent_kernel"],
                                     weights["bias"])
    assert np.abs(ref_with - ref_without).max() > 1e-3
    cell = CoupledGateLSTMCell(UNITS, use_peepholes=True)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn(x, initial_state=[h0, c0])
    _assign(cell, weights)
    seq, _, _ = _run_rnn(rnn, x, h0, c0)
    np.testing.assert_allclose(seq, ref_with, atol=1e-5)
    assert np.abs(seq - ref_without).max() > 1e-3


@pytest.mark.parametrize("kind", ["peephole", "cifg"])
def test_layer_classes_match_numpy(kind):
    """PeepholeLSTM / CoupledGateLSTM compute what RNN(cell) computes, incl. return flags."""
    rng = np.random.default_rng(3)
    x, h0, c0 = _data(rng)
    if kind == "peephole":
        layer = PeepholeLSTM(UNITS, return_sequences=True, return_state=True)
        weights = _random_peephole_weights(rng)
        reference = np_peephole_lstm
    else:
        layer = CoupledGateLSTM(UNITS, use_peepholes=True, return_sequences=True,
                                return_state=True)
        weights = _random_cifg_weights(rng, use_peepholes=True)
        reference = np_cifg_lstm
    assert layer.units == UNITS
    assert layer.return_sequences and layer.return_state
    layer(x, initial_state=[h0, c0])
    _assign(layer.cell, weights)
    seq, h, c = _run_rnn(layer, x, h0, c0)
    ref_seq, ref_h, ref_c = reference(x, h0, c0, **weights)
    np.testing.assert_allclose(seq, ref_seq, atol=1e-5)
    np.testing.assert_allclose(h, ref_h, atol=1e-5)
    np.testing.assert_allclose(c, ref_c, atol=1e-5)


@pytest.mark.parametrize("implementation", [1, 2])
def test_peephole_with_zero_peepholes_equals_lstm_cell(implementation):
    rng = np.random.default_rng(4)
    x, h0, c0 = _data(rng)
    peephole = keras.layers.RNN(PeepholeLSTMCell(UNITS, peephole_initializer="zeros",
                                                 implementation=implementation),
                                return_sequences=True, return_state=True)
    lstm = keras.layers.RNN(keras.layers.LSTMCell(UNITS),
                            return_sequences=True, return_state=True)
    peephole(x, initial_state=[h0, c0])
    lstm(x, initial_state=[h0, c0])
    weights = _random_peephole_weights(rng)
    shared = {k: weights[k] for k in ("kernel", "recurrent_kernel", "bias")}
    _assign(peephole.cell, shared)
    _assign(lstm.cell, shared)
    for gate in ("input", "forget", "output"):
        np.testing.assert_array_equal(
            _np(getattr(peephole.cell, f"{gate}_gate_peephole_weights")), 0.0)
    for a, b in zip(_run_rnn(peephole, x, h0, c0), _run_rnn(lstm, x, h0, c0)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # And with non-zero peepholes it does differ from the plain LSTM.
    _assign(peephole.cell, weights)
    assert np.abs(_run_rnn(peephole, x, h0, c0)[0] - _run_rnn(lstm, x, h0, c0)[0]).max() > 1e-3


@pytest.mark.parametrize("use_peepholes", [False, True])
def test_cifg_input_gate_is_one_minus_forget_gate(use_peepholes):
    """One step of the cell: c - f*c_prev == (1 - f)*g with f, g computed from the weights."""
    rng = np.random.default_rng(5)
    x = _rand(rng, B, D_IN, scale=1.0)
    h0 = _rand(rng, B, UNITS, scale=0.5)
    c0 = _rand(rng, B, UNITS, scale=2.0)
    cell = CoupledGateLSTMCell(UNITS, use_peepholes=use_peepholes)
    cell(x, [h0, c0])
    weights = _random_cifg_weights(rng, use_peepholes)
    _assign(cell, weights)
    h, (h_state, c) = cell(x, [h0, c0])
    h, h_state, c = _np(h), _np(h_state), _np(c)
    np.testing.assert_array_equal(h, h_state)

    z = (x.astype("float64") @ weights["kernel"] + h0 @ weights["recurrent_kernel"]
         + weights["bias"])
    z_f, z_c, z_o = np.split(z, 3, axis=-1)
    if use_peepholes:
        z_f = z_f + weights["forget_gate_peephole_weights"] * c0
    f = _sigmoid(z_f)
    g = np.tanh(z_c)
    # The input gate is exactly the complement of the forget gate.
    np.testing.assert_allclose(c - f * c0, (1.0 - f) * g, atol=1e-6)
    # The update is not that of an uncoupled gate i = f (a non-trivial check).
    assert np.abs((c - f * c0) - f * g).max() > 1e-3
    if use_peepholes:
        z_o = z_o + weights["output_gate_peephole_weights"] * c
    np.testing.assert_allclose(h, _sigmoid(z_o) * np.tanh(c), atol=1e-6)


# --------------------------------------------------------------------------------------------
# Masking, Bidirectional, StackedRNNCells
# --------------------------------------------------------------------------------------------

def _make_cell(kind):
    if kind == "peephole":
        return PeepholeLSTMCell(UNITS)
    return CoupledGateLSTMCell(UNITS, use_peepholes=True)


@pytest.mark.parametrize("kind", ["peephole", "cifg"])
def test_mask_final_state_equals_unpadded_sequence(kind):
    rng = np.random.default_rng(6)
    lengths = [2, 6, 4]  # row 1 is not padded
    x, h0, c0 = _data(rng, steps=6)
    mask = np.arange(6)[None, :] < np.array(lengths)[:, None]
    x_padded = np.where(mask[..., None], x, 9.0).astype("float32")  # garbage in the padding
    rnn = keras.layers.RNN(_make_cell(kind), return_sequences=True, return_state=True)
    seq, h, c = rnn(x_padded, initial_state=[h0, c0], mask=mask)
    h, c = _np(h), _np(c)
    unmasked_h = _np(rnn(x_padded, initial_state=[h0, c0])[1])
    for row, length in enumerate(lengths):
        _, h_row, c_row = rnn(x[row:row + 1, :length], initial_state=[h0[row:row + 1],
                                                                       c0[row:row + 1]])
        np.testing.assert_allclose(h[row], _np(h_row)[0], atol=1e-6)
        np.testing.assert_allclose(c[row], _np(c_row)[0], atol=1e-6)
    # The padded rows really would have changed without the mask; the full row does not.
    assert np.abs(unmasked_h[0] - h[0]).max() > 1e-3
    assert np.abs(unmasked_h[2] - h[2]).max() > 1e-3
    np.testing.assert_allclose(unmasked_h[1], h[1], atol=1e-6)
    # Masked steps repeat the last valid output (keras.layers.RNN's convention).
    seq = _np(seq)
    np.testing.assert_allclose(seq[0, 2:], np.broadcast_to(h[0], (4, UNITS)), atol=1e-7)


@pytest.mark.extended_on_jax  # 12 s on JAX
@pytest.mark.parametrize("layer_class", [PeepholeLSTM, CoupledGateLSTM])
def test_bidirectional_with_embedding_mask(layer_class):
    rng = np.random.default_rng(7)
    tokens = rng.integers(1, 10, size=(2, 6)).astype("int32")
    lengths = [3, 6]
    padded = np.where(np.arange(6)[None, :] < np.array(lengths)[:, None], tokens, 0)
    padded = padded.astype("int32")

    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, D_IN, mask_zero=True)(inputs)
    outputs = keras.layers.Bidirectional(layer_class(UNITS, return_state=True))(embedded)
    model = keras.Model(inputs, outputs)
    assert len(outputs) == 5  # output, forward h, c, backward h, c

    full = [_np(o) for o in model(padded)]
    assert full[0].shape == (2, 2 * UNITS)
    for row, length in enumerate(lengths):
        alone = [_np(o) for o in model(padded[row:row + 1, :length])]
        for got, expected in zip(full, alone):
            np.testing.assert_allclose(got[row], expected[0], atol=1e-6)
    # Extra trailing padding does not change any final state either.
    more_padding = np.concatenate([padded, np.zeros((2, 3), "int32")], axis=1)
    for got, expected in zip([_np(o) for o in model(more_padding)], full):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    # The forward and backward halves are different layers with different results.
    assert np.abs(full[1] - full[3]).max() > 1e-4


@pytest.mark.extended_on_jax  # 8 s on JAX
def test_stacked_rnn_cells_equal_two_rnn_layers():
    rng = np.random.default_rng(8)
    x, _, _ = _data(rng)
    first, second = PeepholeLSTMCell(UNITS), CoupledGateLSTMCell(3, use_peepholes=True)
    stacked = keras.layers.RNN(keras.layers.StackedRNNCells([first, second]),
                               return_state=True)
    out, *states = stacked(x)
    assert tuple(out.shape) == (B, 3)
    assert [tuple(s.shape) for s in keras.tree.flatten(states)] == [
        (B, UNITS), (B, UNITS), (B, 3), (B, 3)]

    layer_1 = keras.layers.RNN(PeepholeLSTMCell(UNITS), return_sequences=True)
    layer_2 = keras.layers.RNN(CoupledGateLSTMCell(3, use_peepholes=True))
    hidden = layer_1(x)
    layer_2(hidden)
    layer_1.set_weights(first.get_weights())
    layer_2.set_weights(second.get_weights())
    np.testing.assert_allclose(_np(out), _np(layer_2(layer_1(x))), atol=1e-6)


# --------------------------------------------------------------------------------------------
# Dropout and unit_forget_bias
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_class", [PeepholeLSTM, CoupledGateLSTM])
@pytest.mark.parametrize("rates", [(0.5, 0.0), (0.0, 0.5), (0.4, 0.4)],
                         ids=["dropout", "recurrent_dropout", "both"])
def test_dropout(layer_class, rates):
    dropout, recurrent_dropout = rates
    x = np.random.default_rng(9).standard_normal((B, T, D_IN)).astype("float32")
    layer = layer_class(UNITS, dropout=dropout, recurrent_dropout=recurrent_dropout,
                        return_sequences=True, seed=3)
    plain = layer_class(UNITS, return_sequences=True)
    inference = _np(layer(x, training=False))
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_array_equal(_np(layer(x, training=False)), inference)
    np.testing.assert_allclose(_np(plain(x)), inference, atol=1e-6)
    trained = _np(layer(x, training=True))
    assert trained.shape == inference.shape
    assert np.isfinite(trained).all()
    assert np.abs(trained - inference).max() > 1e-4


@pytest.mark.parametrize("layer_class,forget_slice", [
    (PeepholeLSTMCell, slice(UNITS, 2 * UNITS)),
    (CoupledGateLSTMCell, slice(0, UNITS)),
])
@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_unit_forget_bias(layer_class, forget_slice, unit_forget_bias):
    cell = layer_class(UNITS, unit_forget_bias=unit_forget_bias)
    cell.build((None, D_IN))
    bias = _np(cell.bias)
    n_gates = 4 if layer_class is PeepholeLSTMCell else 3
    assert bias.shape == (n_gates * UNITS,)
    expected = np.zeros_like(bias)
    if unit_forget_bias:
        expected[forget_slice] = 1.0
    np.testing.assert_array_equal(bias, expected)


def test_cifg_unit_forget_bias_with_non_zero_bias_initializer():
    cell = CoupledGateLSTMCell(UNITS, bias_initializer=keras.initializers.Constant(0.25))
    cell.build((None, D_IN))
    bias = _np(cell.bias)
    np.testing.assert_array_equal(bias[:UNITS], 1.0)
    np.testing.assert_array_equal(bias[UNITS:], 0.25)


def test_cifg_without_bias():
    rng = np.random.default_rng(10)
    x, h0, c0 = _data(rng)
    cell = CoupledGateLSTMCell(UNITS, use_bias=False)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn(x, initial_state=[h0, c0])
    assert cell.bias is None
    assert len(cell.trainable_weights) == 2
    weights = _random_cifg_weights(rng, use_peepholes=False)
    weights.pop("bias")
    _assign(cell, weights)
    ref = np_cifg_lstm(x, h0, c0, bias=np.zeros(3 * UNITS, "float32"), **weights)
    for got, expected in zip(_run_rnn(rnn, x, h0, c0), ref):
        np.testing.assert_allclose(got, expected, atol=1e-5)


# --------------------------------------------------------------------------------------------
# Config, saving, jit
# --------------------------------------------------------------------------------------------

_CELL_FACTORIES = {
    "peephole_cell": lambda: PeepholeLSTMCell(
        UNITS, dropout=0.1, recurrent_dropout=0.2, unit_forget_bias=False,
        peephole_initializer="ones", peephole_regularizer="l2",
        peephole_constraint="non_neg", seed=4),
    "cifg_cell": lambda: CoupledGateLSTMCell(
        UNITS, use_peepholes=True, dropout=0.1, peephole_initializer="zeros",
        peephole_regularizer=keras.regularizers.L2(0.1), activation="relu"),
    "cifg_cell_no_peepholes": lambda: CoupledGateLSTMCell(UNITS),
}


@pytest.mark.parametrize("name", sorted(_CELL_FACTORIES))
def test_cell_config_roundtrip(name):
    cell = _CELL_FACTORIES[name]()
    clone = assert_config_roundtrip(cell)
    assert type(clone) is type(cell)
    assert clone.units == cell.units
    for attr in ("dropout", "recurrent_dropout", "unit_forget_bias", "use_bias"):
        assert getattr(clone, attr) == getattr(cell, attr)
    assert (keras.initializers.serialize(clone.peephole_initializer)
            == keras.initializers.serialize(cell.peephole_initializer))
    assert (keras.regularizers.serialize(clone.peephole_regularizer)
            == keras.regularizers.serialize(cell.peephole_regularizer))
    if isinstance(cell, CoupledGateLSTMCell):
        assert clone.use_peepholes == cell.use_peepholes
    # Inside keras.layers.RNN (which serialises the cell with its registered name).
    # keras.layers.RNN.from_config pops "cell" from the dict it gets, so hand it a copy.
    rnn = keras.layers.RNN(cell, return_sequences=True)
    config = rnn.get_config()
    assert config["cell"]["registered_name"] == f"keras_s2s>{type(cell).__name__}"
    rnn_clone = keras.layers.RNN.from_config(copy.deepcopy(config))
    assert rnn_clone.get_config() == config
    assert type(rnn_clone.cell) is type(cell)
    assert rnn_clone.return_sequences


@pytest.mark.parametrize("layer_factory", [
    lambda: PeepholeLSTM(UNITS, return_sequences=True, go_backwards=True, dropout=0.2,
                         peephole_regularizer="l2", unit_forget_bias=False, name="peep"),
    lambda: CoupledGateLSTM(UNITS, use_peepholes=True, return_state=True,
                            recurrent_dropout=0.3, peephole_constraint="non_neg"),
    lambda: CoupledGateLSTM(UNITS),
], ids=["peephole", "cifg_peepholes", "cifg"])
def test_layer_config_roundtrip(layer_factory):
    layer = layer_factory()
    clone = assert_config_roundtrip(layer)
    assert type(clone) is type(layer)
    assert type(clone.cell) is type(layer.cell)
    assert clone.name == layer.name
    assert clone.units == layer.units
    for attr in ("return_sequences", "return_state", "go_backwards"):
        assert getattr(clone, attr) == getattr(layer, attr)
    for attr in ("dropout", "recurrent_dropout", "unit_forget_bias"):
        assert getattr(clone.cell, attr) == getattr(layer.cell, attr)
    assert "cell" not in layer.get_config()
    # The cell arguments surface at the top level of the config, like keras.layers.LSTM.
    assert layer.get_config()["units"] == UNITS


@pytest.mark.extended_on_jax  # 6 s on JAX
def test_saving_roundtrip(tmp_path):
    inputs = keras.Input((None, D_IN))
    hidden = PeepholeLSTM(UNITS, return_sequences=True)(inputs)
    hidden = keras.layers.RNN(CoupledGateLSTMCell(3, use_peepholes=True),
                              return_sequences=True)(hidden)
    hidden = keras.layers.Bidirectional(CoupledGateLSTM(3, return_sequences=True))(hidden)
    hidden = keras.layers.RNN(PeepholeLSTMCell(2), return_sequences=True)(hidden)
    outputs = CoupledGateLSTM(UNITS, unit_forget_bias=False)(hidden)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(11).standard_normal((B, T, D_IN)).astype("float32")
    reloaded = assert_saving_roundtrip(model, x, tmp_path)
    assert [type(layer).__name__ for layer in reloaded.layers] == [
        type(layer).__name__ for layer in model.layers]
    for a, b in zip(model.weights, reloaded.weights):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert len(reloaded.weights) == len(model.weights)


_JIT_LAYERS = {
    "PeepholeLSTM": lambda: PeepholeLSTM(UNITS),
    "CoupledGateLSTM_peepholes": lambda: CoupledGateLSTM(UNITS, use_peepholes=True),
    "RNN_PeepholeLSTMCell": lambda: keras.layers.RNN(PeepholeLSTMCell(UNITS, implementation=1)),
    "RNN_CoupledGateLSTMCell": lambda: keras.layers.RNN(CoupledGateLSTMCell(UNITS)),
}


@pytest.mark.parametrize("name", sorted(_JIT_LAYERS))
def test_jit_parity_and_gradients(name):
    n_weights = {"PeepholeLSTM": 6, "CoupledGateLSTM_peepholes": 5,
                 "RNN_PeepholeLSTMCell": 6, "RNN_CoupledGateLSTMCell": 3}[name]

    def make_model():
        inputs = keras.Input((None, D_IN))
        model = keras.Model(inputs, _JIT_LAYERS[name]()(inputs))
        assert len(model.trainable_weights) == n_weights
        return model

    rng = np.random.default_rng(12)
    x = rng.standard_normal((B, T, D_IN)).astype("float32")
    y = rng.standard_normal((B, UNITS)).astype("float32")
    assert_jit_parity_and_gradients(make_model, x, y)


# --------------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------------

_ALL_CLASSES = [PeepholeLSTMCell, PeepholeLSTM, CoupledGateLSTMCell, CoupledGateLSTM]


@pytest.mark.parametrize("cls", _ALL_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("units", [0, -1, 2.5, True])
def test_bad_units(cls, units):
    with pytest.raises(ValueError, match="units"):
        cls(units)


@pytest.mark.parametrize("cls", _ALL_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("argument,value", [
    ("dropout", 1.5), ("dropout", -0.1), ("dropout", 1.0), ("recurrent_dropout", 1.5)])
def test_bad_rates(cls, argument, value):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        cls(UNITS, **{argument: value})
