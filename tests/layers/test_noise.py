"""Token noise layers: rates within binomial tolerance, identity at inference, seeds, invariants."""

import doctest

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import SequenceNoise, TokenDeletion, TokenMask, TokenSwap, WordDropout
from keras_s2s.layers import noise as noise_module
from tests.helpers import assert_config_roundtrip, assert_saving_roundtrip

PROTECTED = (2, 3)


def _batch(rows=256, length=32, seed=0, distinct=True, protected=True):
    """`<s> w w ... w </s> 0 0`: real lengths 8..length, distinct word ids per row if asked."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((rows, length), "int32")
    for r in range(rows):
        n = int(rng.integers(8, length + 1))
        words = (rng.permutation(400)[:n] + 4) if distinct else rng.integers(4, 50, size=n)
        if protected:
            words[0], words[n - 1] = 2, 3
        ids[r, :n] = words
    return ids


def _np(x):
    return ops.convert_to_numpy(x)


def _assert_rate(count, total, rate):
    """`count / total` within 4 binomial standard errors of `rate` (fails ~6e-5 of the time)."""
    tolerance = 4 * np.sqrt(rate * (1 - rate) / total)
    assert abs(count / total - rate) < tolerance, (count / total, rate, tolerance)


def _assert_padding_and_protected_kept(ids, out):
    assert out.shape == ids.shape and out.dtype == ids.dtype
    np.testing.assert_array_equal(out == 0, ids == 0)
    for token_id in PROTECTED:
        np.testing.assert_array_equal(out == token_id, ids == token_id)


ALL_LAYERS = [
    lambda seed: TokenDeletion(0.3, seed=seed),
    lambda seed: TokenSwap(0.3, seed=seed),
    lambda seed: TokenMask(0.3, random_rate=0.2, vocab_size=50, seed=seed),
    lambda seed: WordDropout(0.3, seed=seed),
    lambda seed: SequenceNoise(deletion=0.2, swap=0.2, mask=0.2, seed=seed),
]


@pytest.mark.parametrize("make", ALL_LAYERS)
def test_identity_at_inference_and_reproducible_with_a_seed(make):
    ids = _batch()  # one shape for all eager tests: JAX compiles each op once per shape
    layer = make(7)
    for training in (None, False):
        out = _np(layer(ids, training=training))
        np.testing.assert_array_equal(out, ids)
        assert out.dtype == ids.dtype
    first, second = _np(layer(ids, training=True)), _np(layer(ids, training=True))
    assert not np.array_equal(first, ids) and not np.array_equal(first, second)  # noise advances
    twin = make(7)  # same seed: the same sequence of noise
    np.testing.assert_array_equal(_np(twin(ids, training=True)), first)
    np.testing.assert_array_equal(_np(twin(ids, training=True)), second)
    other = make(8)
    assert not np.array_equal(_np(other(ids, training=True)), first)
    wide = ids.astype("int64")  # int64 stays int64 (JAX without x64 holds it as int32)
    assert _np(layer(wide, training=True)).dtype == _np(ops.convert_to_tensor(wide)).dtype


def test_deletion_rate_order_and_left_alignment():
    ids = _batch()
    out = _np(TokenDeletion(0.2, seed=1)(ids, training=True))
    assert out.shape == ids.shape
    deleted = total = 0
    for row_in, row_out in zip(ids, out):
        real_in, real_out = row_in[row_in != 0], row_out[row_out != 0]
        assert np.all(row_out[len(real_out):] == 0), "survivors are left-aligned"
        # the survivors are a subsequence of the input (distinct ids: check by position)
        where = [int(np.flatnonzero(real_in == t)[0]) for t in real_out]
        assert where == sorted(where)
        assert real_out[0] == 2 and real_out[-1] == 3  # protected tokens survive
        deleted += len(real_in) - len(real_out)
        total += len(real_in) - 2
    _assert_rate(deleted, total, 0.2)


def test_deletion_keeps_one_random_token_of_rows_it_would_empty():
    ids = _batch(protected=False)
    ids[5] = 0  # an empty row stays empty
    out = _np(TokenDeletion(0.999, seed=2)(ids, training=True))
    np.testing.assert_array_equal(out[5], 0)
    kept_positions = []
    for r in set(range(len(ids))) - {5}:
        assert (out[r] != 0).sum() == 1 and out[r, 0] in ids[r]
        kept_positions.append(int(np.flatnonzero(ids[r] == out[r, 0])[0]))
    assert len(set(kept_positions)) > 3  # not always the first (or the last) token


def test_swap_rate_rule_and_invariants():
    ids = _batch()
    out = _np(TokenSwap(0.2, seed=3)(ids, training=True))
    _assert_padding_and_protected_kept(ids, out)
    noisable = (ids > 3)
    eligible = noisable[:, :-1] & noisable[:, 1:]  # adjacent pairs that may be swapped
    swapped = (out[:, :-1] == ids[:, 1:]) & (out[:, 1:] == ids[:, :-1]) & eligible
    moved = out != ids
    # every moved token took part in exactly one swap: no token moved twice
    in_swap = np.zeros_like(moved)
    in_swap[:, :-1] |= swapped
    in_swap[:, 1:] |= swapped
    np.testing.assert_array_equal(moved, in_swap)
    assert not np.any(swapped[:, :-1] & swapped[:, 1:]), "overlapping swaps"
    _assert_rate(swapped.sum(), eligible.sum(), 0.2)
    # both parities are used: pairs starting at even and at odd positions get swapped
    assert swapped[:, 0::2].sum() > 0 and swapped[:, 1::2].sum() > 0


def test_mask_and_random_replacement_rates():
    ids = _batch(distinct=False)
    out = _np(TokenMask(0.15, mask_id=1, random_rate=0.1, vocab_size=50, seed=4)(
        ids, training=True))
    _assert_padding_and_protected_kept(ids, out)
    noisable = ids > 3
    total = noisable.sum()
    _assert_rate((out[noisable] == 1).sum(), total, 0.15)
    changed = noisable & (out != ids) & (out != 1)
    # a random id equals the original with probability 1/46
    _assert_rate(changed.sum(), total, 0.1 * 45 / 46)
    assert out[changed].min() >= 4 and out[changed].max() < 50


def test_word_dropout_rate():
    ids = _batch(distinct=False)
    out = _np(WordDropout(0.25, seed=5)(ids, training=True))
    _assert_padding_and_protected_kept(ids, out)
    noisable = ids > 3
    _assert_rate((out[noisable] == 1).sum(), noisable.sum(), 0.25)
    np.testing.assert_array_equal(out[noisable & (out != 1)], ids[noisable & (out != 1)])
    full = _np(WordDropout(1.0)(ids, training=True))  # Bowman et al.'s inputless decoder
    np.testing.assert_array_equal(full, np.where(noisable, 1, ids))


def test_sequence_noise_chains_in_order_and_keeps_invariants():
    ids = _batch()
    out = _np(SequenceNoise(deletion=0.2, swap=0.2, mask=0.2, seed=11)(ids, training=True))
    # the same stages, seeded seed, seed + 1, seed + 2, applied by hand in the documented order
    expected = TokenDeletion(0.2, seed=11)(ids, training=True)
    expected = TokenSwap(0.2, seed=12)(expected, training=True)
    expected = _np(TokenMask(0.2, seed=13)(expected, training=True))
    np.testing.assert_array_equal(out, expected)
    for row_in, row_out in zip(ids, out):
        real = row_out[row_out != 0]
        assert np.all(row_out[len(real):] == 0) and real[0] == 2 and real[-1] == 3
    layer = SequenceNoise(swap=0.1, name="source_noise")
    assert layer.name == "source_noise"
    np.testing.assert_array_equal(_np(layer(ids, training=True)) != 0, ids != 0)


@pytest.mark.extended_on_jax  # 7 s on JAX
def test_noise_is_reproducible_inside_compiled_training():
    """Inside `train_on_batch(jit_compile=True)` the seeded noise advances, and repeats per seed.

    (Not compared with eager calls: TensorFlow's stateless random ops draw other numbers under
    XLA than eagerly, for the same seed.)
    """
    ids = _batch(rows=4, length=8)

    def compiled_losses():
        inputs = keras.Input((8,), dtype="int32")
        noisy = SequenceNoise(deletion=0.3, swap=0.3, mask=0.3, seed=21)(inputs)
        x = keras.layers.Embedding(404, 1, embeddings_initializer=keras.initializers.RandomNormal(
            seed=0))(noisy)
        x = keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(seed=1))(
            keras.layers.Flatten()(x))
        model = keras.Model(inputs, x)
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", jit_compile=True)
        target = np.zeros((4, 1), "float32")
        return [float(np.asarray(model.train_on_batch(ids, target))) for _ in range(3)]

    first = compiled_losses()
    assert len(set(first)) == 3  # the weights do not move (lr 0): only the noise changes
    assert compiled_losses() == first


def test_config_and_saving_roundtrip(tmp_path):
    for make in ALL_LAYERS:
        assert_config_roundtrip(make(3))
    layer = TokenMask(0.2, mask_id=1, random_rate=0.1, vocab_size=30, protected_ids=[2], seed=5)
    config = assert_config_roundtrip(layer).get_config()
    assert config["protected_ids"] == [2] and config["vocab_size"] == 30
    inputs = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    noisy = SequenceNoise(deletion=0.1, swap=0.1, mask=0.1, seed=1, name="source_noise")(inputs)
    noisy = WordDropout(0.2, seed=2, name="word_dropout")(noisy)
    x = keras.layers.Embedding(404, 4, mask_zero=True)(noisy)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(x))
    ids = _batch(rows=4, length=8)
    reloaded = assert_saving_roundtrip(model, ids, tmp_path)
    assert reloaded.get_layer("source_noise").get_config() == (
        model.get_layer("source_noise").get_config())


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="`rate`"):
        TokenDeletion(1.0)
    with pytest.raises(ValueError, match="`rate`.*0.5"):
        TokenSwap(0.6)
    with pytest.raises(ValueError, match="`rate`"):
        WordDropout(-0.1)
    with pytest.raises(ValueError, match="`vocab_size`"):
        TokenMask(0.1, random_rate=0.1)
    with pytest.raises(ValueError, match="`rate` \\+ `random_rate`"):
        TokenMask(0.6, random_rate=0.6, vocab_size=10)
    with pytest.raises(ValueError, match="`protected_ids`"):
        TokenDeletion(0.1, protected_ids=(0, 3))
    with pytest.raises(ValueError, match="`seed`"):
        WordDropout(0.1, seed=1.5)
    with pytest.raises(ValueError, match="`swap`.*swap=0.7"):
        SequenceNoise(swap=0.7)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="examples use .numpy()")
def test_docstring_examples():
    result = doctest.testmod(noise_module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
