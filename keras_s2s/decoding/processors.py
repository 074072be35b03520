"""Generation controls applied to a step's logits: what fairseq and other generators offer.

Each function takes the step's logits `(rows, vocab)`, the tokens each row has emitted so
far, `history` `(rows, max_length)` (positions `>= t` not yet written) and the step `t`, and
returns the adjusted logits; `keras_s2s.decoding.decode` applies them inside its compiled
step function, where the history travels in the decoder state (so beam search reorders it
with each hypothesis). The searches then take the log-softmax of the adjusted logits: with
any of these controls on, `log_probs` are those of the adjusted distribution.

- `no_repeat_ngram`: never emit a token that would repeat an n-gram already in the output
  (fairseq's `--no-repeat-ngram-size`);
- `repetition_penalty`: divide the positive logits (multiply the negative ones) of every token
  already emitted by `penalty` (Keskar et al., 2019, CTRL);
- `length_limit`: force `</s>` at each row's own length limit (fairseq's
  `max_len_a · |source| + max_len_b`).

Example:

>>> logits = np.zeros((1, 6), "float32")
>>> out = no_repeat_ngram(logits, np.array([[4, 5, 4, 0]]), 3, 2)
>>> (ops.convert_to_numpy(out)[0] < -1e20).tolist()   # "4 5" was said: 5 may not follow 4 again
[False, False, False, False, False, True]
"""

from keras import ops

from keras_s2s.decoding._common import EOS_ID, NEG_INF


def _written(history, t):
    """`(rows, max_length)` bool: the positions already emitted (`< t`)."""
    return ops.expand_dims(ops.arange(ops.shape(history)[1]), 0) < ops.reshape(t, (-1, 1))


def no_repeat_ngram(logits, history, t, n):
    """Ban every token that would complete an n-gram already emitted.

    Args:
        logits: `(rows, vocab)`.
        history: `(rows, max_length)` int, the tokens emitted so far (valid below `t`).
        t: Int scalar or `(rows,)`, the number of tokens emitted.
        n: Python int >= 1, the n-gram size.

    Returns:
        The logits with the banned tokens at `NEG_INF`.
    """
    rows, length = ops.shape(history)[0], history.shape[1]
    vocab = ops.shape(logits)[1]
    if length is None or n > length:
        return logits
    t = ops.broadcast_to(ops.reshape(ops.cast(t, "int32"), (-1,)), (rows,))
    history = ops.cast(history, "int32")
    starts = length - n + 1  # every n-gram window of the buffer: positions j .. j + n - 1
    # the window's first n - 1 tokens must equal the last n - 1 emitted tokens
    match = ops.ones((rows, starts), "bool")
    for k in range(n - 1):
        window = history[:, k:k + starts]  # (rows, starts): token j + k
        last = ops.take_along_axis(history, ops.expand_dims(
            ops.maximum(t - (n - 1) + k, 0), 1), axis=1)  # (rows, 1): token t - n + 1 + k
        match = ops.logical_and(match, ops.equal(window, last))
    # a window counts when it lies in the output (j + n - 1 < t) and there are n - 1 tokens
    j = ops.expand_dims(ops.arange(starts), 0)
    valid = ops.logical_and(j + n - 1 < ops.expand_dims(t, 1), ops.expand_dims(t >= n - 1, 1))
    match = ops.logical_and(match, valid)
    banned_tokens = history[:, n - 1:n - 1 + starts]  # (rows, starts): token j + n - 1
    banned = ops.sum(ops.one_hot(banned_tokens, vocab) * ops.expand_dims(
        ops.cast(match, "float32"), -1), axis=1) > 0  # (rows, vocab)
    return ops.where(banned, ops.full_like(logits, NEG_INF), logits)


def repetition_penalty(logits, history, t, penalty):
    """Penalise the tokens already emitted: positive logits divided by `penalty`, negative
    ones multiplied by it (CTRL's rule; `penalty > 1` discourages repeats).

    Args:
        logits: `(rows, vocab)`.
        history: `(rows, max_length)` int.
        t: Int scalar or `(rows,)`, the number of tokens emitted.
        penalty: Float > 0.

    Returns:
        The adjusted logits.
    """
    vocab = ops.shape(logits)[1]
    seen = ops.sum(ops.one_hot(ops.cast(history, "int32"), vocab) * ops.expand_dims(
        ops.cast(_written(history, t), "float32"), -1), axis=1) > 0
    logits = ops.cast(logits, "float32")
    adjusted = ops.where(logits > 0, logits / penalty, logits * penalty)
    return ops.where(seen, adjusted, logits)


def length_limit(logits, t, limits):
    """Force `</s>` at each row's own limit: once `t + 1 == limits[row]`, only `</s>` may be
    emitted (so a row emits at most `limits[row]` tokens, `</s>` included).

    Args:
        logits: `(rows, vocab)`.
        t: Int scalar, the number of tokens emitted.
        limits: `(rows,)` int.

    Returns:
        The adjusted logits.
    """
    vocab = ops.shape(logits)[1]
    at_limit = ops.expand_dims(ops.cast(t, "int32") + 1 >= ops.cast(limits, "int32"), 1)
    not_eos = ops.expand_dims(ops.not_equal(ops.arange(vocab), EOS_ID), 0)
    return ops.where(ops.logical_and(at_limit, not_eos), ops.full_like(logits, NEG_INF),
                     logits)
