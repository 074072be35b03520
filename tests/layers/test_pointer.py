"""Pointer-network layers against the paper's equations in NumPy, and a short fit on sorting.

`u_ij = vᵀ tanh(W1 e_j + W2 d_i)` (Vinyals, Fortunato and Jaitly, 2015, eq. 3), with the
slots that may not be chosen at -1e9: `<pad>`, `<unk>`, `<s>` and padded input positions.
"""

import doctest

import keras
import numpy as np
import pytest

from keras_s2s.constants import BOS_ID, EOS_ID, NUM_SPECIAL_TOKENS
from keras_s2s.data.pointer_problems import sort_numbers
from keras_s2s.layers import GatherSlots, PointerLogits, PointerSlots
from keras_s2s.layers.pointer import MASKED_LOGIT
from tests.helpers import (
    assert_config_roundtrip,
    assert_jit_parity_and_gradients,
    assert_saving_roundtrip,
)

B, T, N, FEATURES, Q_DIM, UNITS = 3, 4, 5, 2, 6, 7
# row 0 has two padded inputs at the end, row 1 is full, row 2 has one real input
INPUT_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _reference_logits(query, memory, mask, w1, w2, v):
    """u_ij = vᵀ tanh(W1 e_j + W2 d_i), loops over i and j; masked slots -1e9."""
    out = np.zeros(query.shape[:2] + (memory.shape[1],), "float64")
    for b in range(query.shape[0]):
        for i in range(query.shape[1]):
            for j in range(memory.shape[1]):
                u = v @ np.tanh(memory[b, j] @ w1 + query[b, i] @ w2)
                out[b, i, j] = u if mask[b, j] else MASKED_LOGIT
    return out


def _data(seed=0):
    rng = np.random.default_rng(seed)
    points = rng.random((B, N, FEATURES)).astype("float32")
    query = rng.normal(size=(B, T, Q_DIM)).astype("float32")
    return points, query


def test_slots_put_the_specials_first_and_mask_all_but_eos_and_real_inputs():
    points, _ = _data()
    layer = PointerSlots(UNITS)
    slots, mask = layer(points, INPUT_MASK)
    slots, mask = _np(slots), _np(mask)
    assert slots.shape == (B, NUM_SPECIAL_TOKENS + N, UNITS)
    kernel, bias, special = (_np(w) for w in (layer.kernel, layer.bias, layer.special))
    np.testing.assert_allclose(slots[:, NUM_SPECIAL_TOKENS:], points @ kernel + bias, atol=1e-6)
    np.testing.assert_allclose(slots[:, :NUM_SPECIAL_TOKENS], np.broadcast_to(special, (B, 4, UNITS)))
    expected = np.zeros((B, NUM_SPECIAL_TOKENS + N), bool)
    expected[:, EOS_ID] = True
    expected[:, NUM_SPECIAL_TOKENS:] = INPUT_MASK
    np.testing.assert_array_equal(mask, expected)
    # without a mask every input is real
    assert _np(layer(points)[1])[:, NUM_SPECIAL_TOKENS:].all()


def test_logits_match_the_paper_for_all_steps_and_for_one_step():
    points, query = _data()
    slots, mask = PointerSlots(UNITS)(points, INPUT_MASK)
    layer = PointerLogits(UNITS)
    logits = _np(layer(query, slots, mask))
    w1, w2, v = (_np(w) for w in (layer.memory_kernel, layer.query_kernel, layer.v))
    expected = _reference_logits(query, _np(slots), _np(mask), w1, w2, v)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    assert logits.dtype == np.float32
    # one decoding step with precomputed keys gives the same row
    keys = layer.precompute(slots)
    for i in range(T):
        np.testing.assert_allclose(_np(layer.logits(query[:, i], keys, mask)), logits[:, i],
                                   rtol=1e-5, atol=1e-5)
    # the softmax never points at pad, unk, <s> or a padded input
    probabilities = _np(keras.ops.softmax(logits, axis=-1))
    assert probabilities[~np.broadcast_to(_np(mask)[:, None], logits.shape)].max() == 0.0


