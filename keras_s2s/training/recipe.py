"""The training recipe behind `keras-s2s train`, usable from Python too.

A run directory holds everything needed to decode and evaluate later:
`model.keras` (the best model by the validation metric), `source_tokenizer.json`,
`target_tokenizer.json`, and `config.json` (the model, its kind, the side a language model
was trained on, the task, the training settings and the results).

Seq2seq entries are checkpointed by a decode-based metric (`DecodeEvaluation`); language
models (kinds `"lm"`, `"mlm"`) by their validation perplexity, which `model.fit` computes with
`keras_s2s.metrics.MaskedPerplexity` (`BestCheckpoint`).
"""

import contextlib
import dataclasses
import json
import logging
import math
import os
import time
import uuid
import zipfile

import keras

from keras_s2s import distribution, kinds, losses, metrics, workers, zoo
from keras_s2s.data.tokenizers import load_tokenizer
from keras_s2s.data.task import batch_shapes
from keras_s2s.distribution import ReplicaAdam, data_parallel, model_parallel
from keras_s2s.layers._checks import check_positive_int
from keras_s2s.layers.sampled_softmax import SampledSoftmaxProjection
from keras_s2s.training import defaults
from keras_s2s.training.averaging import KeepLastEpochs, average_weights, kept_epochs
from keras_s2s.training.guards import FiniteLossGuard, NonFiniteLoss, check_finite_weights
from keras_s2s.training.plateau import PatienceStop, TimeLimit, WarmupPlateau
from keras_s2s.training.rundir import (EPOCHS_DIR, AtomicBackupAndRestore, RunDirectory,
                                       RunDirectoryError, StorageError, atomic_save,
                                       atomic_write_json, save_model, storage_error)

log = logging.getLogger("keras_s2s")


def learning_rate_schedule(learning_rate, schedule="constant", total_steps=None,
                           warmup_steps=0):
    """The learning rate (or Keras schedule) of a recipe.

    Args:
        learning_rate: The peak rate.
        schedule: `"constant"` (also `"plateau"`, whose warm-up and reductions are done by
            the `WarmupPlateau` callback on a constant rate); `"cosine"` (linear warm-up for `warmup_steps`, then cosine
            decay to 0 at `total_steps`); `"inverse_sqrt"` (Vaswani et al.: linear warm-up,
            then `learning_rate * sqrt(warmup_steps / step)`); or `"wsd"` (warm-up, stable,
            decay: linear warm-up, the peak rate held, then a linear decay to 0 over the last
            fifth of `total_steps`; `WarmupStableDecay`).
        total_steps: Training steps in all (needed by `"cosine"` and `"wsd"`).
        warmup_steps: Steps of linear warm-up (needed by `"inverse_sqrt"`).

    Example:

    >>> lr = learning_rate_schedule(3e-3, "cosine", total_steps=10000, warmup_steps=500)
    """
    if schedule in ("constant", "plateau"):
        return learning_rate
    if schedule == "cosine":
        if not total_steps:
            raise ValueError("the cosine schedule needs `total_steps` (epochs × steps per "
                             "epoch)")
        warmup = int(warmup_steps)
        return keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else learning_rate, decay_steps=max(1, total_steps - warmup),
            warmup_target=learning_rate if warmup else None, warmup_steps=warmup)
    if schedule == "wsd":
        if not total_steps:
            raise ValueError("the wsd schedule needs `total_steps` (epochs × steps per epoch)")
        return WarmupStableDecay(learning_rate, int(warmup_steps or 0), int(total_steps))
    if schedule == "inverse_sqrt":
        if not warmup_steps or warmup_steps <= 0:
            raise ValueError("the inverse_sqrt schedule needs `warmup_steps` > 0")
        return InverseSquareRoot(learning_rate, int(warmup_steps))
    raise ValueError(f"unknown schedule {schedule!r}; choose plateau, constant, cosine, "
                     "inverse_sqrt or wsd")


