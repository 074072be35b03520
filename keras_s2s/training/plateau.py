"""The default learning-rate policy and stopping rule: warm-up, halve on a plateau, stop late.

Both callbacks read the validation metric through the `DecodeEvaluation` / `BestCheckpoint`
callback that keeps the best model (`best_epoch`, kept in `best.json` across resumed runs),
so they agree with the checkpoint on what "better" means and survive `--resume`. Place them
after that callback.
"""

import logging

import keras

from keras_s2s import workers

log = logging.getLogger("keras_s2s")


class WarmupPlateau(keras.callbacks.Callback):
    """Linear warm-up to `learning_rate`, then halve the rate when validation stops improving.

    For the first `warmup_steps` optimizer steps the rate rises linearly from
    `learning_rate / warmup_steps` to `learning_rate` (set before each batch, so nothing
    recompiles). After that, whenever `patience` epochs have passed without a new best
    validation value (and without a reduction), the rate is multiplied by `factor`, down to
    `min_learning_rate`: Keras' `ReduceLROnPlateau`, on the decode-based metric of the run.

    Args:
        keeps_best: The callback that keeps the best model (`DecodeEvaluation` or
            `BestCheckpoint`); its `best_epoch` tells when validation last improved.
        learning_rate: The peak rate.
        warmup_steps: Optimizer steps of linear warm-up (0 for none).
        factor: Multiplier on a plateau, in (0, 1).
        patience: Epochs without improvement before a reduction.
        min_learning_rate: The rate is never reduced below this.

    Example:

    >>> evaluation = DecodeEvaluation(task, metric="sequence_accuracy")
    >>> model.fit(train, epochs=30, callbacks=[evaluation,
    ...           WarmupPlateau(evaluation, 2e-3, warmup_steps=500)])
    """

    def __init__(self, keeps_best, learning_rate, warmup_steps=0, factor=0.5, patience=1,
                 min_learning_rate=None):
        super().__init__()
        if not 0.0 < factor < 1.0:
            raise ValueError(f"Argument `factor` must be in (0, 1). Received: {factor!r}")
        self.keeps_best = keeps_best
        self.learning_rate = float(learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.factor, self.patience = float(factor), int(patience)
        self.min_learning_rate = (self.learning_rate / 64 if min_learning_rate is None
                                  else float(min_learning_rate))
        self._last_change = 0  # the epoch of the last reduction
        self.reductions = []  # (epoch, new rate)

    def _set(self, value):
        self.model.optimizer.learning_rate.assign(value)

    def on_train_begin(self, logs=None):
        # a resumed run continues from the restored step (and the restored rate after it)
        self._step = int(self.model.optimizer.iterations.numpy())

    def on_train_batch_begin(self, batch, logs=None):
        if self._step < self.warmup_steps:
            self._set(self.learning_rate * (self._step + 1) / self.warmup_steps)
        elif self._step == self.warmup_steps and not self.reductions:
            self._set(self.learning_rate)
        self._step += 1

    def on_epoch_end(self, epoch, logs=None):
        rate = float(self.model.optimizer.learning_rate.numpy())
        if logs is not None:
            logs["learning_rate"] = rate
        best_epoch = self.keeps_best.best_epoch or 0
        since = (epoch + 1) - max(best_epoch, self._last_change)
        if since >= self.patience and rate > self.min_learning_rate:
            new = max(rate * self.factor, self.min_learning_rate)
            self._set(new)
            self._last_change = epoch + 1
            self.reductions.append((epoch + 1, new))
            log.info("epoch %d: no better validation %s for %d epoch(s); learning rate %.3g",
                     epoch + 1, self.keeps_best.metric, since, new)


class PatienceStop(keras.callbacks.Callback):
    """Stop training `patience` epochs after the best validation epoch.

    `--epochs` is then an upper bound; the run directory's `model.keras` is already the best
    epoch's model (saved by `keeps_best`), so nothing needs restoring.

    Args:
        keeps_best: `DecodeEvaluation` or `BestCheckpoint` (see `WarmupPlateau`).
        patience: Epochs without a new best before stopping.

    Example:

    >>> model.fit(train, epochs=50, callbacks=[evaluation, PatienceStop(evaluation, 3)])
    """

    def __init__(self, keeps_best, patience=3):
        super().__init__()
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"Argument `patience` must be a positive integer. "
                             f"Received: patience={patience!r}")
        self.keeps_best, self.patience = keeps_best, patience
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        best_epoch = self.keeps_best.best_epoch or 0
        if (epoch + 1) - best_epoch >= self.patience:
            self.model.stop_training = True
            self.stopped_epoch = epoch + 1
            log.info("epoch %d: no better validation %s since epoch %d; stopping early "
                     "(patience %d)", epoch + 1, self.keeps_best.metric, best_epoch,
                     self.patience)


class TimeLimit(keras.callbacks.Callback):
    """Stop at the end of the first epoch that ends past `minutes` of training.

    Example:

    >>> model.fit(train, epochs=50, callbacks=[TimeLimit(15)])
    """

    def __init__(self, minutes):
        super().__init__()
        if not minutes or minutes <= 0:
            raise ValueError(f"Argument `minutes` must be positive. Received: {minutes!r}")
        self.minutes = float(minutes)
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        import time

        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import time

        # several workers stop together, when the chief's clock says so
        if workers.chief_value(time.perf_counter() - self._start) > 60 * self.minutes:
            self.model.stop_training = True
            self.stopped_epoch = epoch + 1
            log.info("epoch %d: past the time limit of %g min; stopping", epoch + 1,
                     self.minutes)
