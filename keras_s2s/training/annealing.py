"""KL annealing for sequence VAEs: a callback that drives every `GaussianPosterior`'s KL weight.

The weight is a non-trainable variable that the compiled train step reads, so changing it
every batch never re-traces or recompiles the model.
"""

import math
import numbers

import keras
from keras import ops

from keras_s2s.layers._checks import check_choice, check_positive_int
from keras_s2s.layers.latent import GaussianPosterior

SCHEDULES = ("linear", "sigmoid", "cyclical", "constant")


def _check_float(name, value, low, high=math.inf, low_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high == math.inf else ']'}"
        raise ValueError(f"Argument `{name}` must be a finite number in {interval}. "
                         f"Received: {name}={value!r}")
    return float(value)


def find_posteriors(layer):
    """Every `GaussianPosterior` inside `layer`, found by walking its sublayers recursively."""
    found, seen, stack = [], set(), [layer]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, GaussianPosterior):
            found.append(current)
        children = list(getattr(current, "layers", None) or [])  # models
        for value in vars(current).values():  # sublayers held as attributes, lists, dicts
            values = value.values() if isinstance(value, dict) else (
                value if isinstance(value, (list, tuple)) else [value])
            children.extend(v for v in values if isinstance(v, keras.layers.Layer))
        stack.extend(reversed(children))
    return found


