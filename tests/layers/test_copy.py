"""The pointer-generator's mixture against See et al. (2017), eqs. 8-9, written in NumPy loops.

    c_t = Σ_j α_tj h_j,   p_gen = σ(w_cᵀ c_t + w_sᵀ s_t + w_xᵀ x_t + b),
    P(w) = p_gen P_vocab(w) + (1 - p_gen) Σ_{j: x_j = w} α_tj
"""

import doctest

import keras
import numpy as np
import pytest

from keras_s2s.constants import UNK_ID
from keras_s2s.layers import CopyMixture
from keras_s2s.layers import copy as copy_module
from keras_s2s.layers.copy import copy_map_from_vocabularies
from tests.helpers import (
    assert_config_roundtrip,
    assert_jit_parity_and_gradients,
    assert_saving_roundtrip,
)

B, T, S, V, M, H, E = 2, 3, 4, 9, 5, 6, 3
SOURCE_VOCAB = 11
# source id -> target id; ids 9 and 10 are not in the target vocabulary (-> <unk>)
COPY_MAP = [0, 1, 2, 3, 5, 4, 8, 7, 6, UNK_ID, UNK_ID]
SOURCE_IDS = np.array([[4, 9, 6, 0], [10, 4, 4, 7]], "int32")  # row 0 padded at the end


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    alignments = rng.random((B, T, S)).astype("float32")
    alignments[0, :, 3] = 0.0  # a padded position gets no weight, as from the decoder
    alignments /= alignments.sum(-1, keepdims=True)
    return (rng.normal(size=(B, T, V)).astype("float32"), alignments,
            rng.normal(size=(B, S, M)).astype("float32"),
            rng.normal(size=(B, T, H)).astype("float32"),
            rng.normal(size=(B, T, E)).astype("float32"), SOURCE_IDS)


def _reference(logits, alignments, memory, query, embedded, source_ids, kernel, bias, copy_map):
    out = np.zeros((B, T, V), "float64")
    for b in range(B):
        for t in range(T):
            context = sum(alignments[b, t, j] * memory[b, j] for j in range(S))
            features = np.concatenate([context, query[b, t], embedded[b, t]])
            p_gen = 1 / (1 + np.exp(-(features @ kernel[:, 0] + bias[0])))
            p_vocab = np.exp(logits[b, t] - logits[b, t].max())
            p_vocab /= p_vocab.sum()
            p = p_gen * p_vocab
            for j in range(S):
                p[copy_map[source_ids[b, j]]] += (1 - p_gen) * alignments[b, t, j]
            out[b, t] = np.log(p + copy_module.EPSILON)
    return out


def test_mixture_matches_the_paper_in_numpy():
    layer = CopyMixture(V, COPY_MAP)
    inputs = _inputs()
    layer.build(*(np.shape(x) for x in inputs))
    layer.gate_bias.assign(np.array([0.3], "float32"))  # a nonzero b
    kernel, bias = (_np(w) for w in (layer.gate_kernel, layer.gate_bias))
    result = _np(layer(*inputs))
    expected = _reference(*inputs, kernel, bias, COPY_MAP)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)
    assert result.dtype == np.float32
    # a distribution over the vocabulary at every step
    np.testing.assert_allclose(np.exp(result).sum(-1), 1.0, atol=1e-5)


def test_copying_puts_the_attended_tokens_mass_on_their_target_ids():
    """With p_gen = 0 the output is the attention mass moved through the copy map: tokens the
    target vocabulary lacks land on <unk>, padded positions (weight 0) add nothing."""
    layer = CopyMixture(V, COPY_MAP)
    logits, alignments, memory, query, embedded, ids = _inputs(1)
    layer(logits, alignments, memory, query, embedded, ids)
    layer.gate_kernel.assign(np.zeros_like(_np(layer.gate_kernel)))
    layer.gate_bias.assign(np.array([-60.0], "float32"))  # σ(-60) = 0: copy only
    p = np.exp(_np(layer(logits, alignments, memory, query, embedded, ids)))
    # row 0: source 4 -> 5, 9 -> <unk>, 6 -> 8, position 3 is padding (id 0, weight 0)
    np.testing.assert_allclose(p[0, :, 5], alignments[0, :, 0], atol=1e-6)
    np.testing.assert_allclose(p[0, :, UNK_ID], alignments[0, :, 1], atol=1e-6)
    np.testing.assert_allclose(p[0, :, 8], alignments[0, :, 2], atol=1e-6)
    assert p[0, :, 0].max() < 1e-6
    # row 1: 10 -> <unk>, 4 twice -> 5 (the masses add), 7 -> 7
    np.testing.assert_allclose(p[1, :, 5], alignments[1, :, 1] + alignments[1, :, 2], atol=1e-6)
    np.testing.assert_allclose(p[1, :, UNK_ID], alignments[1, :, 0], atol=1e-6)
    # with p_gen = 1 it is the vocabulary softmax
    layer.gate_bias.assign(np.array([60.0], "float32"))
    p = np.exp(_np(layer(logits, alignments, memory, query, embedded, ids)))
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(p, softmax, atol=1e-5)


