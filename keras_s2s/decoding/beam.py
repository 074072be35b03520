"""Beam search with GNMT length and coverage penalties (Wu et al., 2016), n-best output."""

from keras import ops

from keras_s2s.decoding._common import (
    BOS_ID,
    EOS_ID,
    NEG_INF,
    PAD_ID,
    mask_forbidden,
    gather_rows,
    log_softmax,
    repeat_rows,
)


def length_penalty_factor(lengths, alpha):
    """GNMT's lp(Y) = ((5 + |Y|) / 6) ** alpha."""
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)


def coverage_penalty_value(coverage, source_mask, beta):
    """GNMT's cp = beta * sum_i log(min(sum_j p_ij, 1)) over the real source positions."""
    clipped = ops.maximum(ops.minimum(coverage, 1.0), 1e-10)
    return beta * ops.sum(ops.log(clipped) * source_mask, axis=-1)


def _settled(scores, beam_log_probs, lengths, finished, n, max_length, length_penalty):
    """`(batch, 1)`: true for the sources whose n best hypotheses can no longer change.

    Every step adds a log-probability ≤ 0, so a live hypothesis with log-probability `L < 0`
    and `len` tokens can at best score `L / max(lp(len), lp(max_length))` (no further cost,
    the most favourable length, a coverage penalty of 0 since `cp ≤ 0`); it scores no more
    than that now either. Once a source's n-th best finished score is strictly above that
    bound for every live hypothesis, its n best are final, and its live ones are retired (they
    can never enter the n best), so that the loop can stop before `max_length`.
    """
    bound = beam_log_probs
    if length_penalty:
        bound = bound / ops.maximum(length_penalty_factor(lengths, length_penalty),
                                    length_penalty_factor(max_length, length_penalty))
    best_live = ops.max(ops.where(finished, NEG_INF, bound), axis=1, keepdims=True)  # (b, 1)
    nth_finished = ops.top_k(ops.where(finished, scores, NEG_INF), n)[0][:, n - 1:]  # (b, 1)
    return ops.greater(nth_finished, best_live)


