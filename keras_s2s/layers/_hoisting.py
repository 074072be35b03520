"""The input half of a decoder LSTM's matmul, hoisted out of the step loop (as cuDNN does).

An LSTM's gates are `z_t = [x_t; r_t] W + h_{t-1} U + b`. In an attention decoder, x_t (the
embedded previous token) is known for every step before the loop starts; only r_t (the fed-back
attentional output, or the context) and h_{t-1} are made inside it. So `x W_x + b` runs as one
`(batch · target_len, input_dim) × (input_dim, 4 · units)` product for the whole sequence, and
each step keeps only `r_t W_r + h_{t-1} U`: fewer, larger matmuls, and the gradient of `W_x` is
one product instead of one per step.

Luong's attentional output `ã_t = tanh(W_c [c_t; h_t])` is folded the same way
(`fold_output`): the context is `c_t = Σ_j α_tj m_j`, so its half of the product is
`c_t W_cc = Σ_j α_tj (m_j W_cc) = α_t V` with `V = M W_cc` made once per sequence,
`(source_len, units)`. A step then costs `source_len · units` multiplications for it instead
of `memory_dim · units`, and the gradient of `W_cc` is one product instead of one per step.
Decoding folds it once per source: `AttentionDecoder`'s prepare mode appends `V` to the
attention keys it returns (the encoder graph's `attention_keys`), and each step reads it from
there, which also lets a beam's hypotheses share their source's `V` as they share its keys.

The step computes the very function of `keras.layers.LSTMCell` (implementation 2, the
default): the same weights, the same per-sequence dropout mask on the cell's whole input, the
gates in the order i, f, c, o. It applies only to that exact class (not subclasses such as the
peephole cell, whose gates differ), alone or as the first cell of a `StackedCells`. The
decoder's `step()` still calls the cell itself, so the step-parity tests of the attention
entries compare the two.
"""

import contextlib

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
    # `ops.copy` reads the variable here (`convert_to_tensor` of a variable is the variable)
    return lstm.kernel[-rest_dim:], ops.copy(lstm.recurrent_kernel)


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


def foldable_output(dense):
    """The attention layer (`keras.layers.Dense`) that `fold_output` applies to, or None.

    Example:

    >>> foldable_output(keras.layers.Dense(4, use_bias=False)) is not None
    True
    """
    plain = (type(dense) is keras.layers.Dense and getattr(dense, "quantization_mode", None)
             is None and not getattr(dense, "lora_enabled", False))
    return dense if plain else None


def fold_output(dense, memory):
    """`(V, W_ch)`: the memory through the context half of the attention layer's kernel,
    `V = M W_cc` `(batch, source_len, units)`, and the kernel's `h` half `W_ch`, sliced once
    before the loop. `dense` reads `[c_t; h_t]`, context first."""
    dim = memory.shape[-1]
    kernel = ops.cast(dense.kernel, memory.dtype)
    return ops.matmul(memory, kernel[:dim]), kernel[dim:]


def folded_output(dense, weights, h, folded):
    """`dense([c_t; h_t])` from the attention weights and the folded memory of
    `fold_output`: `activation(α_t V + h_t W_ch [+ b])`.

    `weights` is `(rows, source_len)` for one step, or `(rows, target_len, source_len)`;
    `V` may have fewer rows than the weights, `(batch, source_len, units)` for `batch · r`
    rows, where rows `i · r ... i · r + r - 1` read row `i` (a beam's hypotheses of one source,
    as `BaseAttention.attend` groups them).
    """
    values, h_kernel = folded
    w = ops.cast(weights, values.dtype)
    rows = ops.shape(w)[:-1]
    grouped = ops.reshape(w, (ops.shape(values)[0], -1, ops.shape(values)[1]))  # (b, r·t, s)
    context_part = ops.reshape(ops.matmul(grouped, values),
                               (*rows, ops.shape(values)[-1]))  # (rows, [target_len,] units)
    z = context_part + ops.matmul(ops.cast(h, values.dtype), h_kernel)
    if dense.use_bias:
        z = z + ops.cast(dense.bias, z.dtype)
    return dense.activation(z)


def weights_read_once(layer):
    """A scope in which `layer`'s weights read as tensors read once, before a loop.

    On TensorFlow, a weight read inside a while loop's body is a new tensor at every step, and
    the loop's gradient stacks it, step by step, for the backward loop: a `(units, 4 · units)`
    kernel becomes `(steps, units, 4 · units)` of copies, per training step. Read before the
    loop and captured, the same tensor is loop-invariant, and the backward loop reads it as it
    is. Inside this scope (`keras.StatelessScope`, mapping each weight to its value read here)
    every read of the layer's weights returns those tensors; the gradient flows through them to
    the weights as before. Other backends trace no such reads: a null scope there.

    Example:

    >>> dense = keras.layers.Dense(2)
    >>> dense.build((1, 3))
    >>> with weights_read_once(dense):
    ...     y = dense(np.ones((1, 3)))
    >>> y.shape
    TensorShape([1, 2])
    """
    if keras.backend.backend() != "tensorflow" or not layer.weights:
        return contextlib.nullcontext()
    return keras.StatelessScope(state_mapping=[(w, ops.copy(w)) for w in layer.weights])
