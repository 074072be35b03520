"""Token-level knowledge distillation from trained runs (teachers) into a new model (student).

Each teacher reads every training pair once, teacher-forced, before training starts; their
per-position distributions are averaged (an ensemble of teachers, as Sun et al., 2019, did
for G2P), cut to the `top_k` most likely tokens and renormalized. Training then mixes the
cross-entropy against the true ids with the cross-entropy against these distributions
(`keras_s2s.losses.DistillationLoss`; Hinton et al., 2015; Kim and Rush, 2016, "word-level").
The teachers run once, not every epoch, so distilling from four models costs four forward
passes over the training data, not four per step.

The soft targets travel through the training pipeline as one more int column, each target
position's row in a table of top-`k` ids and probabilities (row 0: padding), so that
shuffling, bucketing and padding are exactly `Task.dataset`'s: the same seed gives the same
batches, with distillation labels `(batch, T, 1 + 2k)` where `Task.dataset` has true ids.

`keras-s2s train ... --teacher RUN [--teacher RUN ...]` and the `train(teachers=[...])`
argument use it.
"""

import contextlib
import dataclasses
import logging
import time

import numpy as np

from keras_s2s import kinds
from keras_s2s.constants import DECODER_TOKEN_IDS, ENCODER_TOKEN_IDS
from keras_s2s.data.task import _pad, _pipeline, bucket_widths
from keras_s2s.data.tokenizers import BOS_ID, EOS_ID
from keras_s2s.layers._checks import check_positive_int

log = logging.getLogger("keras_s2s")

#: the teachers' batch widths: multiples of 8, at most 4 of them (one compile each)
WIDTH_MULTIPLE, MAX_WIDTHS = 8, 4


@dataclasses.dataclass
class TeacherTargets:
    """The teachers' top-`k` distributions over one split's target positions.

    Attributes:
        ids: `(positions + 1, k)` int32 token ids, row 0 all padding.
        probs: `(positions + 1, k)` float32 probabilities (each row sums to 1; row 0 to 0).
        rows: Per pair of the split (in `Task.encode_pairs` order), the table rows of its
            target positions, `y1 ... yn </s>`.
        teachers: The teachers' run directories.
    """

    ids: np.ndarray
    probs: np.ndarray
    rows: list
    teachers: list

    @property
    def top_k(self):
        return self.ids.shape[1]


def load_teachers(run_dirs, task):
    """Load the teachers' runs, and check that they read and write the task's tokens.

    Returns:
        A list of `(run_dir, model, config)`.

    Raises:
        ValueError: One line naming the run and the problem: not a run, not a seq2seq run,
            or tokenizers other than the task's (another vocabulary or target order).

    Example:

    >>> teachers = load_teachers(["runs/g2p_a", "runs/g2p_b"], load_task("g2p"))
    """
    from keras_s2s.training.recipe import load_run

    if isinstance(run_dirs, str) or not run_dirs:
        raise ValueError(f"Argument `teachers` must be a non-empty list of run directories. "
                         f"Received: teachers={run_dirs!r}")
    teachers = []
    for run_dir in run_dirs:
        model, source_tokenizer, target_tokenizer, config = load_run(run_dir)
        kind = kinds.get(config["kind"])  # load_run fills in "seq2seq" for older runs
        if not kind.ensembles:
            raise ValueError(f"teacher {run_dir} is a {kind.name} run; teachers must be runs "
                             "whose models decode together (seq2seq), as the student's does")
        for side, theirs, ours in (("source", source_tokenizer, task.source_tokenizer),
                                   ("target", target_tokenizer, task.target_tokenizer)):
            if theirs != ours:
                raise ValueError(
                    f"teacher {run_dir} has another {side} tokenizer than this training's "
                    "(its vocabulary or target order differs): distil from runs trained on "
                    "the same data, with the same --target-order")
        teachers.append((run_dir, model, config))
    return teachers


