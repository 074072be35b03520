"""The pointer-generator's copy mechanism (See, Liu and Manning, 2017).

At each decoder step a soft switch `p_gen` mixes the vocabulary distribution with the
attention distribution over the source tokens, so that a token can be produced by copying it
from the source:

    c_t   = Σ_j α_tj h_j                                  (the context)
    p_gen = σ(w_cᵀ c_t + w_sᵀ s_t + w_xᵀ x_t + b)
    P(w)  = p_gen P_vocab(w) + (1 - p_gen) Σ_{j: x_j = w} α_tj

`CopyMixture` returns `log P(w)`: logits whose softmax is `P`, so the masked cross-entropy,
greedy and beam search and sampling read it unchanged.

Source and target vocabularies may differ: `copy_map[i]` is the target id of source id `i`
(built from the two tokenizers by `copy_map_from_vocabularies`); a source token that the target
vocabulary lacks copies to `<unk>`. With `extended=True` (the paper's extended vocabulary),
the output has one more entry per source position: a source token whose target id would be
`<unk>` (a word the target vocabulary lacks, unseen words included) copies to id
`target_vocab_size + j`, its position `j`, so that a decode can emit it and map it back to the
source's string (`Tokenizer.decode_extended`). One difference from the paper: the paper gives
all occurrences of one out-of-vocabulary word a single extended id, and this layer one per
position (the ids alone cannot tell two unknown words apart); training labels point at the
word's first occurrence (`Task.copy_dataset`).
"""

import keras
from keras import ops

from keras_s2s.constants import NUM_SPECIAL_TOKENS, UNK_ID
from keras_s2s.layers._checks import check_positive_int

# added to P(w) before the log: a word with no mass scores log(1e-9) ≈ -20.7, not -inf
EPSILON = 1e-9


def copy_map_from_vocabularies(source_vocabulary, target_vocabulary):
    """The target id of every source id: the same string's id, `<unk>` where it is missing.

    The special tokens map to themselves (every tokenizer puts them first, in one order).

    Example:

    >>> copy_map_from_vocabularies(["<pad>", "<unk>", "<s>", "</s>", "a", "b"],
    ...                            ["<pad>", "<unk>", "<s>", "</s>", "b", "c"])
    [0, 1, 2, 3, 1, 4]
    """
    index = {token: i for i, token in enumerate(target_vocabulary)}
    return [i if i < NUM_SPECIAL_TOKENS else index.get(token, UNK_ID)
            for i, token in enumerate(source_vocabulary)]


