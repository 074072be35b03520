"""`evaluate(model, task)`: decode a split and score it with the metrics that fit the task."""

import time

import numpy as np

from keras_s2s import text_metrics
from keras_s2s.decoding import decode

# metric name -> function(hypotheses, references); references are lists per example
METRICS = {
    "bleu": text_metrics.corpus_bleu,
    "chrf": text_metrics.chrf,
    "wer": text_metrics.wer,
    "per": text_metrics.per,
    "cer": text_metrics.cer,
    "sequence_accuracy": text_metrics.sequence_accuracy,
}


def metric_function(name, task=None):
    """The scoring function for a metric name.

    For tasks whose targets are pronunciations (`g2p`), `"wer"` is the G2P word error rate:
    the share of words whose hypothesis matches none of the references
    (`text_metrics.sequence_error_rate`); elsewhere it is the usual word-level edit rate.
    """
    if name == "wer" and task is not None and task.name == "g2p":
        return text_metrics.sequence_error_rate
    if name not in METRICS:
        raise ValueError(f"Unknown metric '{name}'. Known metrics: {sorted(METRICS)}.")
    return METRICS[name]


def normalize_reference(task, text):
    """A reference as the target tokenizer would print it (e.g. punctuation split off)."""
    return task.target_tokenizer.decode(task.target_tokenizer.encode(text))


def evaluate(model, task, split="test", method="greedy", metrics=None, max_examples=None,
             batch_size=64, verbose="auto", **decode_kwargs):
    """Decode a split of a task and score the hypotheses against all references.

    Args:
        model: A keras_s2s seq2seq model trained on the task's tokenizers.
        task: A `keras_s2s.data.Task`.
        split: Which split to decode.
        method: `"greedy"`, `"beam"` or `"sample"` (see `keras_s2s.decoding.decode`).
        metrics: Metric names; defaults to `task.metrics`.
        max_examples: Score only the first n examples of the split.
        batch_size: Sources per compiled decoding call.
        verbose: Progress bar, as in `decode`.
        **decode_kwargs: More `decode` arguments (`beam_width`, `length_penalty`, ...).

    Returns:
        `(scores, details)`: a dict of metric values (rates as fractions, BLEU and chrF on
        0–100) plus `examples` and `seconds`, and a dict with the `sources`, `hypotheses`
        and `references`.

    Example:

    >>> scores, _ = evaluate(model, task, split="validation", method="beam", beam_width=5)
    >>> sorted(scores)
    ['examples', 'per', 'seconds', 'sequence_accuracy', 'wer']
    """
    sources, references = task.references(split)
    if max_examples is not None:
        sources, references = sources[:max_examples], references[:max_examples]
    if not sources:
        raise ValueError(f"Split '{split}' of task '{task.name}' is empty.")
    metrics = list(metrics or task.metrics)
    functions = {m: metric_function(m, task) for m in metrics}
    ids = task.encode_source(sources)
    start = time.perf_counter()
    result = decode(model, ids, method, batch_size=batch_size, verbose=verbose, **decode_kwargs)
    seconds = time.perf_counter() - start
    hypotheses = [task.decode_target(row[0]) for row in result.token_ids]
    references = [[normalize_reference(task, r) for r in refs] for refs in references]
    scores = {m: float(f(hypotheses, references)) for m, f in functions.items()}
    scores.update({"examples": len(sources), "seconds": seconds})
    return scores, {"sources": sources, "hypotheses": hypotheses, "references": references,
                    "log_probs": np.asarray(result.log_probs[:, 0])}
