"""Monotonic attention (Raffel et al., 2017): `BahdanauMonotonicAttention`, `LuongMonotonicAttention`.

At each decoder step the mechanism scans the memory left to right from where it stopped at the
previous step and, at each position j, stops with probability `p_ij = sigmoid(e_ij)`, where
`e_ij` is the Bahdanau or Luong score plus a learned scalar `score_bias`. Training uses the
expected alignment under that process, computed from the previous step's alignment:

    q_ij = (1 - p_i,j-1) q_i,j-1 + α_i-1,j            α_ij = p_ij q_ij            (eq. 9-10)

The alignments need not sum to one: the rest is the probability of stopping nowhere. The
context is `c_i = Σ_j α_ij m_j`. The previous alignments travel in the decoder's state
(`initial_state`, `attend_step`), so step decoding works; the first step starts from the
alignment `[1, 0, ..., 0]`, as in TensorFlow Addons.

`mode`:

- `"parallel"`: Raffel et al.'s closed form (eq. 11), `α_i = p_i · cumprod(1 - p_i) ·
  cumsum(α_{i-1} / cumprod(1 - p_i))` with an exclusive cumulative product, the divisor
  clipped to [1e-10, 1] as in TensorFlow Addons. Fast, but inexact once a `1 - p` is tiny.
- `"recursive"`: the recurrence itself, exactly. TensorFlow Addons ran it as a `tf.scan` over
  the source; Keras' `scan` does not train under XLA on TensorFlow, so here it is the
  equivalent product with a lower-triangular matrix, `q_i = L_i α_{i-1}` with
  `L_i[j, k] = Π_{k<=m<j} (1 - p_im)`, computed in log space (quadratic in the source length).
- `"hard"`: test-time hard monotonic attention: `p_ij = 1[e_ij > 0]`, and the alignment is
  one-hot at the first position at or after the previous one where the score is positive
  (zeros if there is none).

`sigmoid_noise` adds Gaussian noise of that standard deviation to the scores before the sigmoid
in training only (TensorFlow Addons added it always), which pushes the probabilities towards 0
and 1 so that the hard mode at test time matches what was trained.
"""

import keras
from keras import ops

from keras_s2s.layers._checks import check_choice
from keras_s2s.layers.attention import BahdanauAttention, LuongAttention

_MODES = ("parallel", "recursive", "hard")
_TINY = 1e-10


def _exclusive_cumprod(x):
    """`[1, x_0, x_0 x_1, ...]` along the last axis."""
    ones = ops.ones_like(x[..., :1])
    return ops.cumprod(ops.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)


def monotonic_alignments(p_choose, previous_alignments, mode):
    """Expected (or, with `mode="hard"`, hard) monotonic alignments of one decoder step.

    Args:
        p_choose: `(batch, source_len)`, the stopping probabilities (0/1 for `"hard"`).
        previous_alignments: `(batch, source_len)`, the previous step's alignments.
        mode: `"parallel"`, `"recursive"` or `"hard"` (see the module docstring).

    Returns:
        Float32 alignments `(batch, source_len)`.

    Example:

    >>> a = monotonic_alignments(np.array([[0.5, 1.0, 0.5]]), np.array([[1.0, 0, 0]]),
    ...                          "recursive")
    >>> keras.ops.convert_to_numpy(a).round(3).tolist()
    [[0.5, 0.5, 0.0]]
    """
    p = ops.cast(p_choose, "float32")
    previous = ops.cast(previous_alignments, "float32")
    if mode == "hard":
        # no stop before where the last step stopped, then only the first stop counts
        p = p * ops.cumsum(previous, axis=-1)
        return p * _exclusive_cumprod(1.0 - p)
    if mode == "parallel":
        one_minus = ops.clip(1.0 - p, _TINY, 1.0)
        log_cumprod = ops.cumsum(ops.log(one_minus), axis=-1) - ops.log(one_minus)  # exclusive
        cumprod = ops.exp(log_cumprod)
        return p * cumprod * ops.cumsum(previous / ops.clip(cumprod, _TINY, 1.0), axis=-1)
    # recursive: q_j = Σ_{k<=j} exp(c_j - c_k) α_{i-1,k} with c the exclusive cumsum of
    # log(1 - p): each exponent is a sum of logs of numbers in (0, 1], never a quotient
    log_one_minus = ops.log(ops.clip(1.0 - p, 1e-30, 1.0))
    c = ops.cumsum(log_one_minus, axis=-1) - log_one_minus  # (batch, S)
    exponent = ops.expand_dims(c, -1) - ops.expand_dims(c, -2)  # [b, j, k] = c_j - c_k
    length = ops.shape(p)[-1]
    positions = ops.arange(length)
    lower = ops.expand_dims(positions, -1) >= ops.expand_dims(positions, 0)  # k <= j
    transfer = ops.where(lower, ops.exp(ops.minimum(exponent, 0.0)), 0.0)
    q = ops.squeeze(ops.matmul(transfer, ops.expand_dims(previous, -1)), -1)
    return p * q


