"""Bahdanau (additive) and Luong (multiplicative) attention in pure `keras.ops`.

Both layers share one contract: `layer(query, memory, memory_mask=None)` returns
`(context, weights)`, for one decoder step (query `(batch, query_dim)`) or for all steps at
once (query `(batch, target_len, query_dim)`). `precompute(memory)` returns the projected
memory ("keys") so that a decoding step never re-projects the whole source;
`attend(query, memory, keys, memory_mask)` is the per-step half.
"""

import keras
from keras import ops

from keras_s2s.layers._checks import check_choice, check_positive_int

_LUONG_SCORES = ("dot", "general", "concat")


def masked_softmax(scores, memory_mask=None):
    """Softmax over the last axis that gives masked positions exactly 0.

    A row whose positions are all masked gives zeros, never NaN. The softmax runs in float32
    whatever the compute dtype.

    Args:
        scores: Float tensor `(batch, source_len)` or `(batch, target_len, source_len)`.
        memory_mask: Optional tensor `(batch, source_len)`, true/non-zero where valid.

    Returns:
        Float32 weights of the shape of `scores`.

    Example:

    >>> w = masked_softmax(np.zeros((1, 3)), np.array([[1, 1, 0]]))
    >>> keras.ops.convert_to_numpy(w).round(2).tolist()
    [[0.5, 0.5, 0.0]]
    """
    scores = ops.cast(scores, "float32")
    if memory_mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.cast(memory_mask, "bool")
    if len(scores.shape) == 3:
        mask = ops.expand_dims(mask, 1)  # (batch, 1, source_len)
    scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
    # exp(-1e9 - max) underflows to exactly 0; the product makes fully masked rows 0, not 1/S.
    return ops.softmax(scores, axis=-1) * ops.cast(mask, "float32")


