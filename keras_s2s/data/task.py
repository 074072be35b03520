"""`Task`: the pairs of a seq2seq problem, its tokenizers, and its tf.data pipelines.

TensorFlow is allowed here (tf.data); the rest of the package stays backend-agnostic.
"""

import dataclasses
import logging
import math

import numpy as np

from keras_s2s.data.tokenizers import BOS_ID, EOS_ID, PAD_ID, UNK_ID

log = logging.getLogger("keras_s2s")
SPLITS = ("train", "validation", "test")
SIDES = ("source", "target")


@dataclasses.dataclass(frozen=True)
class Example:
    """One source with one or more reference targets (e.g. every pronunciation of a word)."""

    source: str
    targets: tuple

    def __post_init__(self):
        if isinstance(self.targets, str):
            object.__setattr__(self, "targets", (self.targets,))
        else:
            object.__setattr__(self, "targets", tuple(self.targets))


@dataclasses.dataclass
class Task:
    """A seq2seq task: splits of `Example`s and the source and target tokenizers.

    Training and validation pipelines expand every example into one (source, target) pair per
    reference; evaluation scores a hypothesis against all references of its example.

    Attributes:
        name: The task name.
        splits: `{"train": [Example, ...], "validation": [...], "test": [...]}`.
        source_tokenizer: Tokenizer of the sources.
        target_tokenizer: Tokenizer of the targets.
        max_source_length: Pairs whose source has more tokens are left out of pipelines,
            counted in `overlong` and logged. None means no limit.
        max_target_length: The same for targets (`</s>` not counted).
        metrics: Names of the metrics `keras_s2s.evaluation.evaluate` reports for this task.
        description: One line about the data.
        skipped: Lines skipped while loading (`on_error="skip"`), per split.
        data_report: What loading the user's files noticed (`keras_s2s.data.from_tsv`):
            per file its lines, skipped lines, header line and exact duplicates, and per
            split the examples that are also in the training split. Empty for built-in tasks.
        decode_options: Decoding options that `evaluate` uses for this task unless told
            otherwise, e.g. `{"constraint": "permutation"}` for the tours of a pointer task.

    Example:

    >>> task = keras_s2s.data.load_task("reverse", num_train=100)
    >>> inputs, targets = next(iter(task.dataset("train", batch_size=8)))
    >>> sorted(inputs)
    ['decoder_token_ids', 'encoder_token_ids']
    """

    name: str
    splits: dict
    source_tokenizer: object
    target_tokenizer: object
    max_source_length: object = None
    max_target_length: object = None
    metrics: tuple = ("sequence_accuracy", "cer")
    description: str = ""
    skipped: dict = dataclasses.field(default_factory=dict)
    overlong: dict = dataclasses.field(default_factory=dict)
    data_report: dict = dataclasses.field(default_factory=dict)
    decode_options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for split in self.splits:
            if split not in SPLITS:
                raise ValueError(f"Unknown split '{split}'; splits are {SPLITS}.")

    # ------------------------------------------------------------------ sizes
    def split_sizes(self):
        """`{split: (examples, pairs)}`."""
        return {s: (len(ex), sum(len(e.targets) for e in ex)) for s, ex in self.splits.items()}

    def summary(self):
        """A few lines describing the task (split sizes, vocabularies, limits)."""
        lines = [f"task {self.name}: {self.description}".rstrip(": ")]
        for split, (examples, pairs) in self.split_sizes().items():
            extra = f", {self.skipped[split]} lines skipped" if self.skipped.get(split) else ""
            lines.append(f"  {split}: {examples} examples, {pairs} pairs{extra}")
        lines.append(f"  source vocabulary {self.source_tokenizer.vocabulary_size}, "
                     f"target vocabulary {self.target_tokenizer.vocabulary_size}")
        return "\n".join(lines)

    def _examples(self, split):
        if split not in self.splits:
            raise ValueError(f"Task '{self.name}' has no split '{split}'. It has: "
                             f"{sorted(self.splits)}.")
        return self.splits[split]

    def pairs(self, split):
        """Every (source, target) pair of a split, one per reference."""
        return [(e.source, t) for e in self._examples(split) for t in e.targets]

    def references(self, split):
        """Sources and their reference lists: `(sources, [[ref, ...], ...])`."""
        examples = self._examples(split)
        return [e.source for e in examples], [list(e.targets) for e in examples]

    # ------------------------------------------------------------------ encoding
    def encode_source(self, strings, max_length=None):
        """Encode source strings to a padded int32 array `(batch, max_len)` (0 = padding).

        Args:
            strings: A string or a list of strings.
            max_length: Optional width; longer sources raise `ValueError`.

        Returns:
            NumPy int32 array.
        """
        if isinstance(strings, str):
            strings = [strings]
        ids = [self.source_tokenizer.encode(s) for s in strings]
        return _pad(ids, max_length, "source")

    def encode_target(self, strings, max_length=None):
        """Encode target strings (without `<s>`/`</s>`) to a padded int32 array."""
        if isinstance(strings, str):
            strings = [strings]
        return _pad([self.target_tokenizer.encode(s) for s in strings], max_length, "target")

    def decode_target(self, token_ids):
        """Decode target ids back to strings; works on `(batch, length)` or `(batch, n, length)`.

        Decoding stops at `</s>` and skips padding, so `decode` results go in directly.
        """
        ids = np.asarray(token_ids)
        if ids.ndim == 1:
            return self.target_tokenizer.decode(ids)
        return [self.decode_target(row) for row in ids]

    def encode_pairs(self, split):
        """Token ids of every pair of a split, and how many pairs exceeded the length limits.

        Returns:
            `(source_ids, target_ids, overlong)`, two lists of int lists and a count.
        """
        sources, targets = [], []
        for _, _, s, t in self._kept_pairs(split):
            sources.append(s)
            targets.append(t)
        overlong = self.overlong[split]
        if overlong:
            log.warning("task %s, split %s: %d of %d pairs exceed max_source_length=%s or "
                        "max_target_length=%s and are left out of the pipeline", self.name,
                        split, overlong, overlong + len(sources), self.max_source_length,
                        self.max_target_length)
        return sources, targets, overlong

    def _kept_pairs(self, split):
        """`(source, target, source ids, target ids)` of every pair within the length limits;
        the pairs left out are counted in `overlong[split]` when the iteration ends."""
        overlong = 0
        for source, target in self.pairs(split):
            s = self.source_tokenizer.encode(source)
            t = self.target_tokenizer.encode(target)
            if ((self.max_source_length and len(s) > self.max_source_length)
                    or (self.max_target_length and len(t) > self.max_target_length)):
                overlong += 1
                continue
            yield source, target, s, t
        self.overlong[split] = overlong

    def tokenizer(self, side):
        """The tokenizer of one side: `"source"` or `"target"`."""
        if side not in SIDES:
            raise ValueError(f"Argument `side` must be one of {SIDES}. Received: side={side!r}")
        return self.source_tokenizer if side == "source" else self.target_tokenizer

    def encode_texts(self, split, side="target"):
        """Token ids of every text on one side of a split, for language models.

        The source side holds one text per example, the target side one per reference. Texts
        over that side's length limit are left out, counted in `overlong[f"{split}/{side}"]`
        and logged.

        Returns:
            `(ids, overlong)`: a list of int lists and a count.
        """
        tokenizer = self.tokenizer(side)
        examples = self._examples(split)
        if side == "source":
            texts, limit = [e.source for e in examples], self.max_source_length
        else:
            texts, limit = [t for e in examples for t in e.targets], self.max_target_length
        encoded = [tokenizer.encode(t) for t in texts]
        ids = [i for i in encoded if not limit or len(i) <= limit]
        overlong = self.overlong[f"{split}/{side}"] = len(encoded) - len(ids)
        if overlong:
            log.warning("task %s, split %s: %d of %d %s texts exceed the length limit %s and are "
                        "left out of the pipeline", self.name, split, overlong, len(encoded),
                        side, limit)
        if not ids:
            raise ValueError(f"Split '{split}' of task '{self.name}' has no {side} texts to batch.")
        return ids, overlong

    # ------------------------------------------------------------------ tf.data
    def dataset(self, split="train", batch_size=64, bucket=True, shuffle=None, seed=0,
                bucket_width=8, repeat=False, fixed_batch_size=True, max_buckets=8):
        """A tf.data pipeline of `({"encoder_token_ids", "decoder_token_ids"}, targets)`.

        The decoder input is `<s> y1 ... yn` and the target `y1 ... yn </s>`; everything is
        int32 padded with 0. With `bucket=True`, pairs are grouped by their longer side into at
        most `max_buckets` length buckets (`bucket_widths`: `bucket_width` tokens wide, growing
        geometrically for long data) and both sides are padded to the bucket's width, so a
        jit-compiled model compiles one step per bucket; without it, every batch is padded to
        the split's longest pair (one shape). No pair is dropped, except those over the length
        limits, which are counted in `task.overlong[split]` and logged. With `fixed_batch_size=True`, a last,
        partial batch of a bucket is filled up with all-padding rows, which the masked loss
        and metrics ignore, so that XLA never compiles a second batch size.

        Args:
            split: `"train"`, `"validation"` or `"test"`.
            batch_size: Pairs per batch.
            bucket: Whether to bucket by length.
            shuffle: Shuffle pairs (each epoch, under `seed`); defaults to True for "train".
            seed: Shuffle seed.
            bucket_width: Width of a length bucket, in tokens (widths are multiples of it).
            repeat: Repeat forever.
            fixed_batch_size: Fill partial batches with empty (all-padding) rows.
            max_buckets: The most length buckets (batch shapes) of the pipeline.

        Returns:
            A `tf.data.Dataset`.
        """
        sources, targets, _ = self.encode_pairs(split)
        if not sources:
            raise ValueError(f"Split '{split}' of task '{self.name}' has no pairs to batch.")
        columns = [sources, [[BOS_ID] + t for t in targets], [t + [EOS_ID] for t in targets]]
        return _pipeline(
            split, columns, lambda s, di, do: ({"encoder_token_ids": s, "decoder_token_ids": di}, do),
            batch_size=batch_size, bucket=bucket, shuffle=shuffle, seed=seed,
            bucket_width=bucket_width, repeat=repeat, fixed_batch_size=fixed_batch_size,
            max_buckets=max_buckets)

    def extended_labels(self, source, target):
        """The label ids of `target` for a pointer-generator with an extended vocabulary
        (kind `"copy_seq2seq"`): its ids, with every `<unk>` whose word occurs in `source` replaced by
        `target vocabulary size + j`, `j` the word's first position among the source tokens.

        Example:

        >>> task.target_tokenizer.vocabulary_size, task.extended_labels("meet zorro", "zorro")
        (12, [13])
        """
        return self._extend(self.source_tokenizer.pieces(source),
                            self.target_tokenizer.pieces(target),
                            self.target_tokenizer.encode(target))

    def _extend(self, source_tokens, target_tokens, target_ids):
        size = self.target_tokenizer.vocabulary_size
        first = {}
        for j, token in enumerate(source_tokens):
            first.setdefault(token, j)
        out = list(target_ids)
        if len(target_tokens) == len(out):
            for i, (token, id) in enumerate(zip(target_tokens, out)):
                if id == UNK_ID and token in first:
                    out[i] = size + first[token]
        return out

    def copy_dataset(self, split="train", batch_size=64, bucket=True, shuffle=None, seed=0,
                     bucket_width=8, repeat=False, fixed_batch_size=True, max_buckets=8):
        """A tf.data pipeline for a pointer-generator with an extended vocabulary (kind
        `"copy_seq2seq"`): `dataset`'s, with labels in the extended vocabulary.

        A target word that the target vocabulary lacks (encoded as `<unk>`) but that occurs in
        the source is labelled `target vocabulary size + j`, `j` its first position among the
        source's tokens: the model learns to copy it from there. The decoder input keeps
        `<unk>` for it, as the paper's decoder reads a copied word. Everything else (pairs,
        bucketing, length limits, shuffling, filled-up partial batches) is `dataset`'s.

        Args:
            As `dataset`.

        Returns:
            A `tf.data.Dataset` of `({"encoder_token_ids", "decoder_token_ids"}, labels)`.

        Example:

        >>> inputs, labels = next(iter(task.copy_dataset("train", batch_size=8)))
        """
        sources, targets, labels = [], [], []
        for source, target, s, t in self._kept_pairs(split):
            sources.append(s)
            targets.append(t)
            labels.append(self._extend(self.source_tokenizer.pieces(source),
                                       self.target_tokenizer.pieces(target), t))
        if not sources:
            raise ValueError(f"Split '{split}' of task '{self.name}' has no pairs to batch.")
        columns = [sources, [[BOS_ID] + t for t in targets], [t + [EOS_ID] for t in labels]]
        return _pipeline(
            split, columns, lambda s, di, do: ({"encoder_token_ids": s, "decoder_token_ids": di}, do),
            batch_size=batch_size, bucket=bucket, shuffle=shuffle, seed=seed,
            bucket_width=bucket_width, repeat=repeat, fixed_batch_size=fixed_batch_size,
            max_buckets=max_buckets)

    def lm_dataset(self, split="train", batch_size=64, side="target", bucket=True, shuffle=None,
                   seed=0, bucket_width=8, repeat=False, fixed_batch_size=True, max_buckets=8):
        """A tf.data pipeline of `({"token_ids"}, labels)` for a language model (kind "lm").

        The texts are one side of the task (`encode_texts`); `token_ids` is `<s> y1 ... yn` and
        the labels `y1 ... yn </s>`, int32 padded with 0: the target side of `dataset` under
        another key. Bucketing, shuffling, filled-up partial batches and length limits are
        those of `dataset`.

        Args:
            split: `"train"`, `"validation"` or `"test"`.
            batch_size: Texts per batch.
            side: `"target"` or `"source"`: which side's texts, with that side's tokenizer.
            bucket, shuffle, seed, bucket_width, repeat, fixed_batch_size, max_buckets: As in
                `dataset`.

        Returns:
            A `tf.data.Dataset`.

        Example:

        >>> inputs, labels = next(iter(task.lm_dataset("train", batch_size=8)))
        >>> list(inputs)
        ['token_ids']
        """
        ids, _ = self.encode_texts(split, side)
        columns = [[[BOS_ID] + t for t in ids], [t + [EOS_ID] for t in ids]]
        return _pipeline(split, columns, lambda x, y: ({"token_ids": x}, y),
                         batch_size=batch_size, bucket=bucket, shuffle=shuffle, seed=seed,
                         bucket_width=bucket_width, repeat=repeat,
                         fixed_batch_size=fixed_batch_size, max_buckets=max_buckets)

    def mlm_dataset(self, split="train", batch_size=64, side="target", mask_rate=0.15,
                    max_selections=None, bucket=True, shuffle=None, seed=0, bucket_width=8,
                    repeat=False, fixed_batch_size=True, max_buckets=8):
        """A tf.data pipeline of `({"token_ids", "mask_positions"}, mask_ids)` (kind "mlm").

        Each text of one side becomes `<s> y1 ... yn </s>`, batched like `dataset`; then
        `keras_hub.layers.MaskedLMMaskGenerator` selects `ceil(mask_rate * n)` of the `n` real
        tokens of every row (never `<pad>`, `<unk>`, `<s>` or `</s>`) and replaces 80% of them
        by the mask token, 10% by a random id and leaves 10% unchanged (BERT). The tokenizers
        have no mask token: its id is the side's `tokenizer.vocabulary_size`, so the model
        needs `vocab_size = tokenizer.vocabulary_size + 1`. A random replacement that draws the
        padding id becomes the mask token, so padding only ever ends a row.

        `mask_positions` `(batch, max_selections)` holds the positions and `mask_ids` the
        original ids, both 0 in unused slots (which the masked loss ignores). The masks are
        drawn in the pipeline. Unshuffled pipelines (validation and test by default) mask row
        by row, so their masks depend on `seed` alone: the same every epoch and every run.
        Shuffled ones mask whole batches, about 6x faster; TensorFlow Text then selects the
        positions of a batch's rows in parallel, in no fixed order, so training masks differ
        every epoch and are not reproducible.

        Args:
            split: `"train"`, `"validation"` or `"test"`.
            batch_size: Texts per batch.
            side: `"target"` or `"source"`.
            mask_rate: Share of the real tokens of a text selected for prediction, in (0, 1].
            max_selections: Slots per row (`P`); defaults to `ceil(mask_rate * n)` of the
                split's longest text, so that no selection is ever cut.
            seed: Seed of the shuffle and of the masks (None: unseeded).
            bucket, shuffle, bucket_width, repeat, fixed_batch_size, max_buckets: As in
                `dataset`.

        Returns:
            A `tf.data.Dataset`.
        """
        import keras_hub
        import tensorflow as tf

        shuffle = (split == "train") if shuffle is None else shuffle
        if not 0.0 < mask_rate <= 1.0:
            raise ValueError(f"Argument `mask_rate` must be in (0, 1]. Received: "
                             f"mask_rate={mask_rate!r}")
        ids, _ = self.encode_texts(split, side)
        if max_selections is None:
            max_selections = max(1, math.ceil(mask_rate * max(len(t) for t in ids)))
        if not isinstance(max_selections, int) or max_selections < 1:
            raise ValueError(f"Argument `max_selections` must be a positive integer. "
                             f"Received: max_selections={max_selections!r}")
        mask_id = self.tokenizer(side).vocabulary_size
        masker = keras_hub.layers.MaskedLMMaskGenerator(
            vocabulary_size=mask_id + 1, mask_selection_rate=mask_rate, mask_token_id=mask_id,
            mask_selection_length=max_selections,
            unselectable_token_ids=[PAD_ID, UNK_ID, BOS_ID, EOS_ID])

        def draw(token_ids):
            out = masker(token_ids)
            masked = tf.cast(out["token_ids"], "int32")
            masked = tf.where((masked == PAD_ID) & (token_ids != PAD_ID), mask_id, masked)
            return masked, tf.cast(out["mask_positions"], "int32"), tf.cast(out["mask_ids"], "int32")

        def mask(token_ids):
            if seed is not None:
                tf.random.set_seed(seed)  # traced: seeds this pipeline function's graph only
            if shuffle:
                masked, positions, labels = draw(token_ids)
            else:  # TF Text selects in a parallel loop over rows: row by row is reproducible
                masked, positions, labels = tf.map_fn(draw, token_ids, parallel_iterations=1,
                                                      fn_output_signature=(tf.int32,) * 3)
            return {"token_ids": masked, "mask_positions": positions}, labels

        columns = [[[BOS_ID] + t + [EOS_ID] for t in ids]]
        return _pipeline(split, columns, mask, batch_size=batch_size, bucket=bucket,
                         shuffle=shuffle, seed=seed, bucket_width=bucket_width, repeat=repeat,
                         fixed_batch_size=fixed_batch_size, max_buckets=max_buckets)


