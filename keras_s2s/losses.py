"""Losses for token sequences padded with 0."""

import keras
from keras import ops


def token_nll(y_true, y_pred, from_logits=True):
    """Per-token negative log-likelihood in float32, and the log-probabilities it came from.

    Args:
        y_true: Int ids `(batch, T)`.
        y_pred: Logits (or probabilities) `(batch, T, vocab)`.
        from_logits: Whether `y_pred` holds logits.

    Returns:
        `(nll, log_probs)`: `(batch, T)` and `(batch, T, vocab)`, padding positions included.
    """
    y_pred = ops.cast(y_pred, "float32")
    if from_logits:
        log_probs = ops.log_softmax(y_pred, axis=-1)
    else:
        log_probs = ops.log(ops.clip(y_pred, 1e-7, 1.0))
    y_true = ops.expand_dims(ops.cast(y_true, "int32"), -1)
    return -ops.squeeze(ops.take_along_axis(log_probs, y_true, -1), -1), log_probs


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Token cross-entropy that ignores padding and averages over real tokens.

    Positions where `y_true == padding_id` contribute nothing, and the default reduction divides
    by the number of real tokens in the batch, not by `batch * length`, so that the loss does
    not shrink as padding grows. Label smoothing spreads `label_smoothing` of the probability
    mass uniformly over the vocabulary (Szegedy et al., 2016). The computation is in float32
    whatever the model's compute dtype.

    Args:
        label_smoothing: Float in [0, 1).
        from_logits: Whether `y_pred` holds logits (default) or probabilities.
        padding_id: The id that marks padding in `y_true`.
        reduction: `"sum_over_batch_size"` (mean over real tokens), `"sum"` or `None`.
        name: Name of the loss.

    Example:

    >>> loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1)
    >>> float(loss(np.array([[4, 0]]), np.zeros((1, 2, 8)))) > 0
    True
    """

    def __init__(self, label_smoothing=0.0, from_logits=True, padding_id=0,
                 reduction="sum_over_batch_size", name="masked_sparse_categorical_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(
                f"Argument `label_smoothing` must be in [0, 1). Received: {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.from_logits = bool(from_logits)
        self.padding_id = int(padding_id)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        nll, log_probs = token_nll(y_true, y_pred, self.from_logits)
        if self.label_smoothing:
            smooth = -ops.mean(log_probs, axis=-1)
            nll = (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        mask = ops.cast(ops.not_equal(y_true, self.padding_id), "float32")
        if self.reduction in ("sum_over_batch_size", "mean"):
            # Weight real tokens by total/real so that Keras' mean over all positions is the mean
            # over real tokens (the same trick Keras applies to masks).
            total = ops.cast(ops.size(mask), "float32")
            mask = mask * ops.divide_no_nan(total, ops.sum(mask))
        return nll * mask

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
            "padding_id": self.padding_id,
        }
