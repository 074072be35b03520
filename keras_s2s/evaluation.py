"""`evaluate(model, task)`: score a model on a split of a task, the way its kind says.

`evaluate` asks the model's kind (`keras_s2s.kinds.of(model).evaluate`). The built-in kinds
use the two scorers of this module: a seq2seq model decodes the split and is scored with the
task's metrics against all references (`evaluate_decoded`); a language model (kind `"lm"` or
`"mlm"`) is scored by its perplexity and token accuracy on one side's texts, with teacher
forcing (`evaluate_language_model`).
"""

import dataclasses
import math
import time

import keras
import numpy as np

from keras_s2s import kinds
from keras_s2s.decoding import decode
from keras_s2s.text_metrics import METRICS, metric_function  # noqa: F401 (public here too)


def normalize_reference(task, text):
    """A reference as the target tokenizer would print it (e.g. punctuation split off), with
    its words kept: a word the vocabulary lacks stays itself, never `<unk>`, so a model that
    writes `<unk>` there is not credited with it (`Tokenizer.normalize`)."""
    return task.target_tokenizer.normalize(text)


def evaluate(model, task, split="test", method="greedy", metrics=None, max_examples=None,
             batch_size=64, verbose="auto", side="target", **decode_kwargs):
    """Score a model on a split of a task, as its kind does: decode and compare, perplexity...

    The model's kind (`keras_s2s.kinds.of(model)`) does the scoring. A seq2seq model decodes
    the split and the hypotheses are scored against all references (`evaluate_decoded`). A
    language model (kind `"lm"` or `"mlm"`) is scored by `evaluate_language_model` on the
    texts of `side`; `method` and `metrics` do not apply to it.

    Args:
        model: A keras_s2s model trained on the task's tokenizers.
        task: A `keras_s2s.data.Task`.
        split: Which split to score.
        method: `"greedy"`, `"beam"` or `"sample"` (see `keras_s2s.decoding.decode`).
        metrics: Metric names; defaults to `task.metrics`.
        max_examples: Score only the first n examples of the split.
        batch_size: Sources per compiled decoding call (texts per batch for an LM).
        verbose: Progress bar, as in `decode`.
        side: For a language model, which side's texts: `"target"` or `"source"`.
        **decode_kwargs: More `decode` arguments (`beam_width`, `length_penalty`, ...); for a
            masked LM, `mask_rate`, `max_selections` and `seed` of `Task.mlm_dataset`.

    Returns:
        `(scores, details)`: a dict of metric values (rates as fractions, BLEU and chrF on
        0–100) plus `examples` and `seconds`, and a dict with the `sources`, `hypotheses`
        and `references`. For a language model, see `evaluate_language_model`.

    Example:

    >>> scores, _ = evaluate(model, task, split="validation", method="beam", beam_width=5)
    >>> sorted(scores)
    ['examples', 'per', 'seconds', 'sequence_accuracy', 'wer']
    """
    return kinds.of(model).evaluate(model, task, split, method=method, metrics=metrics,
                                    max_examples=max_examples, batch_size=batch_size,
                                    verbose=verbose, side=side, **decode_kwargs)


def evaluate_decoded(model, task, split="test", method="greedy", metrics=None,
                     max_examples=None, batch_size=64, verbose="auto", **decode_kwargs):
    """Decode a split with a model that has a decoder and score the outputs.

    Args and returns as `evaluate` (for a seq2seq model).

    Example:

    >>> scores, details = evaluate_decoded(model, task, "validation", method="beam")
    """
    sources, references = task.references(split)
    if max_examples is not None:
        sources, references = sources[:max_examples], references[:max_examples]
    if not sources:
        raise ValueError(f"Split '{split}' of task '{task.name}' is empty.")
    metrics = list(metrics or task.metrics)
    functions = {m: metric_function(m, task) for m in metrics}
    start = time.perf_counter()
    # strings in, texts out: the model's kind encodes the sources and writes the outputs
    # (a pointer-generator's copied words included)
    result = decode(model, list(sources), method, batch_size=batch_size, verbose=verbose,
                    task=task, **decode_kwargs)
    seconds = time.perf_counter() - start
    hypotheses = [rows[0] for rows in result.texts]
    references = [[normalize_reference(task, r) for r in refs] for refs in references]
    scores = {m: float(f(hypotheses, references)) for m, f in functions.items()}
    scores.update({"examples": len(sources), "seconds": seconds})
    return scores, {"sources": sources, "hypotheses": hypotheses, "references": references,
                    "log_probs": np.asarray(result.log_probs[:, 0])}


