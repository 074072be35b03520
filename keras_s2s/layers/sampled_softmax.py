"""Sampled softmax for large output vocabularies (Jean et al., 2015).

Training a softmax over V words costs a `(units, V)` matmul per target token. Sampled softmax
trains on the true word and `S` sampled words only, with the sampling distribution's
log-probability subtracted from every logit (the "logQ" correction), which makes the sampled
loss an estimate of the full one; at evaluation and decoding the full softmax is used.

How the pieces fit (`keras.ops` only, so every backend and `jit_compile=True` work):

- `SampledSoftmaxProjection` replaces the model's `output_projection` `Dense` (same weights,
  `kernel (units, V)` and `bias (V,)`). Called with `training=False` it returns the full
  logits. Called with `training=True` it draws the step's `S` candidates from the log-uniform
  sampler, keeps them in its `candidates` variable, and passes the decoder outputs through
  unchanged, so the model's training output is `(batch, T, units)`.
- `keras_s2s.losses.SampledSoftmaxLoss(projection)` reads the projection's weights and
  candidates and computes `sampled_softmax_nll` on those outputs; given full logits (at
  `evaluate`) it is the ordinary masked cross-entropy.
- `keras_s2s.training.compile_model` pairs the two when a model has the projection.

The sampler is log-uniform (Zipfian) over ids: `P(k) = log((k + 2) / (k + 1)) / log(V + 1)`,
which assumes ids sorted by falling frequency, as the zoo's word and subword tokenizers assign
them. Candidates are drawn with replacement, so the expected count of id `k` among the `S`
draws is `S·P(k)`, and `log(S·P(k))` is the correction (TensorFlow's `sampled_softmax_loss`
with `unique=False`). A candidate equal to the true id ("accidental hit") is removed.
"""

import math

import keras
from keras import ops

from keras_s2s.layers._checks import check_positive_int

_REMOVED = -1e9  # logit of an accidental hit: exp() is 0 in float32


def log_uniform_log_probs(ids, vocab_size):
    """Log-probabilities of `ids` under the log-uniform sampler over `vocab_size` ids.

    Args:
        ids: Int tensor of ids in `[0, vocab_size)`, any shape.
        vocab_size: Number of ids.

    Returns:
        Float32 tensor of the shape of `ids`: `log P(k)`, `P(k) = log((k+2)/(k+1)) / log(V+1)`.

    Example:

    >>> p = np.exp(keras.ops.convert_to_numpy(log_uniform_log_probs(np.arange(5), 5)))
    >>> bool(abs(p.sum() - 1.0) < 1e-6)
    True
    """
    k = ops.cast(ids, "float32")
    return ops.log(ops.log1p(1.0 / (k + 1.0))) - math.log(math.log(vocab_size + 1.0))


def sample_log_uniform(vocab_size, num_sampled, seed=None):
    """Draw `num_sampled` ids from the log-uniform sampler, with replacement.

    Inverse-CDF sampling: `k = floor(exp(u · log(V + 1))) - 1` for `u ~ U[0, 1)`.

    Args:
        vocab_size: Number of ids.
        num_sampled: Number of draws.
        seed: A `keras.random.SeedGenerator` or an int.

    Returns:
        Int32 tensor `(num_sampled,)` of ids in `[0, vocab_size)`.

    Example:

    >>> ids = sample_log_uniform(1000, 8, seed=0)
    >>> tuple(ids.shape)
    (8,)
    """
    u = keras.random.uniform((num_sampled,), seed=seed)
    k = ops.floor(ops.exp(u * math.log(vocab_size + 1.0))) - 1.0
    return ops.cast(ops.clip(k, 0, vocab_size - 1), "int32")


