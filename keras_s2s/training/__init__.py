"""Training helpers: callbacks for `model.fit` (and, with the CLI, the training recipe)."""

from keras_s2s.training.annealing import KLAnnealing
from keras_s2s.training.callbacks import (
    AttentionImages,
    BestCheckpoint,
    DecodeEvaluation,
    SampleDecodes,
)

from keras_s2s.training import recipe  # noqa: E402  (keras_s2s.training.recipe.train, ...)

__all__ = ["AttentionImages", "BestCheckpoint", "DecodeEvaluation", "KLAnnealing",
           "SampleDecodes", "recipe"]