def test_no_copy_map_is_the_shared_vocabulary():
    layer = CopyMixture(V)
    ids = np.array([[4, 8, 9, 12]], "int32")  # 9 and 12 are beyond the target vocabulary
    np.testing.assert_array_equal(_np(layer.target_ids(ids)), [[4, 8, UNK_ID, UNK_ID]])


def test_copy_map_from_vocabularies():
    source = ["<pad>", "<unk>", "<s>", "</s>", "a", "b", "ü"]
    target = ["<pad>", "<unk>", "<s>", "</s>", "b", "a", "c"]
    assert copy_map_from_vocabularies(source, target) == [0, 1, 2, 3, 5, 4, UNK_ID]


def test_bad_copy_map_is_refused():
    with pytest.raises(ValueError, match="outside"):
        CopyMixture(5, [0, 1, 2, 3, 7])


def test_config_saving_and_jit_parity(tmp_path):
    def make_model():
        keras.utils.set_random_seed(3)
        logits = keras.Input((None, V))
        alignments = keras.Input((None, S))
        memory = keras.Input((S, M))
        query = keras.Input((None, H))
        embedded = keras.Input((None, E))
        ids = keras.Input((S,), dtype="int32")
        out = CopyMixture(V, COPY_MAP, name="copy")(logits, alignments, memory, query,
                                                    embedded, ids)
        return keras.Model([logits, alignments, memory, query, embedded, ids], out)

    inputs = list(_inputs())
    assert_config_roundtrip(CopyMixture(V, COPY_MAP))
    assert_saving_roundtrip(make_model(), inputs, tmp_path)
    assert_jit_parity_and_gradients(make_model, inputs, np.zeros((B, T, V), "float32"))


def test_docstring_examples_run():
    globs = {"np": np, "CopyMixture": CopyMixture,
             "copy_map_from_vocabularies": copy_map_from_vocabularies}
    runner = doctest.DocTestRunner()
    for obj in (CopyMixture, copy_map_from_vocabularies):
        for test in doctest.DocTestFinder().find(obj, globs=globs):
            runner.run(test)
    assert runner.failures == 0


def _extended_reference(logits, alignments, memory, query, embedded, source_ids, kernel, bias,
                        copy_map):
    """The paper's extended vocabulary: a source word that maps to <unk> gets its own id."""
    out = np.zeros((B, T, V + S), "float64")
    for b in range(B):
        for t in range(T):
            context = sum(alignments[b, t, j] * memory[b, j] for j in range(S))
            features = np.concatenate([context, query[b, t], embedded[b, t]])
            p_gen = 1 / (1 + np.exp(-(features @ kernel[:, 0] + bias[0])))
            p_vocab = np.exp(logits[b, t] - logits[b, t].max())
            p = np.zeros(V + S)
            p[:V] = p_gen * p_vocab / p_vocab.sum()
            for j in range(S):
                target = copy_map[source_ids[b, j]]
                p[V + j if target == UNK_ID else target] += (1 - p_gen) * alignments[b, t, j]
            out[b, t] = np.log(p + copy_module.EPSILON)
    return out


def test_extended_vocabulary_matches_the_paper_and_masks_what_is_not_in_the_source():
    layer = CopyMixture(V, COPY_MAP, extended=True)
    inputs = _inputs(3)
    got = _np(layer(*inputs))
    assert got.shape == (B, T, V + S)
    want = _extended_reference(*inputs, _np(layer.gate_kernel), _np(layer.gate_bias), COPY_MAP)
    np.testing.assert_allclose(got, want, atol=1e-5)
    # a distribution over the extended vocabulary
    np.testing.assert_allclose(np.exp(got).sum(-1), 1.0 + (V + S) * copy_module.EPSILON,
                               atol=1e-5)
    # unknown source words (ids 9 and 10 map to <unk>) own their positions' ids, and <unk>
    # itself gets only the generator's share; a padded position's id gets nothing
    p = np.exp(got)
    assert (p[1, :, V + 0] > 1e-6).all() and (p[0, :, V + 1] > 1e-6).all()
    assert (p[0, :, V + 3] < 1e-8).all()  # row 0's padding
    assert (p[0, :, V + 0] < 1e-8).all()  # id 4 is known: it copies to target 5 instead
    config = layer.get_config()
    assert config["extended"] is True and CopyMixture.from_config(config).extended
