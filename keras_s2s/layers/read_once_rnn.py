"""`ReadOnceRNN`: `keras.layers.RNN` whose loop reads the cell's weights once.

On TensorFlow, a weight read inside a while loop's body is a new tensor at every step, and the
loop's gradient stacks it step by step for the backward loop: an LSTM's `(units, 4 · units)`
recurrent kernel becomes a `(steps, units, 4 · units)` stack of copies per training step.
`AttentionDecoder` has read its weights once, before its loop, since the first performance
pass (`_hoisting.weights_read_once`); the zoo's encoders and plain recurrent decoders, built on
`keras.layers.RNN`, still read them per step. This subclass runs the same loop inside the same
scope, so that the cell's weights are read once and captured: the same function, the same
weights and weight names, the same dropout masks (made by `RNN.call` before the loop, outside
the scope). Other backends trace no such reads, and there it is `keras.layers.RNN` itself.

It overrides `keras.layers.RNN.inner_loop(sequences, initial_state, mask, training)`, the
method through which `RNN.call` runs the loop and which Keras' own `LSTM` and `GRU` override
too; docs/ARCHITECTURE.md lists this use, and `tests/layers/test_read_once_rnn.py` fails
loudly if the method's signature changes.
"""

import keras

from keras_s2s.layers import _hoisting


@keras.saving.register_keras_serializable(package="keras_s2s")
class ReadOnceRNN(keras.layers.RNN):
    """`keras.layers.RNN` that reads its cell's weights once per call instead of once per step.

    Computes exactly what `keras.layers.RNN` computes, with the same arguments, weights and
    config. On TensorFlow the loop's body captures the weights read before it (a
    `keras.StatelessScope` over the cell's weights), so the gradient's backward loop reads
    them as they are instead of a per-step stack of copies. A model saved with
    `keras.layers.RNN` loads its weights into this layer unchanged, and the other way round.

    Args:
        cell: A Keras RNN cell instance, or a list of cells (as `keras.layers.RNN`).
        **kwargs: Every other argument of `keras.layers.RNN` (`return_sequences`,
            `return_state`, `go_backwards`, `name`, ...).

    Example:

    >>> layer = ReadOnceRNN(keras.layers.LSTMCell(8), return_sequences=True)
    >>> layer(np.ones((2, 5, 3), "float32")).shape
    TensorShape([2, 5, 8])
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        with _hoisting.weights_read_once(self.cell):
            return super().inner_loop(sequences, initial_state, mask, training=training)
