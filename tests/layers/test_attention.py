"""Tests for BahdanauAttention, LuongAttention and masked_softmax.

The scores are checked against independent NumPy references with random weights (including
non-trivial `g` and `b`), for a one-step query `(batch, query_dim)` and an all-steps query
`(batch, target_len, query_dim)`, with and without a memory mask.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_s2s.layers import BahdanauAttention, LuongAttention, masked_softmax
from tests.helpers import (
    assert_config_roundtrip,
    assert_jit_parity_and_gradients,
    assert_saving_roundtrip,
)

B, T, S, Q_DIM, M_DIM, UNITS = 3, 2, 5, 4, 6, 5

# Row 0 has a padded tail, row 1 is full, row 2 has holes (not just a suffix).
MASK = np.array([[1, 1, 1, 0, 0],
                 [1, 1, 1, 1, 1],
                 [0, 1, 0, 1, 0]], dtype=bool)


# --------------------------------------------------------------------------------------------
# NumPy reference
# --------------------------------------------------------------------------------------------

def np_masked_softmax(scores, mask=None):
    scores = scores.astype("float64")
    if mask is None:
        mask = np.ones(scores.shape[:1] + scores.shape[-1:], bool)
    mask = mask.astype(bool)
    if scores.ndim == 3:
        mask = mask[:, None, :]
    mask = np.broadcast_to(mask, scores.shape)
    shifted = np.where(mask, scores, -np.inf)
    row_max = np.max(shifted, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.where(mask, np.exp(scores - row_max), 0.0)
    total = e.sum(-1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def _additive_scores(q3, memory, query_kernel, memory_kernel, v, bias=None):
    """vᵀ tanh(q W_q + m W_m [+ b]) for q3 (batch, t, q_dim): (batch, t, source_len)."""
    keys = memory @ memory_kernel  # (b, s, u)
    if bias is not None:
        keys = keys + bias
    hidden = np.tanh((q3 @ query_kernel)[:, :, None, :] + keys[:, None, :, :])  # (b, t, s, u)
    return hidden @ v


def np_scores(kind, params, weights, query, memory):
    """Scores for query (batch, q_dim) or (batch, t, q_dim), from the weight dict."""
    q3 = query[:, None, :] if query.ndim == 2 else query
    q3, memory = q3.astype("float64"), memory.astype("float64")
    w = {k: np.asarray(v, "float64") for k, v in weights.items()}
    if kind == "bahdanau":
        v = w["v"]
        if params.get("normalize"):
            v = w["g"] * v / np.linalg.norm(v)
            scores = _additive_scores(q3, memory, w["query_kernel"], w["memory_kernel"], v,
                                      w["b"])
        else:
            scores = _additive_scores(q3, memory, w["query_kernel"], w["memory_kernel"], v)
    else:
        score = params["score"]
        if score == "dot":
            scores = np.einsum("btd,bsd->bts", q3, memory)
        elif score == "general":
            scores = np.einsum("btd,bsd->bts", q3, memory @ w["memory_kernel"])
        else:
            scores = _additive_scores(q3, memory, w["query_kernel"], w["memory_kernel"], w["v"])
        if params.get("scale"):
            scores = scores * w["g"]
    return scores[:, 0] if query.ndim == 2 else scores


def np_attention(kind, params, weights, query, memory, mask=None):
    scores = np_scores(kind, params, weights, query, memory)
    attn = np_masked_softmax(scores, mask)
    if query.ndim == 2:
        context = np.einsum("bs,bsd->bd", attn, memory)
    else:
        context = np.einsum("bts,bsd->btd", attn, memory)
    return context, attn


# --------------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------------

VARIANTS = {
    "bahdanau": ("bahdanau", {"units": UNITS}),
    "bahdanau_normalized": ("bahdanau", {"units": UNITS, "normalize": True}),
    "luong_dot": ("luong", {"score": "dot"}),
    "luong_dot_scaled": ("luong", {"score": "dot", "scale": True}),
    "luong_general": ("luong", {"score": "general"}),
    "luong_general_scaled": ("luong", {"score": "general", "scale": True}),
    "luong_concat": ("luong", {"score": "concat", "units": UNITS}),
    "luong_concat_default_units_scaled": ("luong", {"score": "concat", "scale": True}),
}
VARIANT_NAMES = sorted(VARIANTS)


def _make(name):
    kind, params = VARIANTS[name]
    layer = BahdanauAttention(**params) if kind == "bahdanau" else LuongAttention(**params)
    m_dim = Q_DIM if params.get("score") == "dot" else M_DIM
    return kind, params, layer, m_dim


def _expected_weight_shapes(kind, params, m_dim):
    units = params.get("units") or Q_DIM
    if kind == "bahdanau":
        shapes = {"query_kernel": (Q_DIM, units), "memory_kernel": (m_dim, units),
                  "v": (units,)}
        if params.get("normalize"):
            shapes.update({"g": (), "b": (units,)})
        return shapes
    shapes = {}
    if params["score"] == "general":
        shapes["memory_kernel"] = (m_dim, Q_DIM)
    elif params["score"] == "concat":
        shapes.update({"query_kernel": (Q_DIM, units), "memory_kernel": (m_dim, units),
                       "v": (units,)})
    if params.get("scale"):
        shapes["g"] = ()
    return shapes


def _np(x):
    return ops.convert_to_numpy(x)


def _inputs(rng, query_ndim, m_dim, batch=B):
    q_shape = (batch, Q_DIM) if query_ndim == 2 else (batch, T, Q_DIM)
    query = rng.standard_normal(q_shape).astype("float32")
    memory = rng.standard_normal((batch, S, m_dim)).astype("float32")
    return query, memory


def _randomize(layer, kind, params, m_dim, rng):
    """Random values for every weight (g away from its initial value, b non-zero)."""
    shapes = _expected_weight_shapes(kind, params, m_dim)
    assert sorted(w.name for w in layer.trainable_weights) == sorted(shapes)
    values = {}
    for name, shape in shapes.items():
        if name == "g":
            value = np.asarray(rng.uniform(1.5, 2.5), "float32")
        else:
            value = rng.standard_normal(shape).astype("float32") * 0.8
        variable = getattr(layer, name)
        assert tuple(variable.shape) == shape, name
        variable.assign(value)
        values[name] = value
    return values


def _built(name, query_ndim=2, seed=0):
    kind, params, layer, m_dim = _make(name)
    rng = np.random.default_rng(seed)
    query, memory = _inputs(rng, query_ndim, m_dim)
    layer(query, memory)
    weights = _randomize(layer, kind, params, m_dim, rng)
    return kind, params, layer, weights, query, memory


# --------------------------------------------------------------------------------------------
# Numerics
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("use_mask", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("query_ndim", [2, 3])
@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_matches_numpy(name, query_ndim, use_mask):
    kind, params, layer, weights, query, memory = _built(name, query_ndim)
    mask = MASK if use_mask else None
    context, attn = layer(query, memory, memory_mask=mask)
    ref_context, ref_attn = np_attention(kind, params, weights, query, memory, mask)
    lead = (B,) if query_ndim == 2 else (B, T)
    assert tuple(context.shape) == lead + (memory.shape[-1],)
    assert tuple(attn.shape) == lead + (S,)
    np.testing.assert_allclose(_np(attn), ref_attn, atol=1e-5)
    np.testing.assert_allclose(_np(context), ref_context, atol=1e-5)
    # The scores themselves, before the softmax.
    keys = layer.precompute(memory)
    np.testing.assert_allclose(_np(layer.score(query, keys)),
                               np_scores(kind, params, weights, query, memory),
                               atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_3d_query_equals_stepwise_2d_queries(name):
    _, _, layer, _, query, memory = _built(name, query_ndim=3)
    context, attn = layer(query, memory, memory_mask=MASK)
    for t in range(T):
        step_context, step_attn = layer(query[:, t], memory, memory_mask=MASK)
        np.testing.assert_allclose(_np(context)[:, t], _np(step_context), atol=1e-6)
        np.testing.assert_allclose(_np(attn)[:, t], _np(step_attn), atol=1e-6)


@pytest.mark.parametrize("name", ["bahdanau_normalized", "luong_general_scaled",
                                  "luong_concat_default_units_scaled"])
def test_non_trivial_g_and_b_matter(name):
    """Changing g (and b) changes the weights: the reference would catch a dropped term."""
    kind, params, layer, weights, query, memory = _built(name)
    _, before = layer(query, memory)
    layer.g.assign(2.0 * weights["g"])
    _, after_g = layer(query, memory)
    assert np.abs(_np(before) - _np(after_g)).max() > 1e-3
    if "b" in weights:
        layer.g.assign(weights["g"])
        layer.b.assign(weights["b"] + 1.0)
        _, after_b = layer(query, memory)
        assert np.abs(_np(before) - _np(after_b)).max() > 1e-3


@pytest.mark.parametrize("name", ["bahdanau", "bahdanau_normalized"])
def test_bahdanau_normalized_is_invariant_to_the_scale_of_v(name):
    _, params, layer, weights, query, memory = _built(name)
    _, before = layer(query, memory)
    layer.v.assign(3.0 * weights["v"])
    _, after = layer(query, memory)
    if params.get("normalize"):
        np.testing.assert_allclose(_np(after), _np(before), atol=1e-6)
    else:
        assert np.abs(_np(after) - _np(before)).max() > 1e-3


def test_luong_concat_units_default_to_query_dim():
    layer = LuongAttention("concat")
    layer(np.zeros((2, Q_DIM), "float32"), np.zeros((2, S, M_DIM), "float32"))
    assert tuple(layer.query_kernel.shape) == (Q_DIM, Q_DIM)
    assert tuple(layer.memory_kernel.shape) == (M_DIM, Q_DIM)
    assert tuple(layer.v.shape) == (Q_DIM,)


def test_initial_values_of_g_and_b():
    bahdanau = BahdanauAttention(UNITS, normalize=True)
    bahdanau(np.zeros((2, Q_DIM), "float32"), np.zeros((2, S, M_DIM), "float32"))
    np.testing.assert_allclose(_np(bahdanau.g), (1.0 / UNITS) ** 0.5, rtol=1e-6)
    np.testing.assert_array_equal(_np(bahdanau.b), 0.0)
    luong = LuongAttention("general", scale=True)
    luong(np.zeros((2, Q_DIM), "float32"), np.zeros((2, S, M_DIM), "float32"))
    np.testing.assert_array_equal(_np(luong.g), 1.0)


# --------------------------------------------------------------------------------------------
# Masking properties and precompute
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query_ndim", [2, 3])
@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_mask_properties(name, query_ndim):
    _, _, layer, _, query, memory = _built(name, query_ndim)
    mask = MASK.copy()
    mask[1] = False  # row 1 fully masked
    # Huge values in the masked memory slots must not leak into the context.
    memory = np.where(mask[..., None], memory, 1e6).astype("float32")
    context, attn = layer(query, memory, memory_mask=mask)
    context, attn = _np(context), _np(attn)
    assert attn.dtype == np.float32
    assert np.isfinite(attn).all() and np.isfinite(context).all()
    full_mask = mask if query_ndim == 2 else np.broadcast_to(mask[:, None], attn.shape)
    # Exactly zero where masked, strictly positive where valid.
    assert (attn[~full_mask] == 0.0).all()
    assert (attn[full_mask] > 0.0).all()
    # Rows with at least one valid position sum to one.
    sums = attn.sum(-1)
    np.testing.assert_allclose(sums[[0, 2]], 1.0, atol=1e-6)
    # The fully masked row is all zeros, and so is its context.
    np.testing.assert_array_equal(attn[1], 0.0)
    np.testing.assert_array_equal(context[1], 0.0)
    assert np.abs(context[[0, 2]]).max() < 1e3


@pytest.mark.parametrize("mask_dtype", ["bool", "int32", "float32"])
def test_mask_dtypes_are_equivalent(mask_dtype):
    _, _, layer, _, query, memory = _built("bahdanau_normalized", 3)
    _, expected = layer(query, memory, memory_mask=MASK)
    _, got = layer(query, memory, memory_mask=MASK.astype(mask_dtype))
    np.testing.assert_array_equal(_np(got), _np(expected))


@pytest.mark.parametrize("use_mask", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("query_ndim", [2, 3])
@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_precompute_then_attend_equals_call(name, query_ndim, use_mask):
    _, _, layer, _, query, memory = _built(name, query_ndim)
    mask = MASK if use_mask else None
    keys = layer.precompute(memory)
    assert tuple(keys.shape)[:2] == (B, S)
    got = layer.attend(query, memory, keys, mask)
    expected = layer(query, memory, memory_mask=mask)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(_np(g), _np(e), atol=1e-6)


# --------------------------------------------------------------------------------------------
# masked_softmax
# --------------------------------------------------------------------------------------------

def test_masked_softmax_docstring_example():
    w = masked_softmax(np.zeros((1, 3), "float32"), np.array([[1, 1, 0]]))
    np.testing.assert_allclose(_np(w), [[0.5, 0.5, 0.0]], atol=1e-7)


@pytest.mark.parametrize("shape", [(B, S), (B, T, S)])
@pytest.mark.parametrize("use_mask", [False, True], ids=["no_mask", "mask"])
def test_masked_softmax_matches_numpy(shape, use_mask):
    scores = np.random.default_rng(3).standard_normal(shape).astype("float32") * 5.0
    mask = MASK if use_mask else None
    got = _np(masked_softmax(scores, mask))
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, np_masked_softmax(scores, mask), atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_masked_softmax_returns_float32(dtype):
    scores = ops.cast(np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]), dtype)
    w = masked_softmax(scores, np.array([[1, 0, 1], [0, 0, 0]]))
    assert keras.backend.standardize_dtype(w.dtype) == "float32"
    w = _np(w)
    np.testing.assert_allclose(w[0], [1 / (1 + np.e ** 2), 0.0, np.e ** 2 / (1 + np.e ** 2)],
                               atol=1e-6)
    np.testing.assert_array_equal(w[1], 0.0)


def test_masked_softmax_large_scores_no_overflow():
    scores = np.array([[1e4, -1e4, 3e4, 3e4]], "float32")
    w = _np(masked_softmax(scores, np.array([[1, 1, 1, 0]])))
    assert np.isfinite(w).all()
    np.testing.assert_allclose(w, [[0.0, 0.0, 1.0, 0.0]], atol=1e-7)


# --------------------------------------------------------------------------------------------
# dtypes, functional models, saving, config, jit
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bahdanau_normalized", "luong_general_scaled"])
def test_weights_are_float32_under_mixed_precision(name):
    kind, params = VARIANTS[name]
    cls = BahdanauAttention if kind == "bahdanau" else LuongAttention
    layer = cls(**params, dtype="mixed_bfloat16")
    rng = np.random.default_rng(4)
    query, memory = _inputs(rng, 3, M_DIM)
    context, attn = layer(query, memory, memory_mask=MASK)
    assert keras.backend.standardize_dtype(attn.dtype) == "float32"
    assert keras.backend.standardize_dtype(context.dtype) == "bfloat16"
    np.testing.assert_allclose(_np(attn).sum(-1), 1.0, atol=1e-5)
    # Symbolically too.
    q_in, m_in = keras.Input((T, Q_DIM)), keras.Input((S, M_DIM))
    sym_context, sym_attn = cls(**params, dtype="mixed_bfloat16")(q_in, m_in)
    assert sym_attn.dtype == "float32"
    assert sym_context.dtype == "bfloat16"


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_float32_weights_and_output_spec(name):
    _, _, layer, _, query, memory = _built(name, 3)
    context, attn = layer(query, memory)
    assert keras.backend.standardize_dtype(attn.dtype) == "float32"
    assert keras.backend.standardize_dtype(context.dtype) == "float32"
    spec_context, spec_attn = layer.compute_output_spec(
        keras.KerasTensor(query.shape), keras.KerasTensor(memory.shape))
    assert tuple(spec_context.shape) == tuple(context.shape)
    assert tuple(spec_attn.shape) == tuple(attn.shape)
    assert spec_attn.dtype == "float32"


def _functional_model(query_ndim, with_mask=True, concat=False):
    """One model holding every variant; outputs [context, weights] per variant (or a concat)."""
    q_in = keras.Input((Q_DIM,) if query_ndim == 2 else (T, Q_DIM), name="query")
    m_in = keras.Input((S, M_DIM), name="memory")
    dot_m_in = keras.Input((S, Q_DIM), name="dot_memory")
    mask_in = keras.Input((S,), dtype="bool", name="mask")
    outputs = []
    for name in VARIANT_NAMES:
        _, params, layer, m_dim = _make(name)
        memory = dot_m_in if m_dim == Q_DIM else m_in
        kwargs = {"memory_mask": mask_in} if with_mask else {}
        context, attn = layer(q_in, memory, **kwargs)
        outputs += [context, attn]
    inputs = [q_in, m_in, dot_m_in] + ([mask_in] if with_mask else [])
    if concat:
        outputs = keras.layers.Concatenate(axis=-1)(outputs)
    return keras.Model(inputs, outputs)


def _model_inputs(rng, query_ndim, with_mask=True):
    query, memory = _inputs(rng, query_ndim, M_DIM)
    dot_memory = rng.standard_normal((B, S, Q_DIM)).astype("float32")
    return [query, memory, dot_memory] + ([MASK] if with_mask else [])


@pytest.mark.parametrize("query_ndim", [2, 3])
def test_functional_model_matches_eager_and_saves(query_ndim, tmp_path):
    model = _functional_model(query_ndim)
    rng = np.random.default_rng(5)
    inputs = _model_inputs(rng, query_ndim)
    # Move every weight off its initial value so the reload really has to restore them.
    for w in model.weights:
        w.assign(rng.standard_normal(tuple(w.shape)).astype("float32") * 0.8 + 0.1)
    outputs = [_np(o) for o in model(inputs)]
    eager = []
    for layer in model.layers:
        if isinstance(layer, (BahdanauAttention, LuongAttention)):
            memory = inputs[2] if getattr(layer, "score_type", None) == "dot" else inputs[1]
            eager += [_np(o) for o in layer(inputs[0], memory, memory_mask=MASK)]
    assert len(outputs) == len(eager) == 2 * len(VARIANT_NAMES)
    for got, expected in zip(outputs, eager):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    reloaded = assert_saving_roundtrip(model, inputs, tmp_path)
    names = sorted(type(l).__name__ for l in reloaded.layers)
    assert names.count("BahdanauAttention") == 2 and names.count("LuongAttention") == 6
    for a, b in zip(model.weights, reloaded.weights):
        np.testing.assert_array_equal(_np(a), _np(b))


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_config_roundtrip(name):
    _, params, layer, _ = _make(name)
    clone = assert_config_roundtrip(layer)
    assert type(clone) is type(layer)
    assert clone.units == layer.units
    if isinstance(layer, LuongAttention):
        assert clone.score_type == params["score"]
        assert clone.scale == bool(params.get("scale"))
        assert layer.get_config()["score"] == params["score"]
    else:
        assert clone.normalize == bool(params.get("normalize"))


def test_config_roundtrip_keeps_initializer():
    layer = LuongAttention("concat", units=3, kernel_initializer="ones", name="att")
    clone = assert_config_roundtrip(layer)
    assert clone.name == "att"
    clone(np.zeros((2, Q_DIM), "float32"), np.zeros((2, S, M_DIM), "float32"))
    np.testing.assert_array_equal(_np(clone.query_kernel), 1.0)
    assert tuple(clone.query_kernel.shape) == (Q_DIM, 3)


@pytest.mark.extended_on_jax  # 22 s on JAX
@pytest.mark.parametrize("query_ndim", [2, 3])
def test_jit_parity_and_gradients(query_ndim):
    rng = np.random.default_rng(6)
    inputs = _model_inputs(rng, query_ndim)
    n_weights = sum(len(_expected_weight_shapes(*VARIANTS[n], M_DIM)) for n in VARIANT_NAMES)

    def make_model():
        model = _functional_model(query_ndim, concat=True)
        assert len(model.trainable_weights) == n_weights
        return model

    out_dim = len(VARIANT_NAMES) * S + 6 * M_DIM + 2 * Q_DIM
    lead = (B,) if query_ndim == 2 else (B, T)
    targets = rng.standard_normal(lead + (out_dim,)).astype("float32")
    assert_jit_parity_and_gradients(make_model, inputs, targets)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("units", [0, -2, 1.5, None])
def test_bahdanau_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        BahdanauAttention(units=units)


@pytest.mark.parametrize("units", [0, -1, 2.5])
def test_luong_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        LuongAttention("concat", units=units)


@pytest.mark.parametrize("score", ["bogus", "additive", None])
def test_luong_bad_score(score):
    with pytest.raises(ValueError, match="score"):
        LuongAttention(score=score)


@pytest.mark.parametrize("query_ndim", [2, 3])
def test_luong_dot_needs_equal_dims(query_ndim):
    query, memory = _inputs(np.random.default_rng(7), query_ndim, M_DIM)
    with pytest.raises(ValueError, match="memory_dim"):
        LuongAttention("dot")(query, memory)


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_built_layer_rejects_other_query_dim(name):
    _, _, layer, _, query, memory = _built(name)
    wrong_query = np.zeros((B, Q_DIM + 1), "float32")
    with pytest.raises(ValueError, match="query"):
        layer(wrong_query, memory)
    with pytest.raises(ValueError, match="query"):
        layer.attend(wrong_query, memory, layer.precompute(memory))


@pytest.mark.parametrize("name", ["bahdanau", "luong_general", "luong_concat"])
def test_built_layer_rejects_other_memory_dim(name):
    _, _, layer, _, query, memory = _built(name)
    with pytest.raises(ValueError, match="memory_dim"):
        layer(query, np.zeros((B, S, M_DIM + 1), "float32"))


@pytest.mark.parametrize("bad", ["memory_2d", "query_4d"])
def test_bad_ranks(bad):
    layer = BahdanauAttention(UNITS)
    query = np.zeros((B, Q_DIM), "float32")
    memory = np.zeros((B, S, M_DIM), "float32")
    if bad == "memory_2d":
        memory = memory[:, 0]
        match = "memory"
    else:
        query = np.zeros((B, T, T, Q_DIM), "float32")
        match = "query"
    with pytest.raises(ValueError, match=match):
        layer(query, memory)