@keras.saving.register_keras_serializable(package="keras_s2s")
class InverseSquareRoot(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak` over `warmup_steps`, then decay as `1/sqrt(step)`.

    Example:

    >>> schedule = InverseSquareRoot(1e-3, warmup_steps=4000)
    """

    def __init__(self, peak, warmup_steps):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32") + 1.0
        warmup = keras.ops.cast(self.warmup_steps, "float32")
        return self.peak * keras.ops.minimum(step / warmup, keras.ops.sqrt(warmup / step))

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}


@keras.saving.register_keras_serializable(package="keras_s2s")
class WarmupStableDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Warm-up, stable, decay: a linear warm-up to `peak` over `warmup_steps`, the peak held,
    then a linear decay to 0 over the last `decay_fraction` of `total_steps` (the
    "trapezoidal" schedule of Zhai et al., 2022, "WSD" in Hu et al., 2024).

    The rate stays at its peak for most of the run and anneals at the end, where the gain of
    a decay comes: on the G2P standard split a linear anneal to 0 after an inverse-square-root
    run took 1.5 points off the test WER (`zoo/results/g2p_standard.json`,
    `transformer_gpu_annealed`), which this schedule does in one run.

    Example:

    >>> schedule = WarmupStableDecay(1e-3, warmup_steps=400, total_steps=10000)
    >>> float(schedule(9000))  # half-way down the decay, which starts at step 8000
    0.0005
    """

    def __init__(self, peak, warmup_steps, total_steps, decay_fraction=0.2):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.decay_fraction = float(decay_fraction)
        if not 0.0 < self.decay_fraction <= 1.0:
            raise ValueError(f"`decay_fraction` must be in (0, 1]; received {decay_fraction}")
        if self.warmup_steps < 0 or self.total_steps < 1:
            raise ValueError("`warmup_steps` must be >= 0 and `total_steps` >= 1; received "
                             f"{warmup_steps} and {total_steps}")

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        total = float(self.total_steps)
        decay = max(1.0, self.decay_fraction * total)
        warmup = keras.ops.minimum(1.0, (step + 1.0) / float(max(1, self.warmup_steps)))
        if not self.warmup_steps:
            warmup = keras.ops.ones_like(step)
        anneal = keras.ops.clip((total - step) / decay, 0.0, 1.0)
        return self.peak * keras.ops.minimum(warmup, anneal)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps, "decay_fraction": self.decay_fraction}


def compile_model(model, learning_rate=1e-3, label_smoothing=0.1, clipnorm=1.0, jit=True,
                  teacher_weight=None):
    """Compile a zoo model the way the recipes do (Adam, masked loss and accuracy).

    With `teacher_weight` (a float in [0, 1]) the loss is `DistillationLoss`, for training on
    distillation labels (`keras_s2s.training.distillation`).

    `learning_rate` may be a float or a Keras schedule (see `learning_rate_schedule`). The
    model's kind adds its own metrics (`Kind.training_metrics`): language models get
    `MaskedPerplexity`, so that `fit` logs `perplexity` and `val_perplexity`. A model built
    with `sampled_softmax=N` (its `output_projection` is a `SampledSoftmaxProjection`) gets
    `SampledSoftmaxLoss` and no token metric, and trains without label smoothing (said in a
    warning when `label_smoothing` is set).
    """
    projection = sampled_projection(model)
    if teacher_weight is not None and projection is not None:
        raise ValueError("a model built with sampled_softmax can't learn from teachers: "
                         "distillation needs its full softmax. Build it without "
                         "sampled_softmax, or train without teachers")
    if projection is None:
        kind = kinds.of(model)
        loss = (kind.loss(label_smoothing) if teacher_weight is None else
                losses.DistillationLoss(teacher_weight, label_smoothing))
        metric_list = [metrics.MaskedAccuracy(), *kind.training_metrics()]
    else:
        # the training output is the decoder states, so the loss is the sampled softmax and
        # no metric can read logits (the validation decode still scores every epoch)
        loss, metric_list = losses.SampledSoftmaxLoss(projection), []
        if label_smoothing:
            log.warning("sampled softmax trains without label smoothing: label_smoothing=%g "
                        "is not applied", label_smoothing)
    # under TensorFlow's MirroredStrategy, clip the global batch's gradient (ReplicaAdam)
    adam = ReplicaAdam if distribution.replicas_in_sync() > 1 else keras.optimizers.Adam
    model.compile(optimizer=adam(learning_rate, clipnorm=clipnorm),
                  loss=loss, metrics=metric_list, jit_compile=jit)
    return model


def sampled_projection(model):
    """The model's `SampledSoftmaxProjection` (its `output_projection`), or None."""
    layer = next((layer for layer in model.layers if layer.name == "output_projection"), None)
    return layer if isinstance(layer, SampledSoftmaxProjection) else None


def build_for_task(model_name, task, side=None, **model_kwargs):
    """Build a zoo entry with the vocabulary sizes of a task's tokenizers (and whatever else
    the entry reads off the task: `ModelSpec.task_arguments`).

    A seq2seq entry gets both sides' sizes. A language model gets `vocab_size` from the
    tokenizer of `side` (`"target"` by default); a masked LM (kind `"mlm"`) one id more, for
    the mask token, whose id is that tokenizer's `vocabulary_size` (see `Task.mlm_dataset`).

    Example:

    >>> model = build_for_task("lstm_lm", load_task("g2p"), side="target", units=64)
    """
    spec = zoo.get_spec(model_name)
    kind = kinds.get(spec.kind)
    side, _ = check_options(model_name, side)
    # what the entry reads off the data beyond the vocabulary sizes (the caller's values win)
    derived = spec.task_arguments(task) if spec.task_arguments is not None else {}
    return zoo.build(model_name, **kind.task_size_arguments(task, side),
                     **{**derived, **model_kwargs})


def target_order_of(tokenizer):
    """`"right-to-left"` for a `reverse` tokenizer, else `"left-to-right"`.

    Example:

    >>> target_order_of(CharTokenizer(["a"], reverse=True))
    'right-to-left'
    """
    return "right-to-left" if tokenizer.reverse else "left-to-right"


def with_target_order(task, order):
    """`task` with its target tokenizer's ids in `order` (`"left-to-right"` or
    `"right-to-left"`, see `Tokenizer.reverse`); the pairs and everything else the same.

    Example:

    >>> with_target_order(load_task("g2p"), "right-to-left").target_tokenizer.reverse
    True
    """
    reverse = order == "right-to-left"
    if task.target_tokenizer.reverse == reverse:
        return task
    return dataclasses.replace(task,
                               target_tokenizer=task.target_tokenizer.reversed(reverse))


def check_options(model_name, side=None, metric=None):
    """Check the kind-specific options of `train` before any data is loaded.

    Returns:
        `(side, metric)` with a language model's defaults filled in (`"target"`,
        `"perplexity"`); seq2seq entries keep `side=None` and their metric.

    Raises:
        ValueError: for `side` with a seq2seq entry, or a metric other than perplexity with a
            language model.
    """
    return kinds.get(zoo.get_spec(model_name).kind).check_options(model_name, side, metric)


def _datasets(task, kind, side, batch_size, seed, mask_rate, max_buckets=8, targets=None):
    """The training and validation pipelines of a model kind; with the teachers' `targets`
    (`distillation.teacher_targets`), the training pipeline carries distillation labels."""
    from keras_s2s.training import distillation

    train = (kind.dataset(task, "train", batch_size, side=side, seed=seed, mask_rate=mask_rate,
                          max_buckets=max_buckets) if targets is None else
             distillation.distillation_dataset(task, targets, "train", batch_size, seed=seed,
                                               max_buckets=max_buckets))
    return train, kind.dataset(task, "validation", batch_size, side=side, shuffle=False,
                               seed=seed, mask_rate=mask_rate, max_buckets=max_buckets)


def _teachers_targets(task, teachers, top_k):
    """The teachers' distributions over the training pairs (`teacher_targets`), and what
    `config.json` records of the teachers."""
    from keras_s2s.training import distillation

    begin = time.perf_counter()
    loaded = distillation.load_teachers(teachers, task)
    log.info("distilling from %d teacher(s): %s", len(loaded), ", ".join(teachers))
    targets = distillation.teacher_targets(loaded, task, "train", top_k=top_k)
    recorded = [{"run": run_dir, "run_id": config.get("run_id")}
                for run_dir, _, config in loaded]
    return {"targets": targets, "teachers": recorded,
            "seconds": round(time.perf_counter() - begin, 1)}


def _shape_counts(task, kind, side, batch_size, max_buckets=8):
    """Distinct batch shapes (one XLA compile each) of the training and validation pipelines."""
    counts = {}
    for split in ("train", "validation"):
        lengths = kind.batch_lengths(task, split, side)
        counts[split] = (len(batch_shapes(lengths, batch_size, max_buckets=max_buckets))
                         if lengths else 0)
    return counts


def choose_settings(model_name, task, *, metric=None, side=None, model_kwargs=None,
                    learning_rate=None, auto_size=True):
    """What `train` fills in when the user leaves a setting out, and why.

    Returns:
        `(metric, model_kwargs, learning_rate, chosen)`: the settings to train with, and
        `chosen`, a dict of the filled-in settings with a reason each (stored in
        `config.json` and printed).

    Example:

    >>> metric, kwargs, lr, chosen = choose_settings("luong_bilstm", from_tsv("my.tsv"))
    """
    spec = zoo.get_spec(model_name)
    side, metric = check_options(model_name, side, metric)
    chosen = {}
    if metric is None:
        metric, why = kinds.get(spec.kind).choose_metric(task)
        chosen["metric"] = {"value": metric, "why": why}
    model_kwargs = dict(model_kwargs or {})
    if auto_size:
        sizes, why = defaults.choose_size(model_name, task, model_kwargs)
        if sizes:
            chosen["model_kwargs"] = {"value": sizes, "why": why}
            model_kwargs = {**sizes, **model_kwargs}
    if learning_rate is None:
        learning_rate = spec.training.get("learning_rate", 1e-3)
        chosen["learning_rate"] = {"value": learning_rate,
                                   "why": f"the recommended rate of {model_name}"}
    return metric, model_kwargs, learning_rate, chosen


def train(model_name, task, out_dir, *, epochs=30, batch_size=64, learning_rate=None,
          label_smoothing=None, model_kwargs=None, jit=True, mixed_precision=False, seed=0,
          log_dir=None, resume=False, metric=None, max_eval_examples=500, task_spec=None,
          verbose="auto", num_sample_examples=4, extra_callbacks=(), side=None, mask_rate=0.15,
          schedule="plateau", warmup_steps=None, clipnorm=1.0, recipe=None, patience="auto",
          max_minutes=None, auto_size=True, overwrite=False, keep_epochs=5, devices=1,
          model_axis=1, target_order=None, max_buckets=8, final="auto", teachers=None,
          teacher_weight=0.5, teacher_top_k=8):
    """Train a zoo model on a task and write a run directory.

    A seq2seq entry learns the task's pairs and keeps the epoch with the best decode-based
    metric. A language model (`zoo.get_spec(model_name).kind` `"lm"` or `"mlm"`) learns the
    texts of one `side` of the task (`Task.lm_dataset` / `Task.mlm_dataset`) and keeps the
    epoch with the lowest validation perplexity; nothing is decoded during its training.

    With the defaults it trains like a practitioner would: the entry's recommended learning
    rate, warmed up linearly over the first epoch (at most 1000 steps) and halved whenever an
    epoch (and at least 500 steps) brings no better validation value (`"plateau"`); training
    stops 3 epochs (and at least 1500 steps) after the best one (`epochs` is an upper bound); the validation metric follows the targets (exact
    match for words, chrF for sentences) and a recurrent model's width follows the data
    (`keras_s2s.training.defaults`). What was chosen is logged and stored in `config.json`
    under `"chosen"`.

    Args:
        model_name: Zoo entry name.
        task: A `keras_s2s.data.Task`.
        out_dir: The run directory.
        epochs: The most epochs to train (training stops earlier by `patience`), or
            `"auto"` (what `keras-s2s train` passes): 30, or for a small task (30 epochs
            under 7,680 optimizer steps) that many steps, at most 100 epochs, when
            `schedule` and `patience` are `"auto"` too
            (`keras_s2s.training.defaults.choose_budget`).
        batch_size: Training settings.
        learning_rate: The peak rate; the entry's recommended rate by default.
        label_smoothing: Of the loss; the entry's recommended value by default (0.1 for the
            seq2seq entries, 0 for the language models).
        model_kwargs: Hyperparameters for `zoo.build`.
        jit: Compile with XLA.
        mixed_precision: Train under `mixed_bfloat16`.
        seed: Seed of weights, shuffling, dropout and masks.
        log_dir: TensorBoard directory (scalars; for seq2seq also attention images and
            sample decodes).
        resume: Continue the interrupted training of `out_dir` (its work directory, see
            `keras_s2s.training.rundir`); the settings it started with fill in what is left
            out, and a different architecture or training setting is refused.
        overwrite: Replace the run already in `out_dir`. The old run stays whole until the
            new one publishes its first checkpoint.
        metric: Validation metric for the best checkpoint; chosen from the task by default
            (`keras_s2s.training.defaults.choose_metric`; `"perplexity"`, the only choice,
            for a language model).
        max_eval_examples: Validation examples decoded per epoch (seq2seq).
        task_spec: How to rebuild the task (recorded in `config.json`).
        verbose: Keras progress bar setting.
        num_sample_examples: Examples shown as sample decodes and attention images (0: none).
        extra_callbacks: More Keras callbacks.
        side: For a language model, `"target"` (default) or `"source"`: which side's texts it
            learns, with that side's tokenizer. Must be left out for seq2seq entries.
        mask_rate: For a masked LM, the share of tokens masked (see `Task.mlm_dataset`).
        schedule: `"plateau"` (default: warm-up, then halve on a validation plateau, see
            `keras_s2s.training.plateau.WarmupPlateau`), `"constant"`, `"cosine"`,
            `"inverse_sqrt"` or `"wsd"` (see `learning_rate_schedule`); `"auto"`:
            `"plateau"`, or `"cosine"` with no early stopping for a small task (see
            `epochs`).
        warmup_steps: Warm-up steps; for `"plateau"`, one epoch (at most 1000) by default.
        clipnorm: Gradient clipping norm of Adam.
        recipe: The recipe file's settings, recorded in `config.json` (see
            `keras_s2s.training.recipes`).
        patience: Stop this many epochs after the best validation epoch (None: never).
            `"auto"` (default): 3 epochs, or as many as make 1500 optimizer steps when
            epochs are short (`keras_s2s.training.defaults.patience_for`). The plateau
            schedule likewise halves the rate after 1 epoch, or 500 steps when longer.
        max_minutes: Stop after the first epoch that ends past this many minutes of training.
        auto_size: Choose a recurrent entry's `units`/`embedding_dim` from the data when
            `model_kwargs` leaves them out (`keras_s2s.training.defaults.choose_size`).
        keep_epochs: Keep the weights of the last this many epochs in the run's `epochs/`
            directory, for checkpoint averaging (`keras_s2s.training.averaging.average_run`,
            `keras-s2s average`); 0 keeps none.
        final: Which weights the run publishes as `model.keras`: `"best"`, the epoch with
            the best validation value; `"average"`, the mean of the `keep_epochs` kept
            epochs (`keras_s2s.training.averaging.average_weights`), scored on validation
            too; `"auto"` (default): `"average"` for a small task's cosine budget (`"best"`
            when `max_minutes` stops it before its last epoch), else `"best"`
            (`keras_s2s.training.defaults.choose_final`). What was published is in
            `config.json` under `results.final`.
        max_buckets: The most length buckets, so batch shapes and XLA compiles, of each of
            the training and validation pipelines (`Task.dataset`; default 8). Fewer
            compile less and pad more; 1 pads every batch to the longest example.
        devices: Train data-parallel on this many devices (`keras_s2s.distribution`): JAX's
            `DataParallel` or TensorFlow's `MirroredStrategy`. `batch_size` is the global
            batch and must be a multiple of `devices`. TensorFlow's replicated steps run
            without XLA (said in the log and in `config.json` under `"chosen"`).
            When `TF_CONFIG` names a cluster of two or more workers, training runs on all
            of them (`keras_s2s.workers`: TensorFlow's `MultiWorkerMirroredStrategy`,
            `devices` becomes the cluster's replica count); only the chief writes
            `out_dir`, and `resume` is refused.
        model_axis: With more than 1, shard the model too (JAX only,
            `keras_s2s.distribution.model_parallel`): the `devices` form a
            `(devices / model_axis, model_axis)` mesh, the Transformer entries' attention
            heads, feed-forward and embedding kernels split over the second axis.
        target_order: `"left-to-right"`, `"right-to-left"` (a seq2seq entry writes each
            target backwards: the run's target tokenizer gets `reverse=True`, so that
            decoding turns the output back) or `"auto"` (what `keras-s2s train` passes:
            `keras_s2s.training.defaults.choose_target_order`). None (default): the task's
            target tokenizer as it is (left to right unless built with `reverse=True`). A
            resumed run keeps its own order, and refuses another one given.
        teachers: Run directories of trained seq2seq models of the same data and tokenizers
            (seq2seq entries): the model learns from their averaged per-token distributions
            too, token-level knowledge distillation (`keras_s2s.training.distillation`). They
            read the training pairs once, before the first epoch.
        teacher_weight: The teachers' share of the loss, in [0, 1] (`DistillationLoss`).
        teacher_top_k: The teachers' most likely tokens kept per position.

    Returns:
        The run's config dict (also written to `config.json`).

    Example:

    >>> config = train("luong_bilstm", load_task("g2p"), "runs/g2p", epochs=5)
    >>> config = train("lstm_lm", load_task("g2p"), "runs/g2p_lm", side="target", epochs=5)
    """
    spec = zoo.get_spec(model_name)
    kind = kinds.get(spec.kind)
    side, metric = check_options(model_name, side, metric)
    if side is not None:
        task.tokenizer(side)  # raises on an unknown side
    if epochs != "auto" and (not isinstance(epochs, int) or isinstance(epochs, bool)
                             or epochs < 1):
        raise ValueError(f"Argument `epochs` must be a positive integer or \"auto\". "
                         f"Received: epochs={epochs!r}")
    if patience not in (None, "auto") and (not isinstance(patience, int) or patience < 1):
        raise ValueError(f"Argument `patience` must be a positive integer, \"auto\" or None. "
                         f"Received: patience={patience!r}")
    if target_order not in (None, "auto") + defaults.TARGET_ORDERS:
        raise ValueError(f"Argument `target_order` must be one of "
                         f"{['auto', *defaults.TARGET_ORDERS]}. Received: "
                         f"target_order={target_order!r}")
    if target_order == "right-to-left" and not kind.orders_targets:
        raise ValueError(f"Argument `target_order=\"right-to-left\"` is for seq2seq entries; "
                         f"{model_name} is a {kind.name} entry. Leave it out.")
    max_buckets = check_positive_int("max_buckets", max_buckets)
    if not isinstance(keep_epochs, int) or isinstance(keep_epochs, bool) or keep_epochs < 0:
        raise ValueError(f"Argument `keep_epochs` must be a non-negative integer. Received: "
                         f"keep_epochs={keep_epochs!r}")
    defaults.choose_final(final, False, keep_epochs)  # refuses a bad value before any work
    if teachers is not None:
        _check_teachers(model_name, kind, teachers, teacher_weight, teacher_top_k)
    _check_finite(learning_rate=learning_rate, label_smoothing=label_smoothing,
                  clipnorm=clipnorm, mask_rate=mask_rate, max_minutes=max_minutes)
    strategy = workers.multi_worker_strategy()  # None unless TF_CONFIG names a cluster
    cluster = workers.active()
    if cluster:
        devices = _cluster_devices(cluster, strategy, devices, model_axis, resume, batch_size)
    else:
        distribution.check_devices(devices, batch_size, model_axis)
    if cluster and not cluster.is_chief:
        log_dir = None  # the chief writes the run and its logs
    with workers.run_directory(out_dir) as out_dir, contextlib.ExitStack() as held:
        refused = None
        try:  # refuses what doesn't fit before anything is written
            run = RunDirectory(out_dir)
            run.check_path()
            held.enter_context(run.lock())
            run.recover()
            run.begin(resume, overwrite)
        except (ValueError, OSError) as error:
            refused = error
        if not workers.agree(refused is None):  # every worker starts, or none
            raise refused or distribution.DeviceError(
                "the chief worker refused the run directory; its log says why")
        if not resume:
            held.push(_discard_if_refused(run))
        stored = None  # a work directory without config.json stopped before writing it
        if resume and os.path.exists(run.work_file("config.json")):
            stored = _read_json(run.work_file("config.json"), "config.json")
        if stored:  # what the run was started with fills in what this call leaves out
            first = stored.get("training", {})
            model_kwargs = {**stored.get("model_kwargs", {}), **(model_kwargs or {})}
            learning_rate = first.get("learning_rate") if learning_rate is None \
                else learning_rate
            label_smoothing = first.get("label_smoothing") if label_smoothing is None \
                else label_smoothing
            metric = metric or first.get("metric")
            warmup_steps = first.get("warmup_steps") if warmup_steps is None else warmup_steps
            if teachers is None and first.get("teachers"):
                teachers = [t["run"] for t in first["teachers"]]
                teacher_weight = first.get("teacher_weight", teacher_weight)
                teacher_top_k = first.get("teacher_top_k", teacher_top_k)
        metric, model_kwargs, learning_rate, chosen = choose_settings(
            model_name, task, metric=metric, side=side, model_kwargs=model_kwargs,
            learning_rate=learning_rate, auto_size=auto_size and not stored)
        if stored:
            chosen = stored.get("chosen", {})
            started = stored.get("training", {}).get("target_order", "left-to-right")
            if target_order not in (None, "auto", started):
                raise RunDirectoryError(
                    f"--resume: {run.path} was started with target_order={started!r} (now "
                    f"{target_order!r}). Resume with the settings it started with, or start "
                    "again with --overwrite")
            target_order = started
        elif target_order == "auto" and kind.orders_targets:
            target_order, why = defaults.choose_target_order(
                task, model_name=model_name, model_kwargs=model_kwargs)
            chosen["target_order"] = {"value": target_order, "why": why}
        elif target_order == "auto":  # a kind whose targets are not written in order
            target_order = None
        elif (target_order == "right-to-left"
              and defaults.reads_source_in_order(model_name, task, model_kwargs)):
            log.warning("%s's attention only moves forward through the source; written right "
                        "to left, the targets align with it backwards (on past_tense this "
                        "cost it 5 to 8 more validation verbs wrong): --target-order auto "
                        "keeps them left to right", model_name)
        if target_order is not None:  # None: the target tokenizer as the task has it
            task = with_target_order(task, target_order)
        if label_smoothing is None:
            label_smoothing = spec.training.get("label_smoothing", 0.1)
        if cluster:
            chosen["workers"] = {"value": cluster.workers, "why": (
                f"TF_CONFIG names {cluster.workers} workers: MultiWorkerMirroredStrategy, "
                f"{devices} replicas in all; this process is {cluster.task_type} "
                f"{cluster.index}" + (", which writes the run" if cluster.is_chief else
                                      ", which trains into a scratch directory"))}
        if devices > 1:
            replicas = devices // model_axis
            chosen["devices"] = {"value": devices, "why": (
                f"data parallel: {batch_size // replicas} rows of each batch of {batch_size} "
                f"per replica" + (f", each replica's variables sharded over {model_axis} "
                                  "devices" if model_axis > 1 else ""))}
            if jit and keras.backend.backend() == "tensorflow":
                jit = False
                chosen["jit"] = {"value": False, "why": (
                    "TensorFlow cannot XLA-compile a step whose variables are mirrored on "
                    "several devices")}
        if jit and keras.backend.backend() == "torch":
            jit = False
            chosen["jit"] = {"value": False, "why": (
                "the PyTorch backend trains eagerly: Keras' jit_compile there is "
                "torch.compile, which took 168 s against 9 s eager for a tiny luong_bilstm "
                "fit on this CPU")}
        keras.utils.set_random_seed(seed)
        if mixed_precision:
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            with (strategy.scope() if cluster else
                  model_parallel(devices, model_axis) if model_axis > 1 else
                  data_parallel(devices)):
                return _train_in(run, stored, model_name, spec, kind, task, epochs=epochs,
                                 batch_size=batch_size, learning_rate=learning_rate,
                                 label_smoothing=label_smoothing, model_kwargs=model_kwargs,
                                 jit=jit, mixed_precision=mixed_precision, seed=seed,
                                 log_dir=log_dir, metric=metric,
                                 max_eval_examples=max_eval_examples, task_spec=task_spec,
                                 verbose=verbose, num_sample_examples=num_sample_examples,
                                 extra_callbacks=extra_callbacks, side=side, mask_rate=mask_rate,
                                 schedule=schedule, warmup_steps=warmup_steps, clipnorm=clipnorm,
                                 recipe=recipe, patience=patience, max_minutes=max_minutes,
                                 chosen=chosen, keep_epochs=keep_epochs, devices=devices,
                                 model_axis=model_axis, max_buckets=max_buckets,
                                 final=final, teachers=teachers,
                                 teacher_weight=teacher_weight, teacher_top_k=teacher_top_k)
        finally:
            if mixed_precision:
                keras.mixed_precision.set_global_policy("float32")


