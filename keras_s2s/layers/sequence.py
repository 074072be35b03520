"""Small sequence utilities as layers, so zoo models stay Lambda-free and reload in safe mode."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_s2s")
class PaddingMask(keras.layers.Layer):
    """Boolean mask of real tokens: `token_ids != padding_id`.

    Args:
        padding_id: Integer id of the padding token (0 in keras_s2s).
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Integer tensor `(batch, length)`.

    Returns:
        Boolean tensor `(batch, length)`.

    Example:

    >>> PaddingMask()(np.array([[5, 6, 0]])).numpy().tolist()
    [[True, True, False]]
    """

    def __init__(self, padding_id=0, **kwargs):
        super().__init__(**kwargs)
        self.padding_id = int(padding_id)

    def call(self, token_ids):
        return ops.not_equal(token_ids, self.padding_id)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, token_ids):
        return keras.KerasTensor(token_ids.shape, dtype="bool")

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}


@keras.saving.register_keras_serializable(package="keras_s2s")
class ReverseSequence(keras.layers.Layer):
    """Reverse the real tokens of each padded sequence and keep the padding at the end.

    `[a, b, c, 0, 0]` becomes `[c, b, a, 0, 0]`. This is Sutskever et al.'s source reversal
    done inside the model, so that data never has to be reversed by hand.

    Args:
        padding_id: Integer id of the padding token.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Tensor `(batch, length, ...)`; its first two axes are reversed per row.
        mask: Optional boolean `(batch, length)`; by default `token_ids != padding_id`
            (then `token_ids` must be 2D).

    Returns:
        Tensor of the shape and dtype of `token_ids`.

    Example:

    >>> ReverseSequence()(np.array([[5, 6, 7, 0]])).numpy().tolist()
    [[7, 6, 5, 0]]

    Reference:
        - [Sutskever et al., 2014. Sequence to Sequence Learning with Neural Networks.](
          https://arxiv.org/abs/1409.3215)
    """

    def __init__(self, padding_id=0, **kwargs):
        super().__init__(**kwargs)
        self.padding_id = int(padding_id)
        self.supports_masking = True  # reversing real tokens leaves the mask as it is

    def call(self, token_ids, mask=None):
        if mask is None:
            mask = ops.not_equal(token_ids, self.padding_id)
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)  # (batch, 1)
        positions = ops.expand_dims(ops.arange(ops.shape(token_ids)[1], dtype="int32"), 0)
        # position i < length reads from length - 1 - i; padding positions read themselves
        source = ops.where(positions < lengths, lengths - 1 - positions, positions)
        if len(token_ids.shape) > 2:
            source = ops.reshape(source, ops.shape(source) + (1,) * (len(token_ids.shape) - 2))
            source = ops.broadcast_to(source, ops.shape(token_ids))
        return ops.take_along_axis(token_ids, source, axis=1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, token_ids, mask=None):
        return keras.KerasTensor(token_ids.shape, dtype=token_ids.dtype)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}


@keras.saving.register_keras_serializable(package="keras_s2s")
class ZeroState(keras.layers.Layer):
    """Zero tensors with the batch size of a reference tensor: the initial decoder states of a
    model without an encoder (a language model), or empty key/value caches.

    Args:
        shapes: A list of per-example shapes (without the batch axis); `()` gives `(batch,)`.
        dtypes: One dtype for all, or a list with one dtype per shape. Defaults to float32.
        **kwargs: Base layer arguments.

    Call arguments:
        reference: Any tensor whose first axis is the batch.

    Returns:
        A list of zero tensors `(batch, *shape)`.

    Example:

    >>> h, c = ZeroState([(4,), (4,)])(np.zeros((3, 7), "int32"))
    >>> tuple(h.shape)
    (3, 4)
    """

    def __init__(self, shapes, dtypes="float32", **kwargs):
        super().__init__(**kwargs)
        self.shapes = [tuple(int(d) for d in s) for s in shapes]
        if isinstance(dtypes, str):
            dtypes = [dtypes] * len(self.shapes)
        if len(dtypes) != len(self.shapes):
            raise ValueError(f"`dtypes` needs one dtype per shape: got {len(dtypes)} dtypes for "
                             f"{len(self.shapes)} shapes.")
        self.dtypes = [keras.backend.standardize_dtype(d) for d in dtypes]

    def call(self, reference):
        batch = ops.shape(reference)[0]
        return [ops.zeros((batch, *s), dtype=d) for s, d in zip(self.shapes, self.dtypes)]

    def compute_output_spec(self, reference):
        return [keras.KerasTensor((reference.shape[0], *s), dtype=d)
                for s, d in zip(self.shapes, self.dtypes)]

    def get_config(self):
        return {**super().get_config(), "shapes": [list(s) for s in self.shapes],
                "dtypes": list(self.dtypes)}


@keras.saving.register_keras_serializable(package="keras_s2s")
class FixedLength(keras.layers.Layer):
    """Pad (with `padding_id`) or cut token ids to exactly `length` positions.

    For models over a fixed number of positions (`dense_autoencoder`). Wider inputs are fine
    when the positions past `length` are padding; real tokens there would be cut, which a
    compiled model cannot report, so callers check lengths first (`keras_s2s.autoencoders`
    does, and the positions past `length` get zero logits, so a training loss shows them).

    Args:
        length: The number of positions.
        padding_id: The id that pads.
        **kwargs: Base layer arguments.

    Call arguments:
        token_ids: Integer tensor `(batch, any_length)`.

    Returns:
        `(batch, length)`, same dtype.

    Example:

    >>> FixedLength(4)(np.array([[5, 6]])).numpy().tolist()
    [[5, 6, 0, 0]]
    """

    def __init__(self, length, padding_id=0, **kwargs):
        super().__init__(**kwargs)
        self.length = int(length)
        self.padding_id = int(padding_id)

    def call(self, token_ids):
        padded = ops.pad(token_ids, [[0, 0], [0, self.length]], constant_values=self.padding_id)
        return padded[:, :self.length]

    def compute_output_spec(self, token_ids):
        return keras.KerasTensor((token_ids.shape[0], self.length), dtype=token_ids.dtype)

    def get_config(self):
        return {**super().get_config(), "length": self.length, "padding_id": self.padding_id}


@keras.saving.register_keras_serializable(package="keras_s2s")
class MatchLength(keras.layers.Layer):
    """Give a per-position output the length of a reference sequence: cut, or pad with zeros.

    Args:
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: `(batch, length, ...)`.
        reference: `(batch, reference_length, ...)`.

    Returns:
        `(batch, reference_length, ...)`.

    Example:

    >>> tuple(MatchLength()(np.zeros((2, 8, 3)), np.zeros((2, 5))).shape)
    (2, 5, 3)
    """

    def call(self, inputs, reference):
        target = ops.shape(reference)[1]
        pad = [[0, 0], [0, target]] + [[0, 0]] * (len(inputs.shape) - 2)
        return ops.pad(inputs, pad)[:, :target]

    def compute_output_spec(self, inputs, reference):
        return keras.KerasTensor((inputs.shape[0], reference.shape[1], *inputs.shape[2:]),
                                 dtype=inputs.dtype)
