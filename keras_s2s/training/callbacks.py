"""Callbacks for any `model.fit`: attention heatmaps, sample decodes, decode-based evaluation,
and the best checkpoint by a metric Keras computes (a language model's validation perplexity).

They decode with `keras_s2s.decoding.decode`, whose compiled function is cached per model and
settings, on fixed examples of fixed shape: nothing re-traces or recompiles between epochs.
Summaries go to `<log_dir>/samples` with `tf.summary` (TensorBoard's format).
"""

import json
import logging
import os

import keras
import numpy as np

from keras_s2s import kinds, workers
from keras_s2s.decoding import decode
from keras_s2s.evaluation import evaluate
from keras_s2s.inference import has_attention
from keras_s2s.plots import plot_attention
from keras_s2s.training.rundir import atomic_write_json, save_model

log = logging.getLogger("keras_s2s")
_HIGHER_IS_BETTER = {"bleu", "chrf", "sequence_accuracy", "accuracy", "unseen_token_accuracy"}


def _writer(log_dir):
    import tensorflow as tf

    return tf.summary.create_file_writer(os.path.join(log_dir, "samples"))


def _examples(task, split, num_examples, sources=None):
    """Fixed examples: the given source strings, or the first ones of a split."""
    if sources is not None:
        if isinstance(sources, str) or not sources:
            raise ValueError("`sources` must be a non-empty list of source strings.")
        known = {e.source: list(e.targets) for e in task.splits.get(split, [])}
        sources = list(sources)[:num_examples]
        return sources, [known.get(s, ["?"]) for s in sources]
    sources, references = task.references(split)
    return sources[:num_examples], references[:num_examples]


def _decodes_sources(callback):
    """Whether the callback's model decodes sources (its kind has a decoder that reads a
    source, not a prompt); warns once (and skips) otherwise."""
    kind = kinds.of(callback.model)
    decodes = kind.decodes_sources
    if not decodes and not getattr(callback, "_warned_kind", False):
        log.warning("%s: model '%s' (kind %s) has no source to decode; skipped.",
                    type(callback).__name__, callback.model.name, kind.name)
        callback._warned_kind = True
    return decodes


class AttentionImages(keras.callbacks.Callback):
    """Log attention heatmaps of fixed examples to TensorBoard as images.

    Source tokens run along one axis and output tokens along the other; the decode uses the
    model's inference graphs (greedy).

    Args:
        task: A `keras_s2s.data.Task` (its `split` gives the examples).
        log_dir: TensorBoard log directory (images go to `<log_dir>/samples`).
        every_n_epochs: Log every n epochs.
        num_examples: How many examples to draw.
        split: Which split to take them from.
        max_length: Decode length limit.
        sources: Optional list of source strings to draw instead of the split's first ones.

    Example:

    >>> model.fit(..., callbacks=[AttentionImages(task, "logs")])
    """

    def __init__(self, task, log_dir, every_n_epochs=1, num_examples=4, split="validation",
                 max_length=None, sources=None):
        super().__init__()
        self.task, self.log_dir = task, log_dir
        self.every_n_epochs, self.num_examples = int(every_n_epochs), int(num_examples)
        self.sources, _ = _examples(task, split, num_examples, sources)
        self.ids = task.encode_source(self.sources)
        self.max_length = max_length
        self._writer = None
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs or not _decodes_sources(self):
            return
        # a kind that decodes by itself returns its own alignments (a pointer model's are its
        # pointer distributions); a token model has them when its decoder attends
        if not (kinds.of(self.model).own_decode or has_attention(self.model)):
            if not self._warned:
                log.warning("AttentionImages: model '%s' has no attention; nothing to draw.",
                            self.model.name)
                self._warned = True
            return
        import tensorflow as tf

        # the source strings and the task: the model's kind encodes them (points or tokens)
        result = decode(self.model, list(self.sources), "greedy", return_alignments=True,
                        max_length=self.max_length, verbose=False, task=self.task)
        self._writer = self._writer or _writer(self.log_dir)
        with self._writer.as_default():
            for i, source in enumerate(self.sources):
                png = self.render(source, result.token_ids[i, 0], result.lengths[i, 0],
                                  result.alignments[i, 0])
                image = tf.expand_dims(tf.io.decode_png(png, channels=4), 0)
                tf.summary.image(f"attention/{i}_{source[:24]}", image, step=epoch + 1)
        self._writer.flush()

    def render(self, source, token_ids, length, alignment, path=None):
        kind = kinds.of(self.model) if self.model is not None else kinds.get("seq2seq")
        source_tokens = kind.source_labels(self.task, source)
        output_tokens, rows = kind.attention_rows(self.task, token_ids[:length], alignment)
        return plot_attention(rows, source_tokens, output_tokens, title=source, path=path)


