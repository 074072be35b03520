"""`ReadOnceRNN`: `keras.layers.RNN`'s function and weights, with the cell's weights read once
per call (the reference is `keras.layers.RNN` itself, with the same weights)."""

import inspect

import keras
import numpy as np
import pytest

from keras_s2s.layers import CoupledGateLSTM, PeepholeLSTM, ReadOnceRNN, StackedCells
from tests.helpers import assert_saving_roundtrip

B, T, D, UNITS = 3, 6, 4, 5
TENSORFLOW = keras.backend.backend() == "tensorflow"


def _cell(kind, dropout=0.0):
    if kind == "lstm":
        return keras.layers.LSTMCell(UNITS, dropout=dropout, recurrent_dropout=dropout, seed=3)
    if kind == "gru":
        return keras.layers.GRUCell(UNITS, dropout=dropout, seed=3)
    return StackedCells([keras.layers.LSTMCell(UNITS), keras.layers.GRUCell(UNITS)])


def _pair(kind, bidirectional=False, dropout=0.0, **kwargs):
    """The same model twice, over `keras.layers.RNN` and over `ReadOnceRNN`, same weights."""
    models = []
    for rnn_class in (keras.layers.RNN, ReadOnceRNN):
        x = keras.Input((None, D))
        layer = rnn_class(_cell(kind, dropout), return_sequences=True, return_state=True,
                          **kwargs)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer)
        y, *states = layer(keras.layers.Masking()(x))
        models.append(keras.Model(x, [y, *states]))
    models[1].set_weights(models[0].get_weights())
    return models


def _data():
    x = np.random.default_rng(0).normal(size=(B, T, D)).astype("float32")
    x[1, 4:] = 0.0  # masked steps
    return x


def test_inner_loop_is_the_keras_method_it_overrides():
    # `ReadOnceRNN` overrides `keras.layers.RNN.inner_loop`; if Keras renames it or changes
    # what it takes, the override would silently stop running: fail here instead
    parameters = list(inspect.signature(keras.layers.RNN.inner_loop).parameters)
    assert parameters == ["self", "sequences", "initial_state", "mask", "training"]
    assert "inner_loop" in inspect.getsource(keras.layers.RNN.call)


@pytest.mark.parametrize("kind", ["lstm", "gru", "stacked"])
@pytest.mark.parametrize("bidirectional, go_backwards", [(False, False), (False, True),
                                                          (True, False)])
def test_same_outputs_and_gradients_as_keras_rnn(kind, bidirectional, go_backwards):
    plain, read_once = _pair(kind, bidirectional, go_backwards=go_backwards)
    x = _data()
    for got, want in zip(read_once(x), plain(x)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got),
                                   keras.ops.convert_to_numpy(want), atol=1e-6)
    if TENSORFLOW:
        import tensorflow as tf

        grads = []
        for model in (plain, read_once):
            with tf.GradientTape() as tape:
                y, *_ = model(x)
                loss = tf.reduce_sum(tf.square(y) * np.arange(1, y.shape[-1] + 1,
                                                             dtype="float32"))
            grads.append(tape.gradient(loss, model.trainable_weights))
        for got, want, w in zip(grads[1], grads[0], plain.trainable_weights):
            np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5, err_msg=w.path)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_same_dropout_masks_in_training(kind):
    plain, read_once = _pair(kind, dropout=0.3)
    x = _data()
    got = keras.ops.convert_to_numpy(read_once(x, training=True)[0])
    want = keras.ops.convert_to_numpy(plain(x, training=True)[0])
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert not np.allclose(got, keras.ops.convert_to_numpy(read_once(x)[0]))  # dropout ran


@pytest.mark.skipif(not TENSORFLOW, reason="reads inside a while loop are TensorFlow's")
def test_the_loop_reads_no_weight_per_step():
    import tensorflow as tf

    def loop_reads(model):
        @tf.function
        def gradients(x):
            with tf.GradientTape() as tape:
                y = keras.tree.flatten(model(x))[0]
                loss = tf.reduce_sum(y)
            return tape.gradient(loss, model.trainable_weights)

        graph = gradients.get_concrete_function(tf.constant(_data())).graph
        bodies = [f for f in graph.as_graph_def().library.function
                  if "body" in f.signature.name]
        assert bodies  # the forward loop's body and its gradient's
        return [n.name for f in bodies for n in f.node_def if n.op == "ReadVariableOp"]

    plain, read_once = _pair("lstm")
    assert loop_reads(plain)  # the reference reads its kernels at every step
    assert loop_reads(read_once) == []
    # the layers that take a cell's arguments (`PeepholeLSTM`, `CoupledGateLSTM`) are ReadOnceRNNs
    for layer_class in (PeepholeLSTM, CoupledGateLSTM):
        x = keras.Input((None, D))
        y = layer_class(UNITS, return_sequences=True)(x)
        assert loop_reads(keras.Model(x, y)) == []


def test_config_saving_and_weights_shared_with_keras_rnn(tmp_path):
    layer = ReadOnceRNN(keras.layers.LSTMCell(UNITS), return_sequences=True, go_backwards=True)
    # (compared field by field: keras.layers.RNN.from_config pops `cell` from the dict given)
    clone = ReadOnceRNN.from_config(layer.get_config())
    assert isinstance(clone, ReadOnceRNN) and clone.go_backwards and clone.return_sequences
    assert type(clone.cell) is keras.layers.LSTMCell and clone.cell.units == UNITS
    plain, read_once = _pair("lstm", bidirectional=True)
    reloaded = assert_saving_roundtrip(read_once, _data(), tmp_path)
    assert isinstance(reloaded.layers[-1].forward_layer, ReadOnceRNN)
    # a model saved over keras.layers.RNN loads its weights into ReadOnceRNN by name
    path = str(tmp_path / "plain.weights.h5")
    plain.save_weights(path)
    _, fresh = _pair("lstm", bidirectional=True)
    fresh.load_weights(path)
    for got, want in zip(fresh.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(got, want)
