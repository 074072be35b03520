"""Coverage (See, Liu and Manning, 2017, section 2.3): attention that knows where it has been.

The coverage vector is the sum of the attention distributions of all earlier decoder steps,

    c^t = Σ_{t' < t} a^{t'}

It enters the additive score as one more feature of every source position, and a loss term
penalises attending again where the coverage is already high:

    e^t_i  = vᵀ tanh(W_h h_i + W_s s_t + w_c c^t_i + b_attn)
    covloss_t = Σ_i min(a^t_i, c^t_i)

`CoverageAttention` is the score with its state (the coverage vector, carried by
`AttentionDecoder` like monotonic attention's previous alignments, so beam search reorders
it with the rest of the decoder state); `CoverageLoss` adds `λ · mean_t covloss_t` (over the
real target steps) to the model's losses, from the alignments the decoder returns.
"""

import keras
from keras import ops

from keras_s2s.layers.attention import BahdanauAttention, masked_softmax


@keras.saving.register_keras_serializable(package="keras_s2s")
class CoverageAttention(BahdanauAttention):
    """Additive attention with See et al.'s coverage feature, one decoder step at a time.

        score(s_t, h_i, c_i) = vᵀ tanh(s_t W_s + h_i W_h + c_i w_c)

    Args:
        units: Positive integer, the size of the hidden layer of the score.
        normalize: Boolean, the weight-normalised form (see `BahdanauAttention`), whose bias
            is the paper's `b_attn`.
        kernel_initializer: Initializer of the kernels, `v` and `w_c`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)`, one decoder step.
        memory: `(batch, source_len, memory_dim)`.
        memory_mask: Optional `(batch, source_len)`, true where the source is real.
        coverage: Optional `(batch, source_len)`, the sum of the earlier steps' weights
            (zeros when omitted: the first step).

    Returns:
        `(context, weights)` as `BahdanauAttention`; inside `AttentionDecoder` the state is
        the coverage, and each step returns it plus its weights.

    Example:

    >>> attention = CoverageAttention(16)
    >>> context, weights = attention(np.ones((2, 8)), np.ones((2, 5, 12)),
    ...                              coverage=np.full((2, 5), 0.5, "float32"))
    >>> tuple(weights.shape)
    (2, 5)

    Reference:
        - [See, Liu & Manning, 2017. Get To The Point: Summarization with Pointer-Generator
          Networks.](https://arxiv.org/abs/1704.04368), eqs. 10-13.
    """

    groups_rows = False  # its scores read a position or a state: no shared memory

    def build(self, query_shape, memory_shape, memory_mask_shape=None, coverage_shape=None):
        super().build(query_shape, memory_shape, memory_mask_shape)
        self.coverage_kernel = self.add_weight(name="coverage_kernel", shape=(self.units,),
                                               initializer=self.kernel_initializer)

    def coverage_score(self, query, keys, coverage):
        """Scores `(batch, source_len)` of one step: the additive score (`score`) with the
        coverage feature added to the keys inside its tanh."""
        feature = ops.expand_dims(ops.cast(coverage, keys.dtype), -1) * self.coverage_kernel
        return self.score(query, keys + feature)

    def initial_state(self, memory, memory_mask=None):
        """`[c^0]`: zero coverage before the first step, `(batch, source_len)`."""
        return [ops.zeros(ops.shape(memory)[:2], dtype="float32")]

    def state_shapes(self):
        return [(None,)]

    def attend_step(self, query, memory, keys, memory_mask, state, training=None):
        self._check_step(query, memory, "the earlier steps' weights")
        coverage = state[0]
        weights = masked_softmax(self.coverage_score(query, keys, coverage), memory_mask)
        w = ops.cast(weights, memory.dtype)
        context = ops.squeeze(ops.matmul(ops.expand_dims(w, 1), memory), 1)
        return context, weights, [ops.cast(coverage, "float32") + ops.cast(weights, "float32")]

    def call(self, query, memory, memory_mask=None, coverage=None):
        self._check_call(query, memory)
        keys = self.precompute(memory)
        state = [coverage] if coverage is not None else self.initial_state(memory)
        context, weights, _ = self.attend_step(query, memory, keys, memory_mask, state)
        return context, weights

    def compute_output_spec(self, query, memory, memory_mask=None, coverage=None):
        return super().compute_output_spec(query, memory, memory_mask)



@keras.saving.register_keras_serializable(package="keras_s2s")
class CoverageLoss(keras.layers.Layer):
    """Add See et al.'s coverage loss to the model: `weight · mean_t Σ_i min(a^t_i, c^t_i)`.

    `c^t` is the sum of the alignments of the steps before `t` (what `CoverageAttention`
    carries); the mean runs over the real target steps (decoder ids other than padding).
    The layer passes `logits` through unchanged, so that it sits on the model's output path.

    Args:
        weight: Non-negative float, the paper's λ (1 in the paper).
        **kwargs: Base layer arguments.

    Call arguments:
        logits: Any tensor, returned as is.
        alignments: `(batch, T, S)`, the decoder's attention weights.
        decoder_token_ids: `(batch, T)`, 0 at padding.

    Returns:
        `logits`.

    Example:

    >>> layer = CoverageLoss(1.0)
    >>> _ = layer(np.zeros((1, 2, 3)), np.array([[[1.0, 0.0], [0.5, 0.5]]], "float32"),
    ...           np.array([[2, 5]]))
    >>> round(float(layer.losses[0]), 3)   # step 2: min(0.5, 1) + min(0.5, 0) = 0.5; mean 0.25
    0.25
    """

    def __init__(self, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)
        if self.weight < 0:
            raise ValueError(f"Argument `weight` must be >= 0. Received: {weight}")

    def call(self, logits, alignments, decoder_token_ids):
        a = ops.cast(alignments, "float32")
        coverage = ops.cumsum(a, axis=1) - a  # the sum of the earlier steps
        per_step = ops.sum(ops.minimum(a, coverage), axis=-1)  # (batch, T)
        real = ops.cast(ops.not_equal(decoder_token_ids, 0), "float32")
        loss = ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)
        self.add_loss(self.weight * loss)
        return logits

    def compute_output_spec(self, logits, alignments, decoder_token_ids):
        return keras.KerasTensor(logits.shape, dtype=logits.dtype)

    def get_config(self):
        config = super().get_config()
        config["weight"] = self.weight
        return config
