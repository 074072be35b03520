"""Generation controls (no repeated n-grams, repetition penalty, per-source length limits)
against plain-Python statements of their rules, alone and inside a compiled decode."""

import keras
import numpy as np
import pytest

from keras_s2s import zoo
from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID
from keras_s2s.decoding import decode, processors

NEG = -1e20


def _banned_ngrams(history, t, n):
    """The tokens that would repeat an n-gram of `history[:t]`, by the rule itself."""
    out = history[:t]
    if t < n - 1:
        return set()
    prefix = tuple(out[t - n + 1:]) if n > 1 else ()
    return {out[j + n - 1] for j in range(t - n + 1) if tuple(out[j:j + n - 1]) == prefix}


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeat_ngram_bans_exactly_what_would_repeat(n):
    rng = np.random.default_rng(n)
    history = rng.integers(4, 8, (6, 10)).astype("int32")  # few symbols: many repeats
    for t in range(0, 11):
        out = keras.ops.convert_to_numpy(processors.no_repeat_ngram(
            np.zeros((6, 9), "float32"), history, np.full((6,), t), n))
        for row in range(6):
            banned = {int(i) for i in np.nonzero(out[row] < NEG)[0]}
            assert banned == _banned_ngrams(history[row].tolist(), t, n), (n, t, row)


def test_repetition_penalty_follows_ctrl():
    logits = np.array([[2.0, -1.0, 3.0, -4.0, 0.5]], "float32")
    history = np.array([[0, 1, 4, 9]], "int32")  # only the first 3 are emitted (t = 3)
    out = keras.ops.convert_to_numpy(processors.repetition_penalty(logits, history, 3, 2.0))
    np.testing.assert_allclose(out, [[1.0, -2.0, 3.0, -4.0, 0.25]])


def test_length_limit_leaves_only_the_end_token_at_each_rows_limit():
    logits = np.zeros((2, 6), "float32")
    out = keras.ops.convert_to_numpy(processors.length_limit(logits, 2, np.array([3, 5])))
    assert (out[0] < NEG).sum() == 5 and out[0, EOS_ID] == 0  # row 0: its 3rd token is </s>
    assert not (out[1] < NEG).any()


def _reference_greedy(model, source, max_length, n, penalty, limit):
    """Greedy decoding by re-running the whole model on the prefix, with the rules in Python."""
    emitted = []
    while len(emitted) < max_length:
        fed = np.array([[BOS_ID] + emitted], "int32")
        logits = keras.ops.convert_to_numpy(model({"encoder_token_ids": source[None],
                                                   "decoder_token_ids": fed}))[0, -1]
        logits = logits.astype("float64")
        for token in set(emitted):
            logits[token] = logits[token] / penalty if logits[token] > 0 else logits[token] * penalty
        for token in _banned_ngrams(emitted, len(emitted), n):
            logits[token] = -np.inf
        if len(emitted) + 1 >= limit:
            logits[[i for i in range(len(logits)) if i != EOS_ID]] = -np.inf
        logits[[PAD_ID, BOS_ID]] = -np.inf
        token = int(np.argmax(logits))
        emitted.append(token)
        if token == EOS_ID:
            break
    return emitted


def test_a_decode_with_the_controls_equals_the_rules_applied_step_by_step():
    keras.utils.set_random_seed(4)
    model = zoo.build("luong_lstm", source_vocab_size=9, target_vocab_size=7, units=16,
                      embedding_dim=8)
    sources = np.array([[4, 5, 6, 7, 8, 4], [5, 6, 0, 0, 0, 0]], "int32")
    a, b = 1.0, 2.0
    result = decode(model, sources, "greedy", no_repeat_ngram_size=2, repetition_penalty=1.5,
                    max_length_a=a, max_length_b=b, jit=False, verbose=False)
    for row, source in enumerate(sources):
        limit = int(a * (source != 0).sum() + b)  # 8 and 4 tokens
        want = _reference_greedy(model, source, 8, 2, 1.5, limit)
        got = result.token_ids[row, 0, :result.lengths[row, 0]].tolist()
        assert got == want, (row, got, want)
        assert len(got) <= limit
    # without the controls the model repeats itself: the controls changed the output
    plain = decode(model, sources, "greedy", max_length=8, jit=False, verbose=False)
    assert plain.token_ids.tolist() != result.token_ids[..., :plain.token_ids.shape[-1]].tolist()


def test_beam_search_keeps_the_history_of_each_hypothesis():
    keras.utils.set_random_seed(5)
    model = zoo.build("luong_lstm", source_vocab_size=9, target_vocab_size=6, units=16,
                      embedding_dim=8)
    sources = np.random.default_rng(5).integers(4, 9, (4, 5)).astype("int32")
    result = decode(model, sources, "beam", beam_width=4, num_return_sequences=4,
                    max_length=12, no_repeat_ngram_size=2, jit=False, verbose=False)
    for rows, lengths in zip(result.token_ids, result.lengths):
        for tokens, length in zip(rows, lengths):
            out = tokens[:length].tolist()
            bigrams = list(zip(out, out[1:]))
            assert len(bigrams) == len(set(bigrams)), out
    with pytest.raises(ValueError, match="no_repeat_ngram_size"):
        decode(model, sources, no_repeat_ngram_size=-1)
    with pytest.raises(ValueError, match="at least one token"):
        decode(model, sources, max_length_a=0.0, max_length_b=0.5)


def test_progress_goes_to_stderr_as_lines_when_it_is_not_a_terminal(tmp_path, capsys):
    import io

    from keras_s2s.decoding.progress import Progress

    stream = io.StringIO()  # not a terminal
    progress = Progress(100, stream=stream, every=25)
    for _ in range(10):
        progress.add(10)
    lines = stream.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["30/100", "60/100", "90/100", "100/100"]
    keras.utils.set_random_seed(0)
    model = zoo.build("luong_lstm", source_vocab_size=9, target_vocab_size=7, units=8,
                      embedding_dim=8)
    sources = np.random.default_rng(0).integers(4, 9, (130, 4)).astype("int32")
    decode(model, sources, batch_size=64, max_length=3, jit=False)
    out, err = capsys.readouterr()
    assert out == "" and "decode: 130/130 sources (100%)" in err
