"""Losses for token sequences padded with 0."""

import keras

from keras_s2s import distribution
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


def masked_token_loss(nll, y_true, padding_id, reduction):
    """Zero `nll` at padding; under a mean reduction, weight real tokens by total/real so that
    Keras' mean over all positions is the mean over real tokens (the trick Keras applies to
    masks)."""
    mask = ops.cast(ops.not_equal(ops.cast(y_true, "int32"), padding_id), "float32")
    if reduction in ("sum_over_batch_size", "mean"):
        total = ops.cast(ops.size(mask), "float32")
        replicas = distribution.replicas_in_sync()
        real = distribution.sum_over_replicas(ops.sum(mask)) / replicas
        mask = mask * ops.divide_no_nan(total, real)
    return nll * mask


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
        nll, _ = self.smoothed_nll(y_true, y_pred)
        return masked_token_loss(nll, y_true, self.padding_id, self.reduction)

    def smoothed_nll(self, ids, y_pred):
        """Per-token smoothed NLL `(batch, T)` of int `ids`, and the log-probabilities
        `(batch, T, vocab)` it came from (padding positions included)."""
        nll, log_probs = token_nll(ids, y_pred, self.from_logits)
        if self.label_smoothing:
            smooth = -ops.mean(log_probs, axis=-1)
            nll = (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        return nll, log_probs

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
            "padding_id": self.padding_id,
        }


@keras.saving.register_keras_serializable(package="keras_s2s")
class SampledSoftmaxLoss(keras.losses.Loss):
    """Sampled-softmax token loss for a model whose output projection is a
    `SampledSoftmaxProjection` (Jean et al., 2015).

    On a training step the model outputs its decoder states `(batch, T, units)`, and this loss
    scores them against the true ids and the projection's sampled candidates
    (`keras_s2s.layers.sampled_softmax.sampled_softmax_nll`, with the logQ correction and
    accidental hits removed). Given full logits `(batch, T, vocab)` (`evaluate`, validation) it
    is the masked cross-entropy of the full softmax. Padding is ignored and the mean is over
    real tokens, as in `MaskedSparseCategoricalCrossentropy`; there is no label smoothing (it
    would need the full softmax).

    The loss reads the projection's weights, so it is built for one model:
    `keras_s2s.training.compile_model` does it. Reloaded from a saved compile configuration it
    has no projection and says so when called; compile the model again.

    Args:
        projection: The model's `SampledSoftmaxProjection` layer.
        padding_id: The id that marks padding in `y_true`.
        reduction: `"sum_over_batch_size"` (mean over real tokens), `"sum"` or `None`.
        name: Name of the loss.

    Example:

    >>> from keras_s2s.layers.sampled_softmax import SampledSoftmaxProjection
    >>> projection = SampledSoftmaxProjection(50, num_sampled=8)
    >>> _ = projection(np.ones((1, 2, 4)), training=True)  # builds it, draws candidates
    >>> loss = SampledSoftmaxLoss(projection)
    >>> float(loss(np.array([[5, 0]]), np.ones((1, 2, 4)))) > 0
    True
    """

    def __init__(self, projection=None, padding_id=0, reduction="sum_over_batch_size",
                 name="sampled_softmax_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.projection = projection
        self.padding_id = int(padding_id)

    def call(self, y_true, y_pred):
        from keras_s2s.layers.sampled_softmax import sampled_softmax_nll

        p = self.projection
        if p is None:
            raise ValueError("SampledSoftmaxLoss has no projection layer (it was reloaded from "
                             "a saved compile configuration); compile the model again with "
                             "keras_s2s.training.compile_model(model)")
        y_true = ops.cast(y_true, "int32")
        if y_pred.shape[-1] == p.vocab_size:  # full logits: evaluation
            nll, _ = token_nll(y_true, y_pred)
        else:
            candidates = ops.convert_to_tensor(p.candidates)
            nll = sampled_softmax_nll(y_true, y_pred, p.kernel, p.bias, candidates,
                                      p.candidate_log_q(candidates), p.candidate_log_q(y_true))
        return masked_token_loss(nll, y_true, self.padding_id, self.reduction)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}


