"""A recurrent decoder that attends over the encoder memory at every step.

Keras 3's `keras.layers.RNN` has no `constants`, and `keras.ops.scan` does not train under XLA
on the TensorFlow backend. So the whole-sequence `call` runs `keras.layers.RNN` over a private
step cell whose step function captures the loop-invariant tensors (the memory, its
precomputed keys, its mask, the sliced kernels of a hoisted LSTM and the memory folded into
the attention layer; `call` sets them for the duration of the loop). Carried in the RNN
state instead, a TensorFlow while loop stacks them at every step for the gradient and sums
their gradients step by step: the first version did, and trained about 1.3× slower. For the
same reason the loop reads the decoder's weights once, before it
(`_hoisting.weights_read_once`). That compiles with `jit_compile=True` on TensorFlow and JAX,
and it runs the same step computation that decoding's `step()` runs (with a decoder LSTM's
input half hoisted out of the loop, and the context half of Luong's `W_c [c_t; h_t]` folded
into the memory once per sequence: `keras_s2s.layers._hoisting`).
"""

import inspect

import keras
from keras import ops

from keras_s2s.layers import _hoisting
from keras_s2s.layers._checks import check_positive_int


def _as_list(state_size):
    """`state_size` as plain nested lists (Keras' `TrackedList`s are no JAX pytree nodes)."""
    def plain(value):
        return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value

    return plain(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


def _call_has_training(layer):
    try:
        return "training" in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def _prepare_dropout_masks(cell, step_input, state):
    """Create a cell's per-sequence dropout masks before the loop, as `keras.layers.RNN` does.

    Masks made inside the loop would be stateful (a problem for JAX) or would leak between
    traced graphs (a problem for TensorFlow).
    """
    if isinstance(cell, keras.layers.StackedRNNCells):
        for sub, sub_state in zip(cell.cells, state):
            sub_state = list(sub_state) if isinstance(sub_state, (list, tuple)) else [sub_state]
            _prepare_dropout_masks(sub, step_input, sub_state)
            step_input, _ = sub(step_input, sub_state)
        return
    first_state = state[0] if isinstance(state, (list, tuple)) else state
    if getattr(cell, "dropout", 0) and hasattr(cell, "get_dropout_mask"):
        cell.get_dropout_mask(step_input)
    if getattr(cell, "recurrent_dropout", 0) and hasattr(cell, "get_recurrent_dropout_mask"):
        cell.get_recurrent_dropout_mask(first_state)


def _noise_kwargs(noise):
    """`attend_step`'s `noise=` only when there is noise: other attentions don't take it."""
    return {} if noise is None else {"noise": noise}


def _reset_dropout_masks(cell):
    for sub in getattr(cell, "cells", [cell]):
        if hasattr(sub, "reset_dropout_mask"):
            sub.reset_dropout_mask()
            sub.reset_recurrent_dropout_mask()


class _LoopCell(keras.layers.Layer):
    """Adapter that lets `keras.layers.RNN` loop a step function; owns no weights.

    The step function belongs to the `AttentionDecoder`, which owns every weight; storing it
    with `object.__setattr__` keeps Keras from tracking the decoder twice.
    """

    def __init__(self, step_fn, state_size, output_size, **kwargs):
        super().__init__(**kwargs)
        object.__setattr__(self, "_step_fn", step_fn)
        self.state_size = state_size
        self.output_size = output_size
        self.built = True

    def call(self, inputs, states, training=None):
        return self._step_fn(inputs, list(states), training)


@keras.saving.register_keras_serializable(package="keras_s2s")
class AttentionDecoder(keras.layers.Layer):
    """Recurrent decoder with attention at every step (Luong et al. 2015; Bahdanau et al. 2015).

    At step t, with input x_t (the embedded previous target token), Luong's order (the
    default, `attention_first=False`):

        h_t, s_t = cell([x_t; ã_{t-1}], s_{t-1})       # ã_{t-1} only with input_feeding
        c_t, α_t = attention(h_t, memory, memory_mask)
        ã_t     = tanh(W_c [c_t; h_t])                 # attention_layer_size given
        ã_t     = [c_t; h_t]                           # attention_layer_size=None

    Bahdanau's order (RNNsearch, `attention_first=True`; Bahdanau et al. 2015, appendix A):
    the previous state queries the memory and the context enters the cell at the same step,
    and the output is the paper's deep output, a maxout over the new state, the previous token
    and the context:

        c_t, α_t = attention(h_{t-1}, memory, memory_mask)   # h_{t-1}: top of s_{t-1}
        h_t, s_t = cell([x_t; c_t], s_{t-1})
        ã_t     = max_j (W_o [h_t; x_t; c_t] + b_o)_{2k-1..2k}  # maxout, attention_layer_size
        ã_t     = [h_t; x_t; c_t]                              # attention_layer_size=None

    The appendix writes `U_o s_{t-1}` in the deep output, the main text (eq. 4) `s_t`; this
    follows the main text, as GroundHog and dl4mt do.

    `ã_t` is the step output. With `input_feeding=True` (Luong's input feeding) it is also
    concatenated to the next input, so the decoder knows its past alignment decisions. With
    `input_feeding=False`, `call` runs the cell over the whole sequence first and attends for
    all steps at once (the parallel "attention after the RNN" variant); `step` computes the
    same thing one token at a time.

    The state of the decoder is a flat list: the cell's states (flattened, as
    `keras.tree.flatten(cell_states)`), then `ã_{t-1}` when `input_feeding=True`, then the
    attention's own state when it has one (`attention.initial_state`: a monotonic
    mechanism's previous alignments, local-m's step counter). A stateful mechanism always
    steps through the loop, also without input feeding.

    Args:
        cell: A Keras RNN cell instance (`keras.layers.LSTMCell`, `GRUCell`, `SimpleRNNCell`,
            `StackedRNNCells`, `PeepholeLSTMCell`, ...).
        attention: An attention layer with the `BahdanauAttention`/`LuongAttention`
            contract (`precompute`, `attend`, `initial_state`, `attend_step`).
        attention_layer_size: Optional positive integer, the size of `ã_t`. None outputs
            `[c_t; h_t]` without a projection.
        input_feeding: Boolean, whether to feed `ã_{t-1}` into step t (Luong's order only).
        attention_activation: Activation of the attention layer (default `"tanh"`; Luong's
            order only).
        attention_first: Boolean, Bahdanau's order (see above) instead of Luong's.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        decoder_inputs: `(batch, target_len, input_dim)`, the embedded decoder inputs; or
            None to prepare decoding (see Returns).
        memory: `(batch, source_len, memory_dim)`, the encoder outputs.
        memory_mask: Optional `(batch, source_len)`, true where the source is real.
        initial_state: Optional list of the cell's initial states (nested like the cell's
            `state_size`, or flat), after which the attentional state starts at zero; or the
            full flat decoder state (see `state_size`), to continue decoding.
        keys: Optional `attention.precompute(memory)`, so that step-wise decoding never
            re-projects the memory; or the keys that `decoder_inputs=None` returns, which also
            carry the memory folded into the attention layer.
        training: Python boolean, whether dropout is active.

    Returns:
        `(outputs, alignments, states)`: outputs `(batch, target_len, output_size)`,
        float32 alignments `(batch, target_len, source_len)` and the list of final states.
        With `decoder_inputs=None`: `(memory, keys, states)`, the memory (without a Keras
        mask), the prepared keys and the full initial decoder state, which is what
        `keras_s2s.inference` puts in the encoder graph. The prepared keys are
        `attention.precompute(memory)`, followed, with an attention layer
        (`attention_layer_size`, Luong's order), by the memory through that layer's context
        half, `V = M W_cc` `(batch, source_len, attention_layer_size)`: a step then computes
        `ã_t = tanh(α_t V + h_t W_ch)`, `source_len · attention_layer_size` multiplications
        for the context's share instead of `memory_dim · attention_layer_size`.

    Example:

    >>> decoder = AttentionDecoder(keras.layers.LSTMCell(16), LuongAttention("general"),
    ...                            attention_layer_size=16)
    >>> outputs, alignments, states = decoder(np.ones((2, 4, 8)), np.ones((2, 6, 16)))
    >>> outputs.shape, alignments.shape, len(states)
    (TensorShape([2, 4, 16]), TensorShape([2, 4, 6]), 3)

    Reference:
        - [Luong et al., 2015. Effective Approaches to Attention-based Neural Machine
          Translation.](https://arxiv.org/abs/1508.04025)
        - [Bahdanau et al., 2015. Neural Machine Translation by Jointly Learning to Align
          and Translate.](https://arxiv.org/abs/1409.0473)
    """

    def __init__(self, cell, attention, attention_layer_size=None, input_feeding=True,
                 attention_activation="tanh", attention_first=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = keras.saving.deserialize_keras_object(cell)
        if isinstance(attention, dict):
            attention = keras.saving.deserialize_keras_object(attention)
        if not hasattr(cell, "state_size") or not callable(getattr(cell, "call", None)):
            raise ValueError(
                "Argument `cell` must be a Keras RNN cell with `state_size` and "
                f"`call(inputs, states)`, e.g. keras.layers.LSTMCell(256). Received: {cell!r}")
        if not (hasattr(attention, "precompute") and hasattr(attention, "attend")):
            raise ValueError(
                "Argument `attention` must be an attention layer with `precompute` and "
                "`attend`, e.g. keras_s2s.layers.LuongAttention(). Received: "
                f"{attention!r}")
        self.cell = cell
        self.attention = attention
        self.attention_layer_size = check_positive_int(
            "attention_layer_size", attention_layer_size, allow_none=True)
        self.input_feeding = bool(input_feeding)
        self.attention_first = bool(attention_first)
        if self.attention_first and self.input_feeding:
            raise ValueError(
                "`attention_first=True` feeds the context into the cell at the same step, so "
                "there is nothing to input-feed. Set input_feeding=False.")
        self.attention_activation = keras.activations.get(attention_activation)
        self.attention_dense = None
        self.deep_output = None
        if self.attention_first and self.attention_layer_size is not None:
            # a maxout of pool 2: twice the units, then the larger of each pair
            self.deep_output = keras.layers.Dense(
                2 * self.attention_layer_size, dtype=self.dtype_policy, name="deep_output")
        elif self.attention_layer_size is not None:
            self.attention_dense = keras.layers.Dense(
                self.attention_layer_size, use_bias=False,
                activation=self.attention_activation, dtype=self.dtype_policy,
                name="attention_layer")
        self._cell_states_template = _as_list(cell.state_size)
        self._num_cell_states = len(keras.tree.flatten(self._cell_states_template))
        self._attention_state_shapes = list(getattr(attention, "state_shapes", list)())
        self._num_attention_states = len(self._attention_state_shapes)
        self._cell_has_training = _call_has_training(cell)
        self._noise_at = None  # set by `call` while its loop reads [x_t; noise_t]
        self._hoisted = None  # set by `call` while its loop reads the hoisted projection
        object.__setattr__(self, "_constants", None)  # set by `call` for its loop
        self.output_size = None

    # ------------------------------------------------------------------ build
    @property
    def cell_output_size(self):
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else keras.tree.flatten(self._cell_states_template)[0]

    @property
    def state_size(self):
        """Sizes of the flat decoder state: the cell's states, then `ã` if input feeding, then
        the attention's states (None where a size is the source length)."""
        sizes = list(keras.tree.flatten(self._cell_states_template))
        sizes += [self.output_size] if self.input_feeding else []
        return sizes + [shape[0] for shape in self._attention_state_shapes]

    @property
    def _num_states(self):
        return self._num_cell_states + int(self.input_feeding) + self._num_attention_states

    def _loops(self):
        """Whether `call` steps through the loop (else: the cell over the sequence, then
        attention for all steps at once)."""
        return self.input_feeding or self.attention_first or self._num_attention_states > 0

    def build(self, decoder_inputs_shape, memory_shape, memory_mask_shape=None,
              initial_state_shape=None):
        if len(decoder_inputs_shape) != 3 or decoder_inputs_shape[-1] is None:
            raise ValueError(
                "`decoder_inputs` must have shape (batch, target_len, input_dim) with a known "
                f"input_dim. Received shape: {tuple(decoder_inputs_shape)}")
        if len(memory_shape) != 3 or memory_shape[-1] is None:
            raise ValueError(
                "`memory` must have shape (batch, source_len, memory_dim) with a known "
                f"memory_dim. Received shape: {tuple(memory_shape)}")
        batch, input_dim, memory_dim = decoder_inputs_shape[0], decoder_inputs_shape[-1], memory_shape[-1]
        cell_out = self.cell_output_size
        self.input_dim = int(input_dim)
        if self.attention_first:
            self.output_size = self.attention_layer_size or (cell_out + input_dim + memory_dim)
            cell_input_dim = input_dim + memory_dim
        else:
            self.output_size = self.attention_layer_size or (cell_out + memory_dim)
            cell_input_dim = input_dim + (self.output_size if self.input_feeding else 0)
        if not self.cell.built:
            self.cell.build((batch, cell_input_dim))
        if not self.attention.built:
            self.attention.build((batch, cell_out), tuple(memory_shape))
        if self.attention_dense is not None and not self.attention_dense.built:
            self.attention_dense.build((batch, cell_out + memory_dim))
        if self.deep_output is not None and not self.deep_output.built:
            self.deep_output.build((batch, cell_out + input_dim + memory_dim))
        self._loop = keras.layers.RNN(
            _LoopCell(self._loop_step, state_size=[1], output_size=1, name="loop_cell"),
            return_sequences=True, return_state=True, name="loop")
        self._cell_loop = keras.layers.RNN(
            _LoopCell(self._cell_step, state_size=[1], output_size=1, name="cell_loop_cell"),
            return_sequences=True, return_state=True, name="cell_loop")
        self.built = True

    # ------------------------------------------------------------------ states
    def get_initial_state(self, batch_size, cell_states=None, memory=None, memory_mask=None):
        """The flat initial decoder state for `batch_size` sequences.

        Args:
            batch_size: Integer or scalar tensor.
            cell_states: Optional initial cell states (nested as `cell.state_size`, or flat),
                e.g. the bridged encoder states; or the full flat decoder state (see
                `state_size`), which is returned as it is. Zeros otherwise.
            memory: `(batch, source_len, memory_dim)`; needed when the attention has a state.
            memory_mask: Optional `(batch, source_len)`.

        Returns:
            A flat list of tensors, see `state_size`.
        """
        if cell_states is None:
            flat = [ops.zeros((batch_size, size), dtype=self.compute_dtype)
                    for size in keras.tree.flatten(self._cell_states_template)]
        else:
            flat = list(keras.tree.flatten(cell_states))
            full = self._num_states
            if len(flat) not in (self._num_cell_states, full):
                raise ValueError(
                    f"`initial_state` has {len(flat)} tensors but the decoder cell "
                    f"{self.cell.name} has {self._num_cell_states} states "
                    f"(state_size={self.cell.state_size}); pass those, or the full decoder "
                    f"state of {full} tensors (see `state_size`).")
            flat = [ops.cast(s, self.compute_dtype) for s in flat]
            if len(flat) == full:
                return flat
        if self.input_feeding:
            flat.append(ops.zeros((ops.shape(flat[0])[0], self.output_size), self.compute_dtype))
        if self._num_attention_states:
            if memory is None:
                raise ValueError(
                    f"The attention {self.attention.name} has a state of its own; pass "
                    "`memory` to `get_initial_state`.")
            flat += list(self.attention.initial_state(memory, memory_mask))
        return flat

    # ------------------------------------------------------------------ prepared keys
    def _step_fold(self):
        """The attention layer that decoding folds into the memory once per source (Luong's
        `W_c [c_t; h_t]`, see `_hoisting.fold_output`), or None."""
        return _hoisting.foldable_output(self.attention_dense)

    def _prepared_keys(self, memory):
        """What the prepare mode returns as `keys`: `attention.precompute(memory)`, followed,
        when the decoder folds its attention layer, by `V = M W_cc` `(batch, source_len,
        units)`, so that a step reads `α_t V` instead of the context through `W_cc`."""
        keys = self.attention.precompute(memory)
        dense = self._step_fold()
        if dense is None:
            return keys
        values, _ = _hoisting.fold_output(dense, memory)
        return ops.concatenate([keys, ops.cast(values, keys.dtype)], axis=-1)

    def _split_keys(self, keys):
        """`(keys, folded)`: prepared keys split into the attention's keys and the folded
        memory with its `h` half of the kernel (`_hoisting.fold_output`'s pair); plain keys
        (`attention.precompute`) come back with None."""
        dense = self._step_fold()
        key_dim = self.attention.key_dim()
        if dense is None or keys.shape[-1] != key_dim + dense.units:
            return keys, None
        values = keys[..., key_dim:]
        kernel = ops.cast(dense.kernel, values.dtype)
        return keys[..., :key_dim], (values, kernel[kernel.shape[0] - self.cell_output_size:])

    # ------------------------------------------------------------------ one step
    def _run_cell(self, x, flat_cell_states, training, projected=None):
        """The cell on input `x`; with `projected` (the hoisted `x_t W_x + b`, see `call`),
        `x` is only the part of the input made inside the loop."""
        cell_states = keras.tree.pack_sequence_as(self._cell_states_template,
                                                  list(flat_cell_states))
        if projected is not None:
            lstm = _hoisting.hoistable_cell(self.cell)
            kernels = self._constants[3] if self._constants else None
            if lstm is self.cell:
                h, new_states = _hoisting.lstm_step(lstm, projected, x, cell_states, training,
                                                    kernels)
            else:
                first = _hoisting.lstm_step(lstm, projected, x, cell_states[0], training,
                                            kernels)
                h, new_states = self.cell.call_after_first(*first, cell_states, training)
            return h, list(keras.tree.flatten(new_states))
        kwargs = {"training": training} if self._cell_has_training else {}
        h, new_states = self.cell(x, cell_states, **kwargs)
        return h, list(keras.tree.flatten(new_states))

    def _attentional_output(self, h, memory, keys, memory_mask, attention_state=(),
                            training=None, noise=None, folded=None):
        """`(ã_t, α_t, attention state)`; with `folded` (`_hoisting.fold_output`, made by
        `call` for its loop), `ã_t` reads the folded memory instead of the context."""
        if len(h.shape) == 3:  # all steps at once: a stateless mechanism only
            context, weights = self.attention.attend(h, memory, keys, memory_mask)
            new_attention_state = []
        else:
            context, weights, new_attention_state = self.attention.attend_step(
                h, memory, keys, memory_mask, list(attention_state), training=training,
                **_noise_kwargs(noise))
        if folded is not None:  # the context itself goes unused: compiled away
            output = _hoisting.folded_output(self.attention_dense, weights, h, folded)
            return output, weights, new_attention_state
        output = ops.concatenate([context, ops.cast(h, context.dtype)], axis=-1)
        if self.attention_dense is not None:
            output = self.attention_dense(output)
        return output, weights, new_attention_state

    def _query(self, flat_cell_states):
        """The top layer's output h_{t-1} in the cell states s_{t-1} (Bahdanau's query)."""
        nested = keras.tree.pack_sequence_as(self._cell_states_template,
                                             list(flat_cell_states))
        top = nested[-1] if isinstance(self.cell, keras.layers.StackedRNNCells) else nested
        while isinstance(top, (list, tuple)):
            top = top[0]  # an LSTM's [h, c]: h
        return top

    def _attention_first_step(self, x, cell_states, attention_state, memory, keys, memory_mask,
                              training, noise=None, projected=None):
        context, weights, new_attention_state = self.attention.attend_step(
            self._query(cell_states), memory, keys, memory_mask, list(attention_state),
            training=training, **_noise_kwargs(noise))
        context = ops.cast(context, x.dtype)
        cell_input = context if projected is not None else ops.concatenate([x, context], -1)
        h, new_cell_states = self._run_cell(cell_input, cell_states, training, projected)
        output = ops.concatenate([ops.cast(h, x.dtype), x, context], axis=-1)
        if self.deep_output is not None:
            pre = self.deep_output(output)  # (batch, 2 · attention_layer_size)
            pre = ops.reshape(pre, (-1, self.attention_layer_size, 2))
            output = ops.max(pre, axis=-1)
        return output, weights, new_cell_states + list(new_attention_state)

    def step(self, inputs_t, states, memory, memory_mask=None, keys=None, training=None,
             noise=None):
        """Run one decoder step.

        Args:
            inputs_t: `(batch, input_dim)`, the embedded previous token.
            states: The flat decoder state list (see `state_size`).
            memory: `(batch, source_len, memory_dim)`.
            memory_mask: Optional `(batch, source_len)`.
            keys: Optional `attention.precompute(memory)`, or the prepared keys of
                `decoder_inputs=None` (see `call`); computed here when None.
            training: Python boolean, whether dropout is active.
            noise: Optional `(batch, source_len)`: this step's score noise, for an attention
                with `training_noise` (monotonic attention's `sigmoid_noise`); `call` draws
                it for the whole sequence before its loop. None: the attention draws its own
                when `training`.

        Returns:
            `(output_t, weights_t, new_states)`: `(batch, output_size)`,
            float32 `(batch, source_len)`, and the new flat state list.
        """
        return self._step(inputs_t, states, memory, memory_mask, keys, training, noise)

    def _step(self, inputs_t, states, memory, memory_mask, keys, training, noise,
              projected=None, folded=None):
        """`step`; with `projected`, the cell's hoisted input projection for this step, and
        with `folded`, the attention layer's folded memory (see `_attentional_output`)."""
        states = list(states)
        n = self._num_cell_states
        attention_state = states[len(states) - self._num_attention_states:]
        x = inputs_t
        if keys is None:
            keys = self.attention.precompute(memory)
        keys, prepared = self._split_keys(keys)
        folded = folded if prepared is None else prepared
        if self.attention_first:
            return self._attention_first_step(x, states[:n], attention_state, memory, keys,
                                              memory_mask, training, noise, projected)
        if projected is not None:  # hoisted: the cell's loop-made input is ã_{t-1} alone
            x = ops.cast(states[n], projected.dtype)
        elif self.input_feeding:
            x = ops.concatenate([x, ops.cast(states[n], x.dtype)], axis=-1)
        h, new_cell_states = self._run_cell(x, states[:n], training, projected)
        output, weights, new_attention_state = self._attentional_output(
            h, memory, keys, memory_mask, attention_state, training, noise, folded)
        new_states = new_cell_states + ([output] if self.input_feeding else [])
        return output, weights, new_states + list(new_attention_state)

    # ------------------------------------------------------------------ whole sequence
    def _loop_step(self, inputs_t, states, training):
        # the loop-invariant tensors, captured from `call` (see the module docstring)
        memory, keys, mask = self._constants[:3]
        noise = projected = None
        if self._noise_at is not None:  # [x_t; noise_t], see `call`
            inputs_t, noise = inputs_t[:, :self._noise_at], inputs_t[:, self._noise_at:]
        if self._hoisted is not None:  # [x_t (attention first only); x_t W_x + b], see `call`
            inputs_t, projected = inputs_t[:, :self._hoisted], inputs_t[:, self._hoisted:]
        output, weights, new_states = self._step(
            inputs_t, states, memory, mask, keys, training, noise, projected,
            self._constants[4])
        packed = ops.concatenate([output, ops.cast(weights, output.dtype)], axis=-1)
        return packed, new_states

    def _cell_step(self, inputs_t, states, training):
        h, new_states = self._run_cell(inputs_t, states, training)
        return h, new_states

    def call(self, decoder_inputs, memory, memory_mask=None, initial_state=None, keys=None,
             training=None):
        # the decoder's rows: a beam's hypotheses may share their source's memory row
        # (`BaseAttention.groups_rows`), so the memory can have fewer
        batch = ops.shape(memory if decoder_inputs is None else decoder_inputs)[0]
        states = self.get_initial_state(batch, initial_state, memory, memory_mask)
        if decoder_inputs is None:
            # "prepare" mode: what a decoding loop needs before its first step. The memory is
            # returned as a new tensor without a Keras mask: the mask travels explicitly.
            memory = ops.multiply(memory, 1)
            return memory, self._prepared_keys(memory), states
        if memory_mask is None:
            memory_mask = ops.ones(ops.shape(memory)[:2], dtype="bool")
        n = self._num_cell_states
        x0 = decoder_inputs[:, 0]
        if self.input_feeding:
            x0 = ops.concatenate([x0, ops.cast(states[n], x0.dtype)], axis=-1)
        elif self.attention_first:  # the cell reads [x_t; c_t]
            x0 = ops.concatenate(
                [x0, ops.zeros((batch, ops.shape(memory)[-1]), dtype=x0.dtype)], axis=-1)
        if training:
            _prepare_dropout_masks(self.cell, x0, keras.tree.pack_sequence_as(
                self._cell_states_template, states[:n]))
        if keys is None:
            keys = self.attention.precompute(memory)
        keys, folded = self._split_keys(keys)
        if self._loops():
            mask_f = ops.cast(memory_mask, self.compute_dtype)
            # an attention's per-step training noise is drawn here for the whole sequence and
            # travels beside the inputs: a draw inside the loop is stateful (JAX refuses it)
            noise = (self.attention.training_noise(batch, ops.shape(decoder_inputs)[1],
                                                   ops.shape(memory)[1])
                     if training and hasattr(self.attention, "training_noise") else None)
            loop_inputs = decoder_inputs
            lstm = _hoisting.hoistable_cell(self.cell)
            if lstm is not None and (self.input_feeding or self.attention_first):
                # x_t W_x + b for all steps at once; the loop keeps x_t only for the deep
                # output of Bahdanau's order
                projected = _hoisting.project_inputs(lstm, decoder_inputs, x0, training)
                self._hoisted = decoder_inputs.shape[-1] if self.attention_first else 0
                loop_inputs = (ops.concatenate([decoder_inputs, projected], axis=-1)
                               if self.attention_first else projected)
            if noise is not None:
                self._noise_at = loop_inputs.shape[-1]
                loop_inputs = ops.concatenate([loop_inputs,
                                               ops.cast(noise, loop_inputs.dtype)], axis=-1)
            # loop-invariant tensors are captured by the step, not carried in the loop's state
            # (a TensorFlow while loop would stack them at every step for the gradient)
            kernels = (None if self._hoisted is None else _hoisting.loop_kernels(
                lstm, lstm.kernel.shape[0] - decoder_inputs.shape[-1]))
            # folded here for a sequence only: a decoding step graph's one step would fold
            # the whole memory for one read (it reads the fold from its prepared keys)
            dense = (None if folded is not None or decoder_inputs.shape[1] == 1
                     else _hoisting.foldable_output(self.attention_dense))
            if dense is not None:
                folded = _hoisting.fold_output(dense, memory)
            object.__setattr__(self, "_constants", (memory, keys, mask_f, kernels, folded))
            try:
                with _hoisting.weights_read_once(self):  # no per-step copies of the weights
                    packed, *final = self._loop(loop_inputs, initial_state=states,
                                                training=training)
            finally:
                self._noise_at = self._hoisted = None
                object.__setattr__(self, "_constants", None)
            outputs = packed[..., : self.output_size]
            alignments = ops.cast(packed[..., self.output_size:], "float32")
        else:
            hs, *final = self._cell_loop(decoder_inputs, initial_state=states, training=training)
            outputs, alignments, _ = self._attentional_output(hs, memory, keys, memory_mask,
                                                              folded=folded)
        if training:
            _reset_dropout_masks(self.cell)
        return outputs, alignments, list(final)

    def compute_output_spec(self, decoder_inputs, memory, memory_mask=None,
                            initial_state=None, keys=None, training=None):
        batch = memory.shape[0]
        states = [keras.KerasTensor((batch, size), dtype=self.compute_dtype)
                  for size in self.state_size[:self._num_states - self._num_attention_states]]
        states += [keras.KerasTensor((batch, *[memory.shape[1] if d is None else d
                                               for d in shape]), dtype="float32")
                   for shape in self._attention_state_shapes]
        if decoder_inputs is None:
            dense = self._step_fold()
            keys = keras.KerasTensor(
                (batch, memory.shape[1],
                 self.attention.key_dim() + (0 if dense is None else dense.units)),
                dtype=self.compute_dtype)
            return keras.KerasTensor(memory.shape, dtype=memory.dtype), keys, states
        target_len = decoder_inputs.shape[1]
        outputs = keras.KerasTensor((batch, target_len, self.output_size),
                                    dtype=self.compute_dtype)
        alignments = keras.KerasTensor((batch, target_len, memory.shape[1]), dtype="float32")
        return outputs, alignments, states

    def get_config(self):
        config = super().get_config()
        config.update({
            "cell": keras.saving.serialize_keras_object(self.cell),
            "attention": keras.saving.serialize_keras_object(self.attention),
            "attention_layer_size": self.attention_layer_size,
            "input_feeding": self.input_feeding,
            "attention_activation": keras.activations.serialize(self.attention_activation),
            "attention_first": self.attention_first,
        })
        return config