class SampleDecodes(keras.callbacks.Callback):
    """Log source / reference / hypothesis triples of fixed examples as TensorBoard text.

    Args:
        task: A `keras_s2s.data.Task`.
        log_dir: TensorBoard log directory (text goes to `<log_dir>/samples`).
        every_n_epochs: Log every n epochs.
        num_examples: How many examples.
        split: Which split to take them from.
        method: Decoding method; `**decode_kwargs` go to `decode`.
        sources: Optional list of source strings to decode instead of the split's first ones
            (their references are looked up in the split, "?" when absent).

    Example:

    >>> model.fit(..., callbacks=[SampleDecodes(task, "logs", num_examples=8)])
    """

    def __init__(self, task, log_dir, every_n_epochs=1, num_examples=4, split="validation",
                 method="greedy", sources=None, **decode_kwargs):
        super().__init__()
        self.task, self.log_dir = task, log_dir
        self.every_n_epochs = int(every_n_epochs)
        self.sources, self.references = _examples(task, split, num_examples, sources)
        self.ids = task.encode_source(self.sources)
        self.method, self.decode_kwargs = method, decode_kwargs
        self._writer = None
        self.last_table = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs or not _decodes_sources(self):
            return
        import tensorflow as tf

        result = decode(self.model, list(self.sources), self.method, verbose=False,
                        task=self.task, **self.decode_kwargs)
        rows = ["| source | reference | hypothesis |", "| --- | --- | --- |"]
        for source, refs, texts in zip(self.sources, self.references, result.texts):
            rows.append(f"| {source} | {' / '.join(refs)} | {texts[0]} |")
        self.last_table = "\n".join(rows)
        self._writer = self._writer or _writer(self.log_dir)
        with self._writer.as_default():
            tf.summary.text("sample_decodes", self.last_table, step=epoch + 1)
        self._writer.flush()


class _KeepsBest(keras.callbacks.Callback):
    """Keeps the best value of a metric: saves the model on improvement, and remembers the best
    value in an optional JSON file so that an interrupted and resumed run does not forget it."""

    def __init__(self, metric, higher_is_better, save_best=None, state_path=None):
        super().__init__()
        self.metric, self.higher_is_better = metric, higher_is_better
        self.save_best, self.state_path = save_best, state_path
        self.best = self.best_epoch = None
        if state_path and os.path.exists(state_path):
            with open(state_path) as f:
                state = json.load(f)
            self.best, self.best_epoch = state.get("best"), state.get("epoch")
        self.history = []

    def _record(self, epoch, value, what):
        """Note the value of an epoch; returns whether it is the best so far.

        With several workers (`keras_s2s.workers`), every worker takes the chief's value, so
        that all of them keep the same best epoch and stop together."""
        value = workers.chief_value(value)
        self.history.append((epoch + 1, value))
        improved = self.best is None or (value > self.best if self.higher_is_better
                                         else value < self.best)
        if improved:
            self.best, self.best_epoch = value, epoch + 1
            if self.save_best:  # atomically: a kill or a full disk leaves the old file whole
                save_model(self.model, self.save_best)
            if self.state_path:
                atomic_write_json(self.state_path,
                                  {"metric": self.metric, "best": value, "epoch": epoch + 1})
        log.info("epoch %d: %s %s = %.4f%s", epoch + 1, what, self.metric, value,
                 " (best)" if improved else "")
        return improved

    def log_scalar(self, name, value, step):
        """Write a TensorBoard scalar beside the epochs' values (where this callback has a
        log directory; a no-op otherwise)."""


