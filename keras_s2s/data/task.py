"""`Task`: the pairs of a seq2seq problem, its tokenizers, and its tf.data pipelines.

TensorFlow is allowed here (tf.data); the rest of the package stays backend-agnostic.
"""

import dataclasses
import logging

import numpy as np

from keras_s2s.data.tokenizers import BOS_ID, EOS_ID, PAD_ID

log = logging.getLogger("keras_s2s")
SPLITS = ("train", "validation", "test")


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
        sources, targets, overlong = [], [], 0
        for source, target in self.pairs(split):
            s = self.source_tokenizer.encode(source)
            t = self.target_tokenizer.encode(target)
            if ((self.max_source_length and len(s) > self.max_source_length)
                    or (self.max_target_length and len(t) > self.max_target_length)):
                overlong += 1
                continue
            sources.append(s)
            targets.append(t)
        self.overlong[split] = overlong
        if overlong:
            log.warning("task %s, split %s: %d of %d pairs exceed max_source_length=%s or "
                        "max_target_length=%s and are left out of the pipeline", self.name,
                        split, overlong, overlong + len(sources), self.max_source_length,
                        self.max_target_length)
        return sources, targets, overlong

    # ------------------------------------------------------------------ tf.data
    def dataset(self, split="train", batch_size=64, bucket=True, shuffle=None, seed=0,
                bucket_width=8, repeat=False, fixed_batch_size=True):
        """A tf.data pipeline of `({"encoder_token_ids", "decoder_token_ids"}, targets)`.

        The decoder input is `<s> y1 ... yn` and the target `y1 ... yn </s>`; everything is
        int32 padded with 0. With `bucket=True`, pairs are grouped by length into buckets
        `bucket_width` tokens wide and padded to the bucket boundary, so a jit-compiled model
        sees only a few shapes; without it, every batch is padded to the split's longest
        pair (one shape). No pair is dropped, except those over the length limits, which are
        counted in `task.overlong[split]` and logged. With `fixed_batch_size=True`, a last,
        partial batch of a bucket is filled up with all-padding rows, which the masked loss
        and metrics ignore, so that XLA never compiles a second batch size.

        Args:
            split: `"train"`, `"validation"` or `"test"`.
            batch_size: Pairs per batch.
            bucket: Whether to bucket by length.
            shuffle: Shuffle pairs (each epoch, under `seed`); defaults to True for "train".
            seed: Shuffle seed.
            bucket_width: Width of a length bucket, in tokens.
            repeat: Repeat forever.
            fixed_batch_size: Fill partial batches with empty (all-padding) rows.

        Returns:
            A `tf.data.Dataset`.
        """
        import tensorflow as tf

        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"Argument `batch_size` must be a positive integer. "
                             f"Received: batch_size={batch_size!r}")
        sources, targets, _ = self.encode_pairs(split)
        if not sources:
            raise ValueError(f"Split '{split}' of task '{self.name}' has no pairs to batch.")
        shuffle = (split == "train") if shuffle is None else shuffle
        source_rt = tf.RaggedTensor.from_row_lengths(
            np.concatenate([np.asarray(s, "int32") for s in sources]), [len(s) for s in sources])
        dec_in = [[BOS_ID] + t for t in targets]
        dec_out = [t + [EOS_ID] for t in targets]
        dec_in_rt = tf.RaggedTensor.from_row_lengths(
            np.concatenate([np.asarray(t, "int32") for t in dec_in]), [len(t) for t in dec_in])
        dec_out_rt = tf.RaggedTensor.from_row_lengths(
            np.concatenate([np.asarray(t, "int32") for t in dec_out]), [len(t) for t in dec_out])
        ds = tf.data.Dataset.from_tensor_slices((source_rt, dec_in_rt, dec_out_rt))
        if shuffle:
            ds = ds.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True)
        ds = ds.map(lambda s, di, do: (s, di, do))  # ragged rows -> dense vectors
        longest = max(max(len(s) for s in sources), max(len(t) for t in dec_in))
        if bucket:
            boundaries = list(range(bucket_width + 1, longest + 1, bucket_width))
            ds = ds.bucket_by_sequence_length(
                element_length_func=lambda s, di, do: tf.maximum(tf.shape(s)[0], tf.shape(di)[0]),
                bucket_boundaries=boundaries,
                bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
                padded_shapes=([None], [None], [None]), padding_values=(PAD_ID, PAD_ID, PAD_ID),
                pad_to_bucket_boundary=False)
            # pad each batch to its bucket's width so that XLA sees few shapes
            ds = ds.map(lambda s, di, do: _pad_to_multiple((s, di, do), bucket_width))
        else:
            max_s = max(len(s) for s in sources)
            max_t = max(len(t) for t in dec_in)
            ds = ds.padded_batch(batch_size, padded_shapes=([max_s], [max_t], [max_t]),
                                 padding_values=(PAD_ID, PAD_ID, PAD_ID))
        if fixed_batch_size:
            ds = ds.map(lambda s, di, do: _pad_batch((s, di, do), batch_size))
        ds = ds.map(lambda s, di, do: ({"encoder_token_ids": s, "decoder_token_ids": di}, do),
                    num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.apply(tf.data.experimental.assert_cardinality(
            _num_batches(sources, dec_in, batch_size, bucket_width if bucket else None)))
        if repeat:
            ds = ds.repeat()
        return ds.prefetch(tf.data.AUTOTUNE)


def _num_batches(sources, dec_in, batch_size, bucket_width):
    """Batches per epoch: per length bucket, ceil(pairs / batch_size)."""
    if bucket_width is None:
        return -(-len(sources) // batch_size)
    longest = max(max(len(s) for s in sources), max(len(t) for t in dec_in))
    boundaries = np.asarray(list(range(bucket_width + 1, longest + 1, bucket_width)))
    lengths = np.maximum([len(s) for s in sources], [len(t) for t in dec_in])
    buckets = np.searchsorted(boundaries, lengths, side="right")
    counts = np.bincount(buckets)
    return int(sum(-(-c // batch_size) for c in counts if c))


def _pad_batch(tensors, batch_size):
    import tensorflow as tf

    missing = batch_size - tf.shape(tensors[0])[0]
    return tuple(tf.pad(t, [[0, missing], [0, 0]]) for t in tensors)


def _pad_to_multiple(tensors, multiple):
    import tensorflow as tf

    out = []
    for t in tensors:
        length = tf.shape(t)[1]
        target = ((length + multiple - 1) // multiple) * multiple
        out.append(tf.pad(t, [[0, 0], [0, target - length]]))
    return tuple(out)


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