def bucket_widths(max_length, bucket_width=8, max_buckets=8):
    """The padded widths of the length buckets of a pipeline: at most `max_buckets` shapes.

    Every width is a multiple of `bucket_width` and the last one holds `max_length`. When
    `bucket_width`-wide steps would need more than `max_buckets` buckets, the widths grow
    geometrically instead (short sequences, the most common, keep tight buckets; long ones
    share wider ones), so a jit-compiled model compiles at most `max_buckets` train steps
    however long and varied the data is.

    Example:

    >>> bucket_widths(40)
    [8, 16, 24, 32, 40]
    >>> bucket_widths(200)
    [8, 16, 24, 32, 56, 80, 128, 200]
    >>> bucket_widths(200, max_buckets=1)
    [200]
    """
    if not isinstance(max_buckets, int) or max_buckets < 1:
        raise ValueError(f"Argument `max_buckets` must be a positive integer. "
                         f"Received: max_buckets={max_buckets!r}")
    last = -(-int(max_length) // bucket_width) * bucket_width
    steps = last // bucket_width
    if steps <= max_buckets:
        return [bucket_width * (i + 1) for i in range(steps)]
    # geometric steps: ratio r with bucket_width * r^(max_buckets - 1) = last
    ratio = (last / bucket_width) ** (1.0 / (max_buckets - 1)) if max_buckets > 1 else 1.0
    widths = []
    for i in range(max_buckets - 1):
        width = -(-int(round(bucket_width * ratio ** i)) // bucket_width) * bucket_width
        if not widths or width > widths[-1]:
            widths.append(width)
    if not widths or widths[-1] < last:  # max_buckets=1: one width, the longest
        widths.append(last)
    return widths


def batch_shapes(lengths, batch_size, bucket_width=8, max_buckets=8, bucket=True):
    """The distinct `(batch, width)` shapes a pipeline of rows of `lengths` yields.

    A jit-compiled model compiles one step per shape, so this is its compile count.
    """
    lengths = np.asarray(lengths)
    if not bucket:
        return [(batch_size, int(lengths.max()))]
    widths = bucket_widths(int(lengths.max()), bucket_width, max_buckets)
    used = np.unique(np.searchsorted(widths, lengths, side="left"))
    return [(batch_size, widths[i]) for i in used]


def _pipeline(split, columns, to_model, *, batch_size, bucket, shuffle, seed, bucket_width,
              repeat, fixed_batch_size, max_buckets=8):
    """Batch parallel columns of int lists (one row each per example) into padded int32 batches.

    Rows are bucketed by their longest column and every column of a batch is padded to its
    bucket's width (`bucket_widths`), so the pipeline has one shape per bucket; `to_model`
    maps a batch's columns to the `(inputs, labels)` the model takes. See `Task.dataset` for
    the rest.

    Only example indices travel through the per-example stages (shuffle, bucketing by a
    lookup of each example's length); each batch then gathers its rows from the columns,
    held as ragged tensors, and pads them at once. The batches are those of shuffling,
    bucketing and padding the rows themselves (same seed, same order, same contents;
    `tests/data/test_pipeline.py` holds that reference), at about half the CPU time.
    """
    import tensorflow as tf

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"Argument `batch_size` must be a positive integer. "
                         f"Received: batch_size={batch_size!r}")
    shuffle = (split == "train") if shuffle is None else shuffle
    sizes = [[len(r) for r in column] for column in columns]  # (columns, examples)
    ragged = tuple(
        tf.RaggedTensor.from_row_lengths(np.concatenate([np.asarray(r, "int32") for r in column]),
                                         row_sizes)
        for column, row_sizes in zip(columns, sizes))
    lengths = np.max(sizes, axis=0)
    ds = tf.data.Dataset.range(len(columns[0]))  # example indices
    if shuffle:
        ds = ds.shuffle(len(columns[0]), seed=seed, reshuffle_each_iteration=True)
    if bucket:
        widths = bucket_widths(int(lengths.max()), bucket_width, max_buckets)
        table = tf.constant(lengths, tf.int32)
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda i: tf.gather(table, i),
            bucket_boundaries=[w + 1 for w in widths[:-1]],
            bucket_batch_sizes=[batch_size] * len(widths), pad_to_bucket_boundary=False)
        # pad every column of a batch to its bucket's width: one shape (one XLA compile) a bucket
        ds = ds.map(lambda rows: _gather_padded(ragged, rows, _bucket_width(table, rows,
                                                                            widths)))
    else:
        column_widths = [max(len(r) for r in column) for column in columns]
        ds = ds.batch(batch_size).map(lambda rows: _gather_padded(ragged, rows, column_widths))
    if fixed_batch_size:
        ds = ds.map(lambda *batch: _pad_batch(batch, batch_size))
    ds = ds.map(to_model)  # sequential: seeded masks must be drawn in the batches' order
    ds = ds.apply(tf.data.experimental.assert_cardinality(
        _num_batches(lengths, batch_size, bucket_width if bucket else None, max_buckets)))
    if repeat:
        ds = ds.repeat()
    return ds.prefetch(tf.data.AUTOTUNE)


