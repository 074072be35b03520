"""Monotonic attention against NumPy written from Raffel et al. (2017), eqs. 9-11 and the hard
test-time process of section 2.2, and against the TensorFlow Addons conventions."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import (
    BahdanauMonotonicAttention,
    LuongMonotonicAttention,
    monotonic_alignments,
)
from tests.helpers import assert_config_roundtrip

B, S, DQ, DM = 3, 6, 4, 5


def _recursive_reference(p, previous):
    """q_j = (1 - p_{j-1}) q_{j-1} + α_{i-1,j}, α_j = p_j q_j, by a loop over j (eq. 9-10)."""
    alignments = np.zeros_like(p)
    for b in range(p.shape[0]):
        q = 0.0
        for j in range(p.shape[1]):
            q = (1.0 - (p[b, j - 1] if j else 1.0)) * q + previous[b, j]
            alignments[b, j] = p[b, j] * q
    return alignments


def _parallel_reference(p, previous):
    """Eq. 11 with TFA's clipping: p · cumprod_excl(1 - p) · cumsum(prev / cumprod_excl)."""
    cumprod = np.concatenate([np.ones((p.shape[0], 1)), np.cumprod(1 - p, 1)[:, :-1]], 1)
    return p * cumprod * np.cumsum(previous / np.clip(cumprod, 1e-10, 1.0), 1)


def _hard_reference(scores, previous):
    """Section 2.2: from the previous stop, move right and stop at the first e_ij > 0."""
    out = np.zeros_like(scores)
    for b in range(scores.shape[0]):
        start = int(np.argmax(previous[b] > 0))
        for j in range(start, scores.shape[1]):
            if scores[b, j] > 0:
                out[b, j] = 1.0
                break
    return out


def _random(seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, (B, S))
    previous = rng.dirichlet(np.ones(S), B) * 0.9  # sums to 0.9: some mass went nowhere
    return p, previous


def test_recursive_and_parallel_modes_match_the_recurrence():
    p, previous = _random()
    expected = _recursive_reference(p, previous)
    for mode in ("recursive", "parallel"):
        got = ops.convert_to_numpy(monotonic_alignments(p, previous, mode))
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=mode)
    np.testing.assert_allclose(
        ops.convert_to_numpy(monotonic_alignments(p, previous, "parallel")),
        _parallel_reference(p, previous), atol=1e-5)


def test_recursive_stays_exact_where_the_parallel_form_breaks_down():
    """With a 1 - p of 1e-12 early on, eq. 11 divides by a clipped cumprod; the recurrence
    itself (recursive mode) stays exact."""
    p, previous = _random(1)
    p[:, 1] = 1.0 - 1e-12
    previous = np.roll(previous, 3, axis=1)  # mass after the near-certain stop
    exact = _recursive_reference(p, previous)
    got = ops.convert_to_numpy(monotonic_alignments(p, previous, "recursive"))
    # float32 rounding: 1e-6 on TensorFlow and JAX, 1.9e-6 on PyTorch
    np.testing.assert_allclose(got, exact, atol=5e-6)
    assert np.abs(ops.convert_to_numpy(monotonic_alignments(p, previous, "parallel"))
                  - exact).max() > 1e-3


def test_hard_mode_stops_at_the_first_positive_score_at_or_after_the_last_stop():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(B, S))
    previous = np.eye(S)[[0, 2, 5]]
    p = (scores > 0).astype("float64")
    got = ops.convert_to_numpy(monotonic_alignments(p, previous, "hard"))
    np.testing.assert_array_equal(got, _hard_reference(scores, previous))