def _check_teachers(model_name, kind, teachers, weight, top_k):
    """Refuse distillation settings that can't work, before any data is loaded."""
    if not kind.ensembles:
        raise ValueError(f"Argument `teachers` is for seq2seq entries; {model_name} is a "
                         f"{kind.name} entry. Leave it out.")
    if (isinstance(teachers, str) or not isinstance(teachers, (list, tuple)) or not teachers
            or not all(isinstance(t, str) for t in teachers)):
        raise ValueError(f"Argument `teachers` must be a non-empty list of run directories. "
                         f"Received: teachers={teachers!r}")
    if (isinstance(weight, bool) or not isinstance(weight, (int, float))
            or not 0.0 <= weight <= 1.0):
        raise ValueError(f"Argument `teacher_weight` must be a number in [0, 1]. Received: "
                         f"teacher_weight={weight!r}")
    check_positive_int("teacher_top_k", top_k)


def _discard_if_refused(run):
    """An exit callback: a new training that fails with an error in its settings, data or
    model before its first epoch is saved leaves no work directory behind (a storage error
    keeps it, since its message says --resume; an interrupt keeps it, as a kill would)."""
    def exit_(exc_type, error, traceback):
        if isinstance(error, Exception) and not isinstance(error, (StorageError, OSError)):
            run.discard_unstarted()
        return False
    return exit_