def teacher_targets(teachers, task, split="train", top_k=8, batch_size=256):
    """Run the teachers, teacher-forced, over a split's pairs and keep their averaged top-`k`
    distribution at every target position.

    Args:
        teachers: Loaded teachers, `load_teachers`' list (or models alone).
        task: The `keras_s2s.data.Task` whose split to read.
        split: Which split (`"train"`).
        top_k: Tokens kept per position (at most the target vocabulary).
        batch_size: Pairs per teacher batch.

    Returns:
        A `TeacherTargets`.

    Example:

    >>> targets = teacher_targets(load_teachers(["runs/g2p"], task), task, top_k=8)
    >>> targets.probs[targets.rows[0]].sum(-1)  # each position's kept mass, renormalized
    array([1., 1., 1., 1., 1.], dtype=float32)
    """
    top_k = check_positive_int("top_k", top_k)
    teachers = [t if isinstance(t, tuple) else (getattr(t, "name", "model"), t, {})
                for t in teachers]
    sources, targets, _ = task.encode_pairs(split)
    if not sources:  # as Task.dataset says it
        raise ValueError(f"Split '{split}' of task '{task.name}' has no pairs to batch.")
    lengths = [len(t) + 1 for t in targets]  # y1 ... yn </s>
    starts = np.concatenate([[1], 1 + np.cumsum(lengths)])  # row 0: padding
    longest = [max(len(s), n) for s, n in zip(sources, lengths)]  # of each pair's two sides
    order = np.argsort(longest, kind="stable")
    k = min(top_k, task.target_tokenizer.vocabulary_size)
    ids = np.zeros((int(starts[-1]), k), "int32")  # row 0: padding
    probs = np.zeros((int(starts[-1]), k), "float32")
    begin, batches = time.perf_counter(), -(-len(order) // batch_size)
    widths = bucket_widths(max(longest), WIDTH_MULTIPLE, MAX_WIDTHS)
    with _expected_retracing():
        for number, first in enumerate(range(0, len(order), batch_size), 1):
            real = list(order[first:first + batch_size])
            rows = real + [real[0]] * (batch_size - len(real))  # filled up with copies
            width = next(w for w in widths if w >= max(longest[i] for i in rows))
            inputs = {ENCODER_TOKEN_IDS: _pad([sources[i] for i in rows], width, "source"),
                      DECODER_TOKEN_IDS: _pad([[BOS_ID] + targets[i] for i in rows], width,
                                              "target")}
            mean = 0.0
            for run_dir, model, _ in teachers:
                logits = np.asarray(model.predict_on_batch(inputs), "float32")  # (B, T, V)
                if not np.isfinite(logits).all():  # never a silent NaN in the labels
                    raise ValueError(f"teacher {run_dir} gives non-finite outputs on the "
                                     f"{split} pairs; leave it out, or retrain it")
                mean = mean + _softmax(logits) / len(teachers)
            top = np.argsort(-mean, axis=-1, kind="stable")[..., :k]  # (B, T, k)
            kept = np.take_along_axis(mean, top, -1)
            kept /= np.maximum(kept.sum(-1, keepdims=True), 1e-12)
            for b, i in enumerate(real):
                ids[starts[i]:starts[i] + lengths[i]] = top[b, :lengths[i]]
                probs[starts[i]:starts[i] + lengths[i]] = kept[b, :lengths[i]]
            if number % 100 == 0 or number == batches:
                log.info("teachers: %d of %d batches of %s pairs, %.0f s", number, batches,
                         split, time.perf_counter() - begin)
    rows = [list(range(int(starts[i]), int(starts[i]) + lengths[i]))
            for i in range(len(sources))]
    return TeacherTargets(ids, probs, rows, [t[0] for t in teachers])


@contextlib.contextmanager
def _expected_retracing():
    """TensorFlow's warnings held back: every teacher compiles each width once, and TensorFlow
    counts those compiles together (its key is Keras' predict function, the same code for
    every model), so four teachers' 16 compiles read as "excessive retracing" to it."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(-1, keepdims=True)


def distillation_dataset(task, targets, split="train", batch_size=64, bucket=True,
                         shuffle=None, seed=0, bucket_width=8, repeat=False,
                         fixed_batch_size=True, max_buckets=8):
    """`Task.dataset`'s pipeline with distillation labels: the same batches (same seed, same
    order, same inputs), whose labels are `(batch, T, 1 + 2k)` float32: the true id, the
    teachers' top-`k` ids and their probabilities at every position
    (`keras_s2s.losses.split_distillation_labels`).

    Args:
        task: The task of `targets`.
        targets: `teacher_targets(..., split=split)`.
        split, batch_size, bucket, shuffle, seed, bucket_width, repeat, fixed_batch_size,
            max_buckets: As in `Task.dataset`.

    Returns:
        A `tf.data.Dataset` of `({"encoder_token_ids", "decoder_token_ids"}, labels)`.

    Example:

    >>> inputs, labels = next(iter(distillation_dataset(task, targets, batch_size=8)))
    """
    import tensorflow as tf

    sources, pairs_targets, _ = task.encode_pairs(split)
    if len(sources) != len(targets.rows):
        raise ValueError(f"the teachers' targets cover {len(targets.rows)} pairs and split "
                         f"'{split}' has {len(sources)}: compute them on this split")
    columns = [sources, [[BOS_ID] + t for t in pairs_targets],
               [t + [EOS_ID] for t in pairs_targets], targets.rows]
    ids = tf.constant(targets.ids.astype("float32"))
    probs = tf.constant(targets.probs)

    def to_model(s, di, do, rows):
        labels = tf.concat([tf.cast(do, tf.float32)[..., None], tf.gather(ids, rows),
                            tf.gather(probs, rows)], axis=-1)
        return {ENCODER_TOKEN_IDS: s, DECODER_TOKEN_IDS: di}, labels

    return _pipeline(split, columns, to_model, batch_size=batch_size, bucket=bucket,
                     shuffle=shuffle, seed=seed, bucket_width=bucket_width, repeat=repeat,
                     fixed_batch_size=fixed_batch_size, max_buckets=max_buckets)
