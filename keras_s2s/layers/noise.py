"""Token-level noise for denoising autoencoders and word dropout, as layers inside the model.

keras-hub's `RandomDeletion` and `RandomSwap` are `tf.data` layers on strings or ragged tensors,
so they cannot run inside an XLA-compiled `model.fit` on JAX. These layers act on padded integer
token ids with `keras.ops` only, on every backend, inside `jit` too.

Common rules: the noise acts only when `training=True` and is the exact identity otherwise;
padding (id 0) is never touched and real tokens stay left-aligned; shapes never change; the ids
in `protected_ids` (by default `<s>` and `</s>`) are never deleted, swapped or replaced. Each
layer draws from its own `keras.random.SeedGenerator(seed)`: two layers built with the same
integer seed produce the same sequence of noise, call after call, run after run, eagerly or
compiled (TensorFlow's stateless random ops draw other numbers under XLA than eagerly, so the
two modes differ from each other, each reproducibly).
"""

import numbers
import re

import keras
from keras import ops

from keras_s2s.layers._checks import check_positive_int

# keras_s2s' special ids (as in keras_s2s.decoding): 0 <pad>, 1 <unk>, 2 <s>, 3 </s>; words from 4
from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID, UNK_ID  # noqa: F401
FIRST_WORD_ID = 4


def _check_probability(name, value, high=1.0):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0.0 <= value <= high):
        raise ValueError(f"Argument `{name}` must be a float in [0, {high}]. "
                         f"Received: {name}={value!r}")
    return float(value)


def _check_ids(name, value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if (not isinstance(value, (list, tuple))
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                       for v in value)):
        raise ValueError(f"Argument `{name}` must be a list of positive token ids (0 is padding "
                         f"and is always left alone). Received: {name}={value!r}")
    return tuple(int(v) for v in value)


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}")
    return None if seed is None else int(seed)


def _renaming_rate(argument, layer_class, rate, *args, **kwargs):
    """Build a stage of `SequenceNoise`; an error about its `rate` names `argument` instead."""
    try:
        return layer_class(rate, *args, **kwargs)
    except ValueError as error:
        message = str(error).replace("`rate`", f"`{argument}`")
        raise ValueError(re.sub(r"\brate=", f"{argument}=", message)) from None


class _TokenNoise(keras.layers.Layer):
    """Shared plumbing: argument checks, the seed generator, the training switch, the config."""

    def __init__(self, rate, protected_ids=(BOS_ID, EOS_ID), seed=None, max_rate=1.0, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_probability("rate", rate, max_rate)
        self.protected_ids = _check_ids("protected_ids", protected_ids)
        self.seed = _check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def _real(self, token_ids):
        return ops.not_equal(token_ids, PAD_ID)  # (batch, length)

    def _noisable(self, token_ids):
        """Real tokens that are not protected: the ones noise may act on."""
        noisable = self._real(token_ids)
        for token_id in self.protected_ids:
            noisable = ops.logical_and(noisable, ops.not_equal(token_ids, token_id))
        return noisable

    def _uniform(self, token_ids):
        return keras.random.uniform(ops.shape(token_ids), seed=self.seed_generator)

    def call(self, token_ids, training=None):
        if not training or self._is_identity():
            return token_ids
        return self._noise(token_ids)

    def _is_identity(self):
        return self.rate == 0.0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, token_ids, training=None):
        return keras.KerasTensor(token_ids.shape, dtype=token_ids.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "protected_ids": list(self.protected_ids), "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_s2s")