def test_gather_slots_feeds_the_chosen_slot():
    points, _ = _data()
    slots, _ = PointerSlots(UNITS)(points)
    ids = np.array([[BOS_ID, 4, 6, EOS_ID]] * B)
    gathered = _np(GatherSlots()(slots, ids))
    np.testing.assert_allclose(gathered, _np(slots)[np.arange(B)[:, None], ids])


def _pointer_model(n=N, units=UNITS, features=FEATURES):
    """A minimal pointer network: slot encodings from an LSTM over the slots, a decoder LSTM
    over the gathered slot vectors, pointer logits over the encodings."""
    points = keras.Input((n, features), name="encoder_inputs")
    ids = keras.Input((None,), dtype="int32", name="decoder_token_ids")
    slots, mask = PointerSlots(units, name="slots")(points)
    memory, h, c = keras.layers.LSTM(units, return_sequences=True, return_state=True,
                                     name="encoder")(slots)
    decoded = keras.layers.LSTM(units, return_sequences=True, name="decoder")(
        GatherSlots(name="decoder_inputs")(slots, ids), initial_state=[h, c])
    logits = PointerLogits(units, name="logits")(decoded, memory, mask)
    return keras.Model({"encoder_inputs": points, "decoder_token_ids": ids}, logits)


@pytest.mark.extended_on_jax  # 19 s on JAX
def test_config_saving_and_jit_parity(tmp_path):
    for layer in (PointerSlots(4, kernel_initializer="he_normal"), PointerLogits(3),
                  GatherSlots()):
        assert_config_roundtrip(layer)
    points, _ = _data()
    ids = np.array([[BOS_ID, 5, 4, 6]] * B, "int32")
    inputs = {"encoder_inputs": points, "decoder_token_ids": ids}
    assert_saving_roundtrip(_pointer_model(), inputs, tmp_path)
    # padded slots sit at -1e9: an MSE target there would swamp the loss, so the gradients
    # are taken through the real slots only (the mask has no padded input here)
    targets = np.random.default_rng(1).normal(size=(B, T, NUM_SPECIAL_TOKENS + N))
    targets = np.where(np.arange(NUM_SPECIAL_TOKENS + N) == EOS_ID, 0.0, targets)
    keras.utils.set_random_seed(0)
    model = _pointer_model()
    outputs = _np(model(inputs))
    targets = np.where(outputs <= MASKED_LOGIT / 2, MASKED_LOGIT, targets).astype("float32")
    assert_jit_parity_and_gradients(_pointer_model, inputs, targets, atol=1e-4)


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.zeros((2, 3, 2, 1))])
def test_bad_shapes_are_named(bad):
    with pytest.raises(ValueError, match="features"):
        PointerSlots(4)(bad)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="learning is checked once; the equations run on every backend")
def test_a_pointer_network_learns_to_sort_numbers():
    """Teacher-forced training on 2,000 seeded lists of 5 numbers: the pointer's token
    accuracy on unseen lists rises far above chance (1 in 6 slots)."""
    n = 5
    train, test = sort_numbers(2000, n, seed=0), sort_numbers(200, n, seed=1)

    def arrays(problem):
        labels = np.stack([np.append(a + NUM_SPECIAL_TOKENS, EOS_ID) for a in problem.answers])
        inputs = np.concatenate([np.full((len(problem), 1), BOS_ID), labels[:, :-1]], 1)
        return ({"encoder_inputs": problem.inputs.astype("float32"),
                 "decoder_token_ids": inputs.astype("int32")}, labels.astype("int32"))

    keras.utils.set_random_seed(0)
    model = _pointer_model(n=n, units=32, features=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=True)
    model.fit(*arrays(train), batch_size=64, epochs=8, verbose=0)
    _, accuracy = model.evaluate(*arrays(test), verbose=0)
    assert accuracy > 0.8, accuracy


def test_docstring_examples_run():
    from keras_s2s.layers import pointer

    result = doctest.testmod(pointer, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0
