"""Metrics: `MaskedAccuracy` for `model.fit`, and corpus metrics on decoded text.

The corpus metrics (`corpus_bleu`, `chrf`, `wer`, `per`, `cer`, `sequence_accuracy`,
`sequence_error_rate`, `edit_distance`) live in `keras_s2s.text_metrics` (pure Python; BLEU and
chrF match sacrebleu) and are re-exported here, as is `perplexity` from `keras_s2s.ngram`.
"""

import keras
from keras import ops

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
class MaskedAccuracy(keras.metrics.Mean):
    """Token accuracy over real (non-padding) target positions.

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

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        correct = ops.cast(ops.equal(predicted, y_true), "float32")
        weight = ops.cast(ops.not_equal(y_true, self.padding_id), "float32")
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, "float32")
        return super().update_state(correct, sample_weight=weight)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}