class KLAnnealing(keras.callbacks.Callback):
    """Anneal the KL weight of every `GaussianPosterior` in the model during `fit`.

    At the start of every training batch the callback sets each posterior's `kl_weight`
    variable to `schedule(step)`, where `step` is the global step: the optimizer's `iterations`
    when training starts (so resumed training continues the schedule), plus the steps run since.
    Schedules, with `w0 = start`, `w1 = stop`:

    - `"linear"`: `w0 + (w1 - w0) * min(step / warmup_steps, 1)`.
    - `"sigmoid"` (Bowman et al.'s logistic ramp):
      `w0 + (w1 - w0) / (1 + exp(-k * (step - warmup_steps / 2)))`, with
      `k = steepness` or, by default, `10 / warmup_steps` (the weight is then within 0.7% of
      `start` at step 0 and of `stop` at `warmup_steps`).
    - `"cyclical"` (Fu et al. 2019): `total_steps` is split into `cycles` cycles of
      `period = total_steps / cycles` steps; with `tau = (step mod period) / period`, the
      weight is `w0 + (w1 - w0) * min(tau / ratio, 1)`, a linear ramp over the first `ratio`
      of each cycle, then constant; from `total_steps` on it stays at `stop`.
    - `"constant"`: `stop` at every step: no annealing, only the KL in the logs (a VAE
      trained without annealing still reports its KL this way).

    At the end of each epoch it writes two entries into the epoch logs: `kl_weight`, the weight
    of the epoch's last batch, and `kl`, the mean over the epoch's training batches of the raw
    KL (without weight or free bits; summed over the posteriors if there are several). Keras
    passes one logs dict to the callbacks in list order and appends `History` after the user's
    callbacks, so `fit(...).history` always has them; list `KLAnnealing` before a `TensorBoard`
    or `CSVLogger` callback for those to see them too. Reading the KL after each batch forces
    a device-to-host read (on JAX, `model.jax_state_sync()`), cheap next to a train step.

    Args:
        schedule: One of `"linear"`, `"sigmoid"`, `"cyclical"`.
        warmup_steps: Positive integer, the ramp length of `"linear"` and `"sigmoid"`
            (required for them; unused by `"cyclical"`).
        start: Float >= 0, the weight at step 0.
        stop: Float >= 0, the final weight.
        cycles: Positive integer, the number of cycles of `"cyclical"`.
        ratio: Float in (0, 1], the share of each cycle spent ramping up (`"cyclical"`).
        total_steps: Positive integer, the steps `"cyclical"` spreads its cycles over; by
            default the fit's `epochs * steps_per_epoch` (known once training starts).
        steepness: Optional positive float, `k` of `"sigmoid"`.

    Example:

    >>> annealing = KLAnnealing("linear", warmup_steps=1000)
    >>> annealing.schedule(250)
    0.25
    >>> model.fit(..., callbacks=[annealing])  # doctest: +SKIP
    >>> KLAnnealing("cyclical", total_steps=800, cycles=4, ratio=0.5).schedule(250)
    0.5

    Reference:
        - [Bowman et al., 2016. Generating Sentences from a Continuous Space.](
          https://arxiv.org/abs/1511.06349)
        - [Fu et al., 2019. Cyclical Annealing Schedule: A Simple Approach to Mitigating KL
          Vanishing.](https://arxiv.org/abs/1903.10145)
    """

    def __init__(self, schedule="linear", warmup_steps=None, start=0.0, stop=1.0, cycles=4,
                 ratio=0.5, total_steps=None, steepness=None):
        super().__init__()
        self.schedule_name = check_choice("schedule", schedule, SCHEDULES)
        if schedule in ("linear", "sigmoid") and warmup_steps is None:
            raise ValueError(f"Argument `warmup_steps` is required for schedule={schedule!r}: "
                             f"pass the number of steps the weight takes to reach `stop`, "
                             f"e.g. warmup_steps=10000.")
        self.warmup_steps = check_positive_int("warmup_steps", warmup_steps, allow_none=True)
        self.start = _check_float("start", start, 0.0)
        self.stop = _check_float("stop", stop, 0.0)
        self.cycles = check_positive_int("cycles", cycles)
        self.ratio = _check_float("ratio", ratio, 0.0, 1.0, low_open=True)
        self.total_steps = check_positive_int("total_steps", total_steps, allow_none=True)
        self.steepness = (None if steepness is None
                          else _check_float("steepness", steepness, 0.0, low_open=True))
        self._fit_total_steps = None
        self.posteriors = []
        self.current_weight = None

    def schedule(self, step):
        """The KL weight at global step `step` (a pure function of the arguments)."""
        step = float(step)
        span = self.stop - self.start
        if self.schedule_name == "constant":
            return self.stop
        if self.schedule_name == "linear":
            return self.start + span * min(step / self.warmup_steps, 1.0)
        if self.schedule_name == "sigmoid":
            k = self.steepness if self.steepness is not None else 10.0 / self.warmup_steps
            x = k * (step - self.warmup_steps / 2.0)
            logistic = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
            return self.start + span * logistic
        total = self.total_steps or self._fit_total_steps
        if total is None:
            raise ValueError("The cyclical schedule needs its total number of steps: pass "
                             "`total_steps=...`, or train with a known number of steps per "
                             "epoch (the default is the fit's epochs * steps_per_epoch).")
        if step >= total:
            return self.stop
        period = total / self.cycles
        tau = math.fmod(step, period) / period
        return self.start + span * min(tau / self.ratio, 1.0)

    def on_train_begin(self, logs=None):
        self.posteriors = find_posteriors(self.model)
        if not self.posteriors:
            raise ValueError(f"KLAnnealing found no `keras_s2s.layers.GaussianPosterior` in "
                             f"model '{self.model.name}': it anneals a VAE's KL weight; remove "
                             f"the callback or add a posterior to the model.")
        steps, epochs = (self.params or {}).get("steps"), (self.params or {}).get("epochs")
        self._fit_total_steps = int(steps) * int(epochs) if steps and epochs else None
        if self.schedule_name == "cyclical":
            self.schedule(0)  # fail now, not at the first batch, if the total is unknown
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        self._step = int(ops.convert_to_numpy(iterations)) if iterations is not None else 0
        self.current_weight = None

    def on_epoch_begin(self, epoch, logs=None):
        self._kl_sum, self._kl_batches = 0.0, 0

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_begin = batch
        weight = self.schedule(self._step)
        if weight != self.current_weight:  # assign only on change (constant after warm-up)
            for posterior in self.posteriors:
                posterior.kl_weight.assign(weight)
            self.current_weight = weight

    def on_train_batch_end(self, batch, logs=None):
        sync = getattr(self.model, "jax_state_sync", None)
        if callable(sync):
            sync()  # JAX keeps the variables in a separate state during an epoch
        self._kl_sum += sum(float(ops.convert_to_numpy(p.kl)) for p in self.posteriors)
        self._kl_batches += 1
        self._step += max(1, batch - self._batch_begin + 1)  # several with steps_per_execution

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self.current_weight is not None:
            logs["kl_weight"] = float(self.current_weight)
        if self._kl_batches:
            logs["kl"] = self._kl_sum / self._kl_batches