def _cluster_devices(cluster, strategy, devices, model_axis, resume, batch_size):
    """The replica count of a `TF_CONFIG` cluster; refuses what several workers can't do."""
    replicas = strategy.num_replicas_in_sync
    if model_axis != 1:
        raise distribution.DeviceError(
            "--model-parallel runs on the JAX backend in one process; TF_CONFIG names "
            f"{cluster.workers} workers: drop --model-parallel or unset TF_CONFIG")
    if devices not in (1, replicas):
        raise distribution.DeviceError(
            f"--devices {devices}: TF_CONFIG names {cluster.workers} workers with {replicas} "
            f"replicas in all (each worker uses its own devices); leave --devices out")
    if resume:
        raise distribution.DeviceError(
            "--resume is not available with several workers (TF_CONFIG): only the chief "
            "keeps the run's backup; resume in one process, or start again with --overwrite")
    distribution.check_batch_split(batch_size, replicas)
    return replicas


def _check_finite(**values):
    for name, value in values.items():
        if value is not None and not (isinstance(value, (int, float))
                                      and math.isfinite(value)):
            raise ValueError(f"Argument `{name}` must be a finite number. Received: "
                             f"{name}={value!r}")
    if values.get("learning_rate") is not None and values["learning_rate"] <= 0:
        raise ValueError(f"Argument `learning_rate` must be positive. Received: "
                         f"learning_rate={values['learning_rate']!r}")


