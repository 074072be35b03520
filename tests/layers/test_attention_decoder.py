import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import (
    AttentionDecoder,
    BahdanauAttention,
    CoupledGateLSTMCell,
    LuongAttention,
    PeepholeLSTMCell,
    StackedCells,
)
from keras_s2s.layers import _hoisting
from tests.helpers import (
    assert_config_roundtrip,
    assert_jit_parity_and_gradients,
    assert_saving_roundtrip,
)

B, T, S, D_IN, D_MEM, UNITS = 2, 4, 5, 3, 6, 5


def _cell(kind):
    return {
        "lstm": lambda: keras.layers.LSTMCell(UNITS),
        "gru": lambda: keras.layers.GRUCell(UNITS),
        "rnn": lambda: keras.layers.SimpleRNNCell(UNITS),
        "peephole": lambda: PeepholeLSTMCell(UNITS),
        "cifg": lambda: CoupledGateLSTMCell(UNITS, use_peepholes=True),
        "stacked": lambda: keras.layers.StackedRNNCells(
            [keras.layers.LSTMCell(UNITS), keras.layers.GRUCell(UNITS)]),
        # the first LSTM's input half is hoisted out of the loop (`_hoisting`)
        "residual_stack": lambda: StackedCells(
            [keras.layers.LSTMCell(UNITS), keras.layers.LSTMCell(UNITS)], residual=True),
    }[kind]()


def _attention(kind):
    return {
        "bahdanau": lambda: BahdanauAttention(4),
        "normed_bahdanau": lambda: BahdanauAttention(4, normalize=True),
        "luong_general": lambda: LuongAttention("general"),
        "luong_concat": lambda: LuongAttention("concat", scale=True),
    }[kind]()


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, D_IN)).astype("float32")
    memory = rng.normal(size=(B, S, D_MEM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=bool)
    return x, memory, mask


def _loop_over_step(decoder, x, memory, mask, initial_state=None):
    states = decoder.get_initial_state(B, initial_state, memory, mask)
    keys = decoder.attention.precompute(memory)
    outputs, weights = [], []
    for t in range(x.shape[1]):
        out, w, states = decoder.step(x[:, t], states, memory, mask, keys=keys)
        outputs.append(ops.convert_to_numpy(out))
        weights.append(ops.convert_to_numpy(w))
    return np.stack(outputs, 1), np.stack(weights, 1), [ops.convert_to_numpy(s) for s in states]


def assert_call_equals_steps(decoder, x, memory, mask, initial_state=None):
    """The whole-sequence call and the step loop agree on outputs, alignments and states;
    returns the loop's `(outputs, alignments, states)`."""
    outputs, alignments, states = decoder(x, memory, memory_mask=mask,
                                          initial_state=initial_state)
    ref_out, ref_w, ref_states = _loop_over_step(decoder, x, memory, mask, initial_state)
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), ref_out, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(alignments), ref_w, atol=1e-5)
    assert len(states) == len(ref_states) == len(decoder.state_size)
    for s, r in zip(states, ref_states):
        np.testing.assert_allclose(ops.convert_to_numpy(s), r, atol=1e-5)
    return ref_out, ref_w, ref_states


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "peephole", "cifg", "stacked",
                                  "residual_stack"])
@pytest.mark.parametrize("input_feeding", [True, False])
def test_call_equals_loop_over_step(cell, input_feeding):
    x, memory, mask = _data()
    decoder = AttentionDecoder(_cell(cell), LuongAttention("general"),
                               attention_layer_size=UNITS, input_feeding=input_feeding)
    assert_call_equals_steps(decoder, x, memory, mask)


@pytest.mark.parametrize("attention", ["bahdanau", "normed_bahdanau", "luong_concat"])
def test_call_equals_loop_with_initial_state_and_no_projection(attention):
    x, memory, mask = _data()
    decoder = AttentionDecoder(_cell("lstm"), _attention(attention), attention_layer_size=None)
    rng = np.random.default_rng(1)
    init = [rng.normal(size=(B, UNITS)).astype("float32") for _ in range(2)]
    outputs, alignments, _ = decoder(x, memory, memory_mask=mask, initial_state=init)
    assert outputs.shape == (B, T, UNITS + D_MEM)
    ref_out, ref_w, _ = _loop_over_step(decoder, x, memory, mask, init)
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), ref_out, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(alignments), ref_w, atol=1e-5)


