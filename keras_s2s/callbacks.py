"""Callbacks for `model.fit`, in one place: `keras_s2s.callbacks.KLAnnealing` and the rest.

Re-exports `keras_s2s.training`'s callbacks; see their modules for the details.
"""

from keras_s2s.training.annealing import KLAnnealing
from keras_s2s.training.callbacks import (
    AttentionImages,
    BestCheckpoint,
    DecodeEvaluation,
    SampleDecodes,
)

__all__ = ["AttentionImages", "BestCheckpoint", "DecodeEvaluation", "KLAnnealing", "SampleDecodes"]
