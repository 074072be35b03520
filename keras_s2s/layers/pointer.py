"""Pointer-network layers (Vinyals, Fortunato and Jaitly, 2015): the decoder's attention over
the input is itself the output distribution.

A pointer model chooses among *slots*: the four special ids of `keras_s2s.constants` first
(`<pad>`, `<unk>`, `<s>`, `</s>`), then one slot per input position, so that position `j` of
the input is slot `NUM_SPECIAL_TOKENS + j`. Pointing at `</s>` ends the output, `<s>` is the
first decoder input, and `<pad>` and `<unk>` can never be chosen. The greedy and beam searches
of `keras_s2s.decoding` then run unchanged over slots instead of a vocabulary.

- `PointerSlots` turns the inputs (float feature vectors, e.g. 2-D points) into the slots'
  vectors: learned vectors for the special slots, a dense projection of each input, and the
  mask of the slots that may be pointed at.
- `SlotReadMask` gives the mask of the slots an encoder reads: the special slots and the real
  inputs (not the padding).
- `PointerLogits` scores every slot for every decoder state with the paper's
  `u_j = vᵀ tanh(W1 e_j + W2 d_i)` (`BahdanauAttention`'s score); those scores are the
  logits.
"""

import keras
from keras import ops

from keras_s2s.constants import EOS_ID, NUM_SPECIAL_TOKENS
from keras_s2s.layers._checks import check_positive_int
from keras_s2s.layers.attention import BahdanauAttention

# what a slot that may not be pointed at scores: exp() of it underflows to exactly 0
MASKED_LOGIT = -1e9