class TokenDeletion(_TokenNoise):
    """Delete random tokens and shift the survivors left (padding fills the end).

    Each real token whose id is not in `protected_ids` is deleted with probability `rate`,
    independently. If that would delete every real token of a non-empty row (possible only when
    the row holds no protected token), one of them, chosen uniformly at random, is kept, so that
    no row becomes empty.

    Args:
        rate: Float in [0, 1), the deletion probability of each token.
        protected_ids: Token ids that are never deleted (default `<s>` 2 and `</s>` 3).
        seed: Optional integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Integer tensor `(batch, length)`, real tokens first, then padding (0).
        training: Python boolean; the noise acts only when True.

    Returns:
        Integer tensor of the shape and dtype of `token_ids`.

    Example:

    >>> layer = TokenDeletion(0.1, seed=0)
    >>> ids = np.array([[5, 6, 7, 3, 0]])
    >>> layer(ids).numpy().tolist()  # inference: the identity
    [[5, 6, 7, 3, 0]]
    >>> tuple(layer(ids, training=True).shape)
    (1, 5)

    Reference:
        - [Lample et al., 2018. Unsupervised Machine Translation Using Monolingual Corpora
          Only.](https://arxiv.org/abs/1711.00043) (word dropout as input noise)
    """

    def __init__(self, rate, protected_ids=(BOS_ID, EOS_ID), seed=None, **kwargs):
        if isinstance(rate, numbers.Real) and rate >= 1.0:
            raise ValueError(f"Argument `rate` must be a float in [0, 1): rate=1 would delete "
                             f"everything. Received: rate={rate!r}")
        super().__init__(rate, protected_ids, seed, **kwargs)

    def _noise(self, token_ids):
        real = self._real(token_ids)
        uniform = self._uniform(token_ids)
        keep = ops.logical_not(ops.logical_and(self._noisable(token_ids), uniform < self.rate))
        keep = ops.logical_and(keep, real)
        # rows that would lose every real token keep the real token with the largest draw
        emptied = ops.logical_and(ops.logical_not(ops.any(keep, axis=1, keepdims=True)),
                                  ops.any(real, axis=1, keepdims=True))  # (batch, 1)
        scores = ops.where(real, uniform, -1.0)
        first_pick = ops.expand_dims(ops.cast(ops.argmax(scores, axis=1), "int32"), 1)
        rescued = ops.equal(first_pick, ops.arange(ops.shape(token_ids)[1], dtype="int32"))
        keep = ops.logical_or(keep, ops.logical_and(emptied, rescued))
        # stable compaction: kept positions first, in order, then the others
        length = ops.shape(token_ids)[1]
        positions = ops.expand_dims(ops.arange(length, dtype="int32"), 0)  # (1, length)
        order = ops.argsort(ops.where(keep, positions, positions + length), axis=1)
        compacted = ops.take_along_axis(token_ids, order, axis=1)
        kept = ops.sum(ops.cast(keep, "int32"), axis=1, keepdims=True)  # (batch, 1)
        return ops.where(positions < kept, compacted, ops.zeros_like(compacted))


@keras.saving.register_keras_serializable(package="keras_s2s")
class TokenSwap(_TokenNoise):
    """Swap random pairs of adjacent tokens, moving no token twice.

    The rule: each row draws a parity `o` (0 or 1, each with probability 1/2) and pairs up its
    positions as `(o, o+1), (o+2, o+3), ...`; these pairs are disjoint, so no token moves twice.
    Each of these pairs whose two tokens are both real and unprotected is swapped with
    probability `2 * rate`. Any given adjacent pair `(i, i+1)` belongs to the row's pairing with
    probability exactly 1/2, so it is swapped with probability exactly `rate`: the statistic
    "swapped pairs / eligible adjacent pairs" has expectation `rate`. Since a token can take
    part in at most one swap, `rate` is at most 0.5.

    Args:
        rate: Float in [0, 0.5], the probability that a given adjacent pair of eligible tokens
            is swapped.
        protected_ids: Token ids that never move (default `<s>` 2 and `</s>` 3).
        seed: Optional integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Integer tensor `(batch, length)`, real tokens first, then padding (0).
        training: Python boolean; the noise acts only when True.

    Returns:
        Integer tensor of the shape and dtype of `token_ids`, a permutation of each row.

    Example:

    >>> layer = TokenSwap(0.5, seed=0)
    >>> sorted(layer(np.array([[5, 6, 7, 8, 3, 0]]), training=True).numpy()[0].tolist())
    [0, 3, 5, 6, 7, 8]

    Reference:
        - [Lample et al., 2018. Unsupervised Machine Translation Using Monolingual Corpora
          Only.](https://arxiv.org/abs/1711.00043) (local shuffles as input noise)
    """

    def __init__(self, rate, protected_ids=(BOS_ID, EOS_ID), seed=None, **kwargs):
        if isinstance(rate, numbers.Real) and rate > 0.5:
            raise ValueError(f"Argument `rate` must be a float in [0, 0.5]: with no token moved "
                             f"twice, at most every other adjacent pair can be swapped. "
                             f"Received: rate={rate!r}")
        super().__init__(rate, protected_ids, seed, max_rate=0.5, **kwargs)

    def _noise(self, token_ids):
        batch, length = ops.shape(token_ids)[0], ops.shape(token_ids)[1]
        noisable = self._noisable(token_ids)
        # eligible[i]: tokens i and i+1 may be swapped (the last position starts no pair)
        next_noisable = ops.concatenate(
            [noisable[:, 1:], ops.zeros_like(noisable[:, :1])], axis=1)
        parity = keras.random.randint((batch, 1), 0, 2, dtype="int32", seed=self.seed_generator)
        positions = ops.expand_dims(ops.arange(length, dtype="int32"), 0)  # (1, length)
        in_pairing = ops.equal(positions % 2, parity)  # (batch, length)
        starts = ops.logical_and(ops.logical_and(noisable, next_noisable), in_pairing)
        starts = ops.logical_and(starts, self._uniform(token_ids) < 2.0 * self.rate)
        ends = ops.concatenate([ops.zeros_like(starts[:, :1]), starts[:, :-1]], axis=1)
        source = positions + ops.cast(starts, "int32") - ops.cast(ends, "int32")
        return ops.take_along_axis(token_ids, source, axis=1)


