"""The training recipe behind `keras-s2s train`, usable from Python too.

A run directory holds everything needed to decode and evaluate later:
`model.keras` (the best model by the validation metric), `source_tokenizer.json`,
`target_tokenizer.json`, and `config.json` (the model, its kind, the side a language model
was trained on, the task, the training settings and the results).

Seq2seq entries are checkpointed by a decode-based metric (`DecodeEvaluation`); language
models (kinds `"lm"`, `"mlm"`) by their validation perplexity, which `model.fit` computes with
`keras_s2s.metrics.MaskedPerplexity` (`BestCheckpoint`).
"""

import json
import logging
import os
import time

import keras

from keras_s2s import losses, metrics, zoo
from keras_s2s.data.tokenizers import load_tokenizer
from keras_s2s.kinds import LANGUAGE_MODEL_KINDS, model_kind
from keras_s2s.training.callbacks import (
    AttentionImages,
    BestCheckpoint,
    DecodeEvaluation,
    SampleDecodes,
)

log = logging.getLogger("keras_s2s")


def learning_rate_schedule(learning_rate, schedule="constant", total_steps=None,
                           warmup_steps=0):
    """The learning rate (or Keras schedule) of a recipe.

    Args:
        learning_rate: The peak rate.
        schedule: `"constant"`; `"cosine"` (linear warm-up for `warmup_steps`, then cosine
            decay to 0 at `total_steps`); or `"inverse_sqrt"` (Vaswani et al.: linear warm-up,
            then `learning_rate * sqrt(warmup_steps / step)`).
        total_steps: Training steps in all (needed by `"cosine"`).
        warmup_steps: Steps of linear warm-up (needed by `"inverse_sqrt"`).

    Example:

    >>> lr = learning_rate_schedule(3e-3, "cosine", total_steps=10000, warmup_steps=500)
    """
    if schedule == "constant":
        return learning_rate
    if schedule == "cosine":
        if not total_steps:
            raise ValueError("the cosine schedule needs `total_steps` (epochs × steps per "
                             "epoch)")
        warmup = int(warmup_steps)
        return keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else learning_rate, decay_steps=max(1, total_steps - warmup),
            warmup_target=learning_rate if warmup else None, warmup_steps=warmup)
    if schedule == "inverse_sqrt":
        if not warmup_steps or warmup_steps <= 0:
            raise ValueError("the inverse_sqrt schedule needs `warmup_steps` > 0")
        return InverseSquareRoot(learning_rate, int(warmup_steps))
    raise ValueError(f"unknown schedule {schedule!r}; choose constant, cosine or inverse_sqrt")


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


def compile_model(model, learning_rate=1e-3, label_smoothing=0.1, clipnorm=1.0, jit=True):
    """Compile a zoo model the way the recipes do (Adam, masked loss and accuracy).

    `learning_rate` may be a float or a Keras schedule (see `learning_rate_schedule`).
    Language models (kinds `"lm"`, `"mlm"`) also get `MaskedPerplexity`, so that `fit` logs
    `perplexity` and `val_perplexity`.
    """
    extra = [metrics.MaskedPerplexity()] if model_kind(model) in LANGUAGE_MODEL_KINDS else []
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
                  loss=losses.MaskedSparseCategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=[metrics.MaskedAccuracy()] + extra, jit_compile=jit)
    return model


def build_for_task(model_name, task, side=None, **model_kwargs):
    """Build a zoo entry with the vocabulary sizes of a task's tokenizers.

    A seq2seq entry gets both sides' sizes. A language model gets `vocab_size` from the
    tokenizer of `side` (`"target"` by default); a masked LM (kind `"mlm"`) one id more, for
    the mask token, whose id is that tokenizer's `vocabulary_size` (see `Task.mlm_dataset`).

    Example:

    >>> model = build_for_task("lstm_lm", load_task("g2p"), side="target", units=64)
    """
    kind = zoo.get_spec(model_name).kind
    side, _ = check_options(model_name, side)
    if kind not in LANGUAGE_MODEL_KINDS:
        return zoo.build(model_name, source_vocab_size=task.source_tokenizer.vocabulary_size,
                         target_vocab_size=task.target_tokenizer.vocabulary_size, **model_kwargs)
    size = task.tokenizer(side).vocabulary_size
    return zoo.build(model_name, vocab_size=size + (kind == "mlm"), **model_kwargs)