def beam_search(step_fn, state, *, batch_size, max_length, beam_width, constants=None,
                num_return_sequences=1, length_penalty=0.0, coverage_penalty=0.0, min_length=0,
                source_mask=None, return_alignments=False, bos_id=BOS_ID, eos_id=EOS_ID,
                pad_id=PAD_ID, tile_constants=True):
    """Beam search written once with `keras.ops.while_loop` over a step function.

    Every hypothesis is ranked by the GNMT score `log P(Y|X) / lp(Y) + cp(X; Y)`, with
    `lp(Y) = ((5 + |Y|) / 6) ** length_penalty` and
    `cp = coverage_penalty * Σ_i log(min(Σ_j p_ij, 1))` over real source positions. A finished
    hypothesis (one that emitted `</s>`) keeps its slot and its score and only extends with
    padding at no cost, so it competes with the live ones until the end. A source is done
    when its `num_return_sequences` best finished hypotheses score strictly above the best
    that any live one could still reach (every step costs a log-probability ≤ 0; see
    `_settled`), so the results equal those of a search run to `max_length`; the search stops
    when every source is done or after `max_length` tokens.

    Args:
        step_fn: As for `greedy_search`.
        state: Initial state pytree, `(batch, ...)`; it is tiled to `(batch * beam, ...)`
            and reordered by beam parent at every step.
        batch_size: Number of sources.
        max_length: Maximum number of generated tokens, `</s>` included.
        beam_width: Number of hypotheses kept per source.
        constants: Pytree handed unchanged (tiled once) to every step.
        tile_constants: Whether to tile `constants` to `(batch * beam, ...)`. False hands
            them to every step as they are, `(batch, ...)`: for a step function whose
            hypotheses share their source's constants (`BaseAttention.groups_rows`).
        num_return_sequences: How many of the best hypotheses to return (≤ beam_width).
        length_penalty: GNMT α (0 disables it).
        coverage_penalty: GNMT β (0 disables it); needs alignments and `source_mask`.
        min_length: `</s>` is forbidden until this many tokens have been generated.
        source_mask: `(batch, source_len)`, needed for the coverage penalty and alignments.
        return_alignments: Whether to return the alignment history of each hypothesis.

    Returns:
        `(token_ids (batch, n, max_length), log_probs (batch, n), scores (batch, n),
        alignments (batch, n, max_length, source_len) or None)`, sorted by score.

    Example:

    >>> def step_fn(tokens, state, constants):
    ...     return ops.one_hot(ops.minimum(tokens + 1, 3), 5) * 10.0, state, None
    >>> ids, _, _, _ = beam_search(step_fn, {}, batch_size=1, max_length=3, beam_width=2)
    >>> ops.convert_to_numpy(ids)[0, 0].tolist()
    [3, 0, 0]
    """
    k, n = beam_width, num_return_sequences
    use_coverage = bool(coverage_penalty) or return_alignments
    if use_coverage and source_mask is None:
        raise ValueError("The coverage penalty and alignments need `source_mask` and a model "
                         "with attention.")
    first_constants = constants  # (batch, ...): the first step runs on one row a source
    if constants is not None and tile_constants:
        constants = repeat_rows(constants, k)
    if source_mask is not None:
        mask = ops.cast(ops.reshape(repeat_rows(source_mask, k), (batch_size, k, -1)), "float32")
        source_len = ops.shape(mask)[-1]
    else:
        mask, source_len = None, 1
    offsets = ops.expand_dims(ops.arange(batch_size, dtype="int32") * k, 1)  # (batch, 1)

    beam_log_probs = ops.tile(ops.expand_dims(
        ops.concatenate([ops.zeros((1,)), ops.full((k - 1,), NEG_INF)]), 0), (batch_size, 1))
    scores = beam_log_probs
    tokens = ops.zeros((batch_size, k, max_length), "int32")
    lengths = ops.zeros((batch_size, k), "int32")
    finished = ops.zeros((batch_size, k), "bool")
    coverage = ops.zeros((batch_size, k, source_len) if use_coverage else (1, 1, 1), "float32")
    history = ops.zeros((batch_size, k, max_length, source_len) if return_alignments
                        else (1, 1, 1, 1), "float32")

    def cond(t, previous, state, tokens, beam_log_probs, scores, lengths, finished, coverage,
             history):
        return ops.logical_and(ops.less(t, max_length), ops.logical_not(ops.all(finished)))

    def body(t, previous, state, tokens, beam_log_probs, scores, lengths, finished, coverage,
             history):
        logits, state, step_alignments = step_fn(previous, state, constants)
        return select(t, logits, step_alignments, state, tokens, beam_log_probs, lengths,
                      finished, coverage, history)

    def select(t, logits, step_alignments, state, tokens, beam_log_probs, lengths, finished,
               coverage, history):
        """Everything a step does after the model: extend, rank, keep the best `k`."""
        vocab = ops.shape(logits)[-1]
        log_probs = mask_forbidden(log_softmax(logits), t, min_length, eos_id)
        log_probs = ops.reshape(log_probs, (batch_size, k, vocab))
        # a finished hypothesis extends only with padding, at no cost
        pad_only = ops.where(ops.equal(ops.arange(vocab), pad_id), 0.0, NEG_INF)
        log_probs = ops.where(ops.expand_dims(finished, -1), pad_only, log_probs)
        candidate_log_probs = ops.expand_dims(beam_log_probs, -1) + log_probs  # (b, k, V)
        alive = ops.cast(ops.logical_not(finished), "int32")
        candidate_scores = candidate_log_probs
        if length_penalty:
            candidate_lengths = ops.expand_dims(lengths + alive, -1)  # (b, k, 1)
            candidate_scores = candidate_scores / length_penalty_factor(candidate_lengths,
                                                                        length_penalty)
        if use_coverage:
            a = ops.reshape(ops.cast(step_alignments, "float32"), (batch_size, k, -1))
            a = a * ops.expand_dims(ops.cast(alive, "float32"), -1)
            candidate_coverage = coverage + a  # (b, k, S), shared by a beam's candidates
            if coverage_penalty:
                candidate_scores = candidate_scores + ops.expand_dims(
                    coverage_penalty_value(candidate_coverage, mask, coverage_penalty), -1)
        flat_scores = ops.reshape(candidate_scores, (batch_size, -1))
        scores, index = ops.top_k(flat_scores, k)  # (b, k)
        index = ops.cast(index, "int32")
        parent = index // vocab
        token = index % vocab
        rows = ops.reshape(offsets + parent, (-1,))  # (b * k,)
        beam_log_probs = ops.reshape(ops.take(
            ops.reshape(candidate_log_probs, (-1,)),
            ops.reshape(offsets * vocab + index, (-1,))), (batch_size, k))
        was_finished = ops.reshape(ops.take(ops.reshape(finished, (-1,)), rows), (batch_size, k))
        lengths = ops.reshape(ops.take(ops.reshape(lengths, (-1,)), rows), (batch_size, k))
        lengths = lengths + ops.cast(ops.logical_not(was_finished), "int32")
        finished = ops.logical_or(was_finished, ops.equal(token, eos_id))
        tokens = ops.reshape(ops.take(ops.reshape(tokens, (batch_size * k, -1)), rows, axis=0),
                             (batch_size, k, max_length))
        tokens = ops.slice_update(tokens, [0, 0, t], ops.expand_dims(token, -1))
        if use_coverage:
            coverage = ops.reshape(ops.take(ops.reshape(candidate_coverage,
                                                        (batch_size * k, -1)), rows, axis=0),
                                   (batch_size, k, -1))
        if return_alignments:
            a_rows = ops.take(ops.reshape(a, (batch_size * k, -1)), rows, axis=0)
            a_rows = ops.reshape(a_rows, (batch_size, k, 1, -1))
            history = ops.reshape(ops.take(ops.reshape(history, (batch_size * k, max_length, -1)),
                                           rows, axis=0), (batch_size, k, max_length, -1))
            history = ops.slice_update(history, [0, 0, t, 0], a_rows)
        finished = ops.logical_or(finished, _settled(scores, beam_log_probs, lengths, finished,
                                                     n, max_length, length_penalty))
        state = gather_rows(state, rows)
        previous = ops.reshape(token, (-1,))
        return (t + 1, previous, state, tokens, beam_log_probs, scores, lengths, finished,
                coverage, history)

    # The first step runs the model once per source, not once per hypothesis: every beam
    # starts from the same `<s>` and state, so its `k` rows would compute one row `k` times.
    # Its outputs are repeated to the `batch * k` rows that the loop steps from then on.
    logits, state, step_alignments = step_fn(
        ops.full((batch_size,), bos_id, "int32"), state, first_constants)
    if step_alignments is not None:
        step_alignments = repeat_rows(step_alignments, k)
    loop_vars = select(ops.convert_to_tensor(0, "int32"), repeat_rows(logits, k),
                       step_alignments, repeat_rows(state, k), tokens, beam_log_probs,
                       lengths, finished, coverage, history)
    (_, _, _, tokens, beam_log_probs, scores, _, _, _, history) = ops.while_loop(
        cond, body, loop_vars)
    # n-best, sorted by score (top_k already sorts; keep the first n)
    best_scores, order = ops.top_k(scores, n)
    rows = ops.reshape(offsets + ops.cast(order, "int32"), (-1,))
    tokens = ops.reshape(ops.take(ops.reshape(tokens, (batch_size * k, -1)), rows, axis=0),
                         (batch_size, n, max_length))
    log_probs = ops.reshape(ops.take(ops.reshape(beam_log_probs, (-1,)), rows), (batch_size, n))
    alignments = None
    if return_alignments:
        alignments = ops.reshape(ops.take(ops.reshape(history, (batch_size * k, max_length, -1)),
                                          rows, axis=0), (batch_size, n, max_length, -1))
    return tokens, log_probs, best_scores, alignments
