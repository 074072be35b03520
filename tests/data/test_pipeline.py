"""`task._pipeline` against the per-example pipeline it replaced: the same batches.

The reference below shuffles, buckets and pads the rows themselves, one example at a time,
as tf.data's own `bucket_by_sequence_length` and `padded_batch` do; the pipeline moves only
example indices through those stages and gathers each batch's rows at once. With the same
seed, every batch of two epochs (reshuffled between them) must be identical.
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.data import task as task_lib
from keras_s2s.data.task import _num_batches, bucket_widths
from keras_s2s.data.tokenizers import PAD_ID


def _reference(columns, epochs, *, batch_size, bucket, shuffle, seed, bucket_width,
               fixed_batch_size, max_buckets):
    ragged = tuple(
        tf.RaggedTensor.from_row_lengths(np.concatenate([np.asarray(r, "int32") for r in column]),
                                         [len(r) for r in column])
        for column in columns)
    ds = tf.data.Dataset.from_tensor_slices(ragged)
    if shuffle:
        ds = ds.shuffle(len(columns[0]), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda *rows: rows)  # ragged rows -> dense vectors
    lengths = np.max([[len(r) for r in column] for column in columns], axis=0)
    padding = ([None],) * len(columns), (PAD_ID,) * len(columns)
    if bucket:
        widths = bucket_widths(int(lengths.max()), bucket_width, max_buckets)
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda *rows: tf.reduce_max([tf.shape(r)[0] for r in rows]),
            bucket_boundaries=[w + 1 for w in widths[:-1]],
            bucket_batch_sizes=[batch_size] * len(widths),
            padded_shapes=padding[0], padding_values=padding[1], pad_to_bucket_boundary=False)

        def to_bucket(*batch):
            longest = max(int(t.shape[1]) for t in batch)
            width = widths[int(np.searchsorted(widths, longest, side="left"))]
            return tuple(np.pad(t, [[0, 0], [0, width - t.shape[1]]]) for t in batch)
    else:
        widths = tuple([max(len(r) for r in column)] for column in columns)
        ds = ds.padded_batch(batch_size, padded_shapes=widths, padding_values=padding[1])

        def to_bucket(*batch):
            return batch
    out = []
    for batch in ds.repeat(epochs).as_numpy_iterator():
        batch = to_bucket(*batch)
        if fixed_batch_size:
            batch = tuple(np.pad(t, [[0, batch_size - t.shape[0]], [0, 0]]) for t in batch)
        out.append(batch)
    return out


def _columns(n, seed):
    rng = np.random.default_rng(seed)
    # three columns of uneven lengths (0 to 40 tokens, so several buckets and an empty row)
    sources = [list(rng.integers(4, 30, size=rng.integers(0, 41))) for _ in range(n)]
    targets = [list(rng.integers(4, 30, size=rng.integers(1, 25))) for _ in range(n)]
    return [sources, [[1] + t for t in targets], [t + [2] for t in targets]]


@pytest.mark.parametrize("bucket, shuffle, fixed_batch_size, max_buckets", [
    (True, True, False, 8), (True, False, False, 8), (False, True, False, 8),
    (True, True, True, 3), (True, True, False, 1)])
def test_batches_equal_the_per_example_pipeline(bucket, shuffle, fixed_batch_size, max_buckets):
    columns = _columns(301, seed=4)
    options = dict(batch_size=16, bucket=bucket, shuffle=shuffle, seed=7, bucket_width=8,
                   fixed_batch_size=fixed_batch_size, max_buckets=max_buckets)
    ds = task_lib._pipeline("train", columns, lambda *batch: batch, repeat=True, **options)
    per_epoch = _num_batches(np.max([[len(r) for r in c] for c in columns], axis=0), 16,
                             8 if bucket else None, max_buckets)
    got = [tuple(np.asarray(t) for t in batch)
           for batch in ds.take(2 * per_epoch).as_numpy_iterator()]
    two_epochs = _reference(columns, 2, **options)
    assert len(got) == len(two_epochs) == 2 * per_epoch
    for a, b in zip(got, two_epochs):
        assert len(a) == len(b) == 3
        for x, y in zip(a, b):
            assert x.dtype == np.int32 and x.shape == y.shape
            np.testing.assert_array_equal(x, y)
    if shuffle:  # the second epoch is reshuffled, not a copy of the first
        first = np.concatenate([b[0].ravel() for b in got[:per_epoch]])
        second = np.concatenate([b[0].ravel() for b in got[per_epoch:]])
        assert not np.array_equal(first, second)