class BaseAttention(keras.layers.Layer):
    """Shared call/precompute logic; subclasses define `build`, `precompute` and `score`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.query_dim = None
        self.memory_dim = None

    def _check_dims(self, query_shape, memory_shape):
        if len(memory_shape) != 3:
            raise ValueError(
                f"`memory` must have shape (batch, source_len, memory_dim). "
                f"Received shape: {tuple(memory_shape)}")
        if len(query_shape) not in (2, 3):
            raise ValueError(
                "`query` must have shape (batch, query_dim) or (batch, target_len, query_dim). "
                f"Received shape: {tuple(query_shape)}")
        if query_shape[-1] is None or memory_shape[-1] is None:
            raise ValueError("The last dimension of `query` and `memory` must be known.")

    def _set_dims(self, query_shape, memory_shape):
        self._check_dims(query_shape, memory_shape)
        self.query_dim = int(query_shape[-1])
        self.memory_dim = int(memory_shape[-1])

    def _check_call(self, query, memory):
        self._check_dims(query.shape, memory.shape)
        if query.shape[-1] != self.query_dim:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' was built for query_dim="
                f"{self.query_dim} but received a query of dimension {query.shape[-1]}.")
        if memory.shape[-1] != self.memory_dim:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' was built for memory_dim="
                f"{self.memory_dim} but received a memory of dimension {memory.shape[-1]}.")

    def _check_step(self, query, memory, needs):
        """`_check_call`, and refuse a query of several target steps: a mechanism with a state
        of its own attends one step at a time (`needs`: what the state holds, for the
        message)."""
        self._check_call(query, memory)
        if len(query.shape) != 2:
            raise ValueError(
                f"{self.__class__.__name__} attends one decoder step at a time: it needs "
                f"{needs}. Received a query of shape {tuple(query.shape)}; pass "
                "(batch, query_dim).")

    def precompute(self, memory):
        """Project the memory once per source: `(batch, source_len, key_dim)`."""
        raise NotImplementedError

    def key_dim(self):
        """The last dimension of `precompute(memory)` (the layer must be built)."""
        raise NotImplementedError

    def score(self, query, keys):
        """Unnormalised scores `(batch, [target_len,] source_len)`."""
        raise NotImplementedError

    # Whether a one-step query may hold several rows per memory row (`attend`): true for a
    # mechanism whose scores read only the query and the keys (no position, no state), so a
    # beam's hypotheses can share their source's memory instead of a tiled copy each.
    groups_rows = False
    # Whether the alignment can only move forward through the memory, as the target moves on
    # (monotonic attention, local-m's window at p_t = t): the target must then keep the
    # source's order (`keras_s2s.training.defaults.choose_target_order`).
    reads_in_order = False

    def attend(self, query, memory, keys, memory_mask=None):
        """One attention read with precomputed `keys`; returns `(context, weights)`.

        With `groups_rows`, a query of `batch * r` rows, `(batch * r, [target_len,]
        query_dim)`, may read a memory of `batch` rows: rows `i * r ... i * r + r - 1` of the
        query all read memory row `i` (beam search's hypotheses of one source), as one
        `(r [· target_len], query_dim)` block per source.
        """
        self._check_call(query, memory)
        if self.groups_rows:
            # (batch, r [· target_len], query_dim): the all-steps path's block matmuls
            rows = ops.shape(query)[:-1]  # (batch * r,) or (batch * r, target_len)
            grouped = ops.reshape(query, (ops.shape(memory)[0], -1, ops.shape(query)[-1]))
            weights = masked_softmax(self.score(grouped, keys), memory_mask)  # (b, r·t, s)
            context = ops.matmul(ops.cast(weights, memory.dtype), memory)  # (b, r·t, mem)
            return (ops.reshape(context, (*rows, ops.shape(memory)[-1])),
                    ops.reshape(weights, (*rows, ops.shape(memory)[1])))
        weights = masked_softmax(self.score(query, keys), memory_mask)
        w = ops.cast(weights, memory.dtype)
        if len(query.shape) == 2:
            context = ops.squeeze(ops.matmul(ops.expand_dims(w, 1), memory), 1)  # (b, mem)
        else:
            context = ops.matmul(w, memory)  # (batch, target_len, memory_dim)
        return context, weights

    def call(self, query, memory, memory_mask=None):
        self._check_call(query, memory)  # before precompute, which would fail on memory_dim
        return self.attend(query, memory, self.precompute(memory), memory_mask)

    # The step contract of `AttentionDecoder`. A stateless mechanism has no state; a stateful
    # one (monotonic attention's previous alignments, local-m's step counter) overrides both.
    def initial_state(self, memory, memory_mask=None):
        """The attention's own decoder state before the first step: a list of tensors, each
        `(batch, ...)`; empty for a stateless mechanism."""
        return []

    def state_shapes(self):
        """Shapes of `initial_state`'s tensors without the batch axis (None: source length)."""
        return []

    def attend_step(self, query, memory, keys, memory_mask, state, training=None):
        """One decoder step: `(context, weights, new_state)` from the step's query
        `(batch, query_dim)` and the attention state (see `initial_state`)."""
        context, weights = self.attend(query, memory, keys, memory_mask)
        return context, weights, list(state)

    def compute_output_shape(self, query_shape, memory_shape, memory_mask_shape=None):
        context = tuple(query_shape[:-1]) + (memory_shape[-1],)
        weights = tuple(query_shape[:-1]) + (memory_shape[1],)
        return context, weights

    def compute_output_spec(self, query, memory, memory_mask=None):
        context, weights = self.compute_output_shape(query.shape, memory.shape)
        return (keras.KerasTensor(context, dtype=self.compute_dtype),
                keras.KerasTensor(weights, dtype="float32"))


@keras.saving.register_keras_serializable(package="keras_s2s")
class BahdanauAttention(BaseAttention):
    """Additive attention (Bahdanau et al., 2015).

        score(q, m) = vᵀ tanh(q W_q + m W_m)

    With `normalize=True`, the weight-normalised form of Salimans & Kingma (2016) as used by
    GNMT: `v` is replaced by `g · v / ‖v‖` with a learned scalar `g`, and a bias `b` is added
    inside the tanh.

    Args:
        units: Positive integer, the size of the hidden layer of the score.
        normalize: Boolean, whether to use the weight-normalised form.
        kernel_initializer: Initializer for `query_kernel`, `memory_kernel` and `v`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)` or `(batch, target_len, query_dim)`.
        memory: `(batch, source_len, memory_dim)`, e.g. the encoder outputs.
        memory_mask: Optional `(batch, source_len)`, true where the source is real.

    Returns:
        `(context, weights)`: context `(batch, [target_len,] memory_dim)` and float32
        weights `(batch, [target_len,] source_len)` that sum to 1 over valid positions and
        are exactly 0 over masked ones.

    Example:

    >>> attention = BahdanauAttention(16)
    >>> context, weights = attention(np.ones((2, 8)), np.ones((2, 5, 12)))
    >>> context.shape, weights.shape
    (TensorShape([2, 12]), TensorShape([2, 5]))

    Reference:
        - [Bahdanau et al., 2015. Neural Machine Translation by Jointly Learning to Align
          and Translate.](https://arxiv.org/abs/1409.0473)
    """

    groups_rows = True

    def __init__(self, units, normalize=False, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.normalize = bool(normalize)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        self._set_dims(query_shape, memory_shape)
        self.query_kernel = self.add_weight(
            name="query_kernel", shape=(self.query_dim, self.units),
            initializer=self.kernel_initializer)
        self.memory_kernel = self.add_weight(
            name="memory_kernel", shape=(self.memory_dim, self.units),
            initializer=self.kernel_initializer)
        self.v = self.add_weight(name="v", shape=(self.units,),
                                 initializer=self.kernel_initializer)
        if self.normalize:
            self.g = self.add_weight(
                name="g", shape=(),
                initializer=keras.initializers.Constant((1.0 / self.units) ** 0.5))
            self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")
        self.built = True

    def key_dim(self):
        return self.units

    def precompute(self, memory):
        keys = ops.matmul(memory, self.memory_kernel)  # (batch, source_len, units)
        if self.normalize:
            keys = keys + self.b
        return keys

    def score(self, query, keys):
        q = ops.matmul(query, self.query_kernel)  # (batch, [target_len,] units)
        v = self.v
        if self.normalize:
            v = self.g * v / ops.sqrt(ops.sum(ops.square(v)))
        if len(query.shape) == 2:
            return ops.sum(v * ops.tanh(keys + ops.expand_dims(q, 1)), axis=-1)
        # (batch, target_len, 1, units) + (batch, 1, source_len, units)
        hidden = ops.tanh(ops.expand_dims(q, 2) + ops.expand_dims(keys, 1))
        return ops.sum(v * hidden, axis=-1)  # (batch, target_len, source_len)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "normalize": self.normalize,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config


@keras.saving.register_keras_serializable(package="keras_s2s")
class LuongAttention(BaseAttention):
    """Multiplicative ("global") attention (Luong et al., 2015).

    The score is one of:

    - `"dot"`: `qᵀ m` (needs `query_dim == memory_dim`);
    - `"general"`: `qᵀ W m`, with `memory_kernel` of shape `(memory_dim, query_dim)`;
    - `"concat"`: `vᵀ tanh(W [q; m])`, with `W` stored as its two blocks `query_kernel`
      `(query_dim, units)` and `memory_kernel` `(memory_dim, units)` so that the memory half
      can be precomputed.

    `scale=True` multiplies the score by a learned scalar `g` (initialised to 1).

    Args:
        score: One of `"dot"`, `"general"`, `"concat"`.
        units: Hidden size of the `"concat"` score; defaults to `query_dim`. Ignored otherwise.
        scale: Boolean, whether to learn a scalar multiplier of the score.
        kernel_initializer: Initializer for the kernels.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)` or `(batch, target_len, query_dim)`.
        memory: `(batch, source_len, memory_dim)`.
        memory_mask: Optional `(batch, source_len)`, true where the source is real.

    Returns:
        `(context, weights)`, as `BahdanauAttention`.

    Example:

    >>> attention = LuongAttention("general")
    >>> context, weights = attention(np.ones((2, 3, 8)), np.ones((2, 5, 12)))
    >>> context.shape, weights.shape
    (TensorShape([2, 3, 12]), TensorShape([2, 3, 5]))

    Reference:
        - [Luong et al., 2015. Effective Approaches to Attention-based Neural Machine
          Translation.](https://arxiv.org/abs/1508.04025)
    """

    groups_rows = True

    def __init__(self, score="general", units=None, scale=False,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.score_type = check_choice("score", score, _LUONG_SCORES)
        self.units = check_positive_int("units", units, allow_none=True)
        self.scale = bool(scale)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        self._set_dims(query_shape, memory_shape)
        if self.score_type == "dot" and self.query_dim != self.memory_dim:
            raise ValueError(
                f"LuongAttention(score='dot') needs query_dim == memory_dim, got query_dim="
                f"{self.query_dim} and memory_dim={self.memory_dim}. Use score='general' "
                "or 'concat', or project one side to the other's size.")
        if self.score_type == "general":
            self.memory_kernel = self.add_weight(
                name="memory_kernel", shape=(self.memory_dim, self.query_dim),
                initializer=self.kernel_initializer)
        elif self.score_type == "concat":
            units = self.units or self.query_dim
            self.query_kernel = self.add_weight(
                name="query_kernel", shape=(self.query_dim, units),
                initializer=self.kernel_initializer)
            self.memory_kernel = self.add_weight(
                name="memory_kernel", shape=(self.memory_dim, units),
                initializer=self.kernel_initializer)
            self.v = self.add_weight(name="v", shape=(units,),
                                     initializer=self.kernel_initializer)
        if self.scale:
            self.g = self.add_weight(name="g", shape=(), initializer="ones")
        self.built = True

    def key_dim(self):
        if self.score_type == "dot":
            return self.memory_dim
        if self.score_type == "general":
            return self.query_dim
        return self.units or self.query_dim

    def precompute(self, memory):
        if self.score_type == "dot":
            return memory
        return ops.matmul(memory, self.memory_kernel)  # (batch, source_len, query_dim|units)

    def score(self, query, keys):
        if self.score_type == "concat":
            q = ops.matmul(query, self.query_kernel)
            if len(query.shape) == 2:
                scores = ops.sum(self.v * ops.tanh(keys + ops.expand_dims(q, 1)), axis=-1)
            else:
                hidden = ops.tanh(ops.expand_dims(q, 2) + ops.expand_dims(keys, 1))
                scores = ops.sum(self.v * hidden, axis=-1)
        elif len(query.shape) == 2:
            scores = ops.squeeze(ops.matmul(keys, ops.expand_dims(query, -1)), -1)  # (b, s)
        else:
            # one contraction, no transposed copy of the keys: inside a decoder's loop the
            # copy would be made, and kept for the gradient, at every step
            scores = ops.einsum("btd,bsd->bts", query, keys)  # (b, t, s)
        if self.scale:
            scores = scores * self.g
        return scores

    def get_config(self):
        config = super().get_config()
        config.update({
            "score": self.score_type,
            "units": self.units,
            "scale": self.scale,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
