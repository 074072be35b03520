"""Step parity for every zoo entry: the one-step decoder graph reproduces the training logits."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s import zoo
from keras_s2s.inference import build_inference_models, has_attention

# every entry with a decoder: seq2seq models and decoder-only language models
ENTRIES = [n for n in zoo.list_models() if zoo.get_spec(n).kind in ("seq2seq", "lm")]


def _tiny(name):
    spec = zoo.get_spec(name)
    vocab = ({"source_vocab_size": 13, "target_vocab_size": 11} if spec.kind == "seq2seq"
             else {"vocab_size": 11})
    return zoo.build(name, **vocab, **{**spec.tiny, "dropout": 0.0})


def _is_lm(model):
    return set(model.input) == {"token_ids"}


def _inputs():
    src = np.array([[5, 6, 7, 8, 0, 0], [9, 4, 0, 0, 0, 0], [4, 5, 6, 7, 8, 9]], "int32")
    dec = np.array([[2, 4, 5, 6, 7], [2, 8, 0, 0, 0], [2, 9, 9, 4, 0]], "int32")
    return src, dec


def _step_logits(encoder_model, decoder_model, src, dec):
    key = "token_ids" if "token_ids" in encoder_model.input else "encoder_token_ids"
    encoded = encoder_model({key: ops.convert_to_tensor(dec if key == "token_ids" else src)})
    state = {k: v for k, v in encoded.items() if k.startswith("state_")}
    constants = {k: v for k, v in encoded.items() if not k.startswith("state_")}
    logits, alignments = [], []
    for t in range(dec.shape[1]):
        out = decoder_model({"decoder_token_ids": ops.convert_to_tensor(dec[:, t:t + 1]),
                             **state, **constants})
        logits.append(ops.convert_to_numpy(out["logits"]))
        if "alignments" in out:
            alignments.append(ops.convert_to_numpy(out["alignments"]))
        state = {k: out[k] for k in state}
    return np.stack(logits, 1), alignments


def _assert_parity(model, encoder_model, decoder_model):
    src, dec = _inputs()
    inputs = {"token_ids": dec} if _is_lm(model) else {"encoder_token_ids": src,
                                                        "decoder_token_ids": dec}
    full = ops.convert_to_numpy(model(inputs))
    stepped, alignments = _step_logits(encoder_model, decoder_model, src, dec)
    np.testing.assert_allclose(stepped, full, atol=1e-5)
    if alignments:
        a = np.stack(alignments, 1)
        if "monotonic" in model.name or "local_p" in model.name:
            # expected monotonic alignments keep the chance of stopping nowhere; local-p's
            # Gaussian scales the window's softmax: both sum to at most one
            assert a.min() >= 0.0 and a.sum(-1).max() <= 1.0 + 1e-5
        else:
            np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-5)
        assert np.all(a[1, :, 2:] == 0.0)  # padding of the second source gets no attention
    return stepped


from tests.zoo.test_models import SAME_CLASSES_AS as _SAME_CLASSES  # noqa: E402  (make test-all)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.extended)
                                  if n in _SAME_CLASSES else n for n in ENTRIES])
def test_step_parity_fresh_reloaded_and_saved_graphs(name, tmp_path):
    model = _tiny(name)
    encoder_model, decoder_model = build_inference_models(model)
    assert ("alignments" in decoder_model.output) == has_attention(model)
    expected = _assert_parity(model, encoder_model, decoder_model)

    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    _assert_parity(reloaded, *build_inference_models(reloaded))

    # the inference graphs save and reload on their own
    encoder_model.save(str(tmp_path / "encoder.keras"))
    decoder_model.save(str(tmp_path / "decoder.keras"))
    enc = keras.saving.load_model(str(tmp_path / "encoder.keras"), safe_mode=True)
    dec = keras.saving.load_model(str(tmp_path / "decoder.keras"), safe_mode=True)
    stepped, _ = _step_logits(enc, dec, *_inputs())
    np.testing.assert_allclose(stepped, expected, atol=1e-6)


def test_inference_graphs_share_the_trained_weights():
    model = _tiny("luong_lstm")
    encoder_model, decoder_model = build_inference_models(model)
    model_ids = {id(w) for w in model.weights}
    assert {id(w) for w in decoder_model.weights} <= model_ids
    assert {id(w) for w in encoder_model.weights} <= model_ids


def test_not_a_seq2seq_model_is_rejected_clearly():
    inputs = keras.Input((3,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="not a keras_s2s seq2seq model"):
        build_inference_models(plain)
    with pytest.raises(ValueError, match="Expected a keras_s2s seq2seq model"):
        build_inference_models("luong_lstm")


def test_build_inference_models_returns_one_object_that_still_unpacks():
    model = zoo.build("transformer_tiny", source_vocab_size=13, target_vocab_size=11,
                      **zoo.get_spec("transformer_tiny").tiny)
    graphs = build_inference_models(model)
    encoder_model, decoder_model = graphs  # tutorials and users unpack it
    assert graphs.encoder_model is encoder_model and graphs.decoder_model is decoder_model
    assert graphs.kind.name == "seq2seq" and graphs.attention and graphs.kv_cache
    assert graphs.input_vocabulary_size == 13 and graphs.output_vocabulary_size == 11
    assert graphs.max_length == model.get_layer("decoder").max_length
    assert graphs.state_names == [f"state_{i}" for i in range(len(graphs.state_names))]
    assert set(graphs.state_names) | set(graphs.constant_names) == set(encoder_model.output)
    lm = build_inference_models(zoo.build("lstm_lm", vocab_size=9, units=8, embedding_dim=8))
    assert lm.kind.continues_prompt and not lm.attention and not lm.kv_cache
    assert lm.max_length is None and lm.input_vocabulary_size == 9
