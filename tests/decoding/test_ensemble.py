"""Ensemble decoding: the members' per-step log-probabilities, averaged inside the loop."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s import zoo
from keras_s2s.decoding import decode
from keras_s2s.inference import build_inference_models

V = 12
SOURCES = [[5, 6, 7, 8], [9, 4], [10, 11, 5]]


def _model(name, seed):
    keras.utils.set_random_seed(seed)
    return zoo.build(name, source_vocab_size=V, target_vocab_size=V,
                     **{**zoo.get_spec(name).tiny, "dropout": 0.0})


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _greedy_mixture(models, sources, max_length):
    """Greedy search by hand over each member's own step graph: at each step the members'
    log-softmaxes are averaged and renormalised, the argmax is fed to every member."""
    ids = np.zeros((len(sources), max(map(len, sources))), "int32")
    for i, row in enumerate(sources):
        ids[i, :len(row)] = row
    members = []
    for model in models:
        encoder_model, decoder_model = build_inference_models(model)
        encoded = encoder_model({"encoder_token_ids": ids})
        states = {k: v for k, v in encoded.items() if k.startswith("state_")}
        constants = {k: v for k, v in encoded.items() if not k.startswith("state_")}
        members.append([decoder_model, states, constants])
    token = np.full((len(sources),), 2, "int32")  # <s>
    done = np.zeros(len(sources), bool)
    tokens, total = [], np.zeros(len(sources))
    for _ in range(max_length):
        log_probs = []
        for member in members:
            decoder_model, states, constants = member
            out = decoder_model({"decoder_token_ids": ops.convert_to_tensor(token[:, None]),
                                 **states, **constants})
            member[1] = {k: out[k] for k in states}
            log_probs.append(_log_softmax(ops.convert_to_numpy(out["logits"]).astype("float64")))
        mixture = _log_softmax(np.mean(log_probs, axis=0))
        mixture[:, [0, 2]] = -np.inf  # <pad> and <s> are never emitted (not renormalised)
        token = mixture.argmax(-1).astype("int32")
        step = mixture[np.arange(len(sources)), token]
        total += np.where(done, 0.0, step)
        tokens.append(np.where(done, 0, token))
        done |= token == 3
    return np.stack(tokens, 1), total


def test_an_ensemble_of_one_is_the_model():
    model = _model("luong_lstm", 0)
    for method in ("greedy", "beam"):
        alone = decode(model, SOURCES, method=method, beam_width=3, max_length=6)
        ensemble = decode([model], SOURCES, method=method, beam_width=3, max_length=6)
        np.testing.assert_array_equal(ensemble.token_ids, alone.token_ids)
        np.testing.assert_allclose(ensemble.log_probs, alone.log_probs, atol=1e-5)


# two entries; and two seeds of one entry, the commonest ensemble, whose members' graphs share
# a name
@pytest.mark.parametrize("members", [(("luong_lstm", 1), ("vanilla_gru", 2)),
                                     (("luong_bilstm", 1), ("luong_bilstm", 2))])
def test_an_ensemble_of_two_is_the_hand_computed_mixture(members):
    models = [_model(name, seed) for name, seed in members]
    result = decode(models, SOURCES, method="greedy", max_length=5)
    tokens, total = _greedy_mixture(models, SOURCES, 5)
    n = result.token_ids.shape[-1]
    np.testing.assert_array_equal(result.token_ids[:, 0], tokens[:, :n])
    np.testing.assert_allclose(result.log_probs[:, 0], total, atol=1e-4)
    # and it is neither member alone
    singles = [decode(m, SOURCES, max_length=5).log_probs[:, 0] for m in models]
    assert all(np.abs(s - result.log_probs[:, 0]).max() > 1e-3 for s in singles)


def test_beam_search_over_an_ensemble_and_clear_refusals():
    models = [_model("luong_lstm", 3), _model("transformer_tiny", 4)]
    result = decode(models, SOURCES, method="beam", beam_width=3, num_return_sequences=2,
                    max_length=6)
    assert result.token_ids.shape[:2] == (3, 2)
    assert np.all(np.diff(result.scores, axis=1) <= 1e-6)  # n-best in order
    with pytest.raises(ValueError, match="vocabular"):
        decode([models[0], zoo.build("vanilla_gru", source_vocab_size=V, target_vocab_size=V + 1,
                                     **zoo.get_spec("vanilla_gru").tiny)], SOURCES)
    with pytest.raises(ValueError, match="no single attention"):
        decode(models, SOURCES, return_alignments=True)