@keras.saving.register_keras_serializable(package="keras_s2s")
class CopyMixture(keras.layers.Layer):
    """Mix a vocabulary distribution with copying from the source (See et al., 2017).

    Computes in float32 whatever the dtype policy, and returns float32 log-probabilities.

    Args:
        target_vocab_size: Positive integer, the size of the output vocabulary.
        copy_map: List of ints, the target id of each source id; None maps source id `i` to
            target id `i` (`<unk>` from `target_vocab_size` on), for a shared vocabulary.
        extended: Boolean, whether to return the extended vocabulary: a source token that
            copies to `<unk>` copies to `target_vocab_size + j` instead (`j` its position).
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        logits: `(batch, T, target_vocab_size)`, the vocabulary logits.
        alignments: `(batch, T, S)`, the attention weights over the source (0 at padding).
        memory: `(batch, S, M)`, what the attention read (the encoder outputs).
        query: `(batch, T, H)`, the decoder state `s_t` (here the attentional vector).
        embedded: `(batch, T, E)`, the decoder input `x_t` (the previous token's embedding).
        source_ids: int `(batch, S)`, the source token ids.

    Returns:
        `(batch, T, target_vocab_size)` float32 `log P(w)`, or `(batch, T, target_vocab_size
        + S)` with `extended=True`.

    Example:

    >>> layer = CopyMixture(6)
    >>> logits = layer(np.zeros((1, 2, 6), "float32"), np.full((1, 2, 3), 1 / 3, "float32"),
    ...                np.ones((1, 3, 4), "float32"), np.ones((1, 2, 5), "float32"),
    ...                np.ones((1, 2, 2), "float32"), np.array([[4, 5, 5]], "int32"))
    >>> tuple(logits.shape)
    (1, 2, 6)
    """

    def __init__(self, target_vocab_size, copy_map=None, extended=False, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.target_vocab_size = check_positive_int("target_vocab_size", target_vocab_size)
        if copy_map is not None:
            copy_map = [int(i) for i in copy_map]
            bad = [i for i in copy_map if not 0 <= i < target_vocab_size]
            if bad:
                raise ValueError(f"Argument `copy_map` holds target ids outside "
                                 f"[0, {target_vocab_size}): {bad[:5]}")
        self.copy_map = copy_map
        self.extended = bool(extended)

    def build(self, logits_shape, alignments_shape, memory_shape, query_shape,
              embedded_shape, source_ids_shape):
        width = memory_shape[-1] + query_shape[-1] + embedded_shape[-1]
        # w_c, w_s and w_x of the paper, stacked; b
        self.gate_kernel = self.add_weight(name="gate_kernel", shape=(width, 1),
                                           initializer="glorot_uniform")
        self.gate_bias = self.add_weight(name="gate_bias", shape=(1,), initializer="zeros")

    def target_ids(self, source_ids):
        """The target ids that the source ids copy to, `(batch, S)` int32."""
        source_ids = ops.cast(source_ids, "int32")
        if self.copy_map is None:
            return ops.where(source_ids < self.target_vocab_size, source_ids, UNK_ID)
        table = ops.convert_to_tensor(self.copy_map, dtype="int32")
        in_range = ops.logical_and(source_ids >= 0, source_ids < len(self.copy_map))
        return ops.where(in_range, ops.take(table, ops.clip(source_ids, 0,
                                                             len(self.copy_map) - 1)), UNK_ID)

    def generation_probability(self, alignments, memory, query, embedded):
        """`p_gen` `(batch, T, 1)`: the probability of generating rather than copying."""
        alignments, memory, query, embedded = (ops.cast(t, "float32") for t in
                                               (alignments, memory, query, embedded))
        context = ops.einsum("bts,bsm->btm", alignments, memory)
        features = ops.concatenate([context, query, embedded], axis=-1)
        return ops.sigmoid(ops.matmul(features, self.gate_kernel) + self.gate_bias)

    def call(self, logits, alignments, memory, query, embedded, source_ids):
        logits = ops.cast(logits, "float32")
        alignments = ops.cast(alignments, "float32")
        p_gen = self.generation_probability(alignments, memory, query, embedded)
        p_vocab = ops.softmax(logits, axis=-1)
        targets = self.target_ids(source_ids)  # (batch, S)
        width = self.target_vocab_size
        if self.extended:  # an unknown word copies to its position's extended id
            source_len = ops.shape(source_ids)[1]
            positions = ops.expand_dims(ops.arange(source_len, dtype="int32"), 0) + width
            targets = ops.where(ops.equal(targets, UNK_ID), positions, targets)
            width = width + source_len
            p_vocab = ops.pad(p_vocab, [[0, 0], [0, 0], [0, source_len]])
        # (batch, S, width): where each source token copies to
        copy_to = ops.one_hot(targets, width, dtype="float32")
        p_copy = ops.einsum("bts,bsv->btv", alignments, copy_to)
        return ops.log(p_gen * p_vocab + (1.0 - p_gen) * p_copy + EPSILON)

    def compute_output_shape(self, logits_shape, alignments_shape=None, *args):
        if not self.extended:
            return tuple(logits_shape)
        source_len = None if alignments_shape is None else alignments_shape[-1]
        width = None if source_len is None else logits_shape[-1] + source_len
        return tuple(logits_shape[:-1]) + (width,)

    def get_config(self):
        config = super().get_config()
        config.update({"target_vocab_size": self.target_vocab_size,
                       "copy_map": self.copy_map, "extended": self.extended})
        return config


@keras.saving.register_keras_serializable(package="keras_s2s")
class ExtendedIdsToUnk(keras.layers.Layer):
    """Map extended-vocabulary ids (`>= vocab_size`, copied source words) to `<unk>`.

    A pointer-generator with an extended vocabulary can emit ids past its vocabulary; its
    decoder reads such a word back as `<unk>`, as in the paper (the decode loop feeds every
    emitted id to the next step).

    Args:
        vocab_size: Positive integer, the size of the target vocabulary.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Int tensor of any shape.

    Returns:
        The ids, with those `>= vocab_size` replaced by `UNK_ID`.

    Example:

    >>> keras.ops.convert_to_numpy(ExtendedIdsToUnk(6)(np.array([[2, 5, 6, 9]]))).tolist()
    [[2, 5, 1, 1]]
    """

    def __init__(self, vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)

    def call(self, token_ids):
        token_ids = ops.cast(token_ids, "int32")
        return ops.where(token_ids >= self.vocab_size, UNK_ID, token_ids)

    def compute_output_spec(self, token_ids):
        return keras.KerasTensor(token_ids.shape, dtype="int32")

    def get_config(self):
        config = super().get_config()
        config["vocab_size"] = self.vocab_size
        return config