#: settings a resumed run must share with its start (the others, such as `epochs`, may change)
_RESUME_FIXED = ("model", "kind", "model_kwargs", "side", "task")
_RESUME_FIXED_TRAINING = ("batch_size", "learning_rate", "schedule", "warmup_steps",
                          "clipnorm", "label_smoothing", "seed", "metric", "mixed_precision",
                          "mask_rate", "teachers", "teacher_weight", "teacher_top_k")


def _resume_conflicts(stored, config):
    """What differs between the run's start (`stored`) and a `resume` call (`config`)."""
    conflicts = []
    for key in _RESUME_FIXED:
        old, new = stored.get(key), config.get(key)
        if key == "model_kwargs":
            for name in sorted(set(old or {}) | set(new or {})):
                if (old or {}).get(name) != (new or {}).get(name):
                    conflicts.append(f"{name}={(old or {}).get(name)!r} (now "
                                     f"{(new or {}).get(name)!r})")
        elif old != new and not (key == "task" and old == json.loads(json.dumps(new))):
            conflicts.append(f"{key}={old!r} (now {new!r})")
    old_training, new_training = stored.get("training", {}), config["training"]
    for key in _RESUME_FIXED_TRAINING:
        if key in old_training and old_training.get(key) != new_training.get(key):
            conflicts.append(f"{key}={old_training.get(key)!r} (now "
                             f"{new_training.get(key)!r})")
    return conflicts


