"""Training helpers: callbacks for `model.fit` (and, with the CLI, the training recipe)."""

from keras_s2s.training.annealing import KLAnnealing
from keras_s2s.training.callbacks import (
    AttentionImages,
    BestCheckpoint,
    DecodeEvaluation,
    SampleDecodes,
)

__all__ = ["AttentionImages", "BestCheckpoint", "DecodeEvaluation", "KLAnnealing",
           "SampleDecodes"]