def _bucket_width(table, rows, widths):
    """The bucket width of a batch of example indices: the first width that holds its
    longest example."""
    import tensorflow as tf

    widths = tf.constant(widths, tf.int32)
    longest = tf.reduce_max(tf.gather(table, rows))
    return tf.gather(widths, tf.searchsorted(widths, tf.reshape(longest, [1]), side="left")[0])


def _gather_padded(ragged, rows, widths):
    """The columns' rows `rows`, as dense `(len(rows), width)` int32 batches padded with
    `PAD_ID`: one width for every column, or one each (a list)."""
    import tensorflow as tf

    if not isinstance(widths, list):
        widths = [widths] * len(ragged)
    dense = (tf.gather(column, rows).to_tensor(PAD_ID) for column in ragged)
    return tuple(tf.pad(t, [[0, 0], [0, w - tf.shape(t)[1]]]) for t, w in zip(dense, widths))


def _num_batches(lengths, batch_size, bucket_width, max_buckets=8):
    """Batches per epoch: per length bucket, ceil(rows / batch_size)."""
    if bucket_width is None:
        return -(-len(lengths) // batch_size)
    widths = bucket_widths(int(np.max(lengths)), bucket_width, max_buckets)
    counts = np.bincount(np.searchsorted(widths, lengths, side="left"))
    return int(sum(-(-c // batch_size) for c in counts if c))


def _pad_batch(tensors, batch_size):
    import tensorflow as tf

    missing = batch_size - tf.shape(tensors[0])[0]
    return tuple(tf.pad(t, [[0, missing], [0, 0]]) for t in tensors)


def _pad(ids, max_length, side):
    width = max([len(i) for i in ids] + [1])
    if max_length is not None:
        if width > max_length:
            raise ValueError(f"A {side} has {width} tokens, more than max_length={max_length}.")
        width = max_length
    out = np.zeros((len(ids), width), "int32")
    for row, seq in enumerate(ids):
        out[row, :len(seq)] = seq
    return out