@pytest.mark.parametrize("training", [False, True])
def test_hoisted_lstm_step_is_the_lstm_cell(training):
    """The hoisted projection plus the loop's half equal `keras.layers.LSTMCell` itself, with
    the cell's own per-sequence dropout mask on both halves of its input."""
    cell = keras.layers.LSTMCell(UNITS, dropout=0.5, seed=3)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(B, T, D_IN)).astype("float32")  # known before the loop
    rest = rng.normal(size=(B, 4)).astype("float32")  # made inside it (input feeding)
    states = [rng.normal(size=(B, UNITS)).astype("float32") for _ in range(2)]
    cell.build((B, D_IN + 4))
    full = np.concatenate([x[:, 1], rest], axis=-1)
    mask = cell.get_dropout_mask(ops.convert_to_tensor(full))  # one mask for the sequence
    if training:  # the mask is real: some inputs are dropped, the rest scaled by 2
        assert set(np.unique(ops.convert_to_numpy(mask))) == {0.0, 2.0}
    h_ref, (h_ref2, c_ref) = cell(full, states, training=training)
    projected = _hoisting.project_inputs(cell, x, full, training)
    h, (h2, c) = _hoisting.lstm_step(cell, projected[:, 1], rest, states, training)
    cell.reset_dropout_mask()
    for got, want in ((h, h_ref), (h2, h_ref2), (c, c_ref)):
        np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(want),
                                   atol=1e-5)


def test_only_the_plain_lstm_cell_is_hoisted():
    assert _hoisting.hoistable_cell(keras.layers.LSTMCell(3)) is not None
    first = keras.layers.LSTMCell(3)
    assert _hoisting.hoistable_cell(StackedCells([first, keras.layers.GRUCell(3)])) is first
    for cell in (PeepholeLSTMCell(3), keras.layers.GRUCell(3),
                 keras.layers.LSTMCell(3, recurrent_dropout=0.1),  # Keras' implementation 1
                 keras.layers.StackedRNNCells([keras.layers.LSTMCell(3)])):
        assert _hoisting.hoistable_cell(cell) is None


@pytest.mark.parametrize("use_bias,activation", [(False, "tanh"), (True, "relu")])
def test_folded_attention_layer_is_the_dense_on_context_and_h(use_bias, activation):
    """`α V + h W_ch` with `V = M W_cc` equals `dense([α M; h])`, computed here in NumPy."""
    rng = np.random.default_rng(5)
    memory = rng.normal(size=(B, 6, 5)).astype("float32")
    weights = rng.dirichlet(np.ones(6), size=B).astype("float32")
    h = rng.normal(size=(B, UNITS)).astype("float32")
    dense = keras.layers.Dense(7, use_bias=use_bias, activation=activation,
                               bias_initializer="glorot_uniform")
    dense.build((B, 5 + UNITS))
    kernel = ops.convert_to_numpy(dense.kernel)
    z = np.concatenate([np.einsum("bs,bsd->bd", weights, memory), h], -1) @ kernel
    if use_bias:
        z = z + ops.convert_to_numpy(dense.bias)
    want = np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0)
    got = _hoisting.folded_output(dense, weights, h, _hoisting.fold_output(dense, memory))
    np.testing.assert_allclose(ops.convert_to_numpy(got), want, atol=1e-5)
    assert _hoisting.foldable_output(dense) is dense
    assert _hoisting.foldable_output(type("MyDense", (keras.layers.Dense,), {})(3)) is None


