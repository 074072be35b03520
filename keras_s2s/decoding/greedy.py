"""Greedy search: the most probable next token at every step, for a whole batch at once."""

from keras import ops

from keras_s2s.decoding._common import BOS_ID, EOS_ID, PAD_ID, mask_forbidden, log_softmax


def greedy_search(step_fn, state, *, batch_size, max_length, constants=None, min_length=0,
                  source_length=1, return_alignments=False, bos_id=BOS_ID, eos_id=EOS_ID,
                  pad_id=PAD_ID):
    """Greedy decoding written once with `keras.ops.while_loop` over a step function.

    Args:
        step_fn: `step_fn(token_ids, state, constants) -> (logits, new_state, alignments)`,
            with token_ids `(batch,)`, logits `(batch, vocab)`, state a pytree of
            `(batch, ...)` tensors, and alignments `(batch, source_len)` or None.
        state: The initial state pytree.
        batch_size: Number of rows.
        max_length: Maximum number of generated tokens, `</s>` included.
        constants: A pytree handed unchanged to every step (e.g. the encoder memory).
        min_length: `</s>` is forbidden until this many tokens have been generated.
        source_length: Size of the alignment buffer's last axis.
        return_alignments: Whether to collect the step alignments.

    Returns:
        `(token_ids (batch, max_length), log_probs (batch,), alignments
        (batch, max_length, source_length) or None)`. Tokens after `</s>` are `pad_id`.

    Example:

    >>> def step_fn(tokens, state, constants):
    ...     return ops.one_hot(ops.minimum(tokens + 1, 3), 5) * 10.0, state, None
    >>> ids, _, _ = greedy_search(step_fn, {}, batch_size=1, max_length=4)
    >>> ops.convert_to_numpy(ids).tolist()
    [[3, 0, 0, 0]]
    """
    def choose(scores, t):
        return ops.cast(ops.argmax(scores, axis=-1), "int32")

    return single_path_loop(step_fn, state, choose, batch_size=batch_size,
                            max_length=max_length, constants=constants, min_length=min_length,
                            source_length=source_length, return_alignments=return_alignments,
                            bos_id=bos_id, eos_id=eos_id, pad_id=pad_id)


def single_path_loop(step_fn, state, choose, *, batch_size, max_length, constants=None,
                     min_length=0, source_length=1, return_alignments=False, bos_id=BOS_ID,
                     eos_id=EOS_ID, pad_id=PAD_ID):
    """The loop that greedy search and sampling share: one hypothesis per row.

    `choose(scores, t) -> (batch,) int32` picks the next token from the model's masked
    log-probabilities `scores` `(batch, vocab)` at step `t`; everything else (stopping at
    `</s>`, padding after it, summing the model's log-probabilities, collecting alignments) is
    done here once.
    """
    tokens = ops.zeros((batch_size, max_length), "int32")
    log_probs = ops.zeros((batch_size,), "float32")
    finished = ops.zeros((batch_size,), "bool")
    align_shape = (batch_size, max_length, source_length) if return_alignments else (1, 1, 1)
    alignments = ops.zeros(align_shape, "float32")
    previous = ops.full((batch_size,), bos_id, "int32")

    def cond(t, previous, state, tokens, log_probs, finished, alignments):
        return ops.logical_and(ops.less(t, max_length), ops.logical_not(ops.all(finished)))

    def body(t, previous, state, tokens, log_probs, finished, alignments):
        logits, state, step_alignments = step_fn(previous, state, constants)
        scores = mask_forbidden(log_softmax(logits), t, min_length, eos_id)
        chosen = ops.where(finished, pad_id, choose(scores, t))
        chosen_log_prob = ops.take_along_axis(scores, ops.expand_dims(chosen, -1), axis=-1)[:, 0]
        log_probs = log_probs + ops.where(finished, 0.0, chosen_log_prob)
        tokens = ops.slice_update(tokens, [0, t], ops.expand_dims(chosen, 1))
        if return_alignments:
            a = ops.where(ops.expand_dims(finished, 1), 0.0, ops.cast(step_alignments, "float32"))
            alignments = ops.slice_update(alignments, [0, t, 0], ops.expand_dims(a, 1))
        finished = ops.logical_or(finished, ops.equal(chosen, eos_id))
        return t + 1, chosen, state, tokens, log_probs, finished, alignments

    loop_vars = (ops.convert_to_tensor(0, "int32"), previous, state, tokens, log_probs, finished,
                 alignments)
    _, _, _, tokens, log_probs, _, alignments = ops.while_loop(cond, body, loop_vars)
    return tokens, log_probs, (alignments if return_alignments else None)