@keras.saving.register_keras_serializable(package="keras_s2s")
class TokenMask(_TokenNoise):
    """Replace random tokens with a mask id, or (optionally) with random word ids.

    One uniform draw `u` per token: an unprotected real token becomes `mask_id` if `u < rate`,
    a uniformly random word id in `[4, vocab_size)` if `rate <= u < rate + random_rate`, and
    stays itself otherwise (a random id may happen to equal the original, as in BERT).

    Args:
        rate: Float in [0, 1], the probability of replacing a token with `mask_id`.
        mask_id: The id that replaces masked tokens (default `<unk>` 1).
        random_rate: Float in [0, 1 - rate], the probability of replacing a token with a
            random word id.
        vocab_size: Integer > 4, required when `random_rate > 0`: random ids are drawn from
            `[4, vocab_size)`, the ids after the special tokens.
        protected_ids: Token ids that are never replaced (default `<s>` 2 and `</s>` 3).
        seed: Optional integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Integer tensor `(batch, length)`, real tokens first, then padding (0).
        training: Python boolean; the noise acts only when True.

    Returns:
        Integer tensor of the shape and dtype of `token_ids`.

    Example:

    >>> TokenMask(1.0)(np.array([[2, 5, 6, 3, 0]]), training=True).numpy().tolist()
    [[2, 1, 1, 3, 0]]

    Reference:
        - [Devlin et al., 2019. BERT: Pre-training of Deep Bidirectional Transformers for
          Language Understanding.](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, rate, mask_id=UNK_ID, random_rate=0.0, vocab_size=None,
                 protected_ids=(BOS_ID, EOS_ID), seed=None, **kwargs):
        super().__init__(rate, protected_ids, seed, **kwargs)
        if isinstance(mask_id, bool) or not isinstance(mask_id, numbers.Integral) or mask_id < 0:
            raise ValueError(f"Argument `mask_id` must be a non-negative integer id. "
                             f"Received: mask_id={mask_id!r}")
        self.mask_id = int(mask_id)
        self.random_rate = _check_probability("random_rate", random_rate, 1.0)
        if self.rate + self.random_rate > 1.0:
            raise ValueError(f"Arguments `rate` + `random_rate` must be at most 1. Received: "
                             f"rate={rate!r}, random_rate={random_rate!r}")
        self.vocab_size = check_positive_int("vocab_size", vocab_size, allow_none=True)
        if self.random_rate > 0 and (self.vocab_size is None or self.vocab_size <= FIRST_WORD_ID):
            raise ValueError(f"Argument `vocab_size` must be an integer > {FIRST_WORD_ID} when "
                             f"`random_rate` > 0 (random ids are drawn from [{FIRST_WORD_ID}, "
                             f"vocab_size)). Received: vocab_size={vocab_size!r}")

    def _is_identity(self):
        return self.rate == 0.0 and self.random_rate == 0.0

    def _noise(self, token_ids):
        noisable = self._noisable(token_ids)
        uniform = self._uniform(token_ids)
        masked = ops.logical_and(noisable, uniform < self.rate)
        outputs = ops.where(masked, ops.cast(self.mask_id, token_ids.dtype), token_ids)
        if self.random_rate > 0:
            replaced = ops.logical_and(
                noisable, ops.logical_and(uniform >= self.rate,
                                          uniform < self.rate + self.random_rate))
            random_ids = keras.random.randint(ops.shape(token_ids), FIRST_WORD_ID,
                                              self.vocab_size, seed=self.seed_generator)
            outputs = ops.where(replaced, ops.cast(random_ids, token_ids.dtype), outputs)
        return outputs

    def get_config(self):
        return {**super().get_config(), "mask_id": self.mask_id,
                "random_rate": self.random_rate, "vocab_size": self.vocab_size}


@keras.saving.register_keras_serializable(package="keras_s2s")
class WordDropout(_TokenNoise):
    """Word dropout for decoder inputs: replace random tokens with `<unk>` (Bowman et al.).

    Weakening the decoder's view of the previous words forces it to rely on the latent code,
    which keeps a sequence VAE's KL term from collapsing. `rate=1` gives Bowman et al.'s
    "inputless" decoder. `<s>` (and `</s>`) stay: the decoder always sees where it starts.

    Args:
        rate: Float in [0, 1], the probability of replacing each real unprotected token.
        unk_id: The id that replaces dropped words (default `<unk>` 1).
        protected_ids: Token ids that are never replaced (default `<s>` 2 and `</s>` 3).
        seed: Optional integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Integer tensor `(batch, length)`, real tokens first, then padding (0).
        training: Python boolean; the noise acts only when True.

    Returns:
        Integer tensor of the shape and dtype of `token_ids`.

    Example:

    >>> WordDropout(1.0)(np.array([[2, 5, 6, 0]]), training=True).numpy().tolist()
    [[2, 1, 1, 0]]

    Reference:
        - [Bowman et al., 2016. Generating Sentences from a Continuous Space.](
          https://arxiv.org/abs/1511.06349)
    """

    def __init__(self, rate, unk_id=UNK_ID, protected_ids=(BOS_ID, EOS_ID), seed=None,
                 **kwargs):
        super().__init__(rate, protected_ids, seed, **kwargs)
        if isinstance(unk_id, bool) or not isinstance(unk_id, numbers.Integral) or unk_id < 0:
            raise ValueError(f"Argument `unk_id` must be a non-negative integer id. "
                             f"Received: unk_id={unk_id!r}")
        self.unk_id = int(unk_id)

    def _noise(self, token_ids):
        dropped = ops.logical_and(self._noisable(token_ids), self._uniform(token_ids) < self.rate)
        return ops.where(dropped, ops.cast(self.unk_id, token_ids.dtype), token_ids)

    def get_config(self):
        return {**super().get_config(), "unk_id": self.unk_id}


@keras.saving.register_keras_serializable(package="keras_s2s")
class SequenceNoise(keras.layers.Layer):
    """Denoising-autoencoder input noise: deletion, then adjacent swaps, then masking.

    Chains `TokenDeletion(deletion)`, `TokenSwap(swap)` and `TokenMask(mask, ...)` in that fixed
    order (a stage with rate 0 is skipped), so that a model needs one named layer. With an
    integer `seed`, the stages are seeded `seed`, `seed + 1` and `seed + 2`.

    Args:
        deletion: Float in [0, 1), the deletion probability of each token.
        swap: Float in [0, 0.5], the swap probability of each adjacent pair (see `TokenSwap`).
        mask: Float in [0, 1], the probability of replacing a token with `mask_id`.
        mask_id: The id of masked tokens (default `<unk>` 1).
        random_rate: Float, the probability of replacing a token with a random word id.
        vocab_size: Integer > 4, required when `random_rate > 0`.
        protected_ids: Token ids no stage touches (default `<s>` 2 and `</s>` 3).
        seed: Optional integer seed.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Integer tensor `(batch, length)`, real tokens first, then padding (0).
        training: Python boolean; the noise acts only when True.

    Returns:
        Integer tensor of the shape and dtype of `token_ids`.

    Example:

    >>> noise = SequenceNoise(deletion=0.1, swap=0.1, mask=0.1, seed=0, name="source_noise")
    >>> noise(np.array([[5, 6, 7, 3, 0]])).numpy().tolist()  # inference: the identity
    [[5, 6, 7, 3, 0]]
    """

    def __init__(self, deletion=0.0, swap=0.0, mask=0.0, mask_id=UNK_ID, random_rate=0.0,
                 vocab_size=None, protected_ids=(BOS_ID, EOS_ID), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _check_seed(seed)
        seeds = [None] * 3 if self.seed is None else [self.seed + i for i in range(3)]
        self.deletion_layer = _renaming_rate("deletion", TokenDeletion, deletion, protected_ids,
                                             seeds[0], name="deletion")
        self.swap_layer = _renaming_rate("swap", TokenSwap, swap, protected_ids, seeds[1],
                                         name="swap")
        self.mask_layer = _renaming_rate("mask", TokenMask, mask, mask_id, random_rate,
                                         vocab_size, protected_ids, seeds[2], name="mask")
        self.deletion, self.swap, self.mask = (self.deletion_layer.rate, self.swap_layer.rate,
                                               self.mask_layer.rate)
        self.mask_id, self.random_rate = self.mask_layer.mask_id, self.mask_layer.random_rate
        self.vocab_size = self.mask_layer.vocab_size
        self.protected_ids = self.mask_layer.protected_ids

    def build(self, input_shape):
        for stage in (self.deletion_layer, self.swap_layer, self.mask_layer):
            stage.build(input_shape)

    def call(self, token_ids, training=None):
        for stage in (self.deletion_layer, self.swap_layer, self.mask_layer):
            token_ids = stage(token_ids, training=training)
        return token_ids

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, token_ids, training=None):
        return keras.KerasTensor(token_ids.shape, dtype=token_ids.dtype)

    def get_config(self):
        return {**super().get_config(), "deletion": self.deletion, "swap": self.swap,
                "mask": self.mask, "mask_id": self.mask_id, "random_rate": self.random_rate,
                "vocab_size": self.vocab_size, "protected_ids": list(self.protected_ids),
                "seed": self.seed}