def _numpy_bahdanau_scores(layer, query, memory, normalize):
    Wq = ops.convert_to_numpy(layer.query_kernel)
    Wm = ops.convert_to_numpy(layer.memory_kernel)
    v = ops.convert_to_numpy(layer.v)
    hidden = (query @ Wq)[:, None, :] + memory @ Wm
    if normalize:
        hidden = hidden + ops.convert_to_numpy(layer.b)
        v = float(ops.convert_to_numpy(layer.g)) * v / np.linalg.norm(v)
    return np.tanh(hidden) @ v + float(ops.convert_to_numpy(layer.score_bias))


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("mode", ["parallel", "recursive", "hard"])
def test_bahdanau_monotonic_matches_numpy(normalize, mode):
    rng = np.random.default_rng(3)
    query = rng.normal(size=(B, DQ)).astype("float32")
    memory = rng.normal(size=(B, S, DM)).astype("float32")
    mask = np.ones((B, S), bool)
    mask[1, 4:] = False
    previous = np.eye(S)[[0, 1, 2]].astype("float32")
    layer = BahdanauMonotonicAttention(7, normalize=normalize, score_bias_init=-0.5, mode=mode)
    context, alignments = layer(query, memory, memory_mask=mask, previous_alignments=previous)
    scores = _numpy_bahdanau_scores(layer, query, memory, normalize)
    if mode == "hard":
        expected = _hard_reference(np.where(mask, scores, -1.0), previous)
    else:
        expected = _recursive_reference(1 / (1 + np.exp(-scores)) * mask, previous)
    a = ops.convert_to_numpy(alignments)
    np.testing.assert_allclose(a, expected, atol=1e-5)
    assert np.all(a[1, 4:] == 0.0)
    np.testing.assert_allclose(ops.convert_to_numpy(context),
                               np.einsum("bs,bsd->bd", expected, memory), atol=1e-5)


def test_luong_monotonic_matches_numpy_and_starts_from_the_first_position():
    rng = np.random.default_rng(4)
    query = rng.normal(size=(B, DQ)).astype("float32")
    memory = rng.normal(size=(B, S, DM)).astype("float32")
    layer = LuongMonotonicAttention(scale=True, score_bias_init=1.0, mode="recursive")
    _, alignments = layer(query, memory)  # no previous alignments: [1, 0, ..., 0]
    W = ops.convert_to_numpy(layer.memory_kernel)
    g = float(ops.convert_to_numpy(layer.g))
    scores = g * np.einsum("bd,bsd->bs", query, memory @ W) + 1.0
    expected = _recursive_reference(1 / (1 + np.exp(-scores)), np.eye(S)[[0] * B])
    np.testing.assert_allclose(ops.convert_to_numpy(alignments), expected, atol=1e-5)
    assert {w.name for w in layer.weights} == {"memory_kernel", "g", "score_bias"}


def test_sigmoid_noise_only_in_training_and_seeded():
    rng = np.random.default_rng(5)
    query = rng.normal(size=(B, DQ)).astype("float32")
    memory = rng.normal(size=(B, S, DM)).astype("float32")
    layer = BahdanauMonotonicAttention(4, sigmoid_noise=1.0, sigmoid_noise_seed=0)
    a, b = (ops.convert_to_numpy(layer(query, memory)[1]) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    noisy = ops.convert_to_numpy(layer(query, memory, training=True)[1])
    assert np.abs(noisy - a).max() > 1e-3


def test_config_roundtrip_and_bad_arguments():
    layer = LuongMonotonicAttention("concat", units=3, sigmoid_noise=0.5, score_bias_init=-4.0,
                                    mode="hard")
    clone = assert_config_roundtrip(layer)
    assert (clone.mode, clone.score_bias_init, clone.score_type) == ("hard", -4.0, "concat")
    with pytest.raises(ValueError, match="mode"):
        BahdanauMonotonicAttention(4, mode="soft")
    with pytest.raises(ValueError, match="sigmoid_noise"):
        BahdanauMonotonicAttention(4, sigmoid_noise=-1.0)
    with pytest.raises(ValueError, match="one decoder step"):
        BahdanauMonotonicAttention(4)(np.ones((2, 3, 4)), np.ones((2, 5, 6)))


def test_jit_gradients_reach_every_weight():
    query = keras.Input((DQ,))
    memory = keras.Input((S, DM))
    layer = BahdanauMonotonicAttention(4, normalize=True, mode="recursive", name="attention")
    context, alignments = layer(query, memory)
    model = keras.Model([query, memory], keras.layers.Concatenate()([context, alignments]))
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    rng = np.random.default_rng(6)
    x = [rng.normal(size=(B, DQ)).astype("float32"), rng.normal(size=(B, S, DM)).astype("float32")]
    before = [ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    model.train_on_batch(x, np.ones((B, DM + S), "float32"))
    for w, b in zip(model.trainable_weights, before):
        assert np.abs(ops.convert_to_numpy(w) - b).max() > 0, w.path


# --- inside the decoder: the previous alignments travel in the decoder state ------------------

@pytest.mark.parametrize("attention_first", [False, True])
@pytest.mark.parametrize("mode", ["parallel", "hard"])
def test_decoder_call_equals_its_steps_with_the_alignments_in_the_state(attention_first, mode):
    from keras_s2s.layers import AttentionDecoder
    from tests.layers.test_attention_decoder import _data, _loop_over_step

    x, memory, mask = _data()
    attention = (BahdanauMonotonicAttention(4, score_bias_init=0.5, mode=mode)
                 if attention_first else LuongMonotonicAttention(mode=mode))
    decoder = AttentionDecoder(keras.layers.GRUCell(5), attention, attention_layer_size=5,
                               input_feeding=False, attention_first=attention_first)
    outputs, alignments, states = decoder(x, memory, memory_mask=mask)
    assert decoder.state_size[-1] is None and len(states) == 2
    ref_out, ref_w, ref_states = _loop_over_step(decoder, x, memory, mask)
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), ref_out, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(alignments), ref_w, atol=1e-5)
    # the last state is the last step's alignments, and alignments move only forwards
    np.testing.assert_allclose(ops.convert_to_numpy(states[-1]), ref_w[:, -1], atol=1e-6)
    if mode == "hard":
        stops = [[int(np.argmax(row)) if row.any() else None for row in step]
                 for step in ref_w.transpose(1, 0, 2)]
        for b in range(x.shape[0]):
            seen = [s[b] for s in stops if s[b] is not None]
            assert seen == sorted(seen)


