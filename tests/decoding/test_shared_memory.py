"""Beam search whose hypotheses share their source's memory (`BaseAttention.groups_rows`,
`decoding.api.beams_share_memory`): the same search as with a tiled copy per hypothesis."""

import keras
import numpy as np
import pytest

import keras_s2s.decoding.api as api
from keras_s2s import zoo
from keras_s2s.decoding import decode
from keras_s2s.inference import build_inference_models
from keras_s2s.layers.attention import BahdanauAttention, LuongAttention
from keras_s2s.layers.attention_decoder import AttentionDecoder


def _sources(rows=6, length=5, vocab=12, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, vocab, (rows, length)).astype("int32")
    ids[1, 3:] = 0  # padding: the mask must travel with the shared memory
    ids[4, 2:] = 0
    return ids


@pytest.mark.parametrize("attention", [
    BahdanauAttention(8), BahdanauAttention(8, normalize=True), LuongAttention("general"),
    LuongAttention("dot"), LuongAttention("concat", units=8), LuongAttention("general",
                                                                             scale=True)])
def test_grouped_read_equals_the_tiled_read(attention):
    rng = np.random.default_rng(1)
    batch, r, source_len = 3, 4, 5
    query = rng.normal(size=(batch * r, 16)).astype("float32")
    memory = rng.normal(size=(batch, source_len, 16)).astype("float32")
    mask = np.ones((batch, source_len), bool)
    mask[1, 3:] = False
    tiled_memory, tiled_mask = np.repeat(memory, r, 0), np.repeat(mask, r, 0)
    # the reference: every query row against its own copy of its source's memory
    want_context, want_weights = attention(query, tiled_memory, tiled_mask)
    keys = attention.precompute(memory)
    context, weights = attention.attend(query, memory, keys, mask)
    np.testing.assert_allclose(context, want_context, atol=1e-5)
    np.testing.assert_allclose(weights, want_weights, atol=1e-6)
    assert np.all(np.asarray(weights)[4:8, 3:] == 0.0)  # source 1's padding, every hypothesis


@pytest.mark.parametrize("input_feeding", [True, False])
def test_a_one_step_decoder_call_reads_a_shared_memory(input_feeding):
    # the decoding graph calls the decoder on one step; without input feeding that step's
    # attention is the all-steps path, which must group rows as the one-step read does
    keras.utils.set_random_seed(0)
    decoder = AttentionDecoder(keras.layers.LSTMCell(8), LuongAttention("general"),
                               input_feeding=input_feeding)
    rng = np.random.default_rng(2)
    batch, r = 2, 3
    memory = rng.normal(size=(batch, 4, 8)).astype("float32")
    decoder(np.zeros((batch, 2, 6), "float32"), memory)  # build
    states = [rng.normal(size=(batch * r, size)).astype("float32")
              for size in keras.tree.flatten(decoder.state_size)]
    step = rng.normal(size=(batch * r, 1, 6)).astype("float32")
    want = decoder(step, np.repeat(memory, r, 0), initial_state=states)
    got = decoder(step, memory, initial_state=states)
    for a, b in zip(keras.tree.flatten(got), keras.tree.flatten(want)):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("name, shares", [
    ("luong_bilstm", True), ("luong_dot_bilstm", True), ("luong_concat_bilstm", True),
    ("bahdanau_gru", True), ("copy_bilstm", False), ("luong_local_m_bilstm", False),
    ("luong_monotonic_bilstm", False), ("bahdanau_monotonic_gru", False),
    ("location_bilstm", False),
    ("vanilla_lstm", False), ("transformer_tiny", False)])
def test_which_step_graphs_share_memory(name, shares):
    spec = zoo.get_spec(name)
    model = zoo.build(name, source_vocab_size=20, target_vocab_size=20, **(spec.tiny or {}))
    assert api.beams_share_memory(build_inference_models(model)[1]) is shares


@pytest.mark.parametrize("name", ["luong_bilstm", "bahdanau_gru", "luong_concat_bilstm"])
@pytest.mark.parametrize("settings", [
    {}, {"length_penalty": 0.6, "coverage_penalty": 0.2, "return_alignments": True,
         "num_return_sequences": 3}])
def test_beam_search_with_shared_memory_is_the_tiled_search(monkeypatch, name, settings):
    spec = zoo.get_spec(name)
    keras.utils.set_random_seed(0)
    model = zoo.build(name, source_vocab_size=12, target_vocab_size=12, **(spec.tiny or {}))
    twin = zoo.build(name, source_vocab_size=12, target_vocab_size=12, **(spec.tiny or {}))
    twin.set_weights(model.get_weights())
    ids = _sources()
    kwargs = dict(beam_width=4, max_length=7, verbose=False, **settings)
    shared = decode(model, ids, "beam", **kwargs)
    monkeypatch.setattr(api, "beams_share_memory", lambda decoder_model: False)
    tiled = decode(twin, ids, "beam", **kwargs)
    np.testing.assert_array_equal(shared.token_ids, tiled.token_ids)
    np.testing.assert_allclose(shared.log_probs, tiled.log_probs, atol=1e-4)
    if settings.get("return_alignments"):
        np.testing.assert_allclose(shared.alignments, tiled.alignments, atol=1e-5)


def test_samples_share_memory_as_the_tiled_samples(monkeypatch):
    # sampling with several samples per source tiles the state; the memory stays one copy
    keras.utils.set_random_seed(0)
    model = zoo.build("luong_bilstm", source_vocab_size=12, target_vocab_size=12,
                      **zoo.get_spec("luong_bilstm").tiny)
    twin = zoo.build("luong_bilstm", source_vocab_size=12, target_vocab_size=12,
                     **zoo.get_spec("luong_bilstm").tiny)
    twin.set_weights(model.get_weights())
    kwargs = dict(num_return_sequences=3, seed=7, top_k=5, max_length=7, verbose=False)
    shared = decode(model, _sources(), "sample", **kwargs)
    monkeypatch.setattr(api, "beams_share_memory", lambda decoder_model: False)
    tiled = decode(twin, _sources(), "sample", **kwargs)
    np.testing.assert_array_equal(shared.token_ids, tiled.token_ids)
    np.testing.assert_allclose(shared.log_probs, tiled.log_probs, atol=1e-4)
