"""Ancestral sampling with temperature, top-k and top-p (nucleus) filtering."""

from keras import ops

from keras_s2s.decoding._common import BOS_ID, EOS_ID, NEG_INF, PAD_ID, mask_forbidden, log_softmax


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None):
    """Scale by temperature, then keep the top-k tokens and the smallest set above top_p.

    Args:
        logits: `(batch, vocab)`.
        temperature: Positive float.
        top_k: Optional positive integer.
        top_p: Optional float in (0, 1].

    Returns:
        Float32 logits with the removed tokens at a very negative value.

    Example:

    >>> out = filter_logits(np.log([[0.5, 0.3, 0.2]]), top_p=0.7)
    >>> (ops.convert_to_numpy(out) > -1e29).tolist()
    [[True, True, False]]
    """
    logits = ops.cast(logits, "float32") / temperature
    if top_k:
        kth = ops.top_k(logits, top_k)[0][:, -1:]  # (batch, 1)
        logits = ops.where(logits < kth, NEG_INF, logits)
    if top_p is not None and top_p < 1.0:
        sorted_logits = ops.flip(ops.sort(logits, axis=-1), axis=-1)  # descending
        probs = ops.softmax(sorted_logits, axis=-1)
        before = ops.cumsum(probs, axis=-1) - probs  # mass strictly before each token
        keep = before < top_p  # the first token is always kept
        threshold = ops.min(ops.where(keep, sorted_logits, 1e30), axis=-1, keepdims=True)
        logits = ops.where(logits < threshold, NEG_INF, logits)
    return logits


def sample(step_fn, state, *, batch_size, max_length, noise, constants=None, temperature=1.0,
           top_k=None, top_p=None, min_length=0, source_length=1, return_alignments=False,
           bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    """Sample every token from the filtered model distribution, written with `while_loop`.

    Randomness comes from `noise`, uniform draws of shape `(batch, max_length)` made before
    the loop (`keras.random.uniform` with a seed), so the loop itself is stateless, compiles
    under XLA on every backend, and a seed reproduces a decode exactly. Token t is the
    inverse-CDF draw of `noise[:, t]` from the filtered distribution.

    Args:
        step_fn, state, batch_size, max_length, constants, min_length, source_length,
            return_alignments: As for `greedy_search`.
        noise: Float tensor `(batch, max_length)` of uniform draws in [0, 1).
        temperature, top_k, top_p: See `filter_logits`.

    Returns:
        `(token_ids, log_probs, alignments)` as `greedy_search`; `log_probs` are the model's
        own (temperature 1, unfiltered) log-probabilities of the sampled tokens.

    Example:

    >>> def step_fn(tokens, state, constants):
    ...     return ops.one_hot(ops.full_like(tokens, 3), 5) * 20.0, state, None
    >>> ids, _, _ = sample(step_fn, {}, batch_size=1, max_length=2, noise=np.full((1, 2), 0.5))
    >>> ops.convert_to_numpy(ids).tolist()
    [[3, 0]]
    """
    noise = ops.cast(noise, "float32")
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
        model_log_probs = mask_forbidden(log_softmax(logits), t, min_length, eos_id)
        filtered = filter_logits(model_log_probs, temperature, top_k, top_p)
        cdf = ops.cumsum(ops.softmax(filtered, axis=-1), axis=-1)  # (batch, vocab)
        u = ops.expand_dims(ops.take(noise, t, axis=1), -1)  # (batch, 1)
        vocab = ops.shape(cdf)[-1]
        chosen = ops.minimum(ops.sum(ops.cast(cdf <= u, "int32"), axis=-1), vocab - 1)
        # never land on a filtered token through rounding at the top of the CDF
        chosen = ops.where(ops.take_along_axis(filtered, ops.expand_dims(chosen, -1), -1)[:, 0]
                           <= NEG_INF / 2, ops.cast(ops.argmax(filtered, -1), "int32"), chosen)
        chosen = ops.where(finished, pad_id, ops.cast(chosen, "int32"))
        chosen_log_prob = ops.take_along_axis(model_log_probs, ops.expand_dims(chosen, -1),
                                              axis=-1)[:, 0]
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