def evaluate_language_model(model, task, split="test", side="target", max_examples=None,
                            batch_size=64, mask_rate=0.15, max_selections=None, seed=0,
                            max_buckets=8):
    """Perplexity and token accuracy of a language model on one side of a split.

    Every text of the side is scored (`Task.lm_dataset` or, for a masked LM, `Task.mlm_dataset`
    unshuffled, whose masks depend on `seed` alone); nothing is dropped but texts over the
    task's length limit, which are counted in `scores["overlong"]`. The perplexity is
    `exp(total NLL / predicted tokens)` over the whole split: every `y1..yn </s>` of an `"lm"`
    (the count `NGramLanguageModel.perplexity` uses), every masked position of an `"mlm"`.

    Args:
        model: A model of kind `"lm"` or `"mlm"` built for the side's tokenizer (an `"mlm"`
            has one id more, the mask token).
        task: A `keras_s2s.data.Task`.
        split: Which split to score.
        side: `"target"` or `"source"`.
        max_examples: Score only the texts of the first n examples.
        batch_size: Texts per batch.
        mask_rate, max_selections, seed: The masks of a masked LM (see `Task.mlm_dataset`).
        max_buckets: The most length buckets (batch shapes, so compiles) of the pipeline;
            `keras-s2s evaluate` passes the run's own (`train --max-buckets`).

    Returns:
        `(scores, details)`: `scores` holds `perplexity`, `token_accuracy`, `tokens` (predicted
        tokens), `examples` (texts), `overlong` and `seconds`; `details` holds `nll` (the
        total negative log-likelihood in nats) and `tokens`.

    Example:

    >>> scores, _ = evaluate_language_model(model, task, "test", side="target")
    >>> sorted(scores)
    ['examples', 'overlong', 'perplexity', 'seconds', 'token_accuracy', 'tokens']
    """
    from keras_s2s.metrics import MaskedAccuracy, MaskedPerplexity, perplexity

    kind = kinds.of(model)
    if not kind.reads_one_side:
        raise ValueError(f"Model '{model.name}' is a {kind.name} model, not a language model.")
    size = task.tokenizer(side).vocabulary_size
    expected = size + kind.extra_ids
    if model.output.shape[-1] != expected:
        plus = " + 1 for the mask token" if kind.extra_ids else ""
        raise ValueError(f"Model '{model.name}' predicts {model.output.shape[-1]} ids, but the "
                         f"{side} tokenizer of task '{task.name}' needs {expected} "
                         f"({size}{plus}). Was it trained on the other side?")
    if max_examples is not None:
        task = dataclasses.replace(task, splits={split: task._examples(split)[:max_examples]},
                                   overlong={})
    options = {"max_selections": max_selections} if max_selections is not None else {}
    dataset = kind.dataset(task, split, batch_size, side=side, shuffle=False, seed=seed,
                           mask_rate=mask_rate, max_buckets=max_buckets, **options)
    start = time.perf_counter()
    nll, accuracy = MaskedPerplexity(), MaskedAccuracy()
    tokens = texts = 0
    for inputs, labels in dataset.as_numpy_iterator():  # NumPy feeds every backend
        logits = model.predict_on_batch(inputs)
        nll.update_state(labels, logits)
        accuracy.update_state(labels, logits)
        tokens += int(np.count_nonzero(labels))
        texts += int(inputs["token_ids"].any(axis=1).sum())  # not the filler rows
    total = float(keras.ops.convert_to_numpy(nll.total))
    scores = {"perplexity": perplexity(-total, tokens) if tokens else math.nan,
              "token_accuracy": float(accuracy.result()), "tokens": tokens, "examples": texts,
              "overlong": task.overlong.get(f"{split}/{side}", 0),
              "seconds": time.perf_counter() - start}
    return scores, {"nll": total, "tokens": tokens}