@pytest.mark.parametrize("input_feeding", [True, False])
def test_prepared_keys_carry_the_folded_memory_and_steps_read_it(input_feeding):
    """The prepare mode appends `M W_cc` (NumPy here) to the attention keys; a one-step call
    with them, its rows grouped by source as a beam's are, equals the step with the plain keys
    over a tiled memory (the concatenation `dense([c_t; h_t])`)."""
    keras.utils.set_random_seed(0)
    decoder = AttentionDecoder(_cell("lstm"), LuongAttention("general"),
                               attention_layer_size=UNITS, input_feeding=input_feeding)
    x, memory, mask = _data()
    decoder(x, memory, memory_mask=mask)  # build
    _, keys, _ = decoder(None, memory, memory_mask=mask)
    plain = ops.convert_to_numpy(decoder.attention.precompute(memory))
    wc = ops.convert_to_numpy(decoder.attention_dense.kernel)
    keys = ops.convert_to_numpy(keys)
    assert keys.shape == (B, S, plain.shape[-1] + UNITS)
    np.testing.assert_allclose(keys[..., :plain.shape[-1]], plain, atol=1e-6)
    np.testing.assert_allclose(keys[..., plain.shape[-1]:], memory @ wc[:D_MEM], atol=1e-5)
    rng = np.random.default_rng(3)
    r = 3  # hypotheses per source
    states = [rng.normal(size=(B * r, size)).astype("float32")
              for size in keras.tree.flatten(decoder.state_size)]
    step = rng.normal(size=(B * r, 1, D_IN)).astype("float32")
    tiled_memory, tiled_mask = np.repeat(memory, r, 0), np.repeat(mask, r, 0)
    want = decoder(step, tiled_memory, memory_mask=tiled_mask, initial_state=states,
                   keys=np.repeat(plain, r, 0))
    got = decoder(step, memory, memory_mask=mask, initial_state=states, keys=keys)
    for a, b in zip(keras.tree.flatten(got), keras.tree.flatten(want)):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-5)
    out, _, _ = decoder.step(step[:, 0], states, tiled_memory, tiled_mask,
                             keys=np.repeat(keys, r, 0))
    np.testing.assert_allclose(ops.convert_to_numpy(out), ops.convert_to_numpy(want[0])[:, 0],
                               atol=1e-5)


def test_without_an_attention_layer_the_prepared_keys_are_the_plain_keys():
    decoder = AttentionDecoder(_cell("lstm"), LuongAttention("general"))
    x, memory, mask = _data()
    decoder(x, memory, memory_mask=mask)
    _, keys, _ = decoder(None, memory, memory_mask=mask)
    np.testing.assert_allclose(ops.convert_to_numpy(keys),
                               ops.convert_to_numpy(decoder.attention.precompute(memory)))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_matches_numpy_luong_input_feeding_equations():
    """LSTM + general attention + input feeding, written out from Luong et al. (2015)."""
    x, memory, mask = _data()
    decoder = AttentionDecoder(_cell("lstm"), LuongAttention("general"),
                               attention_layer_size=UNITS, input_feeding=True)
    outputs, alignments, _ = decoder(x, memory, memory_mask=mask)
    W = ops.convert_to_numpy(decoder.cell.kernel)
    U = ops.convert_to_numpy(decoder.cell.recurrent_kernel)
    b = ops.convert_to_numpy(decoder.cell.bias)
    Wa = ops.convert_to_numpy(decoder.attention.memory_kernel)
    Wc = ops.convert_to_numpy(decoder.attention_dense.kernel)
    h = np.zeros((B, UNITS)); c = np.zeros((B, UNITS)); att = np.zeros((B, UNITS))
    outs, aligns = [], []
    for t in range(T):
        z = np.concatenate([x[:, t], att], -1) @ W + h @ U + b
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        score = np.einsum("bd,bsd->bs", h, memory @ Wa)
        score = np.where(mask, score, -np.inf)
        a = np.exp(score - score.max(-1, keepdims=True)) * mask
        a = a / a.sum(-1, keepdims=True)
        context = np.einsum("bs,bsd->bd", a, memory)
        att = np.tanh(np.concatenate([context, h], -1) @ Wc)
        outs.append(att); aligns.append(a)
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), np.stack(outs, 1), atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(alignments), np.stack(aligns, 1), atol=1e-5)


def test_alignments_are_distributions_over_the_real_source():
    x, memory, mask = _data()
    decoder = AttentionDecoder(_cell("gru"), BahdanauAttention(4), attention_layer_size=UNITS)
    _, alignments, _ = decoder(x, memory, memory_mask=mask)
    a = ops.convert_to_numpy(alignments)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-5)
    assert np.all(a[1, :, 3:] == 0.0)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="TensorFlow's while-loop gradient stacks reads made in the body")
