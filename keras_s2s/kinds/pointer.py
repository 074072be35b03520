"""The `pointer` kind: float inputs in, positions in the input out (pointer networks).

Inputs `points` `(batch, n, d)` float32, `point_mask` `(batch, n)` (1 = real input) and
`decoder_token_ids` `(batch, T)`: `<s>`, then the slots of the answer; output logits over slots
`(batch, T, NUM_SPECIAL_TOKENS + n)`; labels the answer's slots then `</s>` (slot
`NUM_SPECIAL_TOKENS + j` is input `j`; see `keras_s2s.zoo.pointer_networks`).

Data come as a `Task` in the pointer text format (`keras_s2s.data.pointer_format`): sources
`"x y; x y; ..."`, targets `"i j k"`, from the built-in tasks (`convex_hull`, `tsp`,
`sort_numbers`) or from a user's TSV through `keras-s2s train`; the tokenizers are not used.
`decode` points with `keras_s2s.decoding.pointer.decode_points` (greedy or beam search over
positions, with the task's constraint); `evaluate` scores the positions with the paper's
metrics (`keras_s2s.data.pointer_metrics`) and the text metrics the task names.

Example:

>>> kind = keras_s2s.kinds.get("pointer")
>>> x, y = next(iter(kind.dataset(load_task("sort_numbers", n=5), "train", 32)))
>>> sorted(x)
['decoder_token_ids', 'point_mask', 'points']
"""

import time

import numpy as np

from keras_s2s import kinds
from keras_s2s.constants import (BOS_ID, DECODER_TOKEN_IDS, EOS_ID, NUM_SPECIAL_TOKENS,
                                 POINT_MASK, POINTS)
from keras_s2s.data.pointer_format import pad_points, parse_points, parse_positions
from keras_s2s.kinds.seq2seq import Seq2Seq


def _parsed(task, split):
    """`(points list, answers per example)` of a split, parsed once per task and split."""
    cache = task.__dict__.setdefault("_pointer_parsed", {})
    if split not in cache:
        examples = task.splits.get(split)
        if not examples:
            raise ValueError(f"Split '{split}' of task '{task.name}' is empty.")
        points, answers = [], []
        for i, example in enumerate(examples):
            where = f"{task.name} {split} example {i + 1}"
            p = parse_points(example.source, where)
            points.append(p)
            answers.append([parse_positions(t, len(p), where) for t in example.targets])
        if len({p.shape[1] for p in points}) > 1:
            raise ValueError(f"{task.name} {split}: sources have different numbers of features "
                             "per point; every point needs as many numbers")
        cache[split] = points, answers
    return cache[split]


def point_dim(task):
    """Features per input point in a pointer task (from its first training example)."""
    return int(_parsed(task, "train")[0][0].shape[1])


#: the metrics of `keras_s2s.data.pointer_metrics` that `evaluate` computes, and whether
#: higher is better (for choosing the best epoch)
POINTER_METRICS = {"hull_accuracy": True, "area_coverage": True, "tour_length_ratio": False,
                   "valid_tours": True, "tour_length": False, "optimal_tour_length": False}


def _metric(name, points, hypotheses, answers):
    """A pointer metric of `keras_s2s.data.pointer_metrics`, or None for a text metric."""
    from keras_s2s.data import pointer_metrics as pm

    first = [a[0] for a in answers]
    if name == "hull_accuracy":
        return pm.hull_exact_match(hypotheses, first)
    if name == "area_coverage":
        return pm.hull_area_coverage(points, hypotheses, first)["area_coverage"]
    tsp = {"tour_length_ratio": "ratio", "valid_tours": "valid", "tour_length":
           "predicted_length", "optimal_tour_length": "optimal_length"}
    if name in tsp:
        return pm.tsp_scores(points, hypotheses, first)[tsp[name]]
    return None


