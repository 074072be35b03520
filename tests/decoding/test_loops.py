"""The decoding loops on toy step functions: no model, exact expectations."""

import itertools

import numpy as np
import pytest
from keras import ops

from keras_s2s.decoding import beam_search, filter_logits, greedy_search, sample
from keras_s2s.decoding._common import EOS_ID, NEG_INF

V = 7


def _table(seed):
    """A random first-order Markov 'model': logits of the next token given the previous one."""
    return np.random.default_rng(seed).normal(scale=2.0, size=(V, V)).astype("float32")


def _markov_step(table):
    table = ops.convert_to_tensor(table)

    def step_fn(tokens, state, constants):
        logits = ops.take(table, tokens, axis=0)
        return logits, {"steps": state["steps"] + 1}, None

    return step_fn


def _state(batch):
    return {"steps": ops.zeros((batch,), "int32")}


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _allowed(logp, step, min_length):
    logp = logp.copy()
    logp[[0, 2]] = -np.inf
    if step < min_length:
        logp[EOS_ID] = -np.inf
    return logp


def _np_greedy(table, max_length, min_length=0, start=2):
    prev, out, total = start, [], 0.0
    for t in range(max_length):
        logp = _allowed(_log_softmax(table[prev]), t, min_length)
        prev = int(np.argmax(logp))
        out.append(prev)
        total += logp[prev]
        if prev == EOS_ID:
            break
    return out + [0] * (max_length - len(out)), total


def _np_all_sequences(table, max_length):
    """Every finished (ends in </s>) or truncated (max_length, no </s>) sequence, with log P."""
    tokens = [1, 3, 4, 5, 6]
    results = []
    for length in range(1, max_length + 1):
        for seq in itertools.product(tokens, repeat=length):
            if EOS_ID in seq[:-1] or (length < max_length and seq[-1] != EOS_ID):
                continue
            prev, total = 2, 0.0
            for tok in seq:
                total += _allowed(_log_softmax(table[prev]), 1, 0)[tok]
                prev = tok
            results.append((list(seq) + [0] * (max_length - length), total))
    return results


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("min_length", [0, 2])
def test_greedy_matches_numpy(seed, min_length):
    table = _table(seed)
    ids, log_probs, _ = greedy_search(_markov_step(table), _state(1), batch_size=1, max_length=6,
                                      min_length=min_length)
    expected, total = _np_greedy(table, 6, min_length)
    assert ops.convert_to_numpy(ids)[0].tolist() == expected
    np.testing.assert_allclose(ops.convert_to_numpy(log_probs)[0], total, rtol=1e-5)