@pytest.mark.parametrize("attention_first", [False, True])
def test_decoder_training_noise_is_drawn_once_and_read_step_by_step(attention_first):
    """`call(training=True)` draws the sequence's score noise before its loop (a draw inside
    it updates the seed generator inside a traced scan, which JAX refuses), and step t reads
    slice t: the call equals a step loop given the same slices."""
    from keras_s2s.layers import AttentionDecoder
    from tests.layers.test_attention_decoder import _data

    x, memory, mask = _data()
    attention = (BahdanauMonotonicAttention(4, sigmoid_noise=1.0) if attention_first
                 else LuongMonotonicAttention(sigmoid_noise=1.0))
    decoder = AttentionDecoder(keras.layers.GRUCell(5), attention, attention_layer_size=5,
                               input_feeding=False, attention_first=attention_first)
    quiet = ops.convert_to_numpy(decoder(x, memory, memory_mask=mask)[1])
    noise = np.random.default_rng(3).normal(size=(*x.shape[:2], memory.shape[1]))
    attention.training_noise = lambda batch, steps, source_len: ops.convert_to_tensor(
        noise.astype("float32"))
    outputs, alignments, _ = decoder(x, memory, memory_mask=mask, training=True)
    states = decoder.get_initial_state(x.shape[0], None, memory, mask)
    keys = attention.precompute(memory)
    for t in range(x.shape[1]):
        out, w, states = decoder.step(x[:, t], states, memory, mask, keys=keys,
                                      noise=noise[:, t].astype("float32"))
        np.testing.assert_allclose(ops.convert_to_numpy(outputs[:, t]),
                                   ops.convert_to_numpy(out), atol=1e-5)
        np.testing.assert_allclose(ops.convert_to_numpy(alignments[:, t]),
                                   ops.convert_to_numpy(w), atol=1e-5)
    assert np.abs(ops.convert_to_numpy(alignments) - quiet).max() > 1e-2  # the noise counts


def test_decoder_with_sigmoid_noise_trains_under_jit():
    """A compiled training step of a decoder whose monotonic attention draws noise (it failed
    on JAX with an UnexpectedTracerError while the noise was drawn inside the loop)."""
    from keras_s2s.layers import AttentionDecoder
    from tests.layers.test_attention_decoder import _data

    x, memory, mask = _data()
    inputs, source = keras.Input(x.shape[1:]), keras.Input(memory.shape[1:])
    decoder = AttentionDecoder(keras.layers.GRUCell(5), LuongMonotonicAttention(sigmoid_noise=1.0),
                               attention_layer_size=5)
    model = keras.Model([inputs, source], decoder(inputs, source)[0])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    first = model.train_on_batch([x, memory], np.ones((*x.shape[:2], 5), "float32"))
    second = model.train_on_batch([x, memory], np.ones((*x.shape[:2], 5), "float32"))
    assert np.isfinite(first) and np.isfinite(second) and first != second