class Pointer(kinds.Kind):
    """Float inputs → positions in the input: `points`, `point_mask`, `decoder_token_ids`.

    Example:

    >>> keras_s2s.kinds.get("pointer").size_arguments(1000)
    {'point_dim': 2}
    """

    name = "pointer"
    summary = "inputs (points) to positions in the input"
    inputs = (kinds.InputSpec(POINTS, "float32", (None, None)), kinds.InputSpec(POINT_MASK),
              kinds.InputSpec(DECODER_TOKEN_IDS))
    has_decoder = True
    own_decode = True
    example_label_smoothing = 0.0  # smoothing would put mass on unchoosable slots (`loss`)
    fit_example = ('model.fit({"points": xy, "point_mask": real, "decoder_token_ids": dec_in}, '
                   'slots_out, epochs=10)')
    use_example = ('result = keras_s2s.decoding.decode(model, ["0.1 0.5; 0.9 0.2; 0.4 0.8"], '
                   'method="beam", beam_width=5)')

    def size_arguments(self, vocabulary_size):
        return {"point_dim": 2}

    def size_description(self, vocabulary_size):
        return "inputs of 2 features: points in the plane"

    def task_size_arguments(self, task, side):
        return {"point_dim": point_dim(task)}

    def check_options(self, model_name, side=None, metric=None):
        super().check_options(model_name, side)
        if metric is not None and metric not in POINTER_METRICS:
            from keras_s2s.text_metrics import metric_function

            metric_function(metric)  # raises, naming the known metrics
        return None, metric

    def choose_metric(self, task):
        """A built-in pointer task's own metric (tour length for the TSP), else exact match."""
        first = task.metrics[0]
        if first in POINTER_METRICS:
            return first, f"the {task.name} task's own metric"
        return "sequence_accuracy", "pointer outputs: exact match of the positions"

    # -------------------------------------------------------------- data
    def arrays(self, task, split):
        """`(inputs, labels)` NumPy arrays of a split: one row per (example, reference)."""
        points, answers = _parsed(task, split)
        rows = [(p, a) for p, refs in zip(points, answers) for a in refs]
        x, mask = pad_points([p for p, _ in rows])
        length = max(len(a) for _, a in rows) + 1
        decoder = np.zeros((len(rows), length), "int32")
        labels = np.zeros((len(rows), length), "int32")
        for i, (_, answer) in enumerate(rows):
            slots = np.asarray(answer, "int32") + NUM_SPECIAL_TOKENS
            labels[i, :len(slots)], labels[i, len(slots)] = slots, EOS_ID
            decoder[i, 0], decoder[i, 1:len(slots) + 1] = BOS_ID, slots
        return {POINTS: x, POINT_MASK: mask, DECODER_TOKEN_IDS: decoder}, labels

    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0,
                mask_rate=0.15, **kwargs):
        import tensorflow as tf

        x, y = self.arrays(task, split)
        # a partial last batch is padded with empty rows (labels 0: no loss), so every batch
        # has one shape and XLA compiles once
        missing = -len(y) % batch_size
        if missing:
            x = {k: np.concatenate([v, np.zeros((missing, *v.shape[1:]), v.dtype)])
                 for k, v in x.items()}
            y = np.concatenate([y, np.zeros((missing, y.shape[1]), y.dtype)])
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if (split == "train") if shuffle is None else shuffle:
            ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def batch_lengths(self, task, split, side=None):
        x, _ = self.arrays(task, split)
        return [x[DECODER_TOKEN_IDS].shape[1]] * len(task.splits[split])

    # -------------------------------------------------------------- training and scoring
    def loss(self, label_smoothing=0.0):
        """Masked cross-entropy over the slots, without label smoothing: smoothing spreads
        mass over every slot, including those that can never be chosen (logit -1e9), whose
        cross-entropy would swamp the loss (a smoothing of 0.1 gives a loss near 3e7)."""
        if label_smoothing:
            import logging

            logging.getLogger("keras_s2s").info(
                "label smoothing %s not applied: a pointer model's unchoosable slots would take "
                "its mass", label_smoothing)
        return super().loss(0.0)

    def checkpoint(self, task, metric, *, save_best, state_path, max_examples=None,
                   log_dir=None):
        from keras_s2s.training.callbacks import DecodeEvaluation

        higher = POINTER_METRICS.get(metric)  # None: a text metric, whose direction is known
        return DecodeEvaluation(task, "validation", metric=metric, max_examples=max_examples,
                                save_best=save_best, log_dir=log_dir, state_path=state_path,
                                higher_is_better=higher)

    def inspection_callbacks(self, task, log_dir, num_examples):
        from keras_s2s.training.callbacks import AttentionImages, SampleDecodes

        # sample decodes as positions, and the pointer distributions as images
        return [SampleDecodes(task, log_dir, num_examples=num_examples),
                AttentionImages(task, log_dir, num_examples=min(num_examples, 4))]

    # greedy, or beam search with `--beam`: the options of the token search
    evaluate_options = Seq2Seq.evaluate_options

    def evaluate(self, model, task, split, *, method="greedy", metrics=None,
                 max_examples=None, batch_size=64, verbose="auto", side="target", **kwargs):
        """Point at the split's sources and score the positions (exact match against any
        reference, and the task's pointer metrics)."""
        from keras_s2s.decoding.pointer import decode_points
        from keras_s2s.text_metrics import metric_function

        points, answers = _parsed(task, split)
        points, answers = points[:max_examples], answers[:max_examples]
        options = {**task.decode_options, **kwargs}
        start = time.perf_counter()
        result = decode_points(model, points, method, batch_size=batch_size, verbose=verbose,
                               **options)
        seconds = time.perf_counter() - start
        texts = [rows[0] for rows in result.texts]
        hypotheses = [[int(v) for v in t.split()] for t in texts]
        references = [[" ".join(map(str, a)) for a in refs] for refs in answers]
        scores = {}
        for name in list(metrics or task.metrics):
            value = _metric(name, points, hypotheses, answers)
            scores[name] = float(value if value is not None else
                                 metric_function(name, task)(texts, references))
        scores.update({"examples": len(points), "seconds": seconds})
        return scores, {"sources": [e.source for e in task.splits[split][:len(points)]],
                        "hypotheses": texts, "references": references,
                        "log_probs": np.asarray(result.log_probs[:, 0])}

    # -------------------------------------------------------------- decoding
    def decode(self, model, inputs, method="greedy", **options):
        """`keras_s2s.decoding.decode` for a pointer model: `decode_points`."""
        from keras_s2s.decoding.pointer import decode_points

        return decode_points(model, inputs, method, **options)

    def default_max_length(self, input_width):
        return input_width + 1

    def source_labels(self, task, source):
        """The labels of a source's inputs on an attention plot: their positions."""
        return [str(i) for i in range(len(parse_points(source)))]

    def output_labels(self, task, token_ids):
        return ["</s>" if t == EOS_ID else str(int(t) - NUM_SPECIAL_TOKENS) for t in token_ids]


kinds.register(Pointer())
