"""Recurrent cells Keras 3 lost with Keras 2: peephole LSTM and coupled-gate (CIFG) LSTM.

Both cells subclass `keras.layers.LSTMCell`, so they keep its weight layout, its dropout
machinery (one mask per sequence, reset by `keras.layers.RNN`) and its initialisers, and they
drop into `keras.layers.RNN`, `keras.layers.Bidirectional` and `keras.layers.StackedRNNCells`.
"""

import keras
from keras import ops

from keras_s2s.layers._checks import check_positive_int, check_rate
from keras_s2s.layers.read_once_rnn import ReadOnceRNN

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask")
_BASE_LAYER_ARGS = ("name", "dtype", "trainable")


def _validate_cell_args(units, dropout, recurrent_dropout):
    check_positive_int("units", units)
    check_rate("dropout", dropout)
    check_rate("recurrent_dropout", recurrent_dropout)


@keras.saving.register_keras_serializable(package="keras_s2s")
class PeepholeLSTMCell(keras.layers.LSTMCell):
    """LSTM cell with peephole connections (Gers & Schmidhuber, 2000).

    The gates look at the cell state: the input and forget gates at the previous cell state,
    the output gate at the new one:

        i = σ(x W_i + h U_i + b_i + p_i ⊙ c_prev)
        f = σ(x W_f + h U_f + b_f + p_f ⊙ c_prev)
        c = f ⊙ c_prev + i ⊙ tanh(x W_c + h U_c + b_c)
        o = σ(x W_o + h U_o + b_o + p_o ⊙ c)
        h = o ⊙ tanh(c)

    The weight layout is that of `keras.layers.LSTMCell` (gates in the order i, f, c, o) plus
    three peephole vectors, exactly as the old `tf.keras.experimental.PeepholeLSTMCell`
    stored them, so weights saved from that cell load here. With zero peepholes the cell
    computes what `keras.layers.LSTMCell` computes.

    Args:
        units: Positive integer, the dimensionality of the output and cell state.
        peephole_initializer: Initializer for the three peephole vectors.
            Defaults to `"glorot_uniform"` as in the TensorFlow cell.
        peephole_regularizer: Optional regularizer for the peephole vectors.
        peephole_constraint: Optional constraint for the peephole vectors.
        **kwargs: Every other argument of `keras.layers.LSTMCell` (`activation`,
            `recurrent_activation`, `use_bias`, `unit_forget_bias`, `dropout`,
            `recurrent_dropout`, initializers, regularizers, constraints, `seed`).

    Call arguments:
        inputs: A 2D tensor, shape `(batch, features)`.
        states: A list `[h, c]` of two 2D tensors, shape `(batch, units)`.
        training: Python boolean, whether dropout is active.

    Returns:
        `(h, [h, c])`.

    Example:

    >>> cell = PeepholeLSTMCell(8)
    >>> layer = keras.layers.RNN(cell, return_sequences=True)
    >>> layer(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 5, 8])

    Reference:
        - [Gers & Schmidhuber, 2000. Recurrent nets that time and count.](
          https://doi.org/10.1109/IJCNN.2000.861302)
    """

    def __init__(self, units, peephole_initializer="glorot_uniform",
                 peephole_regularizer=None, peephole_constraint=None, **kwargs):
        _validate_cell_args(units, kwargs.get("dropout", 0.0),
                            kwargs.get("recurrent_dropout", 0.0))
        super().__init__(units, **kwargs)
        self.peephole_initializer = keras.initializers.get(peephole_initializer)
        self.peephole_regularizer = keras.regularizers.get(peephole_regularizer)
        self.peephole_constraint = keras.constraints.get(peephole_constraint)

    def build(self, input_shape):
        super().build(input_shape)
        for gate in ("input", "forget", "output"):
            weight = self.add_weight(
                shape=(self.units,),
                name=f"{gate}_gate_peephole_weights",
                initializer=self.peephole_initializer,
                regularizer=self.peephole_regularizer,
                constraint=self.peephole_constraint,
            )
            setattr(self, f"{gate}_gate_peephole_weights", weight)

    # keras.layers.LSTMCell.call computes the pre-activations and delegates the gates to these
    # two methods (split kernels when recurrent dropout is on, fused otherwise).
    def _compute_carry_and_output(self, x, h_tm1, c_tm1):
        x_i, x_f, x_c, x_o = x
        h_i, h_f, h_c, h_o = h_tm1
        u_i, u_f, u_c, u_o = ops.split(self.recurrent_kernel, 4, axis=1)
        z = (x_i + ops.matmul(h_i, u_i), x_f + ops.matmul(h_f, u_f),
             x_c + ops.matmul(h_c, u_c), x_o + ops.matmul(h_o, u_o))
        return self._compute_carry_and_output_fused(z, c_tm1)

    def _compute_carry_and_output_fused(self, z, c_tm1):
        z_i, z_f, z_c, z_o = z
        i = self.recurrent_activation(z_i + self.input_gate_peephole_weights * c_tm1)
        f = self.recurrent_activation(z_f + self.forget_gate_peephole_weights * c_tm1)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o + self.output_gate_peephole_weights * c)
        return c, o

    def get_config(self):
        config = super().get_config()
        config.update({
            "peephole_initializer": keras.initializers.serialize(self.peephole_initializer),
            "peephole_regularizer": keras.regularizers.serialize(self.peephole_regularizer),
            "peephole_constraint": keras.constraints.serialize(self.peephole_constraint),
        })
        return config


