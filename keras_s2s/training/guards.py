"""Guards against non-finite numbers: a training loss that turns NaN, and a NaN model.

A NaN loss never recovers: every later step is NaN, and a checkpoint saved from it decodes
to empty lines. `FiniteLossGuard` stops `fit` at the first non-finite training loss, before
the epoch ends, so no callback checkpoints, backs up or evaluates the broken weights; the
last good model stays the best one. `check_finite_weights` refuses to use a model whose
weights are not finite.
"""

import math

import keras
import numpy as np


class NonFiniteLoss(ValueError):
    """The training loss became NaN or infinite; `epoch` and `step` count from 1."""

    def __init__(self, value, epoch, step, detail=""):
        self.value, self.epoch, self.step = value, epoch, step
        super().__init__(f"the training loss became {value} at epoch {epoch}, step {step}"
                         f"{detail}")


class FiniteLossGuard(keras.callbacks.Callback):
    """Stop training at the first non-finite training loss by raising `NonFiniteLoss`.

    Raising (rather than setting `model.stop_training`) ends `fit` at once: Keras would
    otherwise still run `on_epoch_end`, and the epoch's callbacks would save the NaN weights.
    Place it first among the callbacks.

    Example:

    >>> model.fit(train, epochs=10, callbacks=[FiniteLossGuard(), *others])
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        value = float(np.asarray(loss))
        if not math.isfinite(value):
            raise NonFiniteLoss(value, self._epoch + 1, batch + 1)


def check_finite_weights(model, path="the model"):
    """Raise `ValueError` naming `path` if any weight of `model` is NaN or infinite.

    Example:

    >>> check_finite_weights(keras.saving.load_model("run/model.keras"), "run/model.keras")
    """
    for weight in model.weights:
        values = keras.ops.convert_to_numpy(weight)
        if np.issubdtype(values.dtype, np.floating) and not np.isfinite(values).all():
            raise ValueError(f"{path} holds non-finite weights ({weight.path} has NaN or "
                             "Inf); it can't decode. Retrain it, e.g. with a lower "
                             "--learning-rate")