class _PublishBest(keras.callbacks.Callback):
    """Publish the run (`RunDirectory.publish`) after each epoch that saved a new best model,
    with the progress so far in `config.json`."""

    def __init__(self, run, keeper, config):
        super().__init__()
        self.run, self.keeper, self.config = run, keeper, config

    def on_epoch_end(self, epoch, logs=None):
        if self.keeper.best_epoch != epoch + 1:
            return
        self.config["progress"] = {"epochs_done": epoch + 1, "best_epoch": epoch + 1,
                                   f"best_val_{self.keeper.metric}": self.keeper.best}
        atomic_write_json(self.run.work_file("config.json"), self.config)
        self.run.publish()


def _initial_epoch(run):
    path = os.path.join(run.backup, AtomicBackupAndRestore.METADATA)
    if not os.path.exists(path):
        return 0
    return int(_read_json(path, "the backup's metadata").get("epoch", 0))


def _train_in(run, stored, model_name, spec, kind, task, *, epochs, batch_size, learning_rate,
              label_smoothing, model_kwargs, jit, mixed_precision, seed, log_dir, metric,
              max_eval_examples, task_spec, verbose, num_sample_examples, extra_callbacks,
              side, mask_rate, schedule, warmup_steps, clipnorm, recipe, patience, max_minutes,
              chosen, keep_epochs, devices=1, model_axis=1, max_buckets=8, final="auto",
              teachers=None, teacher_weight=0.5, teacher_top_k=8):
    """`train` inside the locked run directory `run`; `stored` is the config of the run being
    resumed (None for a new run)."""
    model = build_for_task(model_name, task, side, **model_kwargs)
    distilled = None
    if teachers:  # after the model is built: loading the teachers leaves its seeds alone
        distilled = _teachers_targets(task, teachers, teacher_top_k)
    train_ds, val_ds = _datasets(task, kind, side, batch_size, seed, mask_rate, max_buckets,
                                 targets=distilled.pop("targets") if distilled else None)
    steps_per_epoch = int(train_ds.cardinality())
    epochs, schedule, patience, budget = defaults.choose_budget(steps_per_epoch, epochs,
                                                                schedule, patience)
    chosen.update(budget)
    final, why_final = defaults.choose_final(final, bool(budget), keep_epochs)
    if why_final:
        chosen["final"] = why_final
    if schedule == "plateau" and warmup_steps is None:
        warmup_steps = defaults.warmup_steps_for(steps_per_epoch)
        chosen["warmup_steps"] = {"value": warmup_steps,
                                  "why": "one epoch of warm-up, at most 1000 steps"}
    warmup_steps = warmup_steps or 0
    plateau_patience = 1
    if patience == "auto" or schedule == "plateau":
        plateau_patience = defaults.patience_for(steps_per_epoch, 1, defaults.PLATEAU_STEPS)
        stop_patience = defaults.patience_for(steps_per_epoch, 3, defaults.STOP_STEPS)
        steps = f"{steps_per_epoch} steps per epoch"
    if patience == "auto":
        patience = stop_patience
        chosen["patience"] = {"value": patience, "why": (
            f"3 epochs, at least {defaults.STOP_STEPS} steps ({steps})")}
    if schedule == "plateau":
        chosen["plateau_patience"] = {"value": plateau_patience, "why": (
            f"1 epoch, at least {defaults.PLATEAU_STEPS} steps ({steps})")}
    shapes = _shape_counts(task, kind, side, batch_size, max_buckets) if jit else None
    config = {
        "model": model_name, "kind": spec.kind, "model_kwargs": model_kwargs,
        "backend": keras.backend.backend(),
        "parameters": model.count_params(),
        "task": task_spec or {"name": task.name}, "task_summary": task.summary(),
        # what loading the data noticed: skipped lines, headers, duplicates, overlaps
        "data_report": {"skipped": dict(task.skipped), **dict(task.data_report)},
        "training": {"epochs": epochs, "batch_size": batch_size,
                     "learning_rate": learning_rate, "schedule": schedule,
                     "warmup_steps": warmup_steps, "clipnorm": clipnorm,
                     "label_smoothing": label_smoothing, "patience": patience,
                     "max_minutes": max_minutes, "keep_epochs": keep_epochs, "final": final,
                     "max_buckets": max_buckets,
                     "jit": jit, "mixed_precision": mixed_precision, "seed": seed,
                     "devices": devices, "model_axis": model_axis,
                     "metric": metric, "max_eval_examples": max_eval_examples,
                     "target_order": target_order_of(task.target_tokenizer)},
        "chosen": chosen,
        "xla_batch_shapes": shapes,
        "run_id": (stored or {}).get("run_id") or uuid.uuid4().hex,
        "complete": False,
    }
    if distilled:
        config["training"].update(teachers=distilled["teachers"], teacher_weight=teacher_weight,
                                  teacher_top_k=teacher_top_k,
                                  teacher_seconds=distilled["seconds"])
    if kind.reads_one_side:
        config["side"] = side
        config["training"]["max_eval_examples"] = None  # fit scores the whole split
        config["training"]["mask_rate"] = mask_rate
    if recipe is not None:
        config["recipe"] = recipe
    if stored:
        conflicts = _resume_conflicts(stored, config)
        for name, tokenizer in (("source", task.source_tokenizer),
                                ("target", task.target_tokenizer)):
            path = run.work_file(f"{name}_tokenizer.json")
            if os.path.exists(path) and load_tokenizer(path) != tokenizer:
                conflicts.append(f"the {name} tokenizer (the data changed)")
        if conflicts:
            raise RunDirectoryError(
                f"--resume: {run.path} was started with different settings: "
                f"{'; '.join(conflicts)}. Resume with the settings it started with, or start "
                "again with --overwrite")
    _log_choices(model_name, config)
    compile_model(model, learning_rate_schedule(learning_rate, schedule,
                                                steps_per_epoch * epochs, warmup_steps),
                  label_smoothing, clipnorm=clipnorm, jit=jit,
                  teacher_weight=teacher_weight if distilled else None)
    best_path, state_path = run.work_file("model.keras"), run.work_file("best.json")
    try:
        atomic_write_json(run.work_file("config.json"), config)
        for name, tokenizer in (("source", task.source_tokenizer),
                                ("target", task.target_tokenizer)):
            path = run.work_file(f"{name}_tokenizer.json")
            if not os.path.exists(path):  # a resumed run's tokenizers were checked above
                atomic_save(path, tokenizer.save)
        initial_epoch = _initial_epoch(run)
        # the guard comes first, so a NaN step ends fit before any callback saves the epoch;
        # the backup next: an epoch is saved before anything else can fail at its end
        guard = FiniteLossGuard()
        backup = AtomicBackupAndRestore(run.backup, delete_checkpoint=True)
        evaluation = kind.checkpoint(task, metric, save_best=best_path, state_path=state_path,
                                     max_examples=max_eval_examples, log_dir=log_dir)
        callbacks = [guard, backup, evaluation]
        if keep_epochs:  # before publishing, so a published run holds its own epoch
            callbacks.append(KeepLastEpochs(run.work_file(EPOCHS_DIR), keep_epochs))
        callbacks.append(_PublishBest(run, evaluation, config))
        if schedule == "plateau":
            callbacks.append(WarmupPlateau(evaluation, learning_rate, warmup_steps,
                                           patience=plateau_patience))
        stopper = PatienceStop(evaluation, patience) if patience else None
        timer = TimeLimit(max_minutes) if max_minutes else None
        callbacks += [c for c in (stopper, timer) if c is not None]
        if log_dir:
            callbacks.append(keras.callbacks.TensorBoard(log_dir))
        if log_dir and num_sample_examples:  # sample decodes, attention images (0: none)
            callbacks += kind.inspection_callbacks(task, log_dir, num_sample_examples)
        callbacks += list(extra_callbacks)
        start = time.perf_counter()
        history = model.fit(train_ds, validation_data=val_ds, epochs=epochs,
                            callbacks=callbacks, verbose=verbose, shuffle=False)
        config.pop("progress", None)
        config["complete"] = True
        config["results"] = {
            "seconds": time.perf_counter() - start,
            "epochs_run": initial_epoch + len(history.epoch),
            "epochs_this_session": len(history.epoch),
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            f"best_val_{metric}": evaluation.best,
            "best_epoch": evaluation.best_epoch,
            "stopped_early": bool(stopper and stopper.stopped_epoch),
            "stopped_by_time": bool(timer and timer.stopped_epoch),
        }
        cut_short = config["results"]["epochs_run"] < epochs
        if final == "average" and why_final and cut_short:
            # "auto" averages because the cosine budget ends with the rate at 0; a run that
            # --max-minutes stopped before that end keeps its best epoch instead
            config["results"]["final"] = {
                "weights": "best", "epoch": evaluation.best_epoch, "why": (
                    f"stopped after {config['results']['epochs_run']} of {epochs} epochs, "
                    "before the cosine budget's rate reached 0: the best epoch, not the "
                    "average of the last")}
            log.info("published the best epoch, %s: %s", evaluation.best_epoch,
                     config["results"]["final"]["why"])
        elif final == "average":
            config["results"]["final"] = _publish_average(model, run, evaluation, val_ds,
                                                          keep_epochs, best_path)
        else:
            config["results"]["final"] = {"weights": "best", "epoch": evaluation.best_epoch}
        if config["results"]["final"]["weights"] == "best" and evaluation.best is None:
            save_model(model, best_path)  # no evaluation ran (resumed after the last epoch)
        atomic_write_json(run.work_file("config.json"), config)
        run.finish()
        return config
    except NonFiniteLoss as error:
        kept = (f"{run.path} keeps the best model, of epoch {evaluation.best_epoch}"
                if evaluation.best_epoch else "no model was saved")
        raise NonFiniteLoss(error.value, error.epoch, error.step, detail=(
            f"; training stopped and {kept}. Start again with --overwrite and a lower "
            "--learning-rate")) from None
    except StorageError as error:
        raise StorageError(f"{error}. {run.path} still holds the last published model; free "
                           "space (or fix the permission), then rerun with --resume") from None
    except OSError as error:
        converted = storage_error(getattr(error, "filename", None) or run.work, error)
        if converted is None:
            raise
        raise StorageError(f"{converted}. {run.path} still holds the last published model; "
                           "free space (or fix the permission), then rerun with --resume"
                           ) from None


