"""Local attention (Luong et al., 2015, section 3.2): `LuongLocalAttention`.

At step t the decoder attends only to the source positions in a window `[p_t - D, p_t + D]`
around an aligned position p_t; every position outside it gets exactly zero weight:

- local-m (`mode="monotonic"`): `p_t = t`, the weights are the softmax of Luong's score over
  the window; past the source's last real position, p_t stays there (`min(t, S - 1)`), so a
  target longer than its source still reads the source's end (the paper does not say);
- local-p (`mode="predictive"`): `p_t = S · sigmoid(v_pᵀ tanh(W_p h_t))` with S the source's
  real length, and the weights are the softmax over the window times a Gaussian centred at
  p_t, `a_t(s) = align(h_t, h̄_s) · exp(-(s - p_t)² / (2σ²))` with `σ = D / 2` (eq. 10), which
  then need not sum to one.

Positions count from 0. local-m keeps the step counter t in the decoder state
(`initial_state`, `attend_step`); local-p is stateless.
"""

import keras
from keras import ops

from keras_s2s.layers._checks import check_choice, check_positive_int
from keras_s2s.layers.attention import LuongAttention

_MODES = ("monotonic", "predictive")


@keras.saving.register_keras_serializable(package="keras_s2s")
class LuongLocalAttention(LuongAttention):
    """Luong's local attention, local-m or local-p, over a window of `2·window + 1` positions.

    The score inside the window is Luong's (`"general"`, `"dot"` or `"concat"`, optionally
    scaled), with the weights of `LuongAttention`; local-p adds `position_kernel` (W_p,
    `(query_dim, position_units)`) and `position_v` (v_p).

    Args:
        score: `"general"` (default), `"dot"` or `"concat"`.
        window: Positive integer D, the half-width of the window.
        mode: `"predictive"` (local-p, default) or `"monotonic"` (local-m).
        units: Hidden size of the `"concat"` score.
        scale: Boolean, a learned scalar `g` on the score.
        position_units: Hidden size of local-p's position predictor; defaults to query_dim.
        kernel_initializer: Initializer for the kernels.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)` or `(batch, target_len, query_dim)`.
        memory: `(batch, source_len, memory_dim)`.
        memory_mask: Optional `(batch, source_len)`, true where the source is real.
        step: Optional, local-m only: the index t of the (first) decoder step, default 0.

    Returns:
        `(context, weights)`: context `(batch, [target_len,] memory_dim)` and float32 weights
        `(batch, [target_len,] source_len)`, exactly 0 outside the window and over padding.

    Example:

    >>> attention = LuongLocalAttention(window=2, mode="predictive")
    >>> context, weights = attention(np.ones((2, 3, 8)), np.ones((2, 9, 8)))
    >>> weights.shape
    TensorShape([2, 3, 9])

    Reference:
        - [Luong et al., 2015. Effective Approaches to Attention-based Neural Machine
          Translation.](https://arxiv.org/abs/1508.04025), section 3.2.
    """

    groups_rows = False  # its scores read a position or a state: no shared memory

    @property
    def reads_in_order(self):
        """local-m reads a window at p_t = t: target position t aligns with source t."""
        return self.mode == "monotonic"

    def __init__(self, score="general", window=10, mode="predictive", units=None, scale=False,
                 position_units=None, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(score, units=units, scale=scale,
                         kernel_initializer=kernel_initializer, **kwargs)
        self.window = check_positive_int("window", window)
        self.mode = check_choice("mode", mode, _MODES)
        self.position_units = check_positive_int("position_units", position_units,
                                                 allow_none=True)

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        super().build(query_shape, memory_shape, memory_mask_shape)
        if self.mode == "predictive":
            units = self.position_units or self.query_dim
            self.position_kernel = self.add_weight(
                name="position_kernel", shape=(self.query_dim, units),
                initializer=self.kernel_initializer)
            self.position_v = self.add_weight(name="position_v", shape=(units,),
                                              initializer=self.kernel_initializer)

    def aligned_positions(self, query, memory, memory_mask=None, step=0):
        """p_t, float32 `(batch, [target_len])`: `t` (local-m) or `S · sigmoid(...)` (local-p)."""
        if memory_mask is None:
            length = ops.cast(ops.shape(memory)[1], "float32") * ops.ones(
                ops.shape(memory)[:1], "float32")
        else:
            length = ops.sum(ops.cast(memory_mask, "float32"), axis=-1)
        if self.mode == "monotonic":
            step = ops.cast(step, "float32")
            last = ops.maximum(length - 1.0, 0.0)
            if len(query.shape) == 2:
                return ops.minimum(ops.ones_like(last) * ops.reshape(step, (-1,)), last)
            t = ops.arange(ops.shape(query)[1], dtype="float32")
            return ops.minimum(t + ops.reshape(step, (-1, 1)), ops.expand_dims(last, -1))
        hidden = ops.tanh(ops.matmul(query, self.position_kernel))
        fraction = ops.sigmoid(ops.cast(ops.sum(hidden * self.position_v, axis=-1), "float32"))
        if len(query.shape) == 3:
            length = ops.expand_dims(length, -1)
        return length * fraction

    def _windowed(self, query, memory, keys, memory_mask, step):
        positions = self.aligned_positions(query, memory, memory_mask, step)  # (b, [t])
        source = ops.arange(ops.shape(memory)[1], dtype="float32")
        distance = source - ops.expand_dims(positions, -1)  # (b, [t,] s)
        inside = ops.abs(distance) <= float(self.window)
        if memory_mask is not None:
            mask = ops.cast(memory_mask, "bool")
            inside = ops.logical_and(inside, mask if len(query.shape) == 2
                                     else ops.expand_dims(mask, 1))
        scores = ops.cast(self.score(query, keys), "float32")
        scores = ops.where(inside, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1) * ops.cast(inside, "float32")
        if self.mode == "predictive":
            sigma = self.window / 2.0
            weights = weights * ops.exp(-ops.square(distance) / (2.0 * sigma ** 2))
        w = ops.cast(weights, memory.dtype)
        if len(query.shape) == 2:
            context = ops.squeeze(ops.matmul(ops.expand_dims(w, 1), memory), 1)
        else:
            context = ops.matmul(w, memory)
        return context, weights

    def attend(self, query, memory, keys, memory_mask=None, step=0):
        self._check_call(query, memory)
        return self._windowed(query, memory, keys, memory_mask, step)

    def call(self, query, memory, memory_mask=None, step=0):
        self._check_call(query, memory)
        return self.attend(query, memory, self.precompute(memory), memory_mask, step)

    def compute_output_spec(self, query, memory, memory_mask=None, step=0):
        return super().compute_output_spec(query, memory, memory_mask)

    # local-m counts the decoder's steps in its state
    def initial_state(self, memory, memory_mask=None):
        if self.mode != "monotonic":
            return []
        return [ops.zeros((ops.shape(memory)[0], 1), "float32")]

    def state_shapes(self):
        return [(1,)] if self.mode == "monotonic" else []

    def attend_step(self, query, memory, keys, memory_mask, state, training=None):
        if self.mode != "monotonic":
            return (*self.attend(query, memory, keys, memory_mask), [])
        (step,) = state
        context, weights = self.attend(query, memory, keys, memory_mask, step[:, 0])
        return context, weights, [step + 1.0]

    def get_config(self):
        config = super().get_config()
        config.update({"window": self.window, "mode": self.mode,
                       "position_units": self.position_units})
        return config