class _Monotonic:
    """What both monotonic layers add to their score: bias, noise, modes, state."""

    groups_rows = False  # its scores read a position or a state: no shared memory
    reads_in_order = True  # the attended position never moves back

    def _init_monotonic(self, sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode):
        self.sigmoid_noise = float(sigmoid_noise)
        if self.sigmoid_noise < 0:
            raise ValueError(f"Argument `sigmoid_noise` must be >= 0. Received: {sigmoid_noise}")
        self.sigmoid_noise_seed = sigmoid_noise_seed
        self.score_bias_init = float(score_bias_init)
        self.mode = check_choice("mode", mode, _MODES)
        self.seed_generator = keras.random.SeedGenerator(sigmoid_noise_seed)

    def training_noise(self, batch, steps, source_len):
        """The score noise of a whole training sequence, `(batch, steps, source_len)`, or None
        when `sigmoid_noise` is 0. `AttentionDecoder` draws it before its loop and passes one
        step's slice to `attend_step(noise=...)`: a draw inside a JAX scan would update the
        seed generator's state inside the traced loop, which JAX refuses."""
        if self.sigmoid_noise <= 0:
            return None
        return self.sigmoid_noise * keras.random.normal((batch, steps, source_len),
                                                        seed=self.seed_generator)

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        super().build(query_shape, memory_shape, memory_mask_shape)  # the score's weights
        self.score_bias = self.add_weight(
            name="score_bias", shape=(),
            initializer=keras.initializers.Constant(self.score_bias_init))

    def get_config(self):
        return {**super().get_config(), "sigmoid_noise": self.sigmoid_noise,
                "sigmoid_noise_seed": self.sigmoid_noise_seed,
                "score_bias_init": self.score_bias_init, "mode": self.mode}

    def initial_state(self, memory, memory_mask=None):
        """`[α_0]`: the alignment `[1, 0, ..., 0]` before the first step, `(batch, source_len)`."""
        first = ops.zeros(ops.shape(memory)[:2], dtype="int32")
        return [ops.one_hot(first[:, 0], ops.shape(memory)[1], dtype="float32")]

    def state_shapes(self):
        return [(None,)]

    def attend_step(self, query, memory, keys, memory_mask, state, training=None, noise=None):
        self._check_step(query, memory, "the previous step's alignments")
        scores = ops.cast(self.score(query, keys), "float32") + ops.cast(self.score_bias,
                                                                          "float32")
        if noise is not None:  # this step's slice of `training_noise`
            scores = scores + ops.cast(noise, "float32")
        elif training and self.sigmoid_noise > 0:
            scores = scores + self.sigmoid_noise * keras.random.normal(
                ops.shape(scores), seed=self.seed_generator)
        if self.mode == "hard":
            p_choose = ops.cast(scores > 0, "float32")
        else:
            p_choose = ops.sigmoid(scores)
        if memory_mask is not None:
            p_choose = p_choose * ops.cast(memory_mask, "float32")
        weights = monotonic_alignments(p_choose, state[0], self.mode)
        w = ops.cast(weights, memory.dtype)
        context = ops.squeeze(ops.matmul(ops.expand_dims(w, 1), memory), 1)
        return context, weights, [weights]

    def attend(self, query, memory, keys, memory_mask=None, previous_alignments=None,
               training=None):
        state = ([previous_alignments] if previous_alignments is not None
                 else self.initial_state(memory, memory_mask))
        context, weights, _ = self.attend_step(query, memory, keys, memory_mask, state,
                                               training)
        return context, weights

    def call(self, query, memory, memory_mask=None, previous_alignments=None, training=None):
        self._check_call(query, memory)
        return self.attend(query, memory, self.precompute(memory), memory_mask,
                           previous_alignments, training)

    def compute_output_spec(self, query, memory, memory_mask=None, previous_alignments=None,
                            training=None):
        return super().compute_output_spec(query, memory, memory_mask)