def _publish_average(model, run, evaluation, validation_data, keep_epochs, path):
    """Set `model` to the mean of the run's last `keep_epochs` kept epochs, score it on
    validation as the epochs were scored, and save it to `path` (the published
    `model.keras`); returns the record for `config["results"]["final"]`."""
    kept = kept_epochs(run.work_file(EPOCHS_DIR))[-keep_epochs:]
    if not kept:  # only when the epochs directory was emptied by hand: fit keeps every epoch
        raise RunDirectoryError(f"{run.work_file(EPOCHS_DIR)} holds no kept epoch to average; "
                                "train again with --final best")
    average_weights(model, [p for _, p in kept])
    value = float(evaluation.score(model, validation_data))
    save_model(model, path)
    epochs = [e for e, _ in kept]
    # TensorBoard: the published model's value, at its last epoch, beside the epochs' own
    evaluation.log_scalar(f"decode_{evaluation.metric}_published_average", value, epochs[-1])
    best = None if evaluation.best is None else f"{evaluation.best:.4f}"
    log.info("published the average of epochs %s: validation %s = %.4f (the best single "
             "epoch, %s: %s)", ", ".join(map(str, epochs)), evaluation.metric, value,
             evaluation.best_epoch, best)
    return {"weights": "average", "epochs": epochs, f"val_{evaluation.metric}": value,
            "best_epoch": evaluation.best_epoch}


