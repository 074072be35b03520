"""`decode(model, ...)` end to end on tiny zoo models."""

import itertools

import keras
import numpy as np
import pytest

from keras_s2s import zoo
from keras_s2s.decoding import decode

SRC = np.array([[5, 6, 7, 0], [8, 9, 4, 5], [4, 0, 0, 0]], "int32")


def _tiny(name="luong_bilstm", target_vocab_size=11, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    args = {**zoo.get_spec(name).tiny, "dropout": 0.0, **kwargs}
    model = zoo.build(name, source_vocab_size=10, target_vocab_size=target_vocab_size, **args)
    # sharpen the random output layer so that decodes are not all ties
    projection = model.get_layer("output_projection")
    projection.kernel.assign(projection.kernel * 30.0)
    return model


def _sequence_log_probs(model, src_row, sequences):
    """log P(y | x) of each sequence by teacher forcing through the training model."""
    length = max(len(s) for s in sequences)
    dec = np.zeros((len(sequences), length), "int32")
    tgt = np.zeros((len(sequences), length), "int32")
    for i, seq in enumerate(sequences):
        dec[i, 0] = 2
        dec[i, 1:len(seq)] = seq[:-1]
        tgt[i, :len(seq)] = seq
    logits = keras.ops.convert_to_numpy(model({"encoder_token_ids": np.repeat(src_row[None], len(sequences), 0),
                                               "decoder_token_ids": dec}))
    logp = logits - logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    picked = np.take_along_axis(logp, tgt[..., None], -1)[..., 0]
    return (picked * (tgt != 0)).sum(-1)


def test_result_shapes_and_contract():
    model = _tiny()
    result = decode(model, SRC, "beam", beam_width=3, num_return_sequences=2, max_length=7,
                    return_alignments=True)
    b, n, length = result.token_ids.shape
    assert (b, n) == (3, 2) and length <= 7
    assert result.log_probs.shape == result.scores.shape == (3, 2)
    assert result.alignments.shape == (3, 2, length, 4)
    for row, lengths in zip(result.token_ids, result.lengths):
        for hyp, hyp_len in zip(row, lengths):
            assert not np.any(hyp[hyp_len:]), "padding after </s>"
            assert 0 not in hyp[:hyp_len] and 2 not in hyp[:hyp_len]
    # alignments of the padded source positions are 0
    assert np.all(result.alignments[2, :, :, 1:] == 0)


@pytest.mark.parametrize("name", ["luong_bilstm", "stacked_lstm"])
def test_decodes_of_a_reloaded_model_are_identical(name, tmp_path):
    model = _tiny(name)
    path = str(tmp_path / "m.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    # graphs, not XLA: what is checked is the reloaded model (XLA's decodes: the tests below)
    for method, kwargs in [("greedy", {}), ("beam", {"beam_width": 3, "length_penalty": 0.6}),
                           ("sample", {"seed": 3, "top_p": 0.9})]:
        a = decode(model, SRC, method, max_length=6, jit=False, **kwargs)
        b = decode(reloaded, SRC, method, max_length=6, jit=False, **kwargs)
        np.testing.assert_array_equal(a.token_ids, b.token_ids)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)


def test_log_probs_are_the_model_log_probs_of_the_tokens():
    model = _tiny()
    result = decode(model, SRC[:1], "beam", beam_width=4, num_return_sequences=3, max_length=5)
    seqs = [list(h[:n]) for h, n in zip(result.token_ids[0], result.lengths[0])]
    np.testing.assert_allclose(result.log_probs[0], _sequence_log_probs(model, SRC[0], seqs),
                               atol=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_wide_beam_equals_exhaustive_search_on_a_tiny_model(seed):
    model = _tiny("luong_lstm", target_vocab_size=6, seed=seed)
    max_length = 4
    emit = [1, 3, 4, 5]  # never <pad> or <s>
    candidates = []
    for length in range(1, max_length + 1):
        for seq in itertools.product(emit, repeat=length):
            if 3 in seq[:-1] or (length < max_length and seq[-1] != 3):
                continue
            candidates.append(list(seq))
    scores = _sequence_log_probs(model, SRC[1], candidates)
    best = candidates[int(np.argmax(scores))]
    result = decode(model, SRC[1:2], "beam", beam_width=96, max_length=max_length)
    assert list(result.token_ids[0, 0, :len(best)]) == best
    np.testing.assert_allclose(result.log_probs[0, 0], scores.max(), atol=1e-4)


@pytest.mark.parametrize("seed", range(3))
def test_beam_is_never_worse_than_greedy_on_random_models(seed):
    model = _tiny("bahdanau_gru", seed=seed)
    src = np.random.default_rng(seed).integers(4, 10, size=(6, 5)).astype("int32")
    # graphs, not XLA: what is checked is the search (XLA's decodes: the tests above)
    greedy = decode(model, src, "greedy", max_length=8, jit=False)
    beam = decode(model, src, "beam", beam_width=4, max_length=8, jit=False)
    assert np.all(beam.log_probs[:, 0] >= greedy.log_probs[:, 0] - 1e-4)
    width_one = decode(model, src, "beam", beam_width=1, max_length=8, jit=False)
    np.testing.assert_array_equal(width_one.token_ids, greedy.token_ids)


def test_sampling_seed_reproduces_and_batches_agree():
    model = _tiny()
    a = decode(model, SRC, "sample", seed=7, num_return_sequences=3, max_length=6)
    b = decode(model, SRC, "sample", seed=7, num_return_sequences=3, max_length=6)
    np.testing.assert_array_equal(a.token_ids, b.token_ids)
    assert a.token_ids.shape[:2] == (3, 3)
    greedy_all = decode(model, SRC, "greedy", max_length=6)
    greedy_batched = decode(model, SRC, "greedy", max_length=6, batch_size=2, verbose=False)
    np.testing.assert_array_equal(greedy_all.token_ids, greedy_batched.token_ids)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "beam", "beam_width": 0}, "beam_width"),
    ({"method": "sample", "top_p": 0.0}, "top_p"),
    ({"method": "sample", "top_p": 1.5}, "top_p"),
    ({"max_length": 0}, "max_length"),
    ({"method": "viterbi"}, "method"),
    ({"method": "sample", "temperature": 0.0}, "temperature"),
    ({"method": "beam", "beam_width": 2, "num_return_sequences": 3}, "num_return_sequences"),
])
def test_bad_settings_raise_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        decode(_tiny(), SRC, **kwargs)


