"""Metrics: `MaskedAccuracy` and `MaskedPerplexity` for `model.fit`, and corpus metrics on text.

The corpus metrics (`corpus_bleu`, `chrf`, `wer`, `per`, `cer`, `sequence_accuracy`,
`sequence_error_rate`, `edit_distance`) live in `keras_s2s.text_metrics` (pure Python; BLEU and
chrF match sacrebleu) and are re-exported here, as is `perplexity` from `keras_s2s.ngram`.
"""

import keras
from keras import ops

from keras_s2s.losses import split_distillation_labels, token_nll
from keras_s2s.ngram import perplexity  # noqa: F401  (re-exported)
from keras_s2s.text_metrics import (  # noqa: F401  (re-exported)
    cer,
    chrf,
    corpus_bleu,
    edit_distance,
    per,
    sequence_accuracy,
    sequence_error_rate,
    wer,
)


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedAccuracy(keras.metrics.Metric):
    """Token accuracy over real (non-padding) target positions: correct tokens / real tokens.

    Every real token counts once, whatever the padded width of its batch. A distillation label
    (`keras_s2s.losses.split_distillation_labels`) is scored by its true ids. (A
    `keras.metrics.Mean` with a per-position weight would not do: Keras reduces values and
    weights to one mean per row first, so tokens of narrow batches weighed more than those of
    wide ones, and accuracy over length buckets was off.)

    Args:
        padding_id: The id that marks padding in `y_true`.
        name: Name of the metric.

    Example:

    >>> metric = MaskedAccuracy()
    >>> metric.update_state(np.array([[4, 5, 0]]), np.eye(8)[[[4, 6, 0]]])
    >>> float(metric.result())
    0.5
    """

    def __init__(self, padding_id=0, name="masked_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.padding_id = int(padding_id)
        self.correct = self.add_variable((), initializer="zeros", dtype="float32",
                                         name="correct")
        self.count = self.add_variable((), initializer="zeros", dtype="float32", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, _, _ = split_distillation_labels(y_true)  # a distillation label: its true ids
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        correct = ops.cast(ops.equal(predicted, y_true), "float32")
        weight = ops.cast(ops.not_equal(y_true, self.padding_id), "float32")
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, "float32")
        self.correct.assign_add(ops.sum(correct * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.correct, self.count)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedPerplexity(keras.metrics.Metric):
    """Perplexity over real tokens: `exp(sum of NLL / number of tokens)` over every batch seen.

    The sums run over the whole epoch, so `val_perplexity` is the corpus perplexity of the
    validation split (not a mean of per-batch values), and it does not depend on the label
    smoothing of the loss. Positions where `y_true == padding_id` do not count.

    Args:
        padding_id: The id that marks padding in `y_true`.
        name: Name of the metric (`"perplexity"`, so Keras logs `val_perplexity`).

    Example:

    >>> metric = MaskedPerplexity()
    >>> metric.update_state(np.array([[4, 5, 0]]), np.zeros((1, 3, 8)))
    >>> round(float(metric.result()), 4)  # uniform over 8 ids
    8.0
    """

    def __init__(self, padding_id=0, name="perplexity", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.padding_id = int(padding_id)
        self.total = self.add_variable((), initializer="zeros", dtype="float32", name="total")
        self.count = self.add_variable((), initializer="zeros", dtype="float32", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        nll, _ = token_nll(y_true, y_pred)
        weight = ops.cast(ops.not_equal(ops.cast(y_true, "int32"), self.padding_id), "float32")
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, "float32")
        self.total.assign_add(ops.sum(nll * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.exp(ops.divide_no_nan(self.total, self.count))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}
