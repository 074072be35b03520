"""The training recipe behind `keras-s2s train`, usable from Python too.

A run directory holds everything needed to decode and evaluate later:
`model.keras` (the best model by the validation metric), `source_tokenizer.json`,
`target_tokenizer.json`, and `config.json` (the model, the task, the training settings and
the results).
"""

import json
import logging
import os
import time

import keras

from keras_s2s import losses, metrics, zoo
from keras_s2s.data.tokenizers import load_tokenizer
from keras_s2s.training.callbacks import AttentionImages, DecodeEvaluation, SampleDecodes

log = logging.getLogger("keras_s2s")


def compile_model(model, learning_rate=1e-3, label_smoothing=0.1, clipnorm=1.0, jit=True):
    """Compile a zoo model the way the recipes do (Adam, masked loss and accuracy)."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
                  loss=losses.MaskedSparseCategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=[metrics.MaskedAccuracy()], jit_compile=jit)
    return model


def train(model_name, task, out_dir, *, epochs=10, batch_size=64, learning_rate=1e-3,
          label_smoothing=0.1, model_kwargs=None, jit=True, mixed_precision=False, seed=0,
          log_dir=None, resume=False, metric=None, max_eval_examples=500, task_spec=None,
          verbose="auto", num_sample_examples=4, extra_callbacks=()):
    """Train a zoo model on a task and write a run directory.

    Args:
        model_name: Zoo entry name.
        task: A `keras_s2s.data.Task`.
        out_dir: The run directory.
        epochs, batch_size, learning_rate, label_smoothing: Training settings.
        model_kwargs: Hyperparameters for `zoo.build`.
        jit: Compile with XLA.
        mixed_precision: Train under `mixed_bfloat16`.
        seed: Seed of weights, shuffling and dropout.
        log_dir: TensorBoard directory (scalars, attention images, sample decodes).
        resume: Continue an interrupted run from `<out_dir>/backup`.
        metric: Validation metric for the best checkpoint; the task's first metric by default.
        max_eval_examples: Validation examples decoded per epoch.
        task_spec: How to rebuild the task (recorded in `config.json`).
        verbose: Keras progress bar setting.
        num_sample_examples: Examples shown as sample decodes and attention images.
        extra_callbacks: More Keras callbacks.

    Returns:
        The run's config dict (also written to `config.json`).

    Example:

    >>> config = train("luong_bilstm", load_task("g2p"), "runs/g2p", epochs=5)
    """
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
        model = zoo.build(model_name, source_vocab_size=task.source_tokenizer.vocabulary_size,
                          target_vocab_size=task.target_tokenizer.vocabulary_size, **model_kwargs)
        compile_model(model, learning_rate, label_smoothing, jit=jit)
        task.source_tokenizer.save(os.path.join(out_dir, "source_tokenizer.json"))
        task.target_tokenizer.save(os.path.join(out_dir, "target_tokenizer.json"))
        metric = metric or task.metrics[0]
        best_path = os.path.join(out_dir, "model.keras")
        # the backup comes first: an epoch is saved before anything else can fail at its end
        backup = keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup"),
                                                  delete_checkpoint=True)
        evaluation = DecodeEvaluation(task, "validation", metric=metric,
                                      max_examples=max_eval_examples, save_best=best_path,
                                      log_dir=log_dir,
                                      state_path=os.path.join(out_dir, "best.json"))
        callbacks = [backup, evaluation]
        if log_dir:
            callbacks += [keras.callbacks.TensorBoard(log_dir),
                          SampleDecodes(task, log_dir, num_examples=num_sample_examples),
                          AttentionImages(task, log_dir, num_examples=min(num_sample_examples, 4))]
        callbacks += list(extra_callbacks)
        config = {
            "model": model_name, "model_kwargs": model_kwargs,
            "parameters": model.count_params(),
            "task": task_spec or {"name": task.name}, "task_summary": task.summary(),
            "training": {"epochs": epochs, "batch_size": batch_size,
                         "learning_rate": learning_rate, "label_smoothing": label_smoothing,
                         "jit": jit, "mixed_precision": mixed_precision, "seed": seed,
                         "metric": metric, "max_eval_examples": max_eval_examples},
        }
        _write_json(os.path.join(out_dir, "config.json"), config)
        train_ds = task.dataset("train", batch_size=batch_size, seed=seed)
        val_ds = task.dataset("validation", batch_size=batch_size, shuffle=False)
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
    return (model, load_tokenizer(os.path.join(run_dir, "source_tokenizer.json")),
            load_tokenizer(os.path.join(run_dir, "target_tokenizer.json")), config)