@keras.saving.register_keras_serializable(package="keras_s2s")
class CoupledGateLSTMCell(keras.layers.LSTMCell):
    """Coupled input–forget gate LSTM cell (CIFG; Greff et al., 2017).

    The input gate is tied to the forget gate, `i = 1 − f`, which removes a quarter of the
    LSTM's parameters at little or no cost in quality:

        f = σ(x W_f + h U_f + b_f [+ p_f ⊙ c_prev])
        c = f ⊙ c_prev + (1 − f) ⊙ tanh(x W_c + h U_c + b_c)
        o = σ(x W_o + h U_o + b_o [+ p_o ⊙ c])
        h = o ⊙ tanh(c)

    `kernel` has shape `(input_dim, 3 * units)`, `recurrent_kernel` `(units, 3 * units)` and
    `bias` `(3 * units,)`, with the gates in the order f, c, o.

    Args:
        units: Positive integer, the dimensionality of the output and cell state.
        use_peepholes: Boolean, whether to add the peepholes `p_f ⊙ c_prev` and `p_o ⊙ c`
            (weights `forget_gate_peephole_weights`, `output_gate_peephole_weights`).
        peephole_initializer: Initializer for the peephole vectors.
        peephole_regularizer: Optional regularizer for the peephole vectors.
        peephole_constraint: Optional constraint for the peephole vectors.
        **kwargs: Every other argument of `keras.layers.LSTMCell`.

    Call arguments:
        inputs: A 2D tensor, shape `(batch, features)`.
        states: A list `[h, c]` of two 2D tensors, shape `(batch, units)`.
        training: Python boolean, whether dropout is active.

    Returns:
        `(h, [h, c])`.

    Example:

    >>> cell = CoupledGateLSTMCell(8, use_peepholes=True)
    >>> layer = keras.layers.RNN(cell)
    >>> layer(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 8])

    Reference:
        - [Greff et al., 2017. LSTM: A Search Space Odyssey.](
          https://arxiv.org/abs/1503.04069)
    """

    def __init__(self, units, use_peepholes=False, peephole_initializer="glorot_uniform",
                 peephole_regularizer=None, peephole_constraint=None, **kwargs):
        _validate_cell_args(units, kwargs.get("dropout", 0.0),
                            kwargs.get("recurrent_dropout", 0.0))
        kwargs.pop("implementation", None)
        super().__init__(units, **kwargs)
        self.implementation = 2
        if self.recurrent_dropout > 0.0:
            self.dropout_mask_count = 3  # one mask per gate, as LSTMCell's implementation 1
        self.use_peepholes = bool(use_peepholes)
        self.peephole_initializer = keras.initializers.get(peephole_initializer)
        self.peephole_regularizer = keras.regularizers.get(peephole_regularizer)
        self.peephole_constraint = keras.constraints.get(peephole_constraint)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(input_dim, 3 * self.units), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 3 * self.units), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        if self.use_bias:
            units, base = self.units, self.bias_initializer

            def bias_initializer(shape, dtype=None):
                forget = (keras.initializers.Ones()((units,), dtype=dtype)
                          if self.unit_forget_bias else base((units,), dtype=dtype))
                return ops.concatenate([forget, base((2 * units,), dtype=dtype)])

            self.bias = self.add_weight(
                shape=(3 * self.units,), name="bias", initializer=bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        if self.use_peepholes:
            for gate in ("forget", "output"):
                weight = self.add_weight(
                    shape=(self.units,), name=f"{gate}_gate_peephole_weights",
                    initializer=self.peephole_initializer,
                    regularizer=self.peephole_regularizer,
                    constraint=self.peephole_constraint)
                setattr(self, f"{gate}_gate_peephole_weights", weight)
        self.built = True

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        k_f, k_c, k_o = ops.split(self.kernel, 3, axis=1)
        u_f, u_c, u_o = ops.split(self.recurrent_kernel, 3, axis=1)
        x = [inputs] * 3
        h = [h_tm1] * 3
        if training and self.dropout > 0.0:
            mask = self.get_dropout_mask(inputs)
            x = [inputs * m for m in mask] if isinstance(mask, list) else [inputs * mask] * 3
        if training and self.recurrent_dropout > 0.0:
            mask = self.get_recurrent_dropout_mask(h_tm1)
            h = [h_tm1 * m for m in mask] if isinstance(mask, list) else [h_tm1 * mask] * 3
        z_f = ops.matmul(x[0], k_f) + ops.matmul(h[0], u_f)
        z_c = ops.matmul(x[1], k_c) + ops.matmul(h[1], u_c)
        z_o = ops.matmul(x[2], k_o) + ops.matmul(h[2], u_o)
        if self.use_bias:
            b_f, b_c, b_o = ops.split(self.bias, 3, axis=0)
            z_f, z_c, z_o = z_f + b_f, z_c + b_c, z_o + b_o
        if self.use_peepholes:
            z_f = z_f + self.forget_gate_peephole_weights * c_tm1
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + (1.0 - f) * self.activation(z_c)
        if self.use_peepholes:
            z_o = z_o + self.output_gate_peephole_weights * c
        o = self.recurrent_activation(z_o)
        h_new = o * self.activation(c)
        return h_new, [h_new, c]

    def get_config(self):
        config = super().get_config()
        config.update({
            "use_peepholes": self.use_peepholes,
            "peephole_initializer": keras.initializers.serialize(self.peephole_initializer),
            "peephole_regularizer": keras.regularizers.serialize(self.peephole_regularizer),
            "peephole_constraint": keras.constraints.serialize(self.peephole_constraint),
        })
        return config


class _CellRNN(ReadOnceRNN):
    """A `keras.layers.RNN` whose constructor takes the cell's arguments, like `keras.layers.LSTM`
    (a `ReadOnceRNN`: its loop reads the cell's weights once)."""

    cell_class = None

    def __init__(self, units, **kwargs):
        rnn_kwargs = {k: kwargs.pop(k) for k in _RNN_ARGS if k in kwargs}
        base_kwargs = {k: kwargs.pop(k) for k in _BASE_LAYER_ARGS if k in kwargs}
        cell = self.cell_class(units, dtype=base_kwargs.get("dtype"),
                               trainable=base_kwargs.get("trainable", True), **kwargs)
        super().__init__(cell, **rnn_kwargs, **base_kwargs)

    @property
    def units(self):
        return self.cell.units

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in _BASE_LAYER_ARGS + ("dtype",):
            cell_config.pop(key, None)
        return {**config, **cell_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_s2s")
class PeepholeLSTM(_CellRNN):
    """Peephole LSTM layer: `keras.layers.RNN` over a `PeepholeLSTMCell`.

    Args:
        units: Positive integer, dimensionality of the output space.
        **kwargs: The arguments of `PeepholeLSTMCell` (`dropout`, `recurrent_dropout`,
            `unit_forget_bias`, initializers, ...) and of `keras.layers.RNN`
            (`return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`).

    Call arguments:
        sequences: A 3D tensor, shape `(batch, timesteps, features)`.
        initial_state: Optional list `[h, c]`.
        mask: Optional boolean tensor `(batch, timesteps)`; masked steps keep the state.
        training: Python boolean, whether dropout is active.

    Returns:
        The last output `(batch, units)`, or all outputs `(batch, timesteps, units)` with
        `return_sequences=True`; followed by `h, c` with `return_state=True`.

    Example:

    >>> layer = PeepholeLSTM(8, return_sequences=True, return_state=True)
    >>> outputs, h, c = layer(np.zeros((2, 5, 3), "float32"))
    >>> outputs.shape, h.shape
    (TensorShape([2, 5, 8]), TensorShape([2, 8]))

    Reference:
        - [Gers & Schmidhuber, 2000. Recurrent nets that time and count.](
          https://doi.org/10.1109/IJCNN.2000.861302)
    """

    cell_class = PeepholeLSTMCell


@keras.saving.register_keras_serializable(package="keras_s2s")
class CoupledGateLSTM(_CellRNN):
    """Coupled-gate (CIFG) LSTM layer: `keras.layers.RNN` over a `CoupledGateLSTMCell`.

    Args:
        units: Positive integer, dimensionality of the output space.
        **kwargs: The arguments of `CoupledGateLSTMCell` (`use_peepholes`, `dropout`,
            `recurrent_dropout`, ...) and of `keras.layers.RNN` (`return_sequences`,
            `return_state`, `go_backwards`, `stateful`, `unroll`).

    Call arguments:
        sequences: A 3D tensor, shape `(batch, timesteps, features)`.
        initial_state: Optional list `[h, c]`.
        mask: Optional boolean tensor `(batch, timesteps)`; masked steps keep the state.
        training: Python boolean, whether dropout is active.

    Returns:
        As `keras.layers.LSTM`.

    Example:

    >>> layer = keras.layers.Bidirectional(CoupledGateLSTM(8))
    >>> layer(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 16])

    Reference:
        - [Greff et al., 2017. LSTM: A Search Space Odyssey.](
          https://arxiv.org/abs/1503.04069)
    """

    cell_class = CoupledGateLSTMCell