def test_bad_inputs_raise_clear_errors():
    model = _tiny()
    with pytest.raises(ValueError, match=r"Token id 10 \(row 0\) is outside"):
        decode(model, [[5, 10]])
    with pytest.raises(TypeError, match="encode them first"):
        decode(model, ["hello"])
    with pytest.raises(ValueError, match="coverage_penalty"):
        decode(_tiny("vanilla_lstm"), SRC, "beam", coverage_penalty=0.2)
    inputs = keras.Input((3,))
    with pytest.raises(ValueError, match="not a keras_s2s seq2seq model"):
        decode(keras.Model(inputs, keras.layers.Dense(2)(inputs)), SRC)


def test_compiled_decode_follows_weight_updates():
    """The compiled decode reads the live weights: training after a decode is not ignored."""
    model = _tiny("luong_lstm")
    first = decode(model, SRC[:1], "greedy", max_length=5)
    for weight in model.trainable_weights:
        weight.assign(weight * 1.5 + 0.1)
    second = decode(model, SRC[:1], "greedy", max_length=5)
    seq = list(second.token_ids[0, 0, :second.lengths[0, 0]])
    np.testing.assert_allclose(second.log_probs[0, 0], _sequence_log_probs(model, SRC[0], [seq])[0],
                               atol=1e-4)
    assert not np.allclose(first.log_probs, second.log_probs)