def sampled_softmax_nll(labels, hidden, kernel, bias, candidates, candidate_log_q,
                        label_log_q):
    """Per-token sampled-softmax negative log-likelihood, with logQ correction and accidental
    hits removed.

    For a position with output `h` and true id `y`: `s_y = h·W[:, y] + b[y] - log Q(y)`, and
    for each candidate `c`: `s_c = h·W[:, c] + b[c] - log Q(c)` (`-1e9` where `c == y`); the loss
    is `logsumexp([s_y, s_c1, ..., s_cS]) - s_y`. With every id sampled once and `log Q = 0`
    it is the full softmax cross-entropy.

    Args:
        labels: Int ids `(batch, T)`.
        hidden: Decoder outputs `(batch, T, units)`.
        kernel: Output kernel `(units, V)`.
        bias: Output bias `(V,)`.
        candidates: Int ids `(S,)`, shared by every position.
        candidate_log_q: `(S,)` log expected counts of the candidates.
        label_log_q: `(batch, T)` log expected counts of the true ids.

    Returns:
        Float32 `(batch, T)`, padding positions included.

    Example:

    >>> nll = sampled_softmax_nll(np.array([[1]]), np.ones((1, 1, 2)), np.ones((2, 3)),
    ...                           np.zeros(3), np.array([0, 2]), np.zeros(2), np.zeros((1, 1)))
    >>> round(float(nll[0, 0]), 4)  # log 3: three equal logits
    1.0986
    """
    hidden = ops.cast(hidden, "float32")
    kernel = ops.cast(kernel, "float32")
    bias = ops.cast(bias, "float32")
    labels = ops.cast(labels, "int32")
    candidates = ops.cast(candidates, "int32")
    # true logits: (batch, T)
    true_weights = ops.take(ops.transpose(kernel), labels, axis=0)  # (batch, T, units)
    true_logits = (ops.sum(hidden * true_weights, axis=-1) + ops.take(bias, labels)
                   - ops.cast(label_log_q, "float32"))
    # sampled logits: (batch, T, S)
    sampled = (ops.matmul(hidden, ops.take(kernel, candidates, axis=1))
               + ops.take(bias, candidates) - ops.cast(candidate_log_q, "float32"))
    hits = ops.equal(ops.expand_dims(labels, -1), candidates)
    sampled = ops.where(hits, _REMOVED, sampled)
    logits = ops.concatenate([ops.expand_dims(true_logits, -1), sampled], axis=-1)
    return ops.logsumexp(logits, axis=-1) - true_logits


@keras.saving.register_keras_serializable(package="keras_s2s")
class SampledSoftmaxProjection(keras.layers.Layer):
    """Output projection trained with sampled softmax; the full softmax at inference.

    A drop-in for the `Dense(vocab_size)` output projection (its weights are `kernel` and
    `bias`, of the same shapes). With `training=False` it returns the full logits
    `(batch, T, vocab_size)`. With `training=True` it draws `num_sampled` candidate ids from the
    log-uniform sampler into its `candidates` variable and returns its inputs unchanged, for
    `keras_s2s.losses.SampledSoftmaxLoss` to score (see the module docstring).

    Args:
        vocab_size: Size of the output vocabulary (ids sorted by falling frequency).
        num_sampled: Candidates drawn per training step (shared by the batch).
        seed: Seed of the sampler.
        **kwargs: Standard `Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: Decoder outputs `(batch, T, units)`.
        training: Whether this is a training step.

    Returns:
        Full logits `(batch, T, vocab_size)` when not training, else `inputs`.

    Example:

    >>> layer = SampledSoftmaxProjection(50, num_sampled=8)
    >>> tuple(layer(np.ones((2, 3, 4))).shape)
    (2, 3, 50)
    >>> tuple(layer(np.ones((2, 3, 4)), training=True).shape)
    (2, 3, 4)
    """

    def __init__(self, vocab_size, num_sampled, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.num_sampled = check_positive_int("num_sampled", num_sampled)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        units = input_shape[-1]
        if units == self.vocab_size:
            raise ValueError(
                f"SampledSoftmaxProjection's inputs are {units} wide, as wide as the vocabulary "
                f"({self.vocab_size}), so training outputs could not be told from logits; use "
                "another width or the full softmax.")
        self.kernel = self.add_weight(name="kernel", shape=(units, self.vocab_size),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.vocab_size,), initializer="zeros")
        self.candidates = self.add_weight(name="candidates", shape=(self.num_sampled,),
                                          initializer="zeros", dtype="int32", trainable=False)

    def call(self, inputs, training=False):
        if training:
            self.candidates.assign(
                sample_log_uniform(self.vocab_size, self.num_sampled, self.seed_generator))
            return inputs
        return ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype)) + ops.cast(
            self.bias, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.vocab_size)

    def candidate_log_q(self, ids):
        """`log(S·P(k))`: the log expected count of `ids` among the step's `S` draws."""
        return log_uniform_log_probs(ids, self.vocab_size) + math.log(self.num_sampled)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "num_sampled": self.num_sampled, "seed": self.seed}