def _log_choices(model_name, config):
    """Say what was filled in from the data, and the compile count."""
    for key, item in config["chosen"].items():
        log.info("chose %s = %s (%s)", key, item["value"], item["why"])
    training = config["training"]
    stop = (f"stop {training['patience']} epochs after the best" if training["patience"]
            else "no early stopping")
    log.info("training %s: up to %d epochs, %s, schedule %s, validation metric %s",
             model_name, training["epochs"], stop, training["schedule"], training["metric"])
    if config["xla_batch_shapes"]:
        shapes = config["xla_batch_shapes"]
        log.info("XLA compiles one step per batch shape: %d training, %d validation",
                 shapes["train"], shapes["validation"])


def _read_json(path, what):
    """A JSON object from a run's file; a damaged file raises `ValueError` naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); the run's {what} is "
                         "damaged") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a JSON {type(data).__name__}, not the object a run's "
                         f"{what} is; the file is damaged or not from keras-s2s")
    return data


def load_run(run_dir):
    """Load a run directory: `(model, source_tokenizer, target_tokenizer, config)`.

    `config["kind"]` is the model's kind; a language model's `config["side"]` says which
    tokenizer is its own (runs written before kinds existed are seq2seq runs).

    Raises:
        ValueError: One line naming the file and the problem: the directory is not a run
            (a missing file, or a training that has not published its first checkpoint yet),
            a file is damaged (truncated `model.keras`, invalid JSON), or the model's weights
            are not finite.

    Example:

    >>> model, source_tokenizer, target_tokenizer, config = load_run("runs/g2p")
    """
    run = RunDirectory(run_dir)
    if not os.path.isdir(run_dir):
        if os.path.isdir(run.next):
            raise ValueError(f"{run_dir} is being replaced by a training, or its replacement "
                             f"was interrupted ({run.next}); rerun that training with --resume")
        raise ValueError(f"no such run directory: {run_dir}")
    needed = ["model.keras", "source_tokenizer.json", "target_tokenizer.json", "config.json"]
    missing = [n for n in needed if not os.path.exists(os.path.join(run_dir, n))]
    if missing:
        if os.path.isdir(run.work):
            raise ValueError(f"{run_dir} has no model yet: its training ({run.work}) is still "
                             "running, or was interrupted before its first checkpoint (then "
                             "continue it with `keras-s2s train ... --resume`)")
        raise ValueError(f"{run_dir} is not a keras-s2s run directory: missing "
                         f"{', '.join(missing)} (written by `keras-s2s train --out DIR`).")
    config = _read_json(os.path.join(run_dir, "config.json"), "config.json")
    config.setdefault("kind", "seq2seq")
    tokenizers = []
    for name in ("source_tokenizer.json", "target_tokenizer.json"):
        path = os.path.join(run_dir, name)
        try:
            tokenizers.append(load_tokenizer(path))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path} can't be read ({type(error).__name__}: "
                             f"{_first_line(error)}); the run's tokenizer is damaged") from None
    path = os.path.join(run_dir, "model.keras")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is damaged: not a complete .keras file (truncated or "
                         "empty); retrain the run or restore the file")
    model = keras.saving.load_model(path, safe_mode=True)
    check_finite_weights(model, path)
    return (model, *tokenizers, config)


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else ""
