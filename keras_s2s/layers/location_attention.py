"""Location-sensitive attention (Chorowski et al., 2015): attention that sees where it was.

A content-based score gives two source positions with similar encodings similar weights, so a
decoder that copies a string with repeated letters (`roughhouse`, `exempt`) can jump ahead or
back between them. Location-sensitive attention also reads the previous step's alignment: a
convolution over the source positions turns it into features of every position,

    f_t = F * [α_{t-1}; Σ_{t' < t} α_{t'}]          (filters over source positions)
    e_{t,j} = vᵀ tanh(q_t W_q + m_j W_m + f_{t,j} W_f)

so the score can prefer the positions just after the last one read. Chorowski et al.
(section 2.2) convolve the previous alignment; Shen et al. (2018, Tacotron 2) add the
cumulative one as a second channel, which `cumulative=True` (the default) does too.
`AttentionDecoder` carries both alignments in its state, as it does monotonic attention's,
so beam search reorders them with the rest of the decoder state.
"""

import keras
from keras import ops

from keras_s2s.layers._checks import check_positive_int
from keras_s2s.layers.attention import BahdanauAttention, masked_softmax


@keras.saving.register_keras_serializable(package="keras_s2s")
class LocationSensitiveAttention(BahdanauAttention):
    """Additive attention with location features of the earlier alignments, one step at a time.

        score(q_t, m_j) = vᵀ tanh(q_t W_q + m_j W_m + (F * [α_{t-1}; Σ_{t'<t} α_{t'}])_j W_f)

    Args:
        units: Positive integer, the size of the hidden layer of the score.
        filters: Positive integer, the number of location filters (F's output channels).
        kernel_size: Positive odd integer, the width of each filter in source positions.
        cumulative: Boolean, whether the filters also read the sum of all earlier alignments
            (Tacotron 2), not only the previous one (Chorowski et al.).
        normalize: Boolean, the weight-normalised form (see `BahdanauAttention`).
        kernel_initializer: Initializer of the kernels, `v` and the filters.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)`, one decoder step.
        memory: `(batch, source_len, memory_dim)`.
        memory_mask: Optional `(batch, source_len)`, true where the source is real.
        previous_alignments: Optional `(batch, source_len)`, α_{t-1} (zeros when omitted:
            the first step).
        cumulative_alignments: Optional `(batch, source_len)`, Σ_{t'<t} α_{t'} (zeros when
            omitted; read only with `cumulative=True`).

    Returns:
        `(context, weights)` as `BahdanauAttention`; inside `AttentionDecoder` the state is
        `[α_{t-1}, Σ α]` (or `[α_{t-1}]`), and each step returns it with its weights.

    Example:

    >>> attention = LocationSensitiveAttention(16, filters=4, kernel_size=3)
    >>> context, weights = attention(np.ones((2, 8)), np.ones((2, 5, 12)),
    ...                              previous_alignments=np.full((2, 5), 0.2, "float32"))
    >>> tuple(weights.shape)
    (2, 5)

    Reference:
        - [Chorowski et al., 2015. Attention-Based Models for Speech
          Recognition.](https://arxiv.org/abs/1506.07503), section 2.2.
        - [Shen et al., 2018. Natural TTS Synthesis by Conditioning WaveNet on Mel
          Spectrogram Predictions.](https://arxiv.org/abs/1712.05884), section 2.2.
    """

    groups_rows = False  # its scores read a state: no shared memory

    def __init__(self, units, filters=8, kernel_size=7, cumulative=True, normalize=False,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(units, normalize=normalize, kernel_initializer=kernel_initializer,
                         **kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError("Argument `kernel_size` must be odd, so that each position's "
                             f"window is centred on it. Received: kernel_size={kernel_size}")
        self.cumulative = bool(cumulative)

    def build(self, query_shape, memory_shape, memory_mask_shape=None,
              previous_alignments_shape=None, cumulative_alignments_shape=None):
        super().build(query_shape, memory_shape, memory_mask_shape)
        channels = 2 if self.cumulative else 1
        self.location_filters = self.add_weight(
            name="location_filters", shape=(self.kernel_size, channels, self.filters),
            initializer=self.kernel_initializer)
        self.location_kernel = self.add_weight(
            name="location_kernel", shape=(self.filters, self.units),
            initializer=self.kernel_initializer)

    def location_features(self, state, dtype):
        """`(batch, source_len, units)`: the filters over the earlier alignments, through
        `W_f`."""
        channels = ops.stack([ops.cast(s, dtype) for s in state], axis=-1)  # (b, s, c)
        batch, length = ops.shape(channels)[0], ops.shape(channels)[1]
        half = (self.kernel_size - 1) // 2
        padded = ops.pad(channels, [[0, 0], [half, half], [0, 0]])
        # the filters' windows side by side, (b, s, r · c): position j reads j - half ... j +
        # half, zeros beyond the source ("same" padding)
        windows = ops.concatenate([padded[:, i:i + length] for i in range(self.kernel_size)],
                                  axis=-1)
        # (F * a) W_f = a's windows times F W_f: the filters and W_f multiplied first, then one
        # 2-D product (a convolution or a 3-D product inside the decoder's loop was slower on
        # the CPU, and the latter's gradient did not compile with XLA)
        kernel = ops.reshape(ops.einsum("kcf,fu->kcu", ops.cast(self.location_filters, dtype),
                                        ops.cast(self.location_kernel, dtype)),
                             (-1, self.units))  # (r · c, units)
        features = ops.matmul(ops.reshape(windows, (-1, ops.shape(kernel)[0])), kernel)
        return ops.reshape(features, (batch, length, self.units))

    def location_score(self, query, keys, state):
        """Scores `(batch, source_len)` of one step: the additive score (`score`) with the
        location features added to the keys inside its tanh."""
        return self.score(query, keys + self.location_features(state, keys.dtype))

    def initial_state(self, memory, memory_mask=None):
        """`[α_0, Σ α]` (or `[α_0]`): zeros before the first step, `(batch, source_len)` each."""
        zeros = ops.zeros(ops.shape(memory)[:2], dtype="float32")
        return [zeros, zeros] if self.cumulative else [zeros]

    def state_shapes(self):
        return [(None,)] * (2 if self.cumulative else 1)

    def attend_step(self, query, memory, keys, memory_mask, state, training=None):
        self._check_step(query, memory, "the earlier steps' weights")
        weights = masked_softmax(self.location_score(query, keys, state), memory_mask)
        w = ops.cast(weights, memory.dtype)
        context = ops.squeeze(ops.matmul(ops.expand_dims(w, 1), memory), 1)
        new_state = [ops.cast(weights, "float32")]
        if self.cumulative:
            new_state.append(ops.cast(state[1], "float32") + new_state[0])
        return context, weights, new_state

    def call(self, query, memory, memory_mask=None, previous_alignments=None,
             cumulative_alignments=None):
        self._check_call(query, memory)
        keys = self.precompute(memory)
        state = self.initial_state(memory)
        if previous_alignments is not None:
            state[0] = previous_alignments
        if self.cumulative and cumulative_alignments is not None:
            state[1] = cumulative_alignments
        context, weights, _ = self.attend_step(query, memory, keys, memory_mask, state)
        return context, weights

    def compute_output_spec(self, query, memory, memory_mask=None, previous_alignments=None,
                            cumulative_alignments=None):
        return super().compute_output_spec(query, memory, memory_mask)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size,
                       "cumulative": self.cumulative})
        return config
