"""Ancestral sampling with temperature, top-k and top-p (nucleus) filtering."""

from keras import ops

from keras_s2s.decoding._common import BOS_ID, EOS_ID, NEG_INF, PAD_ID
from keras_s2s.decoding.greedy import single_path_loop


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

    def choose(scores, t):
        filtered = filter_logits(scores, temperature, top_k, top_p)
        cdf = ops.cumsum(ops.softmax(filtered, axis=-1), axis=-1)  # (batch, vocab)
        u = ops.expand_dims(ops.take(noise, t, axis=1), -1)  # (batch, 1)
        vocab = ops.shape(cdf)[-1]
        chosen = ops.minimum(ops.sum(ops.cast(cdf <= u, "int32"), axis=-1), vocab - 1)
        # never land on a filtered token through rounding at the top of the CDF
        picked = ops.take_along_axis(filtered, ops.expand_dims(chosen, -1), -1)[:, 0]
        fallback = ops.cast(ops.argmax(filtered, -1), "int32")
        return ops.where(picked <= NEG_INF / 2, fallback, ops.cast(chosen, "int32"))

    return single_path_loop(step_fn, state, choose, batch_size=batch_size,
                            max_length=max_length, constants=constants, min_length=min_length,
                            source_length=source_length, return_alignments=return_alignments,
                            bos_id=bos_id, eos_id=eos_id, pad_id=pad_id)