def split_distillation_labels(y_true):
    """The parts of a distillation label: `(true ids, teacher ids, teacher probabilities)`.

    A distillation label `(batch, T, 1 + 2k)` (`keras_s2s.training.distillation`) holds, per
    target position, the true id, then the ids of the teachers' `k` most likely tokens, then
    their probabilities. A plain label `(batch, T)` of true ids gives `(ids, None, None)`.

    Example:

    >>> ids, teacher_ids, probs = split_distillation_labels(np.array([[[4., 4., 7., .9, .1]]]))
    >>> tuple(teacher_ids.shape)
    (1, 1, 2)
    """
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) != 3:
        return ops.cast(y_true, "int32"), None, None
    k = (y_true.shape[-1] - 1) // 2
    return (ops.cast(y_true[..., 0], "int32"), ops.cast(y_true[..., 1:1 + k], "int32"),
            ops.cast(y_true[..., 1 + k:], "float32"))


@keras.saving.register_keras_serializable(package="keras_s2s")
class DistillationLoss(MaskedSparseCategoricalCrossentropy):
    """Token cross-entropy against the true ids mixed with the cross-entropy against teachers'
    distributions: token-level knowledge distillation (Hinton et al., 2015; Kim and Rush,
    2016, "word-level"; Sun et al., 2019, from an ensemble of teachers, for G2P).

    Per real target position, with `p` the student's distribution, `y` the true id and `q`
    the teachers' top-`k` distribution (renormalized):

        loss = (1 - teacher_weight) * CE_smoothed(y, p) + teacher_weight * -sum_j q_j log p(j)

    `CE_smoothed` is `MaskedSparseCategoricalCrossentropy`'s, with `label_smoothing`. Labels
    are distillation labels `(batch, T, 1 + 2k)` (see `split_distillation_labels`); plain
    labels `(batch, T)`, as the validation data has, give the plain smoothed cross-entropy, so
    that a distilled run's `val_loss` compares with an undistilled one's. Padding is ignored
    and the mean is over real tokens; the computation is in float32.

    Args:
        teacher_weight: Float in [0, 1]: the teachers' share of the loss (0: the plain loss).
        label_smoothing: Float in [0, 1), of the true-id term.
        from_logits: Whether `y_pred` holds logits (default) or probabilities.
        padding_id: The id that marks padding in the true ids.
        reduction: `"sum_over_batch_size"` (mean over real tokens), `"sum"` or `None`.
        name: Name of the loss.

    Example:

    >>> loss = DistillationLoss(teacher_weight=0.5)
    >>> labels = np.array([[[4., 4., 5., .75, .25]]])  # true id 4; teachers: 4 (.75), 5 (.25)
    >>> float(loss(labels, np.zeros((1, 1, 8)))) > 0
    True
    """

    def __init__(self, teacher_weight=0.5, label_smoothing=0.0, from_logits=True, padding_id=0,
                 reduction="sum_over_batch_size", name="distillation_loss", dtype=None):
        super().__init__(label_smoothing=label_smoothing, from_logits=from_logits,
                         padding_id=padding_id, reduction=reduction, name=name, dtype=dtype)
        if not 0.0 <= float(teacher_weight) <= 1.0:
            raise ValueError(
                f"Argument `teacher_weight` must be in [0, 1]. Received: {teacher_weight!r}")
        self.teacher_weight = float(teacher_weight)

    def call(self, y_true, y_pred):
        ids, teacher_ids, teacher_probs = split_distillation_labels(y_true)
        nll, log_probs = self.smoothed_nll(ids, y_pred)  # (batch, T), (batch, T, V)
        if teacher_ids is not None and self.teacher_weight:
            picked = ops.take_along_axis(log_probs, teacher_ids, -1)  # (batch, T, k)
            teacher = -ops.sum(teacher_probs * picked, axis=-1)
            nll = (1.0 - self.teacher_weight) * nll + self.teacher_weight * teacher
        return masked_token_loss(nll, ids, self.padding_id, self.reduction)

    def get_config(self):
        return {**super().get_config(), "teacher_weight": self.teacher_weight}
