"""Shared pieces of the decoding loops: special ids, checks, log-softmax and gathering."""

import math
import numbers

from keras import ops

from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID, UNK_ID  # noqa: F401
NEG_INF = -1e30  # finite "minus infinity": keeps -inf - (-inf) NaNs out of the loops


def check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"Argument `{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_float(name, value, low, high, low_open=False, high_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"Argument `{name}` must be a number in {interval}. Received: {name}={value!r}")
    return float(value)


def log_softmax(logits):
    """The log-softmax over the last axis, in float32 (mixed-precision logits included)."""
    return ops.log_softmax(ops.cast(logits, "float32"), axis=-1)


def mask_forbidden(log_probs, step, min_length, eos_id=EOS_ID):
    """Mask the tokens a decoder may not emit at `step`.

    `<pad>` and `<s>` are never emitted (a decoder that picked them would produce output that
    reads as padding or a restart), and `</s>` is masked while fewer than `min_length` tokens
    exist. Masked entries get NEG_INF; the others keep the model's own log-probabilities.
    """
    vocab = ops.shape(log_probs)[-1]
    positions = ops.arange(vocab)
    blocked = ops.logical_or(ops.equal(positions, PAD_ID), ops.equal(positions, BOS_ID))
    if min_length:
        blocked = ops.logical_or(blocked, ops.logical_and(ops.equal(positions, eos_id),
                                                          ops.less(step, min_length)))
    return ops.where(blocked, NEG_INF, log_probs)


def gather_rows(tree_of_tensors, indices):
    """Take rows `indices` (along axis 0) of every tensor of a pytree (dict, list, tensor)."""
    if isinstance(tree_of_tensors, dict):
        return {k: gather_rows(v, indices) for k, v in tree_of_tensors.items()}
    if isinstance(tree_of_tensors, (list, tuple)):
        return type(tree_of_tensors)(gather_rows(v, indices) for v in tree_of_tensors)
    return ops.take(tree_of_tensors, indices, axis=0)


def repeat_rows(tree_of_tensors, times):
    """Repeat each row `times` times: (batch, ...) -> (batch * times, ...), rows kept together."""
    if isinstance(tree_of_tensors, dict):
        return {k: repeat_rows(v, times) for k, v in tree_of_tensors.items()}
    if isinstance(tree_of_tensors, (list, tuple)):
        return type(tree_of_tensors)(repeat_rows(v, times) for v in tree_of_tensors)
    return ops.repeat(tree_of_tensors, times, axis=0)
