"""The input half of a decoder LSTM's matmul, hoisted out of the step loop (as cuDNN does).

An LSTM's gates are `z_t = [x_t; r_t] W + h_{t-1} U + b`. In an attention decoder, x_t (the
embedded previous token) is known for every step before the loop starts; only r_t (the fed-back
attentional output, or the context) and h_{t-1} are made inside it. So `x W_x + b` runs as one
`(batch · target_len, input_dim) × (input_dim, 4 · units)` product for the whole sequence, and
each step keeps only `r_t W_r + h_{t-1} U`: fewer, larger matmuls, and the gradient of `W_x` is
one product instead of one per step.

The step computes the very function of `keras.layers.LSTMCell` (implementation 2, the
default): the same weights, the same per-sequence dropout mask on the cell's whole input, the
gates in the order i, f, c, o. It applies only to that exact class (not subclasses such as the
peephole cell, whose gates differ), alone or as the first cell of a `StackedCells`. The
decoder's `step()` still calls the cell itself, so the step-parity tests of the attention
entries compare the two.
"""

import keras
from keras import ops

from keras_s2s.layers.stacking import StackedCells


def hoistable_cell(cell):
    """The `keras.layers.LSTMCell` that reads the decoder input, or None when not hoistable.

    Example:

    >>> hoistable_cell(keras.layers.LSTMCell(4)) is not None
    True
    >>> hoistable_cell(keras.layers.GRUCell(4)) is None
    True
    """
    first = cell.cells[0] if isinstance(cell, StackedCells) else cell
    if type(first) is keras.layers.LSTMCell and first.implementation == 2:
        return first
    return None


def _input_mask(lstm, step_input, training):
    """The cell's per-sequence dropout mask on its whole input `(batch, input_dim)`, or None."""
    if training and 0.0 < lstm.dropout < 1.0:
        return lstm.get_dropout_mask(step_input)  # made before the loop; cached per sequence
    return None


def project_inputs(lstm, inputs, step_input, training):
    """`x_t W_x + b` for every step at once.

    Args:
        lstm: The `keras.layers.LSTMCell` (see `hoistable_cell`).
        inputs: `(batch, target_len, input_dim)`, the part of the cell's input known before
            the loop (it comes first in the cell's input).
        step_input: `(batch, cell_input_dim)`, a first-step input of the cell's full width,
            for the dropout mask.
        training: Python boolean.

    Returns:
        `(batch, target_len, 4 · units)`.
    """
    dim = inputs.shape[-1]
    mask = _input_mask(lstm, step_input, training)
    if mask is not None:
        inputs = inputs * ops.expand_dims(mask[:, :dim], 1)
    z = ops.matmul(inputs, lstm.kernel[:dim])
    return z + lstm.bias if lstm.use_bias else z


def loop_kernels(lstm, rest_dim):
    """`(W_r, U)`: the kernel rows of the loop-made input and the recurrent kernel, sliced
    once before the loop (a slice inside it would send a kernel-sized gradient per step)."""
    return lstm.kernel[-rest_dim:], ops.convert_to_tensor(lstm.recurrent_kernel)


def lstm_step(lstm, projected, rest, states, training, kernels=None):
    """One step of the LSTM from its hoisted projection.

    Args:
        projected: `(batch, 4 · units)`, this step's slice of `project_inputs`.
        rest: `(batch, rest_dim)`, the part of the input made inside the loop (it follows the
            hoisted part in the cell's input).
        states: `[h_{t-1}, c_{t-1}]`.

    Returns:
        `(h_t, [h_t, c_t])`, as `keras.layers.LSTMCell` returns.
    """
    h_tm1, c_tm1 = states
    mask = _input_mask(lstm, rest, training)  # made by `project_inputs`'s call: cached
    dim = rest.shape[-1]
    if mask is not None:
        rest = rest * mask[:, -dim:]
    rest_kernel, recurrent_kernel = kernels or loop_kernels(lstm, dim)
    z = projected + ops.matmul(rest, rest_kernel)
    z = z + ops.matmul(h_tm1, recurrent_kernel)
    z_i, z_f, z_c, z_o = ops.split(z, 4, axis=1)
    i = lstm.recurrent_activation(z_i)
    f = lstm.recurrent_activation(z_f)
    c = f * c_tm1 + i * lstm.activation(z_c)
    o = lstm.recurrent_activation(z_o)
    h = o * lstm.activation(c)
    return h, [h, c]