@keras.saving.register_keras_serializable(package="keras_s2s")
class BahdanauMonotonicAttention(_Monotonic, BahdanauAttention):
    """Monotonic attention with Bahdanau's additive score (Raffel et al., 2017).

        e_ij = vᵀ tanh(W_q q_i + W_m m_j) + r           # normalize=False
        e_ij = g vᵀ/‖v‖ tanh(W_q q_i + W_m m_j + b) + r  # normalize=True
        p_ij = sigmoid(e_ij + noise)

    and the alignment from the previous step's as in the module docstring. The weights are
    `query_kernel`, `memory_kernel`, `v` (and `g`, `b` when normalised) as in
    `BahdanauAttention`, plus the scalar `score_bias` r.

    Args:
        units: Positive integer, the size of the hidden layer of the score.
        normalize: Boolean, the weight-normalised score.
        sigmoid_noise: Float >= 0, the standard deviation of the noise added to the scores
            in training.
        sigmoid_noise_seed: Optional int, the seed of that noise.
        score_bias_init: Float, the initial `score_bias`; Raffel et al. use -4 for long
            sources, so that the mechanism starts by moving on rather than stopping.
        mode: `"parallel"` (default), `"recursive"` or `"hard"`.
        kernel_initializer: Initializer for the kernels and `v`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)`, one decoder step.
        memory: `(batch, source_len, memory_dim)`.
        memory_mask: Optional `(batch, source_len)`, true where the source is real.
        previous_alignments: Optional `(batch, source_len)`, the previous step's alignments;
            None for the first step (`[1, 0, ..., 0]`).
        training: Python boolean, whether to add `sigmoid_noise`.

    Returns:
        `(context, alignments)`: context `(batch, memory_dim)` and float32 alignments
        `(batch, source_len)`, exactly 0 over masked positions, summing to at most 1.

    Example:

    >>> attention = BahdanauMonotonicAttention(16, score_bias_init=-1.0)
    >>> context, alignments = attention(np.ones((2, 8)), np.ones((2, 5, 12)))
    >>> context.shape, alignments.shape
    (TensorShape([2, 12]), TensorShape([2, 5]))

    Reference:
        - [Raffel et al., 2017. Online and Linear-Time Attention by Enforcing Monotonic
          Alignments.](https://arxiv.org/abs/1704.00784)
    """

    def __init__(self, units, normalize=False, sigmoid_noise=0.0, sigmoid_noise_seed=None,
                 score_bias_init=0.0, mode="parallel", kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(units, normalize=normalize, kernel_initializer=kernel_initializer,
                         **kwargs)
        self._init_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)


@keras.saving.register_keras_serializable(package="keras_s2s")
class LuongMonotonicAttention(_Monotonic, LuongAttention):
    """Monotonic attention with Luong's multiplicative score (Raffel et al., 2017).

        e_ij = g · score(q_i, m_j) + r      # g only with scale=True; score as LuongAttention
        p_ij = sigmoid(e_ij + noise)

    and the alignment from the previous step's as in the module docstring. The weights are
    those of `LuongAttention` (`memory_kernel` for the general score, `g` when scaled), plus
    the scalar `score_bias` r. TensorFlow Addons had only the general score.

    Args:
        score: `"general"` (default), `"dot"` or `"concat"`.
        units: Hidden size of the `"concat"` score.
        scale: Boolean, a learned scalar `g` on the score.
        sigmoid_noise: Float >= 0, the standard deviation of the training noise.
        sigmoid_noise_seed: Optional int, the seed of that noise.
        score_bias_init: Float, the initial `score_bias`.
        mode: `"parallel"` (default), `"recursive"` or `"hard"`.
        kernel_initializer: Initializer for the kernels.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)`, one decoder step.
        memory: `(batch, source_len, memory_dim)`.
        memory_mask: Optional `(batch, source_len)`.
        previous_alignments: Optional `(batch, source_len)`; None for the first step.
        training: Python boolean, whether to add `sigmoid_noise`.

    Returns:
        `(context, alignments)`, as `BahdanauMonotonicAttention`.

    Example:

    >>> attention = LuongMonotonicAttention(scale=True, mode="hard")
    >>> context, alignments = attention(np.ones((2, 8)), np.ones((2, 5, 12)))
    >>> alignments.shape
    TensorShape([2, 5])

    Reference:
        - [Raffel et al., 2017. Online and Linear-Time Attention by Enforcing Monotonic
          Alignments.](https://arxiv.org/abs/1704.00784)
    """

    def __init__(self, score="general", units=None, scale=False, sigmoid_noise=0.0,
                 sigmoid_noise_seed=None, score_bias_init=0.0, mode="parallel",
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(score, units=units, scale=scale,
                         kernel_initializer=kernel_initializer, **kwargs)
        self._init_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)
