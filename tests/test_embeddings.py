"""keras_s2s.embeddings: reading word vectors and writing them into zoo embedding layers."""

import keras
import numpy as np
import pytest

from keras_s2s import zoo
from keras_s2s.data import WordTokenizer
from keras_s2s.embeddings import embedding_matrix, load_vectors, set_embedding

TOKENIZER = WordTokenizer(["cat", "dog", "sat", "the"])  # ids 4..7 after the 4 specials


def _model(embedding_dim=3, **kwargs):
    size = TOKENIZER.vocabulary_size
    return zoo.build("vanilla_lstm", source_vocab_size=size, target_vocab_size=size,
                     embedding_dim=embedding_dim, units=4, **kwargs)


def test_load_text_with_and_without_word2vec_header(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text("the 0.1 0.2 0.3\ncat 1 2 3\n\nthe 9 9 9\n")
    vectors = load_vectors(glove)
    assert sorted(vectors) == ["cat", "the"]
    np.testing.assert_allclose(vectors["the"], [0.1, 0.2, 0.3])  # first one wins
    assert vectors["cat"].dtype == np.float32
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("2 3\nthe 0.1 0.2 0.3 \ncat 1 2 3\n")
    assert sorted(load_vectors(w2v)) == ["cat", "the"]


def test_load_npz(tmp_path):
    path = tmp_path / "v.npz"
    np.savez(path, tokens=np.array(["dog", "sat"]), vectors=np.eye(2, 3))
    vectors = load_vectors(path)
    np.testing.assert_allclose(vectors["sat"], [0, 1, 0])
    np.savez(tmp_path / "bad.npz", words=np.array(["dog"]), vectors=np.eye(1, 3))
    with pytest.raises(ValueError, match="'tokens'"):
        load_vectors(tmp_path / "bad.npz")


def test_load_text_errors(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("the 0.1 0.2 0.3\ncat 1 2\n")
    with pytest.raises(ValueError, match="line 2: token 'cat' has 2 values; .* have 3"):
        load_vectors(path)
    path.write_text("the 0.1 x\n")
    with pytest.raises(ValueError, match="not all numbers"):
        load_vectors(path)


def test_embedding_matrix_rows_and_found():
    vectors = {"cat": np.array([1.0, 2.0, 3.0]), "the": np.array([4.0, 5.0, 6.0]),
               "zebra": np.zeros(3)}
    matrix, found = embedding_matrix(TOKENIZER, vectors, seed=1)
    assert matrix.shape == (8, 3) and matrix.dtype == np.float32
    assert found.tolist() == [False] * 4 + [True, False, False, True]
    np.testing.assert_allclose(matrix[TOKENIZER.token_to_id("cat")], [1, 2, 3])
    np.testing.assert_allclose(matrix[0], 0.0)  # <pad>
    assert np.abs(matrix[TOKENIZER.token_to_id("dog")]).sum() > 0  # random, not zero
    again, _ = embedding_matrix(TOKENIZER, vectors, seed=1)
    np.testing.assert_array_equal(matrix, again)
    with pytest.raises(ValueError, match="one size"):
        embedding_matrix(TOKENIZER, {"cat": np.ones(3), "the": np.ones(2)})
    with pytest.raises(ValueError, match="empty"):
        embedding_matrix(TOKENIZER, {})


def test_set_embedding_writes_and_freezes():
    model = _model()
    matrix, _ = embedding_matrix(TOKENIZER, {"cat": np.ones(3)})
    layer = set_embedding(model, "encoder_embedding", matrix, trainable=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.embeddings), matrix)
    assert layer.trainable is False
    assert all("encoder_embedding" not in w.path for w in model.trainable_weights)
    tied = _model(tie_embeddings=True)
    set_embedding(tied, "decoder_embedding", matrix)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(tied.get_layer("decoder_embedding").embeddings), matrix)


def test_set_embedding_errors():
    model = _model()
    with pytest.raises(ValueError, match="Dimension mismatch.*embedding_dim=5"):
        set_embedding(model, "encoder_embedding", np.zeros((8, 5)))
    with pytest.raises(ValueError, match="Vocabulary mismatch"):
        set_embedding(model, "encoder_embedding", np.zeros((9, 3)))
    with pytest.raises(ValueError, match="no layer named 'source_embedding'.*encoder_embedding"):
        set_embedding(model, "source_embedding", np.zeros((8, 3)))
    with pytest.raises(ValueError, match="holds no `embeddings`"):
        set_embedding(model, "encoder", np.zeros((8, 3)))