class DecodeEvaluation(_KeepsBest):
    """Decode a split at epoch end, add the metric to `logs`, log it, and keep the best model.

    The value is added to `logs` as `val_<metric>` (e.g. `val_wer`), so `EarlyStopping` and
    `ModelCheckpoint` placed after this callback can monitor it.

    Args:
        task: A `keras_s2s.data.Task`.
        split: Which split to decode.
        metric: `"bleu"`, `"chrf"`, `"wer"`, `"per"`, `"cer"`, `"sequence_accuracy"` (alias
            `"accuracy"`).
        method: Decoding method; `**decode_kwargs` go to `decode`.
        max_examples: Decode only the first n examples (faster epochs).
        save_best: Optional path; the model is saved there whenever the metric improves.
        log_dir: Optional TensorBoard log directory for the scalar.
        every_n_epochs: Evaluate every n epochs.
        state_path: Optional JSON file that keeps the best value across interrupted and
            resumed runs (read at start, written on every improvement).
        higher_is_better: For a metric that the model's kind computes itself (a pointer
            model's `tour_length_ratio`), whether higher values are better; None for the text
            metrics of `keras_s2s.text_metrics`, whose direction is known.

    Example:

    >>> callbacks = [DecodeEvaluation(task, metric="wer", save_best="best.keras"),
    ...              keras.callbacks.EarlyStopping("val_wer", patience=3)]
    """

    def __init__(self, task, split="validation", metric="bleu", method="greedy",
                 max_examples=None, save_best=None, log_dir=None, every_n_epochs=1,
                 state_path=None, higher_is_better=None, **decode_kwargs):
        metric = "sequence_accuracy" if metric == "accuracy" else metric
        if higher_is_better is None:
            from keras_s2s.evaluation import metric_function

            metric_function(metric, task)  # raises on an unknown metric
            higher_is_better = metric in _HIGHER_IS_BETTER
        super().__init__(metric, higher_is_better, save_best, state_path)
        self.task, self.split, self.method = task, split, method
        self.max_examples, self.log_dir = max_examples, log_dir
        self.every_n_epochs = int(every_n_epochs)
        self.decode_kwargs = decode_kwargs
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        value = self.score(self.model)
        if logs is not None:
            logs[f"val_{self.metric}"] = value
        self.log_scalar(f"decode_{self.metric}", value, epoch + 1)
        self._record(epoch, value, self.split)

    def log_scalar(self, name, value, step):
        if not self.log_dir:
            return
        import tensorflow as tf

        self._writer = self._writer or tf.summary.create_file_writer(
            os.path.join(self.log_dir, "validation"))
        with self._writer.as_default():
            tf.summary.scalar(name, value, step=step)
        self._writer.flush()

    def score(self, model, validation_data=None):
        """The metric of `model` (for example averaged weights) on what `on_epoch_end`
        decodes: the same split, method and `max_examples`.

        Example:

        >>> evaluation.score(averaged_model)   # e.g. 0.96 sequence accuracy
        """
        scores, _ = evaluate(model, self.task, self.split, self.method, metrics=[self.metric],
                             max_examples=self.max_examples, verbose=False,
                             **self.decode_kwargs)
        return scores[self.metric]


class BestCheckpoint(_KeepsBest):
    """Keep the model of the epoch with the best `val_<metric>` that Keras logged.

    For metrics that `model.fit` computes on its validation data, such as the
    `MaskedPerplexity` of a language model; unlike `keras.callbacks.ModelCheckpoint`, the best
    value survives an interrupted and resumed run (`state_path`).

    Args:
        metric: The name in `logs`, without `val_` (e.g. `"perplexity"`).
        save_best: Optional path; the model is saved there whenever the metric improves.
        state_path: Optional JSON file that keeps the best value across resumed runs.
        higher_is_better: Whether larger values are better.

    Example:

    >>> model.fit(..., validation_data=val, callbacks=[BestCheckpoint("perplexity", "best.keras")])
    """

    def __init__(self, metric="perplexity", save_best=None, state_path=None,
                 higher_is_better=False):
        super().__init__(metric, higher_is_better, save_best, state_path)

    def on_epoch_end(self, epoch, logs=None):
        key = f"val_{self.metric}"
        if not logs or key not in logs:
            raise ValueError(f"BestCheckpoint monitors '{key}', which is not in the epoch's logs "
                             f"({sorted(logs or {})}); pass validation_data to fit and compile "
                             "the model with that metric.")
        self._record(epoch, float(logs[key]), "validation")

    def score(self, model, validation_data):
        """The metric of `model` (for example averaged weights) on `validation_data`, as
        `fit` computes it for `logs`.

        Example:

        >>> checkpoint.score(averaged_model, validation_ds)   # e.g. 12.3 perplexity
        """
        return float(model.evaluate(validation_data, verbose=0, return_dict=True)[self.metric])
