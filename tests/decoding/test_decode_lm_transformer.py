"""`decode` on Transformers and decoder-only LMs, checked against decodes that use no cache:
a Python loop that re-runs the whole training model over the prefix at every step."""

import keras
import numpy as np
import pytest

from keras_s2s import bench, zoo
from keras_s2s.decoding import decode

SRC = np.array([[5, 6, 7, 0], [8, 9, 4, 5], [4, 0, 0, 0]], "int32")
PROMPTS = [[5, 6, 7], [8], []]


def _sharpen(model):
    """Scale the random output layer so that greedy choices are not near-ties."""
    for layer_name in ("output_projection", "decoder_embedding"):
        try:
            layer = model.get_layer(layer_name)
        except ValueError:
            continue
        weight = layer.kernel if layer_name == "output_projection" else layer.embeddings
        weight.assign(weight * 8.0)
        break
    return model


def _tiny(name, **kwargs):
    keras.utils.set_random_seed(0)
    spec = zoo.get_spec(name)
    vocab = ({"source_vocab_size": 10, "target_vocab_size": 11} if spec.kind == "seq2seq"
             else {"vocab_size": 11})
    return _sharpen(zoo.build(name, **vocab, **{**spec.tiny, "dropout": 0.0, **kwargs}))


def _reference_greedy(model, rows, max_length, lm=False):
    """Greedy decoding with no cache: the full model over the whole prefix at every step."""
    out = []
    for row in rows:
        row = [int(t) for t in row if t]
        prefix, tokens = [2], []
        for t in range(max_length):
            ids = np.array([prefix], "int32")
            inputs = ({"token_ids": ids} if lm else
                      {"encoder_token_ids": np.array([row], "int32"), "decoder_token_ids": ids})
            logits = keras.ops.convert_to_numpy(model(inputs))[0, -1]
            logits[[0, 2]] = -np.inf  # decode never emits <pad> or <s>
            token = row[t] if lm and t < len(row) else int(np.argmax(logits))
            tokens.append(token)
            prefix.append(token)
            if token == 3:
                break
        out.append(tokens + [0] * (max_length - len(tokens)))
    return np.array(out)


@pytest.mark.parametrize("name", ["transformer_tiny", "transformer_small"])
def test_cached_transformer_decode_equals_no_cache_reference(name):
    model = _tiny(name)
    result = decode(model, SRC, max_length=9)
    expected = _reference_greedy(model, SRC, 9)
    width = result.token_ids.shape[2]
    np.testing.assert_array_equal(result.token_ids[:, 0], expected[:, :width])
    assert (expected[:, width:] == 0).all()
    assert result.lengths.max() >= 4, "a trivial decode would not test the caches"


def _teacher_forced_continuation_log_probs(model, prompts, result):
    """Per row: one teacher-forced pass of the model over `<s>` + the decoded sequence, and the
    sum (in NumPy) of the log-softmax at the continuation's tokens only, not the prompt's."""
    totals = []
    for prompt, row, length in zip(prompts, result.token_ids[:, 0], result.lengths[:, 0]):
        sequence = [int(t) for t in row[:length]]
        assert sequence[:len(prompt)] == list(prompt)
        inputs = np.array([[2] + sequence[:-1]], "int32")  # position t predicts sequence[t]
        logits = keras.ops.convert_to_numpy(model({"token_ids": inputs})).astype("float64")[0]
        shifted = logits - logits.max(-1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        continuation = range(len(prompt), length)
        assert len(continuation) > 0
        totals.append(sum(log_softmax[t, sequence[t]] for t in continuation))
    return np.array(totals)


@pytest.mark.parametrize("name", ["lstm_lm", "transformer_lm"])
def test_lm_continues_prompts_like_the_no_cache_reference(name):
    model = _tiny(name)
    result = decode(model, PROMPTS, max_length=8)
    expected = _reference_greedy(model, PROMPTS, 8, lm=True)
    width = result.token_ids.shape[2]
    np.testing.assert_array_equal(result.token_ids[:, 0], expected[:, :width])
    assert (expected[:, width:] == 0).all()
    assert result.lengths[2, 0] >= 3, "a trivial decode would not test the states"
    # log_probs count the continuation only: the forced prompt tokens cost nothing
    np.testing.assert_allclose(result.log_probs[:, 0],
                               _teacher_forced_continuation_log_probs(model, PROMPTS, result),
                               rtol=0, atol=1e-3)


def test_lm_beam_and_sampling_keep_the_prompt():
    model = _tiny("transformer_lm")
    beams = decode(model, PROMPTS, "beam", beam_width=3, num_return_sequences=3, max_length=8)
    samples = decode(model, PROMPTS, "sample", num_return_sequences=4, seed=3, max_length=8,
                     temperature=2.0)
    for result in (beams, samples):
        for prompt, rows in zip(PROMPTS, result.token_ids):
            for row in rows:
                assert row[:len(prompt)].tolist() == prompt
    assert np.all(np.diff(beams.scores, axis=1) <= 1e-6)  # n-best in order
    assert len({tuple(r) for r in samples.token_ids[0]}) > 1  # temperature 2 varies


def test_transformer_alignments_are_distributions_over_the_real_source():
    model = _tiny("transformer_tiny")
    result = decode(model, SRC, "beam", beam_width=2, max_length=6, return_alignments=True)
    a = result.alignments[:, 0]
    for row, length in enumerate(result.lengths[:, 0]):
        np.testing.assert_allclose(a[row, :length].sum(-1), 1.0, atol=1e-5)
    assert np.all(a[2, :, 1:] == 0)  # one real source token in the third row


def test_clear_errors_for_prompts_and_lengths():
    lm = _tiny("transformer_lm")
    with pytest.raises(ValueError, match="without <s>"):
        decode(lm, [[2, 5]])
    with pytest.raises(ValueError, match="padded on the right"):
        decode(lm, [[5, 0, 6]])
    with pytest.raises(ValueError, match="exceeds what model"):
        decode(lm, [[5]], max_length=17)  # the tiny model's cache holds 16
    with pytest.raises(ValueError, match="must exceed the prompt width"):
        decode(lm, [[5, 6, 7]], max_length=3)
    with pytest.raises(ValueError, match="masked language model"):
        decode(_tiny("bert_mlm"), [[5]])


def test_bench_cache_decodes_identically():
    result = bench.bench_cache(model=_tiny("transformer_tiny"), batch_size=2, max_length=8,
                               vocab=10, repeats=1)
    assert result["identical_tokens"] and result["cached"]["seconds"] > 0