@pytest.mark.parametrize("attention", ["normed_bahdanau", "luong_general"])
def test_loop_reads_no_weight_per_step_and_gradients_match_the_step_loop(attention):
    """No weight is read inside the training loop's bodies (a read there is copied at every
    step for the gradient: `_hoisting.weights_read_once`), and the gradients equal those
    taken through a Python loop over `step()`, which reads every weight as usual."""
    import tensorflow as tf

    x, memory, mask = _data()
    decoder = AttentionDecoder(keras.layers.LSTMCell(UNITS), _attention(attention),
                               attention_layer_size=UNITS)
    decoder(x, memory, memory_mask=mask)
    weights = [w.value for w in decoder.trainable_weights]

    def loss_of(outputs):
        return tf.reduce_sum(tf.square(outputs) * np.arange(1, UNITS + 1, dtype="float32"))

    @tf.function
    def loop_gradients():
        with tf.GradientTape() as tape:
            outputs, _, _ = decoder(x, memory, memory_mask=mask)
            loss = loss_of(outputs)
        return tape.gradient(loss, weights)

    library = loop_gradients.get_concrete_function().graph.as_graph_def().library.function
    bodies = [f for f in library if "body" in f.signature.name]
    assert len(bodies) >= 2  # the forward loop's body and its gradient's
    reads = [(f.signature.name, n.name) for f in bodies for n in f.node_def
             if n.op == "ReadVariableOp"]
    assert reads == []
    with tf.GradientTape() as tape:
        states = decoder.get_initial_state(B, None, memory, mask)
        keys = decoder.attention.precompute(memory)
        outputs = []
        for t in range(T):
            out, _, states = decoder.step(x[:, t], states, memory, mask, keys=keys)
            outputs.append(out)
        loss = loss_of(tf.stack(outputs, 1))
    for got, want, w in zip(loop_gradients(), tape.gradient(loss, weights),
                            decoder.trainable_weights):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5, err_msg=w.path)


def _functional_model(input_feeding=True, dropout=0.0):
    inputs = keras.Input((None, D_IN), name="x")
    memory = keras.Input((None, D_MEM), name="memory")
    cell = keras.layers.LSTMCell(UNITS, dropout=dropout, recurrent_dropout=dropout)
    decoder = AttentionDecoder(cell, BahdanauAttention(4, normalize=True),
                               attention_layer_size=UNITS, input_feeding=input_feeding,
                               name="decoder")
    outputs, alignments, states = decoder(inputs, memory)
    merged = keras.layers.Concatenate()([outputs, alignments])
    return keras.Model([inputs, memory], merged)


@pytest.mark.extended_on_jax  # 25 s on JAX
@pytest.mark.parametrize("input_feeding", [True, False])
def test_jit_parity_and_every_weight_gets_a_gradient(input_feeding):
    x, memory, _ = _data()
    target = np.zeros((B, T, UNITS + S), "float32")
    assert_jit_parity_and_gradients(lambda: _functional_model(input_feeding), [x, memory], target)


@pytest.mark.extended_on_jax  # 8 s on JAX
def test_dropout_trains_under_jit():
    x, memory, _ = _data()
    model = _functional_model(dropout=0.3)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    loss = model.train_on_batch([x, memory], np.zeros((B, T, UNITS + S), "float32"))
    assert np.isfinite(np.asarray(loss)).all()
    eval_a = model.predict([x, memory], verbose=0)
    eval_b = model.predict([x, memory], verbose=0)
    np.testing.assert_array_equal(eval_a, eval_b)  # no dropout at inference


def test_config_and_saving_roundtrip(tmp_path):
    decoder = AttentionDecoder(PeepholeLSTMCell(UNITS), LuongAttention("concat", units=3),
                               attention_layer_size=4, input_feeding=False)
    clone = assert_config_roundtrip(decoder)
    assert isinstance(clone.cell, PeepholeLSTMCell) and clone.attention.score_type == "concat"
    x, memory, _ = _data()
    assert_saving_roundtrip(_functional_model(), [x, memory], tmp_path)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="cell"):
        AttentionDecoder("lstm", LuongAttention())
    with pytest.raises(ValueError, match="attention"):
        AttentionDecoder(keras.layers.LSTMCell(4), keras.layers.Dense(3))
    with pytest.raises(ValueError, match="attention_layer_size"):
        AttentionDecoder(keras.layers.LSTMCell(4), LuongAttention(), attention_layer_size=0)
    x, memory, _ = _data()
    decoder = AttentionDecoder(keras.layers.LSTMCell(UNITS), LuongAttention())
    with pytest.raises(ValueError, match="initial_state"):
        decoder(x, memory, initial_state=[np.zeros((B, UNITS), "float32")])
    with pytest.raises(ValueError, match="memory"):
        AttentionDecoder(keras.layers.LSTMCell(UNITS), LuongAttention())(x, memory[:, 0])