@keras.saving.register_keras_serializable(package="keras_s2s")
class PointerSlots(keras.layers.Layer):
    """The slots of a pointer model: special vectors, then one projected vector per input.

    Args:
        units: Positive integer, the size of each slot's vector.
        kernel_initializer: Initializer of the inputs' projection.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: Float tensor `(batch, n, features)`, e.g. points `(batch, n, 2)`.
        input_mask: Optional `(batch, n)`, true where an input is real (shorter inputs are
            padded at the end); all real when omitted.

    Returns:
        `(slots, slot_mask)`: `slots` `(batch, NUM_SPECIAL_TOKENS + n, units)`; `slot_mask`
        `(batch, NUM_SPECIAL_TOKENS + n)` bool, true for `</s>` and the real inputs, the slots
        a pointer may choose.

    Example:

    >>> slots, mask = PointerSlots(8)(np.zeros((2, 5, 2), "float32"))
    >>> tuple(slots.shape), keras.ops.convert_to_numpy(mask)[0].tolist()
    ((2, 9, 8), [False, False, False, True, True, True, True, True, True])
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape, input_mask_shape=None):
        if len(inputs_shape) != 3 or inputs_shape[-1] is None:
            raise ValueError("`inputs` must have shape (batch, n, features) with a known "
                             f"number of features. Received shape: {tuple(inputs_shape)}")
        self.kernel = self.add_weight(name="kernel", shape=(inputs_shape[-1], self.units),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        # N(0, 1) like the zoo's token embeddings (docs/ARCHITECTURE.md, "Initialisation")
        self.special = self.add_weight(name="special", shape=(NUM_SPECIAL_TOKENS, self.units),
                                       initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.built = True

    def call(self, inputs, input_mask=None):
        inputs = ops.cast(inputs, self.compute_dtype)
        batch, n = ops.shape(inputs)[0], ops.shape(inputs)[1]
        projected = ops.matmul(inputs, self.kernel) + self.bias  # (batch, n, units)
        special = ops.broadcast_to(ops.expand_dims(ops.cast(self.special, self.compute_dtype),
                                                   0), (batch, NUM_SPECIAL_TOKENS, self.units))
        slots = ops.concatenate([special, projected], axis=1)  # (batch, 4 + n, units)
        real = (ops.ones((batch, n), "bool") if input_mask is None
                else ops.cast(input_mask, "bool"))
        eos_only = ops.equal(ops.arange(NUM_SPECIAL_TOKENS), EOS_ID)  # (4,)
        special_mask = ops.broadcast_to(ops.expand_dims(eos_only, 0), (batch, NUM_SPECIAL_TOKENS))
        return slots, ops.concatenate([special_mask, real], axis=1)

    def compute_output_spec(self, inputs, input_mask=None):
        width = None if inputs.shape[1] is None else NUM_SPECIAL_TOKENS + inputs.shape[1]
        return (keras.KerasTensor((inputs.shape[0], width, self.units), dtype=self.compute_dtype),
                keras.KerasTensor((inputs.shape[0], width), dtype="bool"))

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units,
                       "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)})
        return config


@keras.saving.register_keras_serializable(package="keras_s2s")
class PointerLogits(BahdanauAttention):
    """Pointer logits (Vinyals et al., 2015): additive attention scores used as the output.

        u_ij = vᵀ tanh(W1 e_j + W2 d_i),   u_ij = -1e9 where slot j may not be chosen

    where `e_j` is slot `j`'s encoding and `d_i` the decoder's state at step `i`. This is
    `BahdanauAttention`'s score (its `memory_kernel` is `W1`, its `query_kernel` `W2`), whose
    softmax the pointer returns as logits instead of reading a context with it: a softmax over
    `j` is the distribution over what to point at, so that the losses and the searches see
    logits as from any output layer.

    Args:
        units: Positive integer, the size of the hidden layer of the score (the paper's
            `W1`, `W2` map to it).
        normalize: Boolean, whether to use the weight-normalised score (see
            `BahdanauAttention`); the paper's is not.
        kernel_initializer: Initializer of `W1`, `W2` and `v`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: Decoder states `(batch, query_dim)` or `(batch, steps, query_dim)`.
        memory: Slot encodings `(batch, slots, memory_dim)`.
        memory_mask: Optional `(batch, slots)`, true where a slot may be chosen.

    Returns:
        Float32 logits `(batch, [steps,] slots)`.

    Example:

    >>> layer = PointerLogits(16)
    >>> logits = layer(np.ones((2, 3, 8)), np.ones((2, 6, 12)),
    ...                np.array([[1, 1, 1, 1, 0, 0]] * 2, bool))
    >>> tuple(logits.shape), float(keras.ops.convert_to_numpy(logits)[0, 0, 5])
    ((2, 3, 6), -1000000000.0)

    Reference:
        - [Vinyals, Fortunato and Jaitly, 2015. Pointer Networks.](
          https://arxiv.org/abs/1506.03134)
    """

    groups_rows = False  # not a decoder step's read: left as it was

    def logits(self, query, keys, memory_mask=None):
        """The logits from precomputed `keys` (`precompute(memory)`, `W1 e_j` once per
        input): one decoding step (`query` `(batch, query_dim)`) or all steps at once."""
        scores = ops.cast(self.score(query, keys), "float32")
        if memory_mask is None:
            return scores
        mask = ops.cast(memory_mask, "bool")
        if len(query.shape) == 3:
            mask = ops.expand_dims(mask, 1)
        return ops.where(mask, scores, ops.full_like(scores, MASKED_LOGIT))

    def call(self, query, memory, memory_mask=None):
        self._check_call(query, memory)
        return self.logits(query, self.precompute(memory), memory_mask)

    def compute_output_shape(self, query_shape, memory_shape, memory_mask_shape=None):
        return tuple(query_shape[:-1]) + (memory_shape[1],)

    def compute_output_spec(self, query, memory, memory_mask=None):
        return keras.KerasTensor(self.compute_output_shape(query.shape, memory.shape),
                                 dtype="float32")


@keras.saving.register_keras_serializable(package="keras_s2s")
class GatherSlots(keras.layers.Layer):
    """The vectors of the slots a decoder was fed: its input at step `i` is the slot it
    pointed at in step `i - 1` (`<s>` first), as in the paper, where the decoder reads the
    input point it chose last.

    Call arguments:
        slots: `(batch, slots, units)`, from `PointerSlots`.
        slot_ids: Int `(batch, steps)`.

    Returns:
        `(batch, steps, units)`: `slots[b, slot_ids[b, i]]`.

    Example:

    >>> slots = np.arange(12, dtype="float32").reshape(1, 6, 2)
    >>> keras.ops.convert_to_numpy(GatherSlots()(slots, np.array([[2, 5]]))).tolist()
    [[[4.0, 5.0], [10.0, 11.0]]]
    """

    def call(self, slots, slot_ids):
        ids = ops.expand_dims(ops.cast(slot_ids, "int32"), -1)  # (batch, steps, 1)
        return ops.take_along_axis(slots, ids, axis=1)

    def compute_output_spec(self, slots, slot_ids):
        return keras.KerasTensor((slots.shape[0], slot_ids.shape[1], slots.shape[2]),
                                 dtype=slots.dtype)


@keras.saving.register_keras_serializable(package="keras_s2s")
class SlotReadMask(keras.layers.Layer):
    """The slots an encoder reads: the special slots, then the real inputs.

    `PointerSlots`' mask says which slots may be *chosen* (`</s>` and the real inputs); an
    encoder that reads every slot in order also reads the special slots' learned vectors, and
    must skip only the padding of a shorter input.

    Call arguments:
        input_mask: `(batch, n)`, nonzero where an input is real.

    Returns:
        Bool `(batch, NUM_SPECIAL_TOKENS + n)`.

    Example:

    >>> keras.ops.convert_to_numpy(SlotReadMask()(np.array([[1, 1, 0]]))).tolist()
    [[True, True, True, True, True, True, False]]
    """

    def call(self, input_mask):
        real = ops.cast(input_mask, "bool")
        special = ops.ones((ops.shape(real)[0], NUM_SPECIAL_TOKENS), "bool")
        return ops.concatenate([special, real], axis=1)

    def compute_output_spec(self, input_mask):
        width = None if input_mask.shape[1] is None else NUM_SPECIAL_TOKENS + input_mask.shape[1]
        return keras.KerasTensor((input_mask.shape[0], width), dtype="bool")