def check_options(model_name, side=None, metric=None):
    """Check the kind-specific options of `train` before any data is loaded.

    Returns:
        `(side, metric)` with a language model's defaults filled in (`"target"`,
        `"perplexity"`); seq2seq entries keep `side=None` and their metric.

    Raises:
        ValueError: for `side` with a seq2seq entry, or a metric other than perplexity with a
            language model.
    """
    kind = zoo.get_spec(model_name).kind
    if kind not in LANGUAGE_MODEL_KINDS:
        if side is not None:
            raise ValueError(f"`side` picks the texts of a language model; '{model_name}' is a "
                             f"{kind} model, which reads both sides. Leave `side` out.")
        return None, metric
    if metric not in (None, "perplexity"):
        raise ValueError(f"'{model_name}' is a language model; its best epoch is chosen by "
                         f"validation perplexity, not by metric={metric!r}.")
    return side or "target", "perplexity"


def _datasets(task, kind, side, batch_size, seed, mask_rate):
    """The training and validation pipelines of a model kind."""
    def make(split, **kwargs):
        if kind == "lm":
            return task.lm_dataset(split, batch_size, side=side, **kwargs)
        if kind == "mlm":
            return task.mlm_dataset(split, batch_size, side=side, mask_rate=mask_rate, **kwargs)
        return task.dataset(split, batch_size=batch_size, **kwargs)

    return make("train", seed=seed), make("validation", shuffle=False, seed=seed)