def test_stops_at_eos_pads_after_it_and_respects_lengths():
    table = np.full((V, V), -5.0, "float32")
    table[2, 4] = 5.0  # <s> -> 4
    table[4, EOS_ID] = 5.0  # 4 -> </s>
    table[4, 5] = 4.0
    table[5, EOS_ID] = 5.0
    step = _markov_step(table)
    ids, _, _ = greedy_search(step, _state(2), batch_size=2, max_length=5)
    assert ops.convert_to_numpy(ids).tolist() == [[4, 3, 0, 0, 0]] * 2
    ids, _, _ = greedy_search(step, _state(1), batch_size=1, max_length=5, min_length=2)
    assert ops.convert_to_numpy(ids).tolist() == [[4, 5, 3, 0, 0]]
    ids, _, _ = greedy_search(step, _state(1), batch_size=1, max_length=1)
    assert ops.convert_to_numpy(ids).tolist() == [[4]]
    ids, _, _, _ = beam_search(step, _state(1), batch_size=1, max_length=5, beam_width=3,
                               min_length=2)
    assert ops.convert_to_numpy(ids)[0, 0].tolist() == [4, 5, 3, 0, 0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_beam_width_one_equals_greedy(seed):
    table = _table(seed)
    g_ids, g_lp, _ = greedy_search(_markov_step(table), _state(2), batch_size=2, max_length=6)
    b_ids, b_lp, _, _ = beam_search(_markov_step(table), _state(2), batch_size=2, max_length=6,
                                    beam_width=1)
    np.testing.assert_array_equal(ops.convert_to_numpy(b_ids)[:, 0], ops.convert_to_numpy(g_ids))
    np.testing.assert_allclose(ops.convert_to_numpy(b_lp)[:, 0], ops.convert_to_numpy(g_lp),
                               rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wide_beam_finds_the_exhaustive_optimum_and_sorts_the_n_best(seed):
    table = _table(seed)
    everything = sorted(_np_all_sequences(table, 4), key=lambda r: -r[1])
    ids, log_probs, scores, _ = beam_search(_markov_step(table), _state(1), batch_size=1,
                                            max_length=4, beam_width=160,
                                            num_return_sequences=5)
    ids, log_probs, scores = (ops.convert_to_numpy(x)[0] for x in (ids, log_probs, scores))
    for rank in range(5):
        assert ids[rank].tolist() == everything[rank][0]
        np.testing.assert_allclose(log_probs[rank], everything[rank][1], rtol=1e-5)
    assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize("seed", range(6))
def test_beam_never_scores_below_greedy_without_penalties(seed):
    table = _table(100 + seed)
    _, g_lp, _ = greedy_search(_markov_step(table), _state(1), batch_size=1, max_length=8)
    _, b_lp, _, _ = beam_search(_markov_step(table), _state(1), batch_size=1, max_length=8,
                                beam_width=4)
    assert ops.convert_to_numpy(b_lp)[0, 0] >= ops.convert_to_numpy(g_lp)[0] - 1e-5


def _np_beam(table, max_length, k, n, alpha):
    """Beam search in NumPy, always run until every slot is finished or `max_length`: a
    finished hypothesis keeps its slot and extends with padding at no cost."""
    def lp(length):
        return ((5.0 + length) / 6.0) ** alpha

    beams = [([], 0.0, False)] + [([], NEG_INF, False)] * (k - 1)
    for t in range(max_length):
        if all(done for _, _, done in beams):
            break
        candidates = []
        for tokens, logp, done in beams:
            if done:
                candidates.append((tokens + [0], logp, True, logp / lp(len(tokens) - 1)))
                continue
            prev = tokens[-1] if tokens else 2
            step = _allowed(_log_softmax(table[prev]), t, 0)
            for tok in range(V):
                total = logp + max(step[tok], NEG_INF)
                candidates.append((tokens + [tok], total, tok == EOS_ID,
                                   total / lp(len(tokens) + 1)))
        candidates.sort(key=lambda c: -c[3])
        beams = [c[:3] for c in candidates[:k]]
    scored = []
    for tokens, logp, done in beams:
        length = tokens.index(EOS_ID) + 1 if EOS_ID in tokens else len(tokens)
        scored.append((tokens + [0] * (max_length - len(tokens)), logp, logp / lp(length)))
    return sorted(scored, key=lambda c: -c[2])[:n]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha,n", [(0.0, 1), (0.0, 2), (1.0, 1), (0.6, 3)])
def test_beam_stops_early_with_the_results_of_a_full_search(seed, alpha, n):
    """A source is retired once its n best finished hypotheses beat every live one's bound;
    the n best equal those of a NumPy search run to `max_length`, and the loop ran fewer
    steps (eager: `step_fn` runs once per step)."""
    table = _table(200 + seed)
    table[:, EOS_ID] += 2.0  # short hypotheses: they finish well before max_length
    calls = []
    markov = _markov_step(table)

    def step_fn(tokens, state, constants):
        calls.append(1)
        return markov(tokens, state, constants)

    max_length = 12
    ids, log_probs, scores, _ = beam_search(step_fn, _state(1), batch_size=1,
                                            max_length=max_length, beam_width=3,
                                            num_return_sequences=n, length_penalty=alpha)
    want = _np_beam(table, max_length, 3, n, alpha)
    assert ops.convert_to_numpy(ids)[0].tolist() == [w[0] for w in want]
    np.testing.assert_allclose(ops.convert_to_numpy(log_probs)[0], [w[1] for w in want],
                               rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(scores)[0], [w[2] for w in want],
                               rtol=1e-5)
    if (alpha, n) != (0.6, 3):  # a looser bound (α > 0, 3 best) may need every step
        assert len(calls) < max_length


def test_length_penalty_prefers_longer_hypotheses():
    table = np.full((V, V), -3.0, "float32")
    table[2, EOS_ID] = 1.0  # short: </s> right away
    table[2, 4] = 0.9
    table[4, 5] = 3.0
    table[5, 6] = 3.0
    table[6, EOS_ID] = 3.0
    step = _markov_step(table)
    short, _, _, _ = beam_search(step, _state(1), batch_size=1, max_length=6, beam_width=4)
    long, lp, scores, _ = beam_search(step, _state(1), batch_size=1, max_length=6, beam_width=4,
                                      length_penalty=2.0)
    assert ops.convert_to_numpy(short)[0, 0].tolist()[:1] == [EOS_ID]
    assert ops.convert_to_numpy(long)[0, 0].tolist()[:4] == [4, 5, 6, EOS_ID]
    factor = ((5 + 4) / 6) ** 2.0
    np.testing.assert_allclose(ops.convert_to_numpy(scores)[0, 0],
                               ops.convert_to_numpy(lp)[0, 0] / factor, rtol=1e-5)


def test_coverage_penalty_follows_gnmt_formula():
    source_mask = np.array([[1, 1, 0]], bool)
    attention = ops.convert_to_tensor(np.array([[0.7, 0.3, 0.0]], "float32"))
    table = ops.convert_to_tensor(_table(5))

    def step_fn(tokens, state, constants):
        return ops.take(table, tokens, axis=0), state, ops.repeat(attention, ops.shape(tokens)[0], 0)

    ids, lp, scores, alignments = beam_search(
        step_fn, _state(1), batch_size=1, max_length=1, beam_width=2, coverage_penalty=0.5,
        source_mask=source_mask, return_alignments=True)
    # one step: coverage = attention; cp = 0.5 * (log 0.7 + log 0.3), padding ignored
    expected = ops.convert_to_numpy(lp)[0, 0] + 0.5 * (np.log(0.7) + np.log(0.3))
    np.testing.assert_allclose(ops.convert_to_numpy(scores)[0, 0], expected, rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(alignments)[0, 0, 0], [0.7, 0.3, 0.0])


def test_filter_logits_top_k_top_p_and_temperature():
    logits = np.log(np.array([[0.5, 0.25, 0.15, 0.1]], "float32"))
    kept = lambda out: (ops.convert_to_numpy(out) > NEG_INF / 2)[0].tolist()
    assert kept(filter_logits(logits, top_k=2)) == [True, True, False, False]
    assert kept(filter_logits(logits, top_p=0.5)) == [True, False, False, False]
    assert kept(filter_logits(logits, top_p=0.7)) == [True, True, False, False]
    assert kept(filter_logits(logits, top_p=1.0)) == [True] * 4
    np.testing.assert_allclose(ops.convert_to_numpy(filter_logits(logits, temperature=2.0)),
                               logits / 2.0, rtol=1e-6)


def test_sampling_is_reproducible_and_follows_the_distribution():
    table = _table(7)
    step = _markov_step(table)
    noise = np.random.default_rng(0).random((4000, 1), dtype=np.float32)
    ids, lp, _ = sample(step, _state(4000), batch_size=4000, max_length=1, noise=noise)
    again, _, _ = sample(step, _state(4000), batch_size=4000, max_length=1, noise=noise)
    ids = ops.convert_to_numpy(ids)[:, 0]
    np.testing.assert_array_equal(ids, ops.convert_to_numpy(again)[:, 0])
    probs = np.exp(_allowed(_log_softmax(table[2]), 1, 0))
    freq = np.bincount(ids, minlength=V) / len(ids)
    np.testing.assert_allclose(freq, probs / probs.sum(), atol=0.03)
    # top_k=1 sampling is greedy
    ids_k1, _, _ = sample(step, _state(3), batch_size=3, max_length=6, noise=noise[:3].repeat(6, 1),
                          top_k=1)
    g_ids, _, _ = greedy_search(step, _state(3), batch_size=3, max_length=6)
    np.testing.assert_array_equal(ops.convert_to_numpy(ids_k1), ops.convert_to_numpy(g_ids))


def test_beam_runs_the_first_step_once_per_source():
    # the step sees `batch` rows and the untiled constants at the first step (every beam
    # starts from the same <s> and state), and `batch * beam` rows after it; the results are
    # checked against greedy and exhaustive search above
    table = _table(0)
    table[:, EOS_ID] = -50.0  # no hypothesis ends: all run to max_length
    rows_seen = []
    markov = _markov_step(table)

    def step_fn(tokens, state, constants):
        rows_seen.append(int(tokens.shape[0]))
        np.testing.assert_array_equal(ops.convert_to_numpy(constants)[:, 0],
                                      [0, 1] if tokens.shape[0] == 2 else [0] * 3 + [1] * 3)
        return markov(tokens, state, constants)

    constants = ops.convert_to_tensor(np.arange(2, dtype="float32")[:, None])
    out = beam_search(step_fn, _state(2), batch_size=2, max_length=5, beam_width=3,
                      constants=constants, return_alignments=False)
    assert rows_seen[0] == 2 and set(rows_seen[1:]) == {6}
    ids = ops.convert_to_numpy(out[0])
    assert (ids != 0).all()  # five tokens each: max_length steps, none ended
