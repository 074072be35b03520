"""Transformer stacks: config, saving, XLA and gradients, step parity with caches, alignments."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers.transformer import (
    TransformerDecoderCall,
    TransformerDecoderStack,
    TransformerEncoderStack,
)
from tests.helpers import (
    assert_config_roundtrip,
    assert_jit_parity_and_gradients,
    assert_saving_roundtrip,
)

WIDTH, HEADS, MAX_LEN = 8, 2, 8


def _np(x):
    return ops.convert_to_numpy(x)


def _data(seed=0, batch=3, source_len=5, length=4):
    rng = np.random.default_rng(seed)
    memory = rng.normal(size=(batch, source_len, WIDTH)).astype("float32")
    mask = np.ones((batch, source_len), bool)
    mask[1, 3:] = False
    x = rng.normal(size=(batch, length, WIDTH)).astype("float32")
    return x, memory, mask


def _decoder(**kwargs):
    args = dict(num_heads=HEADS, intermediate_dim=16, max_length=MAX_LEN, dropout=0.0)
    return TransformerDecoderStack(2, **{**args, **kwargs})


def _stepped(decoder, x, memory, mask):
    caches = TransformerDecoderCall(decoder, "prepare")(memory, mask)
    states = [np.zeros(len(x), "int32")] + [np.zeros((len(x), *decoder.cache_shape), "float32")
                                            for _ in range(decoder.num_layers)]
    outputs, alignments = [], []
    for t in range(x.shape[1]):
        y, states, a = decoder(x[:, t:t + 1], memory_mask=mask, states=states,
                               cross_caches=caches)
        outputs.append(_np(y))
        alignments.append(_np(a))
    return np.concatenate(outputs, 1), np.stack(alignments, 1), _np(states[0])


@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("position", ["sinusoidal", "learned"])
def test_cached_steps_equal_the_full_decoder(normalize_first, position):
    x, memory, mask = _data()
    decoder = _decoder(normalize_first=normalize_first, position=position)
    full = _np(decoder(x, memory, memory_mask=mask))
    stepped, alignments, step = _stepped(decoder, x, memory, mask)
    np.testing.assert_allclose(stepped, full, atol=1e-5)
    assert step.tolist() == [4, 4, 4]
    np.testing.assert_allclose(alignments.sum(-1), 1.0, atol=1e-5)
    assert np.all(alignments[1, :, 3:] == 0)  # masked source positions get no weight


@pytest.mark.extended_on_jax  # 14 s on JAX
def test_decoder_only_stack_is_causal_and_steps():
    x, _, _ = _data(length=5)
    decoder = _decoder(cross_attention=False)
    full = _np(decoder(x))
    changed = x.copy()
    changed[:, 3:] += 1.0
    np.testing.assert_allclose(_np(decoder(changed))[:, :3], full[:, :3], atol=1e-6)
    states = [np.zeros(3, "int32")] + [np.zeros((3, *decoder.cache_shape), "float32")] * 2
    outputs = []
    for t in range(5):
        y, states = decoder(x[:, t:t + 1], states=states)
        outputs.append(_np(y))
    np.testing.assert_allclose(np.concatenate(outputs, 1), full, atol=1e-5)


@pytest.mark.extended_on_jax  # 26 s on JAX
def test_alignment_head_choice_and_mean():
    x, memory, mask = _data()
    mean_decoder = _decoder()
    mean_decoder(x, memory, memory_mask=mask)
    _, mean, _ = _stepped(mean_decoder, x, memory, mask)
    per_head = []
    for head in range(HEADS):
        decoder = _decoder(alignment_head=head)
        decoder(x, memory, memory_mask=mask)
        decoder.set_weights(mean_decoder.get_weights())
        per_head.append(_stepped(decoder, x, memory, mask)[1])
    np.testing.assert_allclose(np.mean(per_head, 0), mean, atol=1e-6)
    assert np.abs(per_head[0] - per_head[1]).max() > 1e-4  # the heads differ


def test_encoder_ignores_padding_and_positions_matter():
    x, _, mask = _data(length=5)
    encoder = TransformerEncoderStack(2, num_heads=HEADS, intermediate_dim=16, dropout=0.0)
    out = _np(encoder(x, padding_mask=mask))
    noisy = x.copy()
    noisy[1, 3:] = 100.0  # the padded positions of row 1
    np.testing.assert_allclose(_np(encoder(noisy, padding_mask=mask))[1, :3], out[1, :3],
                               atol=1e-5)
    swapped = x[:, ::-1]  # with positions, reversing the input does not just reverse the output
    assert np.abs(_np(encoder(swapped, padding_mask=np.ones((3, 5), bool)))[:, ::-1]
                  - _np(encoder(x, padding_mask=np.ones((3, 5), bool)))).max() > 1e-3


def test_configs_round_trip():
    assert_config_roundtrip(TransformerEncoderStack(2, num_heads=2, intermediate_dim=16,
                                                    normalize_first=True, position="learned"))
    assert_config_roundtrip(_decoder(alignment_layer=0, alignment_head=1, activation="gelu"))
    call = TransformerDecoderCall(_decoder(), "step")
    clone = TransformerDecoderCall.from_config(call.get_config())
    assert clone.mode == "step" and clone.decoder.get_config() == call.decoder.get_config()


def _seq2seq_model():
    source = keras.Input((5, WIDTH))
    target = keras.Input((4, WIDTH))
    mask = keras.Input((5,), dtype="bool")
    memory = TransformerEncoderStack(1, num_heads=HEADS, intermediate_dim=16, dropout=0.0,
                                     position="learned", max_length=MAX_LEN)(
        source, padding_mask=mask)
    out = _decoder(normalize_first=True)(target, memory, memory_mask=mask)
    return keras.Model([source, target, mask], out)


@pytest.mark.extended_on_jax  # 35 s on JAX
def test_saving_xla_and_gradients(tmp_path):
    x, memory, mask = _data()
    inputs = [memory, x, mask]
    assert_saving_roundtrip(_seq2seq_model(), inputs, tmp_path)
    # random targets: the final layer norm makes a zero-target loss nearly constant
    targets = np.random.default_rng(1).normal(size=x.shape).astype("float32")
    assert_jit_parity_and_gradients(_seq2seq_model, inputs, targets)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="multiple of `num_heads`"):
        TransformerEncoderStack(1, num_heads=3, intermediate_dim=8)(np.zeros((1, 2, 8)))
    with pytest.raises(ValueError, match="position"):
        TransformerEncoderStack(1, num_heads=2, intermediate_dim=8, position="rotary")
    with pytest.raises(ValueError, match="alignment_head"):
        _decoder(alignment_head=5)
    with pytest.raises(ValueError, match="cross-attention"):
        _decoder()(np.zeros((1, 2, 8)))
    with pytest.raises(ValueError, match="no cross-attention"):
        _decoder(cross_attention=False)(np.zeros((1, 2, 8)), np.zeros((1, 2, 8)))