def train(model_name, task, out_dir, *, epochs=10, batch_size=64, learning_rate=1e-3,
          label_smoothing=None, model_kwargs=None, jit=True, mixed_precision=False, seed=0,
          log_dir=None, resume=False, metric=None, max_eval_examples=500, task_spec=None,
          verbose="auto", num_sample_examples=4, extra_callbacks=(), side=None, mask_rate=0.15,
          schedule="constant", warmup_steps=0, clipnorm=1.0, recipe=None):
    """Train a zoo model on a task and write a run directory.

    A seq2seq entry learns the task's pairs and keeps the epoch with the best decode-based
    metric. A language model (`zoo.get_spec(model_name).kind` `"lm"` or `"mlm"`) learns the
    texts of one `side` of the task (`Task.lm_dataset` / `Task.mlm_dataset`) and keeps the
    epoch with the lowest validation perplexity; nothing is decoded during its training.

    Args:
        model_name: Zoo entry name.
        task: A `keras_s2s.data.Task`.
        out_dir: The run directory.
        epochs, batch_size, learning_rate: Training settings.
        label_smoothing: Of the loss; the entry's recommended value by default (0.1 for the
            seq2seq entries, 0 for the language models).
        model_kwargs: Hyperparameters for `zoo.build`.
        jit: Compile with XLA.
        mixed_precision: Train under `mixed_bfloat16`.
        seed: Seed of weights, shuffling, dropout and masks.
        log_dir: TensorBoard directory (scalars; for seq2seq also attention images and
            sample decodes).
        resume: Continue an interrupted run from `<out_dir>/backup`.
        metric: Validation metric for the best checkpoint; the task's first metric by default
            (`"perplexity"`, the only choice, for a language model).
        max_eval_examples: Validation examples decoded per epoch (seq2seq).
        task_spec: How to rebuild the task (recorded in `config.json`).
        verbose: Keras progress bar setting.
        num_sample_examples: Examples shown as sample decodes and attention images.
        extra_callbacks: More Keras callbacks.
        side: For a language model, `"target"` (default) or `"source"`: which side's texts it
            learns, with that side's tokenizer. Must be left out for seq2seq entries.
        mask_rate: For a masked LM, the share of tokens masked (see `Task.mlm_dataset`).
        schedule, warmup_steps: The learning-rate schedule (see `learning_rate_schedule`).
        clipnorm: Gradient clipping norm of Adam.
        recipe: The recipe file's settings, recorded in `config.json` (see
            `keras_s2s.training.recipes`).

    Returns:
        The run's config dict (also written to `config.json`).

    Example:

    >>> config = train("luong_bilstm", load_task("g2p"), "runs/g2p", epochs=5)
    >>> config = train("lstm_lm", load_task("g2p"), "runs/g2p_lm", side="target", epochs=5)
    """
    spec = zoo.get_spec(model_name)
    language_model = spec.kind in LANGUAGE_MODEL_KINDS
    side, metric = check_options(model_name, side, metric)
    if language_model:
        task.tokenizer(side)  # raises on an unknown side
    if label_smoothing is None:
        label_smoothing = spec.training.get("label_smoothing", 0.1)
    os.makedirs(out_dir, exist_ok=True)
    keras.utils.set_random_seed(seed)
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        if not resume and os.path.exists(os.path.join(out_dir, "backup")):
            raise ValueError(f"{out_dir} holds an interrupted run (backup/). Pass --resume to "
                             "continue it, or choose another --out.")
        if not resume and os.path.exists(os.path.join(out_dir, "best.json")):
            os.remove(os.path.join(out_dir, "best.json"))
        model_kwargs = dict(model_kwargs or {})
        model = build_for_task(model_name, task, side, **model_kwargs)
        train_ds, val_ds = _datasets(task, spec.kind, side, batch_size, seed, mask_rate)
        steps = int(train_ds.cardinality()) * epochs
        compile_model(model, learning_rate_schedule(learning_rate, schedule, steps, warmup_steps),
                      label_smoothing, clipnorm=clipnorm, jit=jit)
        task.source_tokenizer.save(os.path.join(out_dir, "source_tokenizer.json"))
        task.target_tokenizer.save(os.path.join(out_dir, "target_tokenizer.json"))
        metric = metric or task.metrics[0]
        best_path = os.path.join(out_dir, "model.keras")
        state_path = os.path.join(out_dir, "best.json")
        # the backup comes first: an epoch is saved before anything else can fail at its end
        backup = keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup"),
                                                  delete_checkpoint=True)
        if language_model:
            evaluation = BestCheckpoint(metric, save_best=best_path, state_path=state_path)
        else:
            evaluation = DecodeEvaluation(task, "validation", metric=metric,
                                          max_examples=max_eval_examples, save_best=best_path,
                                          log_dir=log_dir, state_path=state_path)
        callbacks = [backup, evaluation]
        if log_dir:
            callbacks.append(keras.callbacks.TensorBoard(log_dir))
        if log_dir and not language_model:  # an LM has no source to decode or attend over
            callbacks += [SampleDecodes(task, log_dir, num_examples=num_sample_examples),
                          AttentionImages(task, log_dir, num_examples=min(num_sample_examples, 4))]
        callbacks += list(extra_callbacks)
        config = {
            "model": model_name, "kind": spec.kind, "model_kwargs": model_kwargs,
            "parameters": model.count_params(),
            "task": task_spec or {"name": task.name}, "task_summary": task.summary(),
            "training": {"epochs": epochs, "batch_size": batch_size,
                         "learning_rate": learning_rate, "schedule": schedule,
                         "warmup_steps": warmup_steps, "clipnorm": clipnorm,
                         "label_smoothing": label_smoothing,
                         "jit": jit, "mixed_precision": mixed_precision, "seed": seed,
                         "metric": metric, "max_eval_examples": max_eval_examples},
        }
        if language_model:
            config["side"] = side
            config["training"]["max_eval_examples"] = None  # fit scores the whole split
            if spec.kind == "mlm":
                config["training"]["mask_rate"] = mask_rate
        if recipe is not None:
            config["recipe"] = recipe
        _write_json(os.path.join(out_dir, "config.json"), config)
        start = time.perf_counter()
        history = model.fit(train_ds, validation_data=val_ds, epochs=epochs,
                            callbacks=callbacks, verbose=verbose, shuffle=False)
        config["results"] = {
            "seconds": time.perf_counter() - start,
            "epochs_run": len(history.epoch),
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            f"best_val_{metric}": evaluation.best,
            "best_epoch": evaluation.best_epoch,
        }
        if evaluation.best is None:  # no evaluation ran (e.g. resumed after the last epoch)
            model.save(best_path)
        _write_json(os.path.join(out_dir, "config.json"), config)
        return config
    finally:
        if mixed_precision:
            keras.mixed_precision.set_global_policy("float32")


def _write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2, default=str)


def load_run(run_dir):
    """Load a run directory: `(model, source_tokenizer, target_tokenizer, config)`.

    `config["kind"]` is the model's kind; a language model's `config["side"]` says which
    tokenizer is its own (runs written before kinds existed are seq2seq runs).
    Raises `ValueError` naming the missing file when the directory is not a run.
    """
    needed = ["model.keras", "source_tokenizer.json", "target_tokenizer.json", "config.json"]
    missing = [n for n in needed if not os.path.exists(os.path.join(run_dir, n))]
    if missing:
        raise ValueError(f"{run_dir} is not a keras-s2s run directory: missing "
                         f"{', '.join(missing)} (written by `keras-s2s train --out DIR`).")
    model = keras.saving.load_model(os.path.join(run_dir, "model.keras"), safe_mode=True)
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    config.setdefault("kind", "seq2seq")
    return (model, load_tokenizer(os.path.join(run_dir, "source_tokenizer.json")),
            load_tokenizer(os.path.join(run_dir, "target_tokenizer.json")), config)
